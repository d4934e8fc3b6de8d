//! Generic OCI request executor: endpoint resolution, signing, retries,
//! pagination and typed errors.
//!
//! Typed per-service calls are thin wrappers over [`OciClient::send`]; keeping the
//! cross-cutting behaviour here means every service gets the same retry, timeout
//! and error semantics, matching the official SDKs:
//!
//! * every attempt is freshly signed (the `date` header changes);
//! * retries use exponential backoff with full jitter on 429, 5xx (except 501) and
//!   connection/timeout errors, but only for idempotent methods (GET, HEAD, PUT,
//!   DELETE) or requests carrying an `opc-retry-token`, which makes OCI
//!   deduplicate them;
//! * non-2xx responses become [`OciError::Service`] with OCI's `code`, `message`
//!   and `opc-request-id`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::config::{ConfigError, OciConfig};
use crate::endpoint::{EndpointError, Service};
use crate::signer::{ContentHeaders, KeyError, RequestSigner, SignError};

/// Header OCI uses to correlate a request with its server-side logs.
pub const OPC_REQUEST_ID: &str = "opc-request-id";
/// Response header carrying the next page token of list operations.
pub const OPC_NEXT_PAGE: &str = "opc-next-page";
/// Request header that makes a POST safely retryable.
pub const OPC_RETRY_TOKEN: &str = "opc-retry-token";

/// Everything that can go wrong calling OCI.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// OCI answered with a non-2xx status (after any retries).
    #[error("OCI returned {status} {code}: {message} (opc-request-id: {})", .opc_request_id.as_deref().unwrap_or("-"))]
    Service {
        /// HTTP status.
        status: StatusCode,
        /// OCI error code from the body (e.g. `NotAuthorizedOrNotFound`); when the
        /// body has none, the status reason without spaces (e.g. `TooManyRequests`).
        code: String,
        /// Human-readable message from the body (or the raw body text).
        message: String,
        /// `opc-request-id` response header, to quote in support requests.
        opc_request_id: Option<String>,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The request (connect or overall) timed out.
    #[error("request to {url} timed out")]
    Timeout {
        /// The URL that was called.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// Connection, TLS or protocol failure.
    #[error("transport error calling {url}: {source}")]
    Transport {
        /// The URL that was called.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx response whose body is not what the operation promises.
    #[error("invalid response ({status}) from OCI: {reason} (opc-request-id: {})", .opc_request_id.as_deref().unwrap_or("-"))]
    InvalidResponse {
        /// HTTP status.
        status: StatusCode,
        /// What is wrong.
        reason: String,
        /// `opc-request-id` response header.
        opc_request_id: Option<String>,
    },
    /// The request could not be built (bad header value, unserialisable body).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The HTTP client could not be constructed.
    #[error("cannot build HTTP client: {0}")]
    ClientBuild(#[source] reqwest::Error),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The private key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The config file could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The endpoint could not be resolved.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
}

impl OciError {
    /// HTTP status, for service and invalid-response errors.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Service { status, .. } | Self::InvalidResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// OCI error code, for service errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// `opc-request-id` of the failing response, if any.
    pub fn opc_request_id(&self) -> Option<&str> {
        match self {
            Self::Service { opc_request_id, .. } | Self::InvalidResponse { opc_request_id, .. } => {
                opc_request_id.as_deref()
            }
            _ => None,
        }
    }
}

/// Retry behaviour: exponential backoff with full jitter.
///
/// The wait before retry *n* (1-based) is uniform in
/// `[0, min(max_delay, base_delay * 2^(n-1))]`, raised to a server `Retry-After`
/// (seconds, capped at `max_delay`) when one is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 disables retries. Default 4.
    pub max_attempts: u32,
    /// Base of the exponential backoff. Default 1 s (as the SDK).
    pub base_delay: Duration,
    /// Upper bound of any single wait. Default 30 s (as the SDK).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A single attempt, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Wait before retry number `retry` (1-based).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let cap = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let cap_nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        let jittered = Duration::from_nanos(fastrand::u64(0..=cap_nanos));
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.max_delay)),
            None => jittered,
        }
    }
}

