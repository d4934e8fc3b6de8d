//! Request ids: accept a sane incoming `X-Request-Id`, else make one; echo it on
//! every response and make it reachable from anywhere in the request's task
//! (error bodies quote it without threading it through every call).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The header carrying the id both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The current request's id, if called inside a request.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The request id, also stored in request extensions for handlers.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// True for ids we echo back: 1–128 characters of `[A-Za-z0-9._:-]`.
fn is_sane(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

/// Middleware: resolves the id, runs the rest of the stack in its scope, echoes it.
pub async fn layer(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("req-{}", uuid::Uuid::new_v4()));
    req.extensions_mut().insert(RequestId(id.clone()));
    let value = HeaderValue::from_str(&id).ok();
    let mut res = REQUEST_ID.scope(id, next.run(req)).await;
    if let Some(v) = value {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn sanity_rules() {
        assert!(is_sane("abc-123_x.y:z"));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(129)));
        assert!(!is_sane("a b"));
        assert!(!is_sane("<script>"));
    }
}
