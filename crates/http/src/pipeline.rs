//! The middleware pipeline around the merged routers of every adapter, the
//! fallbacks, and the hook through which the web UI renders errors as pages.
//!
//! Outermost first: edge (request id → metrics and access log → panic catcher
//! → security headers) → the web tier's forwarding to the API tier (a no-op in
//! the other roles; the API tier runs the rest for what it is sent) → error pages → CORS → maintenance → caller → rate limit → limits
//! (body limit → load shedding → timeout) → routes.

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::{Extension, Router};
use tower::ServiceBuilder;

use crate::error::{ErrorInfo, HttpError};
use crate::middleware::security::CspNonce;
use crate::middleware::{caller, cors, edge, limits, maintenance, panic, rate_limit};
use crate::proxy;
use crate::state::AppState;

/// The configured body limit, put in request extensions so rejections can quote it.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

/// What an error page may know about the request it answers.
pub struct PageRequest<'a> {
    /// The request path.
    pub path: &'a str,
    /// The request headers (`Accept`, cookies).
    pub headers: &'a HeaderMap,
    /// The response's CSP nonce.
    pub nonce: CspNonce,
}

/// Renders an error as a page for a browser; `None` keeps the JSON body.
/// The web UI supplies one; an API-only server passes `None` to [`pipeline`].
pub type ErrorPages = fn(&PageRequest<'_>, &ErrorInfo) -> Option<Response>;

/// Wraps the merged routes of every adapter in the full pipeline, with the
/// fallbacks (404, 405) set once for all of them.
pub fn pipeline(state: AppState, routes: Router<AppState>, pages: Option<ErrorPages>) -> Router {
    let limit = state.settings.limits.body_limit_bytes;
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), edge::layer))
                .layer(from_fn_with_state(state.clone(), proxy::layer))
                .layer(from_fn(move |req: Request, next: Next| {
                    error_pages(pages, req, next)
                }))
                .layer(from_fn_with_state(state.clone(), cors::layer))
                .layer(from_fn_with_state(state.clone(), maintenance::layer))
                .layer(from_fn_with_state(state.clone(), caller::layer))
                .layer(from_fn_with_state(state.clone(), rate_limit::layer))
                .layer(from_fn_with_state(state.clone(), limits::layer))
                .layer(DefaultBodyLimit::max(limit))
                .layer(Extension(BodyLimit(limit))),
        )
        .with_state(state)
}

async fn not_found(method: Method, uri: Uri) -> HttpError {
    HttpError::NotFound(format!("No route for {method} {}", uri.path()))
}

async fn method_not_allowed() -> HttpError {
    HttpError::MethodNotAllowed
}

/// Paths whose errors are JSON whatever the client accepts: the API and the
/// health probes (never rendered as pages).
pub fn json_only(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/health" || path == "/healthz"
}

/// Middleware: an error response (anything carrying [`ErrorInfo`], including
/// a panic caught here) is offered to `pages`, which may answer with a page.
async fn error_pages(pages: Option<ErrorPages>, req: Request, next: Next) -> Response {
    // The API and the probes always answer JSON: they pay for none of this.
    let Some(pages) = pages.filter(|_| !json_only(req.uri().path())) else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_owned();
    let headers = req.headers().clone();
    let nonce = req
        .extensions()
        .get::<CspNonce>()
        .cloned()
        .unwrap_or_default();
    let res = panic::catch(next.run(req)).await;
    let Some(info) = res.extensions().get::<ErrorInfo>().cloned() else {
        return res;
    };
    let page_req = PageRequest {
        path: &path,
        headers: &headers,
        nonce,
    };
    match pages(&page_req, &info) {
        Some(page) => {
            // The error's status and headers (Retry-After, RateLimit-*) stay; the body is the page's.
            let (mut parts, _) = res.into_parts();
            let (page_parts, body) = page.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.remove(header::WWW_AUTHENTICATE);
            for (name, value) in &page_parts.headers {
                parts.headers.insert(name, value.clone());
            }
            Response::from_parts(parts, body)
        }
        None => res,
    }
}