/// Client-wide settings.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Send every service to this base URL instead of the real OCI endpoint
    /// (scheme, host and port replaced; the service base path kept). For the
    /// emulator and tests.
    pub endpoint_override: Option<Url>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// TCP/TLS connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Whole-attempt timeout (connect, send, read body). Default 60 s.
    pub timeout: Duration,
    /// `user-agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            endpoint_override: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            user_agent: concat!("portal-oci/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Per-request settings.
#[derive(Clone, Debug, Default)]
pub struct RequestOptions {
    /// Extra headers (`if-match`, `opc-retry-token`, `opc-request-id`, ...).
    pub headers: HeaderMap,
    /// Sets `opc-retry-token`, which also makes a POST retryable.
    pub retry_token: Option<String>,
    /// Overrides [`RetryPolicy::max_attempts`] for this request.
    pub max_attempts: Option<u32>,
    /// Overrides [`ClientOptions::timeout`] for this request.
    pub timeout: Option<Duration>,
    /// Whether body headers are signed (see [`ContentHeaders`]).
    pub content_headers: ContentHeaders,
}

impl RequestOptions {
    /// Add a header; fails on an invalid name or value.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, OciError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| OciError::InvalidRequest(format!("invalid header name `{name}`")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| OciError::InvalidRequest(format!("invalid value for header `{name}`")))?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Set `opc-retry-token`.
    pub fn retry_token(mut self, token: impl Into<String>) -> Self {
        self.retry_token = Some(token.into());
        self
    }
}

/// A successful (2xx) response.
#[derive(Clone, Debug)]
pub struct OciResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// All response headers.
    pub headers: HeaderMap,
    /// `opc-request-id` header.
    pub opc_request_id: Option<String>,
    /// `opc-next-page` header (list operations).
    pub opc_next_page: Option<String>,
    /// `etag` header (for `if-match` on later updates).
    pub etag: Option<String>,
    /// JSON body; `Null` when empty or not JSON.
    pub body: Value,
    /// The raw body bytes (for non-JSON payloads such as object data).
    pub raw: Bytes,
    /// Attempts it took (1 = no retry).
    pub attempts: u32,
}

impl OciResponse {
    /// Deserialize the JSON body into a model type.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, OciError> {
        T::deserialize(&self.body).map_err(|e| OciError::InvalidResponse {
            status: self.status,
            reason: format!("body does not match the expected model: {e}"),
            opc_request_id: self.opc_request_id.clone(),
        })
    }
}

/// OCI REST client: signs, retries and paginates requests for one API key and region.
///
/// Cheap to clone (shared inner state and connection pool).
#[derive(Clone, Debug)]
pub struct OciClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    signer: RequestSigner,
    region: String,
    options: ClientOptions,
}

impl OciClient {
    /// Client for a config profile (reads the key file).
    pub fn from_config(config: &OciConfig, options: ClientOptions) -> Result<Self, OciError> {
        let signer = RequestSigner::from_config(config)?;
        Self::new(signer, config.region.clone(), options)
    }

