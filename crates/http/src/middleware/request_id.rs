//! Request ids: accept a sane incoming `X-Request-Id`, else make one; echo it on
//! every response and make it reachable from anywhere in the request's task
//! (error bodies quote it without threading it through every call).

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The header carrying the id both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: HeaderValue;
}

/// The current request's id, if called inside a request.
pub fn current() -> Option<String> {
    REQUEST_ID
        .try_with(|v| v.to_str().ok().map(str::to_owned))
        .ok()
        .flatten()
}

/// Runs `fut` with `id` as the current request id.
pub async fn scope<F: std::future::Future>(id: HeaderValue, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The request id, also stored in request extensions for handlers.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or("-")
    }
}

/// True for ids we echo back: 1–128 characters of `[A-Za-z0-9._:-]`.
fn is_sane(v: &[u8]) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

/// The incoming id when sane, else a fresh `req-<uuid>`.
pub fn resolve(headers: &HeaderMap) -> HeaderValue {
    if let Some(v) = headers.get(&X_REQUEST_ID).filter(|v| is_sane(v.as_bytes())) {
        return v.clone();
    }
    let mut buf = [0u8; 4 + uuid::fmt::Hyphenated::LENGTH];
    buf[..4].copy_from_slice(b"req-");
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut buf[4..]);
    HeaderValue::from_bytes(&buf).unwrap_or_else(|_| HeaderValue::from_static("req-unknown"))
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn sanity_rules() {
        assert!(is_sane(b"abc-123_x.y:z"));
        assert!(!is_sane(b""));
        assert!(!is_sane("a".repeat(129).as_bytes()));
        assert!(!is_sane(b"a b"));
        assert!(!is_sane(b"<script>"));
    }
}
