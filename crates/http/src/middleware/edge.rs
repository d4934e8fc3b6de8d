//! The outer edge of the pipeline, as one layer (one future, no boxing between
//! steps): request id → metrics and access log → panic catcher → security headers.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

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
    // With tracing on, the request runs in its span (parent: the caller's
    // traceparent); off, this is one atomic load.
    let span = if portal_telemetry::enabled() {
        portal_telemetry::request_span(
            observe::method_label(&method),
            route
                .as_ref()
                .map_or(observe::UNMATCHED, MatchedPath::as_str),
            id.to_str().unwrap_or("-"),
            req.headers()
                .get(portal_telemetry::TRACEPARENT)
                .map(|v| v.as_bytes()),
        )
    } else {
        None
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(nonce.clone());
    let run = request_id::scope(id.clone(), panic::catch(next.run(req)));
    let mut res = match &span {
        Some(span) => run.instrument(span.clone()).await,
        None => run.await,
    };
    security::apply(&mut res, &nonce, state.settings.is_production());
    let ip = res.extensions().get::<ClientIp>().map(|c| c.0);
    // The access log line is written inside the span, so it carries the trace id.
    let _in_span = span.as_ref().map(tracing::Span::enter);
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
    if let Some(span) = &span {
        portal_telemetry::finish_request(span, res.status().as_u16());
    }
    res
}
