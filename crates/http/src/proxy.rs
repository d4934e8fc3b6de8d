//! The web tier's forwarding (`--role web`): `/api/*` (or the configured
//! prefixes) goes to the API tier, so the cloud credentials and the job runner
//! can live on a private network while only the web tier faces users.
//!
//! Bodies stream both ways frame by frame (a chat or workflow-run stream
//! reaches the browser as the API tier writes it); the request id and W3C
//! trace context travel with the request; the client address the web tier
//! resolved (under `PORTAL_TRUSTED_PROXIES`) is sent as the only
//! `X-Forwarded-For` entry, which the API tier believes when the web tier is
//! one of its own trusted proxies. An unreachable API tier is a 502
//! `BACKEND_UNAVAILABLE` in the standard error shape.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use portal_core::config::HttpSettings;
use portal_core::health::{Check, Status};

use crate::error::HttpError;
use crate::middleware::request_id::{RequestId, X_REQUEST_ID};
use crate::state::AppState;

/// How long opening a connection to the API tier may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Marks a response that came through the web tier (RFC 9110 `Via`).
const VIA: HeaderValue = HeaderValue::from_static("1.1 portal-web");

/// Headers that belong to one connection (RFC 9110 §7.6.1) or that the
/// proxy sets itself; never copied across.
const HOP_BY_HOP: &[HeaderName] = &[
    header::CONNECTION,
    // This tier answered the client's `Expect: 100-continue` itself.
    header::EXPECT,
    header::HOST,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The API tier and which paths go to it.
pub struct Upstream {
    base: String,
    routes: Vec<String>,
    client: reqwest::Client,
}

/// Why the upstream could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("PORTAL_API_UPSTREAM: {0}")]
pub struct UpstreamError(String);

impl Upstream {
    /// The upstream of a web tier; `None` for the other roles.
    pub fn from_settings(http: &HttpSettings) -> Result<Option<Self>, UpstreamError> {
        if http.role != portal_core::config::Role::Web {
            return Ok(None);
        }
        let base = http
            .api_upstream
            .clone()
            .ok_or_else(|| UpstreamError("is required with role web".into()))?;
        Self::new(&base, &http.proxy_routes).map(Some)
    }

    /// Forwards the paths under `routes` (all of `/api` when empty) to `base`.
    pub fn new(base: &str, routes: &[String]) -> Result<Self, UpstreamError> {
        let url = reqwest::Url::parse(base).map_err(|e| UpstreamError(format!("{base:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(UpstreamError(format!("{base:?} is not an http(s) origin")));
        }
        // An HTTP proxy from the environment has no business between the tiers.
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| UpstreamError(e.to_string()))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            routes: routes
                .iter()
                .map(|r| r.trim_end_matches('/').to_string())
                .collect(),
            client,
        })
    }

    /// The API tier's origin.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// True when `path` is forwarded: under `/api`, or under one of the
    /// configured prefixes (whole segments: `/api/chat` is not `/api/chatter`).
    pub fn forwards(&self, path: &str) -> bool {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if self.routes.is_empty() {
            return under("/api");
        }
        self.routes.iter().any(|r| under(r))
    }

    /// The API tier's liveness (`/healthz`), for the web tier's `/health`.
    pub async fn check(&self, budget: Duration) -> Check {
        let start = Instant::now();
        let probe = self
            .client
            .get(format!("{}/healthz", self.base))
            .timeout(budget)
            .send()
            .await;
        let mut details = serde_json::Map::new();
        details.insert("upstream".into(), self.base.clone().into());
        let status = match probe {
            Ok(r) if r.status().is_success() => Status::Ok,
            Ok(r) => {
                details.insert("error".into(), format!("answered {}", r.status()).into());
                Status::Error
            }
            Err(e) => {
                details.insert("error".into(), describe(&e).into());
                Status::Error
            }
        };
        Check {
            status,
            latency_ms: Some(start.elapsed().as_secs_f64() * 1000.0),
            details,
            critical: true,
        }
    }

    /// Sends `req` to the API tier and streams its answer back.
    async fn forward(&self, state: &AppState, req: Request) -> Result<Response, HttpError> {
        let (parts, body) = req.into_parts();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let client_ip = state.proxies.client_ip(peer, &parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let mut headers = strip(&parts.headers);
        headers.remove("x-forwarded-for");
        if let Ok(v) = HeaderValue::from_str(&client_ip.to_string()) {
            headers.insert("x-forwarded-for", v);
        }
        if let Some(host) = parts.headers.get(header::HOST) {
            headers.insert("x-forwarded-host", host.clone());
        }
        // The id the edge settled on (the client's when sane, else a new one).
        if let Some(id) = parts.extensions.get::<RequestId>() {
            headers.insert(X_REQUEST_ID.clone(), id.0.clone());
        }
        // Traced: the API tier's spans become children of this tier's request
        // span (itself a child of the caller's). Untraced: passed through as is.
        if let Some(tp) =
            portal_telemetry::traceparent().and_then(|tp| HeaderValue::from_str(&tp).ok())
        {
            headers.insert("traceparent", tp);
        }
        let mut out = self
            .client
            .request(parts.method.clone(), format!("{}{path}", self.base))
            .headers(headers);
        if body.size_hint().exact() != Some(0) {
            out = out.body(reqwest::Body::wrap_stream(body.into_data_stream()));
        }
        let timeout = state.settings.http.request_timeout;
        let upstream = match tokio::time::timeout(timeout, out.send()).await {
            Err(_) => return Err(HttpError::Timeout),
            Ok(Err(e)) => {
                tracing::warn!(upstream = %self.base, error = %describe(&e), "API tier unreachable");
                return Err(HttpError::BackendUnavailable);
            }
            Ok(Ok(r)) => r,
        };
        let status = upstream.status();
        let mut res_headers = strip(upstream.headers());
        res_headers.append(header::VIA, VIA);
        // Streams end when this tier drains, like its own streams do.
        let stream = upstream
            .bytes_stream()
            .take_until(state.shutdown.clone().cancelled_owned());
        let mut res = Response::new(Body::from_stream(stream));
        *res.status_mut() = status;
        *res.headers_mut() = res_headers;
        Ok(res)
    }
}

/// The end-to-end headers of `from` (hop-by-hop ones and those the
/// `Connection` header names are dropped).
fn strip(from: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = from
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(from.len());
    for (name, value) in from {
        if HOP_BY_HOP.contains(name)
            || name.as_str() == "keep-alive"
            || named.iter().any(|n| n == name.as_str())
        {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// An error's chain as one line (reqwest's top-level message alone says
/// little: "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Middleware: forwards what the upstream takes, passes the rest on.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(up) = state
        .upstream
        .as_ref()
        .filter(|u| u.forwards(req.uri().path()))
    else {
        return next.run(req).await;
    };
    match up.forward(&state, req).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_whole_segments_of_the_listed_prefixes() {
        let all = Upstream::new("http://127.0.0.1:1", &[]).unwrap();
        assert!(all.forwards("/api"));
        assert!(all.forwards("/api/chat"));
        assert!(!all.forwards("/apix"));
        assert!(!all.forwards("/health"));
        assert!(!all.forwards("/chat"));
        let some = Upstream::new("http://127.0.0.1:1", &["/api/chat/".into()]).unwrap();
        assert!(some.forwards("/api/chat"));
        assert!(some.forwards("/api/chat/s1/stream"));
        assert!(!some.forwards("/api/chatter"));
        assert!(!some.forwards("/api/tools"));
    }

    #[test]
    fn refuses_what_is_not_an_http_origin() {
        assert!(Upstream::new("ftp://x", &[]).is_err());
        assert!(Upstream::new("not a url", &[]).is_err());
    }

    #[test]
    fn strips_hop_by_hop_headers_and_those_connection_names() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret-hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(
            "traceparent",
            HeaderValue::from_static("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        );
        let out = strip(&h);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out.contains_key("traceparent"));
    }
}
