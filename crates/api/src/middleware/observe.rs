//! Per-request metrics and the structured access log.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::middleware::caller::ClientIp;
use crate::middleware::request_id::RequestId;
use crate::redact;
use crate::state::AppState;

/// Label for requests that matched no route (bounded cardinality).
const UNMATCHED: &str = "unmatched";

/// Middleware: counts and times every request by route template and logs one line.
///
/// Liveness probes and metric scrapes are logged at debug: they are noise at
/// info in any real deployment.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let path = req.uri().path().to_owned();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    if tracing::enabled!(tracing::Level::TRACE) {
        tracing::trace!(request_id, headers = ?redact::headers(req.headers()), "request headers");
    }
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    state
        .metrics
        .http_requests
        .with_label_values(&[method.as_str(), &route, itoa_status(status)])
        .inc();
    state
        .metrics
        .http_duration
        .with_label_values(&[method.as_str(), &route])
        .observe(elapsed.as_secs_f64());
    let ms = elapsed.as_secs_f64() * 1000.0;
    let ip = res
        .extensions()
        .get::<ClientIp>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    if route == "/healthz" || route == "/api/metrics" {
        tracing::debug!(request_id, method = %method, route, path, status, ms, ip, "request");
    } else if status >= 500 {
        tracing::warn!(request_id, method = %method, route, path, status, ms, ip, "request");
    } else {
        tracing::info!(request_id, method = %method, route, path, status, ms, ip, "request");
    }
    res
}

fn itoa_status(s: u16) -> &'static str {
    match s {
        200 => "200",
        201 => "201",
        204 => "204",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        415 => "415",
        429 => "429",
        500 => "500",
        503 => "503",
        s if s < 200 => "1xx",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}
