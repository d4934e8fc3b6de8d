//! Liveness, readiness and a live health stream.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::stream::Stream;
use portal_core::health::{self, Report, Status};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::middleware::caller::Caller;
use crate::routes::ops;
use crate::state::AppState;
use crate::streams::{Pool, Slot};

/// Overall deadline of `/health`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// One check in the health report.
#[derive(Serialize, ToSchema)]
pub struct CheckView {
    /// `ok`, `degraded` or `error`.
    #[schema(example = "ok")]
    pub status: String,
    /// Time the check took, in milliseconds (operators only).
    #[serde(rename = "latencyMs", skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Extra facts about the check: backend, errors, cloud and region (operators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// The health report.
#[derive(Serialize, ToSchema)]
pub struct HealthView {
    /// `ok`, `degraded` or `error`.
    #[schema(example = "ok")]
    pub status: String,
    /// Each check by name (`database`, …).
    pub checks: BTreeMap<String, CheckView>,
    /// The portal's version (operators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
    /// Seconds since this instance started (operators only).
    #[serde(rename = "uptimeSeconds", skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<f64>,
    /// When the report was made (RFC 3339).
    pub timestamp: String,
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Degraded => "degraded",
        Status::Error => "error",
    }
}

/// Runs every check within the deadline.
pub async fn assess(state: &AppState) -> Report {
    let budget = HEALTH_TIMEOUT - Duration::from_millis(200);
    let cloud = async {
        match state.cloud.get() {
            Some(c) => Some(c.check(budget).await),
            None => None,
        }
    };
    let upstream = async {
        match &state.upstream {
            Some(u) => Some(u.check(budget).await),
            None => None,
        }
    };
    let (db, cloud, upstream) = tokio::join!(state.app.check_database(budget), cloud, upstream);
    state.metrics.db_up.set(i64::from(db.status == Status::Ok));
    let mut checks = BTreeMap::from([("database", db)]);
    if let Some(c) = cloud {
        checks.insert("cloud", c);
    }
    // A web tier answers nothing of the API without its upstream.
    if let Some(u) = upstream {
        checks.insert("apiUpstream", u);
    }
    Report::from_checks(checks)
}

/// The report as shown: everyone sees the overall status and each check's
/// status; latencies, details (errors, backend, cloud, region), version and
/// uptime only operators (see [`ops::access`]).
fn view(state: &AppState, r: Report, detailed: bool) -> HealthView {
    HealthView {
        status: status_str(r.status).into(),
        checks: r
            .checks
            .into_iter()
            .map(|(k, c)| {
                (
                    k.to_string(),
                    CheckView {
                        status: status_str(c.status).into(),
                        latency_ms: c.latency_ms.filter(|_| detailed),
                        details: (detailed && !c.details.is_empty())
                            .then_some(serde_json::Value::Object(c.details)),
                    },
                )
            })
            .collect(),
        version: detailed.then_some(env!("CARGO_PKG_VERSION")),
        uptime_seconds: detailed.then(|| state.started.elapsed().as_secs_f64()),
        timestamp: crate::time::now_rfc3339(),
    }
}

/// Liveness: the process answers. No I/O.
#[utoipa::path(
    get, path = "/healthz", operation_id = "getLiveness", tag = "health",
    responses((status = 200, description = "The process is alive", body = String, content_type = "text/plain", example = "ok"))
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// True when the caller may see health details.
fn detailed(state: &AppState, caller: Option<&Caller>, headers: &HeaderMap) -> bool {
    ops::access(state, caller, headers) == ops::OpsAccess::Operator
}

/// Readiness: runs the checks (3 s deadline). 503 when a critical check fails.
/// Anonymous callers get the status of each check only; latencies and details
/// need the metrics token or a platform admin. The cloud check is
/// cached for a few seconds, so callers cannot multiply signed cloud calls.
#[utoipa::path(
    get, path = "/health", operation_id = "getHealth", tag = "health",
    responses(
        (status = 200, description = "Healthy or degraded", body = HealthView),
        (status = 503, description = "A critical check failed", body = HealthView),
    )
)]
pub async fn health(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
) -> Response {
    let detailed = detailed(&state, caller.as_ref().map(|c| &c.0), &headers);
    let report = match tokio::time::timeout(HEALTH_TIMEOUT, assess(&state)).await {
        Ok(r) => r,
        Err(_) => {
            let mut checks = BTreeMap::new();
            checks.insert(
                "database",
                health::Check {
                    status: Status::Error,
                    latency_ms: None,
                    details: serde_json::Map::from_iter([(
                        "error".to_string(),
                        "timed out".into(),
                    )]),
                    critical: true,
                },
            );
            Report::from_checks(checks)
        }
    };
    let code = if report.status == Status::Error {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(view(&state, report, detailed))).into_response()
}

/// A live health feed (SSE): a `health` event now and on every change, heartbeat
/// comments in between, and a final `shutdown` event when the server drains.
#[utoipa::path(
    get, path = "/api/health/stream", operation_id = "streamHealth", tag = "health",
    responses(
        (status = 200, description = "Server-sent events: `health` (a HealthView) and a final `shutdown`", content_type = "text/event-stream", body = crate::views::SseEvent),
        (status = 429, description = "RATE_LIMITED: this address (or principal) already holds its share of open streams (`PORTAL_STREAMS_PER_IP`)", body = ErrorBody),
        (status = 503, description = "OVERLOADED: the health-stream pool (`PORTAL_MAX_HEALTH_STREAMS`, apart from chat's) is full", body = ErrorBody),
    )
)]
pub async fn health_stream(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller.map(|c| c.0);
    let detailed = detailed(&state, caller.as_ref(), &headers);
    let ip = caller
        .as_ref()
        .map(|c| c.ip)
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let principal = caller
        .as_ref()
        .and_then(|c| c.principal.as_ref())
        .map(|p| p.id.as_str());
    let slot = Slot::take(&state, Pool::Health, principal, ip)?;
    let heartbeat = state.settings.http.sse_heartbeat;
    let stream = async_stream(state, slot, detailed);
    let mut res = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response();
    // Streams are never cached either (axum's default is no-cache).
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

fn async_stream(
    state: AppState,
    slot: Slot,
    detailed: bool,
) -> impl Stream<Item = Result<Event, Infallible>> {
    struct Open {
        state: AppState,
        _slot: Slot,
    }
    let open = Open { state, _slot: slot };
    futures_util::stream::unfold(
        (open, 0u64, None::<&'static str>, false),
        move |(open, id, last, done)| async move {
            if done {
                return None;
            }
            let shutdown = open.state.shutdown.clone();
            if last.is_some() {
                // Wait for a change, polling the cheap availability flag, or for shutdown.
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => {
                            let ev = Event::default().id(id.to_string()).event("shutdown")
                                .data(r#"{"reason":"server shutting down"}"#);
                            return Some((Ok(ev), (open, id + 1, last, true)));
                        }
                        _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                    }
                    let now = if open.state.app.database_up() {
                        "ok"
                    } else {
                        "error"
                    };
                    if Some(now) != last {
                        break;
                    }
                }
            }
            let report = assess(&open.state).await;
            let current = if report.status == Status::Error {
                "error"
            } else {
                "ok"
            };
            let data =
                serde_json::to_string(&view(&open.state, report, detailed)).unwrap_or_default();
            let ev = Event::default()
                .id(id.to_string())
                .event("health")
                .data(data);
            Some((Ok(ev), (open, id + 1, Some(current), false)))
        },
    )
}
