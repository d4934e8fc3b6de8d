//! The outer edge of the pipeline, as one layer (one future, no boxing between
//! steps): request id → metrics and access log → panic catcher → security headers.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::middleware::caller::ClientIp;
use crate::middleware::request_id::{self, RequestId, X_REQUEST_ID};
use crate::middleware::security::{self, CspNonce};
use crate::middleware::{observe, panic};
use crate::redact;
use crate::state::AppState;

/// Middleware: the edge steps in order.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = request_id::resolve(req.headers());
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let uri = req.uri().clone();
    let nonce = CspNonce::default();
    if tracing::enabled!(tracing::Level::TRACE) {
        tracing::trace!(request_id = id.to_str().unwrap_or("-"), headers = ?redact::headers(req.headers()), "request headers");
    }
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(nonce.clone());
    let mut res = request_id::scope(id.clone(), panic::catch(next.run(req))).await;
    security::apply(&mut res, &nonce, state.settings.is_production());
    let ip = res.extensions().get::<ClientIp>().map(|c| c.0);
    observe::record(
        &state,
        &method,
        route.as_ref().map(MatchedPath::as_str),
        &uri,
        res.status().as_u16(),
        start.elapsed(),
        &id,
        ip,
    );
    res.headers_mut().insert(X_REQUEST_ID.clone(), id);
    res
}
