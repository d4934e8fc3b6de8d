//! CORS with explicit origins and credentials. Development also reflects
//! `http://localhost:*` and `http://127.0.0.1:*` so a local UI dev server works.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::HttpError;
use crate::state::AppState;

/// Which origins may call with credentials.
#[derive(Clone)]
pub struct CorsPolicy {
    origins: Arc<Vec<String>>,
    allow_localhost: bool,
}

const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOW_HEADERS: &str = "authorization, content-type, x-api-key, x-request-id, last-event-id";
const EXPOSE_HEADERS: &str =
    "x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset";

impl CorsPolicy {
    /// Builds the policy from configured origins (already normalised).
    pub fn new(origins: Vec<String>, allow_localhost: bool) -> Self {
        Self {
            origins: Arc::new(origins),
            allow_localhost,
        }
    }

    fn allows(&self, origin: &str) -> bool {
        let o = origin.to_ascii_lowercase();
        if self.origins.contains(&o) {
            return true;
        }
        self.allow_localhost
            && ["http://localhost", "http://127.0.0.1", "http://[::1]"]
                .iter()
                .any(|base| {
                    o.strip_prefix(base).is_some_and(|rest| {
                        rest.is_empty()
                            || (rest.starts_with(':')
                                && rest[1..].bytes().all(|b| b.is_ascii_digit()))
                    })
                })
    }
}

/// Middleware: answers preflights (204 allowed, 403 refused) and decorates simple requests.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let policy = &state.cors;
    let origin = req.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin else {
        return next.run(req).await;
    };
    let allowed = origin.to_str().is_ok_and(|o| policy.allows(o));
    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        if !allowed {
            let mut res = HttpError::Forbidden("Origin not allowed".into()).into_response();
            res.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Origin"));
            return res;
        }
        let mut res = axum::http::StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        h.insert(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        return res;
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_matching() {
        let p = CorsPolicy::new(vec!["https://portal.example".into()], true);
        assert!(p.allows("https://portal.example"));
        assert!(p.allows("HTTPS://PORTAL.EXAMPLE"));
        assert!(p.allows("http://localhost:5173"));
        assert!(p.allows("http://127.0.0.1"));
        assert!(!p.allows("http://localhost.evil.com"));
        assert!(!p.allows("http://localhost:80x"));
        assert!(!p.allows("https://portal.example.evil"));
        let strict = CorsPolicy::new(vec![], false);
        assert!(!strict.allows("http://localhost:5173"));
    }
}
