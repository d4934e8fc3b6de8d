//! Per-request metrics and the structured access log.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::{HeaderValue, Method, Uri};

use crate::state::AppState;

/// Label for requests that matched no route (bounded cardinality).
pub const UNMATCHED: &str = "unmatched";

/// Counts and times a finished request by route template and logs one line.
///
/// Liveness probes and metric scrapes are logged at debug: they are noise at
/// info in any real deployment. Nothing is formatted unless it is logged.
#[allow(clippy::too_many_arguments)]
pub fn record(
    state: &AppState,
    method: &Method,
    route: Option<&str>,
    uri: &Uri,
    status: u16,
    elapsed: Duration,
    request_id: &HeaderValue,
    ip: Option<IpAddr>,
) {
    let route = route.unwrap_or(UNMATCHED);
    let method_label = method_label(method);
    state
        .metrics
        .http_requests
        .with_label_values(&[method_label, route, itoa_status(status)])
        .inc();
    state
        .metrics
        .http_duration
        .with_label_values(&[method_label, route])
        .observe(elapsed.as_secs_f64());
    let quiet = route == "/healthz" || route == "/api/metrics";
    let level = if quiet {
        tracing::Level::DEBUG
    } else if status >= 500 {
        tracing::Level::WARN
    } else {
        tracing::Level::INFO
    };
    let enabled = match level {
        tracing::Level::DEBUG => tracing::enabled!(tracing::Level::DEBUG),
        tracing::Level::WARN => tracing::enabled!(tracing::Level::WARN),
        _ => tracing::enabled!(tracing::Level::INFO),
    };
    if !enabled {
        return;
    }
    let ms = elapsed.as_secs_f64() * 1000.0;
    let request_id = request_id.to_str().unwrap_or("-");
    let path = uri.path();
    let ip = ip.map(|i| i.to_string()).unwrap_or_default();
    // The method goes to the log as its label too: a made-up 60 KB method is not
    // worth a 60 KB log line.
    let method = method_label;
    match level {
        tracing::Level::DEBUG => {
            tracing::debug!(request_id, method, route, path, status, ms, ip, "request")
        }
        tracing::Level::WARN => {
            tracing::warn!(request_id, method, route, path, status, ms, ip, "request")
        }
        _ => tracing::info!(request_id, method, route, path, status, ms, ip, "request"),
    }
}

/// The method as a metric label, from a fixed set: any token is a valid HTTP
/// method, so a raw method label would let anyone add series without bound.
pub fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The status as a metric label: the codes the portal answers, else the class.
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
