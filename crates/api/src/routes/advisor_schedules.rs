//! Advisor schedules (`/api/v1/advisor/schedules`): create, list, read,
//! change (pause, resume, new pattern) and delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::advisor::schedule::{Overlap, Schedule};
use portal_core::advisor::schedules::{self as sched, Settings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::ts;

/// A schedule.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    /// Id.
    pub id: String,
    /// Cron pattern (UTC; 5 fields, or 6 with seconds first).
    pub cron: String,
    /// `skip` (default) or `allow`: what a tick does while the previous run still goes.
    pub overlap: String,
    /// Ticks later than this are skipped, not made up.
    pub catch_up_seconds: i64,
    /// Most random delay of a tick.
    pub jitter_seconds: i64,
    /// Failed runs in a row that pause the schedule.
    pub max_failures: i64,
    /// Failed runs in a row so far.
    pub failures: i64,
    /// Paused.
    pub paused: bool,
    /// Why it paused itself.
    pub paused_reason: Option<String>,
    /// Whose permissions its runs use.
    pub created_by: String,
    /// The next tick.
    pub next_at: Option<String>,
    /// The last tick handled.
    pub last_tick_at: Option<String>,
    /// Created.
    pub created_at: String,
}

impl From<&Schedule> for ScheduleView {
    fn from(s: &Schedule) -> Self {
        Self {
            id: s.id.clone(),
            cron: s.cron.clone(),
            overlap: s.overlap.as_str().into(),
            catch_up_seconds: s.catch_up_ms / 1000,
            jitter_seconds: s.jitter_ms / 1000,
            max_failures: s.max_failures,
            failures: s.failures,
            paused: s.paused,
            paused_reason: s.paused_reason.clone(),
            created_by: s.created_by.clone(),
            next_at: s.next_at.map(ts),
            last_tick_at: s.last_tick_at.map(ts),
            created_at: ts(s.created_at),
        }
    }
}

/// A schedule's settings (all optional on a change; `cron` required to create).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScheduleRequest {
    /// Cron pattern (UTC), e.g. `0 6 * * *`.
    #[schema(max_length = 200)]
    pub cron: Option<String>,
    /// `skip` or `allow`.
    pub overlap: Option<String>,
    /// 0–86 400 (default 300).
    #[schema(minimum = 0, maximum = 86400)]
    pub catch_up_seconds: Option<i64>,
    /// 0–3 600 (default 0).
    #[schema(minimum = 0, maximum = 3600)]
    pub jitter_seconds: Option<i64>,
    /// 1–100 (default 3).
    #[schema(minimum = 1, maximum = 100)]
    pub max_failures: Option<i64>,
    /// Pause or resume.
    pub paused: Option<bool>,
}

impl ScheduleRequest {
    fn settings(self) -> Result<Settings, ApiError> {
        let overlap = match self.overlap.as_deref() {
            None => None,
            Some(o) => Some(Overlap::parse(o).ok_or_else(|| {
                ApiError::from(portal_core::CoreError::Validation(
                    "overlap: must be skip or allow".into(),
                ))
            })?),
        };
        Ok(Settings {
            cron: self.cron,
            overlap,
            catch_up_seconds: self.catch_up_seconds,
            jitter_seconds: self.jitter_seconds,
            max_failures: self.max_failures,
            paused: self.paused,
        })
    }
}

/// The schedules.
#[derive(Serialize, ToSchema)]
pub struct ScheduleList {
    /// Oldest first.
    pub schedules: Vec<ScheduleView>,
}

/// Creates a schedule whose runs read as the caller (`tools:execute`).
#[utoipa::path(
    post, path = "/api/v1/advisor/schedules", operation_id = "createAdvisorSchedule", tag = "advisor", request_body = ScheduleRequest,
    responses((status = 201, description = "Created", body = ScheduleView), (status = 409, description = "Too many schedules", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    r: Require<perm::ToolsExecute>,
    ApiJson(b): ApiJson<ScheduleRequest>,
) -> Result<Response, ApiError> {
    let s = sched::create(&state.ctx(&r.caller), &r.principal, &b.settings()?).await?;
    Ok((StatusCode::CREATED, Json(ScheduleView::from(&s))).into_response())
}

/// The organisation's schedules (`tools:read`).
#[utoipa::path(
    get, path = "/api/v1/advisor/schedules", operation_id = "listAdvisorSchedules", tag = "advisor",
    responses((status = 200, description = "Schedules", body = ScheduleList)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
) -> Result<Json<ScheduleList>, ApiError> {
    let all = sched::list(&state.ctx(&r.caller), &r.principal).await?;
    Ok(Json(ScheduleList {
        schedules: all.iter().map(ScheduleView::from).collect(),
    }))
}

/// One schedule (`tools:read`).
#[utoipa::path(
    get, path = "/api/v1/advisor/schedules/{id}", operation_id = "getAdvisorSchedule", tag = "advisor",
    params(("id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "The schedule", body = ScheduleView), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    let s = sched::get(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(Json(ScheduleView::from(&s)))
}

/// Changes a schedule: pattern, policy, pause or resume (`tools:execute`).
#[utoipa::path(
    patch, path = "/api/v1/advisor/schedules/{id}", operation_id = "updateAdvisorSchedule", tag = "advisor", request_body = ScheduleRequest,
    params(("id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "Changed", body = ScheduleView), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Changed meanwhile", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    r: Require<perm::ToolsExecute>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ScheduleRequest>,
) -> Result<Json<ScheduleView>, ApiError> {
    let s = sched::update(&state.ctx(&r.caller), &r.principal, &id, &b.settings()?).await?;
    Ok(Json(ScheduleView::from(&s)))
}

/// Deletes a schedule; its runs stay (`tools:execute`).
#[utoipa::path(
    delete, path = "/api/v1/advisor/schedules/{id}", operation_id = "deleteAdvisorSchedule", tag = "advisor",
    params(("id" = String, Path, description = "Schedule id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    r: Require<perm::ToolsExecute>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    sched::delete(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
