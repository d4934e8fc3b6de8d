//! The HTTP front: one axum fallback handler that buffers the body, applies
//! injected faults, matches the route, verifies the signature, runs the handler
//! under the state lock, persists mutations and shapes the OCI response
//! (`opc-request-id` on every response, JSON error bodies).

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode};

use crate::routes::{self, Match};
use crate::services::Ctx;
use crate::wire::{self, ApiError, Reply, ReplyBody, Req};
use crate::{auth, faults, idempotency, Emulator};

/// Largest request body accepted (Object Storage puts included).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

pub(crate) fn router(emu: Emulator) -> Router {
    Router::new().fallback(handle).with_state(emu)
}

fn new_request_id() -> String {
    (0..32)
        .map(|_| char::from(b"0123456789ABCDEF"[fastrand::usize(..16)]))
        .collect()
}

async fn handle(State(emu): State<Emulator>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    emu.inner.requests_served.fetch_add(1, Ordering::Relaxed);
    let request_id = parts
        .headers
        .get("opc-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let is_head = parts.method == Method::HEAD;
    let result = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => dispatch(&emu, &parts, &bytes),
        Err(_) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("The request body exceeds {MAX_BODY_BYTES} bytes"),
        )),
    };
    if let Err(e) = &result {
        tracing::debug!(
            method = %parts.method,
            path = %parts.uri.path(),
            status = e.status.as_u16(),
            code = %e.code,
            "oci emulator error"
        );
    }
    into_response(result, &request_id, is_head)
}

fn dispatch(emu: &Emulator, parts: &http::request::Parts, body: &Bytes) -> Result<Reply, ApiError> {
    let inner = &emu.inner;
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or(path);

    {
        let mut plans = inner
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(err) = faults::take(&mut plans, path) {
            inner.faults_served.fetch_add(1, Ordering::Relaxed);
            return Err(err);
        }
    }

    let matched = routes::match_route(method, path);
    let unsigned_body = matches!(&matched, Match::Found(op, _) if op.unsigned_body);
    let verified = auth::authenticate(
        &inner.keys,
        method,
        path_and_query,
        &parts.headers,
        body,
        inner.config.verify_clock_skew,
        unsigned_body,
    )?;

    let (op, params) = match matched {
        Match::Found(op, params) => (op, params),
        Match::BadPath(msg) => return Err(ApiError::invalid(msg)),
        Match::NotFound => return Err(ApiError::not_found(format!("{method} {path}"))),
    };
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let req = Req {
        params,
        query,
        headers: &parts.headers,
        body,
    };

    let mut st = emu.lock_state();
    let held = inner.shared.lock().map_err(|e| {
        tracing::error!(error = %e, "cannot lock the emulator state");
        ApiError::internal("cannot lock the emulator state")
    })?;
    // Another process (the CLI, another server) may have changed the state.
    match inner.shared.reload_if_changed(&held) {
        Ok(Some(fresh)) => *st = fresh,
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot re-read the emulator state");
            return Err(ApiError::internal("cannot re-read the emulator state"));
        }
    }
    let delay = i64::try_from(inner.config.transition_delay.as_millis()).unwrap_or(i64::MAX);
    let now = wire::now_ms();
    // Idempotent POSTs: the first reply again for a known token (under the
    // state lock, so two concurrent retries cannot both run).
    let claim = idempotency::claim(
        method,
        &parts.headers,
        &verified.key_id,
        path_and_query,
        body,
    )?;
    let ttl = i64::try_from(inner.config.retry_token_ttl.as_millis()).unwrap_or(i64::MAX);
    let mut tokens = inner
        .retry_tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(c) = &claim {
        if let Some(reply) = tokens.replay(c, now, ttl)? {
            return Ok(reply);
        }
    }
    let mut ctx = Ctx {
        st: &mut st,
        now,
        delay,
        blob_dir: &inner.blob_dir,
        dirty: false,
    };
    let result = (op.handler)(&mut ctx, &req);
    if ctx.dirty {
        let bytes = serde_json::to_vec(&*st)
            .map_err(|e| ApiError::internal(format!("cannot serialise state: {e}")))?;
        inner.shared.write(&held, &bytes).map_err(|e| {
            tracing::error!(error = %e, path = %inner.state_path.display(), "cannot persist emulator state");
            ApiError::internal(format!("cannot persist state: {e}"))
        })?;
    }
    if let (Some(c), Ok(reply)) = (claim, &result) {
        tokens.remember(c, reply, now, ttl);
    }
    result
}

fn into_response(result: Result<Reply, ApiError>, request_id: &str, is_head: bool) -> Response {
    let (status, headers, body, content_type): (
        StatusCode,
        Vec<(HeaderName, HeaderValue)>,
        Bytes,
        Option<String>,
    ) = match result {
        Ok(reply) => {
            let mut headers = Vec::new();
            for (name, value) in reply.headers {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    headers.push((n, v));
                }
            }
            match reply.body {
                ReplyBody::Json(v) => (
                    reply.status,
                    headers,
                    Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
                    Some("application/json".to_string()),
                ),
                ReplyBody::Bytes(b, ct) => (reply.status, headers, b, Some(ct)),
                ReplyBody::Empty => (reply.status, headers, Bytes::new(), None),
            }
        }
        Err(e) => (
            e.status,
            e.headers.clone(),
            Bytes::from(serde_json::to_vec(&e.body()).unwrap_or_default()),
            Some("application/json".to_string()),
        ),
    };
    let mut builder = Response::builder().status(status);
    if let Some(ct) = content_type {
        if let Ok(v) = HeaderValue::from_str(&ct) {
            builder = builder.header(http::header::CONTENT_TYPE, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        builder = builder.header("opc-request-id", v);
    }
    for (n, v) in headers {
        builder = builder.header(n, v);
    }
    let body = if is_head {
        Body::empty()
    } else {
        Body::from(body)
    };
    builder.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