    /// Client from an existing signer.
    ///
    /// TLS is rustls with aws-lc-rs as its only crypto provider (reqwest's `rustls`
    /// feature), verifying against the platform's trust store.
    pub fn new(
        signer: RequestSigner,
        region: impl Into<String>,
        options: ClientOptions,
    ) -> Result<Self, OciError> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(options.user_agent.clone())
            .build()
            .map_err(OciError::ClientBuild)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                signer,
                region: region.into(),
                options,
            }),
        })
    }

    /// The configured region.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The request signer (key id, fingerprint).
    pub fn signer(&self) -> &RequestSigner {
        &self.inner.signer
    }

    /// The client options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// Full URL of an operation on `service` (honours the endpoint override).
    pub fn url(
        &self,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Url, OciError> {
        Ok(service.url(
            &self.inner.region,
            self.inner.options.endpoint_override.as_ref(),
            path,
            query,
        )?)
    }

    /// Send a JSON request and return the (JSON) response.
    ///
    /// `path` is relative to the service base path and already percent-encoded
    /// (see [`crate::endpoint::encode_path_param`]); `query` pairs are form-encoded.
    /// `POST`/`PUT`/`PATCH` without a body send an empty one (content-length 0),
    /// as the SDK does for action endpoints.
    pub async fn send(
        &self,
        method: Method,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        opts: &RequestOptions,
    ) -> Result<OciResponse, OciError> {
        let body = match body {
            Some(v) => Some(Bytes::from(serde_json::to_vec(&v).map_err(|e| {
                OciError::InvalidRequest(format!("cannot serialise body: {e}"))
            })?)),
            None => None,
        };
        let url = self.url(service, path, query)?;
        self.execute(method, url, body, "application/json", opts)
            .await
    }

    /// Send raw bytes (e.g. Object Storage `PutObject`), with `content-type`
    /// `application/octet-stream` unless `opts.headers` sets one.
    pub async fn send_bytes(
        &self,
        method: Method,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Bytes>,
        opts: &RequestOptions,
    ) -> Result<OciResponse, OciError> {
        let url = self.url(service, path, query)?;
        self.execute(method, url, body, "application/octet-stream", opts)
            .await
    }

    /// GET every page of a list operation: follows `opc-next-page` into the `page`
    /// query parameter until it is absent, concatenating the array bodies (or the
    /// `items` array of object bodies, used by some services).
    pub async fn list_all(
        &self,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        opts: &RequestOptions,
    ) -> Result<Vec<Value>, OciError> {
        let mut items = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            if let Some(p) = page.as_deref() {
                q.retain(|(k, _)| *k != "page");
                q.push(("page", p));
            }
            let resp = self
                .send(Method::GET, service, path, &q, None, opts)
                .await?;
            match resp.body {
                Value::Array(a) => items.extend(a),
                Value::Object(mut o) if o.get("items").is_some_and(Value::is_array) => {
                    if let Some(Value::Array(a)) = o.remove("items") {
                        items.extend(a);
                    }
                }
                Value::Null => {}
                _ => {
                    return Err(OciError::InvalidResponse {
                        status: resp.status,
                        reason: "list page is not a JSON array".into(),
                        opc_request_id: resp.opc_request_id,
                    })
                }
            }
            match resp.opc_next_page.filter(|n| !n.is_empty()) {
                Some(next) if page.as_deref() == Some(next.as_str()) => {
                    return Err(OciError::InvalidResponse {
                        status: resp.status,
                        reason: format!("opc-next-page `{next}` repeats the current page"),
                        opc_request_id: resp.opc_request_id,
                    });
                }
                Some(next) => page = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// Object Storage style pagination: collects `body[items_field]` (e.g.
    /// `objects`) and follows the `nextStartWith` body field into the `start`
    /// query parameter.
    pub async fn list_all_start(
        &self,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        items_field: &str,
        opts: &RequestOptions,
    ) -> Result<Vec<Value>, OciError> {
        let mut items = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            if let Some(s) = start.as_deref() {
                q.retain(|(k, _)| *k != "start");
                q.push(("start", s));
            }
            let resp = self
                .send(Method::GET, service, path, &q, None, opts)
                .await?;
            let invalid = |reason: String| OciError::InvalidResponse {
                status: resp.status,
                reason,
                opc_request_id: resp.opc_request_id.clone(),
            };
            let Value::Object(mut body) = resp.body.clone() else {
                return Err(invalid("list page is not a JSON object".into()));
            };
            match body.remove(items_field) {
                Some(Value::Array(a)) => items.extend(a),
                None | Some(Value::Null) => {}
                Some(_) => return Err(invalid(format!("`{items_field}` is not an array"))),
            }
            match body.remove("nextStartWith") {
                Some(Value::String(next)) if !next.is_empty() => {
                    if start.as_deref() == Some(next.as_str()) {
                        return Err(invalid(format!("nextStartWith `{next}` repeats")));
                    }
                    start = Some(next);
                }
                _ => return Ok(items),
            }
        }
    }

    async fn execute(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
        default_content_type: &'static str,
        opts: &RequestOptions,
    ) -> Result<OciResponse, OciError> {
        let mut headers = opts.headers.clone();
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        headers
            .entry(CONTENT_TYPE)
            .or_insert(HeaderValue::from_static(default_content_type));
        if let Some(token) = &opts.retry_token {
            let value = HeaderValue::from_str(token)
                .map_err(|_| OciError::InvalidRequest("invalid opc-retry-token".into()))?;
            headers.insert(OPC_RETRY_TOKEN, value);
        }
        if let Some(v) =
            portal_telemetry::traceparent().and_then(|tp| HeaderValue::from_str(&tp).ok())
        {
            // Not signed: OCI signs a fixed header list, and a traceparent changes nothing it checks.
            headers.insert(portal_telemetry::TRACEPARENT, v);
        }
        if !headers.contains_key(OPC_REQUEST_ID) {
            // Hex digits only, so always a valid header value.
            if let Ok(id) = HeaderValue::from_str(&new_request_id()) {
                headers.insert(OPC_REQUEST_ID, id);
            }
        }
        let body_method = matches!(method, Method::POST | Method::PUT | Method::PATCH);
        let body = match body {
            Some(b) => Some(b),
            None if body_method => Some(Bytes::new()),
            None => None,
        };
        let retryable = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE
        ) || headers.contains_key(OPC_RETRY_TOKEN);
        let policy = &self.inner.options.retry;
        let max_attempts = opts.max_attempts.unwrap_or(policy.max_attempts).max(1);

        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut request = reqwest::Request::new(method.clone(), url.clone());
            *request.headers_mut() = headers.clone();
            if let Some(b) = &body {
                *request.body_mut() = Some(reqwest::Body::from(b.clone()));
            }
            if let Some(t) = opts.timeout {
                *request.timeout_mut() = Some(t);
            }
            // Re-signed on every attempt: the date (and so the signature) changes.
            self.inner
                .signer
                .sign_reqwest_with(&mut request, opts.content_headers)?;
            let may_retry = retryable && attempt < max_attempts;
            match self.inner.http.execute(request).await {
                Ok(resp) if may_retry && is_retryable_status(resp.status()) => {
                    let retry_after = retry_after(resp.headers());
                    // Drain so the connection can be reused; errors here don't matter.
                    let _ = resp.bytes().await;
                    tokio::time::sleep(policy.delay(attempt, retry_after)).await;
                }
                Ok(resp) => return read_response(resp, attempt, &url).await,
                Err(e) if may_retry && is_retryable_transport(&e) => {
                    tokio::time::sleep(policy.delay(attempt, None)).await;
                }
                Err(e) => return Err(transport_error(e, &url)),
            }
        }
    }
}

