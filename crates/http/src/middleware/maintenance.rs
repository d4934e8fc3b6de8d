//! Maintenance mode (a portal setting): while on, every write is refused with
//! 503 `MAINTENANCE` before it reaches a route — reads work, and so do signing
//! in and out and the settings themselves, so a platform admin can end it.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::HttpError;
use crate::state::AppState;

/// Writes that stay open during maintenance.
const OPEN: [&str; 7] = [
    "/api/auth/sign-in/email",
    "/api/auth/sign-out",
    "/login",
    "/logout",
    "/api/admin/settings",
    "/api/v1/admin/settings",
    "/admin/portal",
];

/// Whether `method` on `path` is refused during maintenance.
pub fn refused(method: &Method, path: &str) -> bool {
    let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    !read && !OPEN.contains(&path.trim_end_matches('/'))
}

/// Middleware: refuses writes while maintenance is on (this replica's copy of
/// the settings, at most a few seconds old).
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if refused(req.method(), req.uri().path()) {
        let s = state.app.settings_now().await;
        if s.maintenance {
            return HttpError::Maintenance(s.banner().to_string()).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_the_way_out_stay_open() {
        assert!(!refused(&Method::GET, "/api/v1/webhooks"));
        assert!(!refused(&Method::HEAD, "/chat"));
        assert!(!refused(&Method::PUT, "/api/v1/admin/settings"));
        assert!(!refused(&Method::POST, "/login"));
        assert!(refused(&Method::POST, "/api/v1/webhooks"));
        assert!(refused(&Method::DELETE, "/api/sessions/x"));
        assert!(refused(&Method::POST, "/admin/settings/four-eyes"));
        assert!(refused(&Method::POST, "/api/admin/settingsx"));
    }
}
