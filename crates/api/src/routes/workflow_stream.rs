//! Following a workflow run: `GET /api/v1/workflows/runs/{runId}/stream`
//! replays the run's stored events after `Last-Event-ID` (or `?after=`) and
//! follows new ones until the run ends. Events are rows, polled, so a client
//! sees every replica's steps on any replica.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use portal_core::identity::Principal;
use portal_core::workflows::model::RunEvent;
use portal_core::workflows::service as wf;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::streams::{Pool, Slot};
use crate::views::ts;

/// How often a stream looks for new events (events are rows: any replica's show up).
const POLL: Duration = Duration::from_millis(250);

/// Where to resume a stream.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// Replay events after this sequence number (`Last-Event-ID` works too; default 0: all).
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Replays a run's events and follows them until the run ends (`workflows:read`):
/// `id` is the event's sequence number, `event` its kind (`run.started`,
/// `step.completed`, `run.suspended`, …).
#[utoipa::path(
    get, path = "/api/v1/workflows/runs/{runId}/stream", operation_id = "followWorkflowRun", tag = "workflows",
    params(("runId" = String, Path, description = "Run id"), After),
    responses(
        (status = 200, description = "Events as server-sent events", content_type = "text/event-stream", body = crate::views::SseEvent),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 429, description = "RATE_LIMITED: too many open streams", body = ErrorBody),
        (status = 503, description = "OVERLOADED: every streaming slot is in use", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn stream(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsRead>,
    ApiPath(run_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<After>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let after = q.after.or(last).unwrap_or(0).max(0);
    // 404 before taking a slot.
    wf::get_run(&state.ctx(&r.caller), &r.principal, &run_id).await?;
    let slot = Slot::take(&state, Pool::Chat, Some(&r.principal.id), r.caller.ip)?;
    let follow = Follow {
        state: state.clone(),
        principal: r.principal.clone(),
        run_id,
        after,
        queued: VecDeque::new(),
        done: false,
        _slot: slot,
    };
    let mut res = Sse::new(events(follow, r.caller.clone()))
        .keep_alive(
            KeepAlive::new()
                .interval(state.settings.http.sse_heartbeat)
                .text("heartbeat"),
        )
        .into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

struct Follow {
    state: AppState,
    principal: Arc<Principal>,
    run_id: String,
    after: i64,
    queued: VecDeque<RunEvent>,
    done: bool,
    _slot: Slot,
}

fn frame(e: &RunEvent) -> Event {
    let data = json!({"seq": e.seq, "kind": e.kind, "data": e.body, "createdAt": ts(e.created_at)});
    Event::default()
        .id(e.seq.to_string())
        .event(e.kind.clone())
        .data(data.to_string())
}

fn events(
    f: Follow,
    caller: portal_http::middleware::caller::Caller,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold((f, caller), |(mut f, caller)| async move {
        loop {
            if let Some(e) = f.queued.pop_front() {
                f.after = e.seq;
                return Some((Ok(frame(&e)), (f, caller)));
            }
            if f.done {
                return None;
            }
            let ctx = f.state.ctx(&caller);
            let ended = match wf::get_run(&ctx, &f.principal, &f.run_id).await {
                Ok(l) => l.run.status.is_terminal(),
                Err(_) => true,
            };
            match wf::events(&ctx, &f.principal, &f.run_id, f.after).await {
                Ok(list) if !list.is_empty() => f.queued.extend(list),
                // Read the status before the events: an end seen then has all its events now.
                Ok(_) if ended => f.done = true,
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "run stream could not read events"),
            }
            if f.queued.is_empty() && !f.done {
                let shutdown = f.state.shutdown.clone();
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        }
    })
}