/// 429 and 5xx except 501 Not Implemented (retrying cannot help), as the SDK.
fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED)
}

fn is_retryable_transport(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_timeout() || (e.is_request() && !e.is_builder())
}

fn transport_error(e: reqwest::Error, url: &Url) -> OciError {
    let url = url.to_string();
    if e.is_timeout() {
        OciError::Timeout { url, source: e }
    } else {
        OciError::Transport { url, source: e }
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// 32 upper-case hex characters, like the SDK's generated request ids.
fn new_request_id() -> String {
    format!("{:016X}{:016X}", fastrand::u64(..), fastrand::u64(..))
}

async fn read_response(
    resp: reqwest::Response,
    attempts: u32,
    url: &Url,
) -> Result<OciResponse, OciError> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let raw = resp.bytes().await.map_err(|e| transport_error(e, url))?;
    let opc_request_id = header_string(&headers, OPC_REQUEST_ID);

    if !status.is_success() {
        let (code, message) = error_details(status, &raw);
        return Err(OciError::Service {
            status,
            code,
            message,
            opc_request_id,
            attempts,
        });
    }

    let content_type =
        header_string(&headers, CONTENT_TYPE.as_str()).map(|c| c.to_ascii_lowercase());
    let body = if raw.is_empty() {
        Value::Null
    } else {
        match content_type.as_deref() {
            Some(ct) if ct.contains("json") => {
                serde_json::from_slice(&raw).map_err(|e| OciError::InvalidResponse {
                    status,
                    reason: format!("body is not valid JSON: {e}"),
                    opc_request_id: opc_request_id.clone(),
                })?
            }
            Some(_) => Value::Null,
            None => serde_json::from_slice(&raw).unwrap_or(Value::Null),
        }
    };

    Ok(OciResponse {
        status,
        opc_next_page: header_string(&headers, OPC_NEXT_PAGE),
        etag: header_string(&headers, http::header::ETAG.as_str()),
        opc_request_id,
        headers,
        body,
        raw,
        attempts,
    })
}

/// `(code, message)` from an OCI error body `{"code": ..., "message": ...}`,
/// falling back to the status reason and the raw text.
fn error_details(status: StatusCode, raw: &[u8]) -> (String, String) {
    let reason = status.canonical_reason().unwrap_or("Unknown");
    let parsed: Option<Value> = serde_json::from_slice(raw).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let code = field("code").unwrap_or_else(|| reason.replace(' ', ""));
    let message = field("message").unwrap_or_else(|| {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim();
        if text.is_empty() {
            reason.to_string()
        } else {
            text.chars().take(512).collect()
        }
    });
    (code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_grows() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(450),
        };
        for _ in 0..200 {
            assert!(p.delay(1, None) <= Duration::from_millis(100));
            assert!(p.delay(2, None) <= Duration::from_millis(200));
            assert!(p.delay(10, None) <= Duration::from_millis(450));
            assert!(p.delay(60, None) <= Duration::from_millis(450));
        }
        // Retry-After raises the floor but stays capped.
        assert!(p.delay(1, Some(Duration::from_secs(5))) == Duration::from_millis(450));
    }

    #[test]
    fn retryable_statuses() {
        assert!(is_retryable_status(StatusCode::TOO_MANY_REQUESTS));
        assert!(is_retryable_status(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(is_retryable_status(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!is_retryable_status(StatusCode::NOT_IMPLEMENTED));
        assert!(!is_retryable_status(StatusCode::BAD_REQUEST));
        assert!(!is_retryable_status(StatusCode::CONFLICT));
    }

    #[test]
    fn error_body_parsing() {
        let (c, m) = error_details(
            StatusCode::NOT_FOUND,
            br#"{"code":"NotAuthorizedOrNotFound","message":"nope"}"#,
        );
        assert_eq!(
            (c.as_str(), m.as_str()),
            ("NotAuthorizedOrNotFound", "nope")
        );
        let (c, m) = error_details(StatusCode::TOO_MANY_REQUESTS, b"");
        assert_eq!(
            (c.as_str(), m.as_str()),
            ("TooManyRequests", "Too Many Requests")
        );
        let (c, m) = error_details(StatusCode::BAD_GATEWAY, b"<html>upstream</html>");
        assert_eq!(
            (c.as_str(), m.as_str()),
            ("BadGateway", "<html>upstream</html>")
        );
    }

    #[test]
    fn request_ids_look_like_the_sdk() {
        let id = new_request_id();
        assert_eq!(id.len(), 32);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
    }
}
