//! Liveness, readiness and a live health stream.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::Stream;
use portal_core::health::{self, Report, Status};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Overall deadline of `/health`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// One check in the health report.
#[derive(Serialize, ToSchema)]
pub struct CheckView {
    /// `ok`, `degraded` or `error`.
    #[schema(example = "ok")]
    pub status: String,
    /// Time the check took, in milliseconds.
    #[serde(rename = "latencyMs", skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Extra facts about the check.
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
    /// The portal's version.
    pub version: &'static str,
    /// Seconds since this instance started.
    #[serde(rename = "uptimeSeconds")]
    pub uptime_seconds: f64,
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
    let (db, cloud) = tokio::join!(health::check_database(state.store.as_ref(), budget), cloud);
    state.metrics.db_up.set(i64::from(db.status == Status::Ok));
    let mut checks = BTreeMap::from([("database", db)]);
    if let Some(c) = cloud {
        checks.insert("cloud", c);
    }
    Report::from_checks(checks)
}

fn view(state: &AppState, r: Report) -> HealthView {
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
                        latency_ms: c.latency_ms,
                        details: (!c.details.is_empty())
                            .then_some(serde_json::Value::Object(c.details)),
                    },
                )
            })
            .collect(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs_f64(),
        timestamp: crate::time::now_rfc3339(),
    }
}

/// Liveness: the process answers. No I/O.
#[utoipa::path(
    get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = String, content_type = "text/plain", example = "ok"))
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: runs the checks (3 s deadline). 503 when a critical check fails.
#[utoipa::path(
    get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "Healthy or degraded", body = HealthView),
        (status = 503, description = "A critical check failed", body = HealthView),
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
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
    (code, Json(view(&state, report))).into_response()
}

/// A live health feed (SSE): a `health` event now and on every change, heartbeat
/// comments in between, and a final `shutdown` event when the server drains.
#[utoipa::path(
    get, path = "/api/health/stream", tag = "health",
    responses(
        (status = 200, description = "Server-sent events: `health` (a HealthView) and a final `shutdown`", content_type = "text/event-stream", body = String),
        (status = 503, description = "Too many open streams", body = ErrorBody),
    )
)]
pub async fn health_stream(State(state): State<AppState>) -> Result<Response, ApiError> {
    let permit = state.streams.clone().try_acquire_owned().map_err(|_| {
        state.metrics.shed.with_label_values(&["streams"]).inc();
        ApiError::Overloaded
    })?;
    let heartbeat = state.settings.sse_heartbeat;
    let stream = async_stream(state, permit);
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
    permit: tokio::sync::OwnedSemaphorePermit,
) -> impl Stream<Item = Result<Event, Infallible>> {
    struct Open {
        state: AppState,
        _permit: tokio::sync::OwnedSemaphorePermit,
    }
    impl Drop for Open {
        fn drop(&mut self) {
            self.state.metrics.streams_open.dec();
        }
    }
    state.metrics.streams_open.inc();
    let open = Open {
        state,
        _permit: permit,
    };
    futures_util::stream::unfold(
        (open, 0u64, None::<&'static str>, false),
        |(open, id, last, done)| async move {
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
                    let now = if open.state.store.availability().is_up() {
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
            let data = serde_json::to_string(&view(&open.state, report)).unwrap_or_default();
            let ev = Event::default()
                .id(id.to_string())
                .event("health")
                .data(data);
            Some((Ok(ev), (open, id + 1, Some(current), false)))
        },
    )
}
