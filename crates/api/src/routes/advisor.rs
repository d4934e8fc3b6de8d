//! CloudAdvisor (`/api/v1/advisor/...`): start a run and follow it (SSE),
//! list and read runs; list, filter and read findings, acknowledge or
//! dismiss one; the home page's summary.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::advisor::model::*;
use portal_core::advisor::service::{self as advisor, Decision};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::views::ts;

/// A run.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvisorRunView {
    /// Id.
    pub id: String,
    /// `queued`, `running`, `completed`, `failed` or `skipped`.
    pub status: String,
    /// `manual` or `schedule`.
    pub trigger: String,
    /// The schedule, for a scheduled run.
    pub schedule_id: Option<String>,
    /// The schedule's tick it is for.
    pub tick_at: Option<String>,
    /// Who it reads the cloud as.
    pub started_by: String,
    /// Checks evaluated, failed, hits, created, resolved, reads, errors.
    #[schema(value_type = Object)]
    pub summary: Value,
    /// Why it failed.
    pub error: Option<String>,
    /// Created.
    pub created_at: String,
    /// Started.
    pub started_at: Option<String>,
    /// Finished.
    pub finished_at: Option<String>,
}

impl From<&AdvisorRun> for AdvisorRunView {
    fn from(r: &AdvisorRun) -> Self {
        Self {
            id: r.id.clone(),
            status: r.status.as_str().into(),
            trigger: r.trigger.as_str().into(),
            schedule_id: r.schedule_id.clone(),
            tick_at: r.tick_at.map(ts),
            started_by: r.started_by.clone(),
            summary: serde_json::to_value(&r.summary).unwrap_or_default(),
            error: r.error.clone(),
            created_at: ts(r.created_at),
            started_at: r.started_at.map(ts),
            finished_at: r.finished_at.map(ts),
        }
    }
}

/// A finding.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindingView {
    /// Id (the fingerprint's hash).
    pub id: String,
    /// The check.
    pub check_id: String,
    /// Its CIS OCI Foundations v3.0 recommendation, where one exists.
    pub cis: Option<String>,
    /// The resource.
    pub resource_id: String,
    /// Its name.
    pub resource_name: String,
    /// `cost`, `security`, `availability` or `performance`.
    pub category: String,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// `open`, `acknowledged`, `dismissed` or `resolved`.
    pub status: String,
    /// What is wrong.
    pub title: String,
    /// What to do.
    pub remediation: String,
    /// The read tool, its argument hash, the JSON path and the offending value.
    #[schema(value_type = Object)]
    pub evidence: Value,
    /// Estimated monthly savings (USD cents), from the shipped price list.
    pub savings_cents: Option<i64>,
    /// The fix plan: tool calls (they run through the gateway and its approvals).
    #[schema(value_type = Vec<Object>)]
    pub fix: Value,
    /// A chat prompt that asks the agent to carry out the plan.
    pub fix_prompt: String,
    /// The note of the last decision.
    pub note: Option<String>,
    /// When a dismissal lapses.
    pub dismissed_until: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// First seen.
    pub first_seen_at: String,
    /// Last seen.
    pub last_seen_at: String,
    /// Resolved.
    pub resolved_at: Option<String>,
}

impl From<&Finding> for FindingView {
    fn from(f: &Finding) -> Self {
        let check = portal_core::advisor::checks::find(&f.check_id);
        Self {
            id: f.id.clone(),
            check_id: f.check_id.clone(),
            cis: check.and_then(|c| c.cis).map(str::to_owned),
            resource_id: f.resource_id.clone(),
            resource_name: f.resource_name.clone(),
            category: f.category.as_str().into(),
            severity: f.severity.as_str().into(),
            status: f.status.as_str().into(),
            title: f.title.clone(),
            remediation: check.map(|c| c.remediation).unwrap_or_default().into(),
            evidence: serde_json::to_value(&f.evidence).unwrap_or_default(),
            savings_cents: f.savings_cents,
            fix: serde_json::to_value(&f.fix).unwrap_or_default(),
            fix_prompt: portal_core::advisor::service::fix_prompt(f),
            note: f.note.clone(),
            dismissed_until: f.dismissed_until.map(ts),
            decided_by: f.decided_by.clone(),
            first_seen_at: ts(f.first_seen_at),
            last_seen_at: ts(f.last_seen_at),
            resolved_at: f.resolved_at.map(ts),
        }
    }
}

/// A page of runs.
#[derive(Serialize, ToSchema)]
pub struct AdvisorRunList {
    /// Newest first.
    pub runs: Vec<AdvisorRunView>,
    /// How many in all.
    pub total: i64,
}

/// A page of findings.
#[derive(Serialize, ToSchema)]
pub struct FindingList {
    /// Most severe first, then last seen.
    pub findings: Vec<FindingView>,
    /// How many match.
    pub total: i64,
}

/// A page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size (1–100, default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Page start.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Which findings.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FindingsQuery {
    /// Comma-separated statuses (`open,acknowledged,dismissed,resolved`; empty or absent: all).
    #[param(
        pattern = r"^((open|acknowledged|dismissed|resolved)(,(open|acknowledged|dismissed|resolved))*)?$"
    )]
    pub status: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    #[param(pattern = r"^(critical|high|medium|low)$")]
    pub severity: Option<String>,
    /// `cost`, `security`, `availability` or `performance`.
    #[param(pattern = r"^(cost|security|availability|performance)$")]
    pub category: Option<String>,
    /// One check's.
    pub check_id: Option<String>,
    /// Page size (1–100, default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Page start.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

fn bad(field: &str, v: &str) -> ApiError {
    ApiError::from(portal_core::CoreError::Validation(format!(
        "{field}: unknown value {v:?}"
    )))
}

/// Starts a run as the caller (`tools:execute`); follow it at `/runs/{id}/stream`.
#[utoipa::path(
    post, path = "/api/v1/advisor/runs", operation_id = "startAdvisorRun", tag = "advisor",
    responses((status = 201, description = "Queued", body = AdvisorRunView)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn start(
    State(state): State<AppState>,
    r: Require<perm::ToolsExecute>,
) -> Result<Response, ApiError> {
    let run = advisor::start(&state.ctx(&r.caller), &r.principal).await?;
    Ok((StatusCode::CREATED, Json(AdvisorRunView::from(&run))).into_response())
}

/// Runs, newest first (`tools:read`).
#[utoipa::path(
    get, path = "/api/v1/advisor/runs", operation_id = "listAdvisorRuns", tag = "advisor",
    params(PageQuery),
    responses((status = 200, description = "Runs", body = AdvisorRunList)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn runs(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<AdvisorRunList>, ApiError> {
    let p = advisor::list_runs(
        &state.ctx(&r.caller),
        &r.principal,
        q.limit.unwrap_or(50),
        q.offset.unwrap_or(0),
    )
    .await?;
    Ok(Json(AdvisorRunList {
        runs: p.items.iter().map(AdvisorRunView::from).collect(),
        total: p.total,
    }))
}

/// One run (`tools:read`).
#[utoipa::path(
    get, path = "/api/v1/advisor/runs/{id}", operation_id = "getAdvisorRun", tag = "advisor",
    params(("id" = String, Path, description = "Run id")),
    responses((status = 200, description = "The run", body = AdvisorRunView), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn run(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AdvisorRunView>, ApiError> {
    let run = advisor::get_run(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(Json(AdvisorRunView::from(&run)))
}

/// How often a run stream looks at the run.
const POLL: Duration = Duration::from_millis(200);

/// Follows a run (`tools:read`): an event `run.status` at each status
/// change, carrying the run; the stream ends once the run has.
#[utoipa::path(
    get, path = "/api/v1/advisor/runs/{id}/stream", operation_id = "followAdvisorRun", tag = "advisor",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "Events as server-sent events", content_type = "text/event-stream", body = crate::views::SseEvent),
        (status = 404, description = "Not found", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn stream(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    advisor::get_run(&state.ctx(&r.caller), &r.principal, &id).await?;
    let init = (state.clone(), r, id, None::<RunStatus>, false);
    let events = futures_util::stream::unfold(init, |(state, r, id, last, done)| async move {
        if done {
            return None;
        }
        loop {
            let run = advisor::get_run(&state.ctx(&r.caller), &r.principal, &id)
                .await
                .ok()?;
            let end = matches!(
                run.status,
                RunStatus::Completed | RunStatus::Failed | RunStatus::Skipped
            );
            if Some(run.status) != last {
                let data = json!(AdvisorRunView::from(&run)).to_string();
                let e: Result<Event, Infallible> =
                    Ok(Event::default().event("run.status").data(data));
                return Some((e, (state, r, id, Some(run.status), end)));
            }
            let shutdown = state.shutdown.clone();
            tokio::select! {
                _ = shutdown.cancelled() => return None,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    });
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::new().text("heartbeat"))
        .into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// Findings, filtered (`tools:read`).
#[utoipa::path(
    get, path = "/api/v1/advisor/findings", operation_id = "listAdvisorFindings", tag = "advisor",
    params(FindingsQuery),
    responses((status = 200, description = "Findings", body = FindingList)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn findings(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiQuery(q): ApiQuery<FindingsQuery>,
) -> Result<Json<FindingList>, ApiError> {
    let mut status = Vec::new();
    for s in q
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
    {
        status.push(FindingStatus::parse(s).ok_or_else(|| bad("status", s))?);
    }
    let severity = match q.severity.as_deref() {
        Some(s) => Some(Severity::parse(s).ok_or_else(|| bad("severity", s))?),
        None => None,
    };
    let category = match q.category.as_deref() {
        Some(s) => Some(Category::parse(s).ok_or_else(|| bad("category", s))?),
        None => None,
    };
    let f = FindingFilter {
        status,
        severity,
        category,
        check_id: q.check_id,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    let p = advisor::list_findings(&state.ctx(&r.caller), &r.principal, &f).await?;
    Ok(Json(FindingList {
        findings: p.items.iter().map(FindingView::from).collect(),
        total: p.total,
    }))
}

/// One finding with its evidence and fix plan (`tools:read`).
#[utoipa::path(
    get, path = "/api/v1/advisor/findings/{id}", operation_id = "getAdvisorFinding", tag = "advisor",
    params(("id" = String, Path, description = "Finding id")),
    responses((status = 200, description = "The finding", body = FindingView), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn finding(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FindingView>, ApiError> {
    let f = advisor::get_finding(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(Json(FindingView::from(&f)))
}

/// A note on an acknowledgement.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeRequest {
    /// Why, or who owns it (at most 2000 characters).
    pub note: Option<String>,
}

/// A dismissal.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissRequest {
    /// Why it is accepted (required, not blank, at most 2000 characters).
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub note: String,
    /// For how many days (1–365); then it opens again if it is still found.
    #[schema(minimum = 1, maximum = 365)]
    pub days: i64,
}

/// Acknowledges a finding (`tools:execute`).
#[utoipa::path(
    post, path = "/api/v1/advisor/findings/{id}/acknowledge", operation_id = "acknowledgeAdvisorFinding", tag = "advisor",
    params(("id" = String, Path, description = "Finding id")), request_body = AcknowledgeRequest,
    responses((status = 200, description = "Acknowledged", body = FindingView), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Resolved, or changed meanwhile", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    r: Require<perm::ToolsExecute>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AcknowledgeRequest>,
) -> Result<Json<FindingView>, ApiError> {
    let f = advisor::decide(
        &state.ctx(&r.caller),
        &r.principal,
        &id,
        Decision::Acknowledge,
        b.note,
    )
    .await?;
    Ok(Json(FindingView::from(&f)))
}

/// Dismisses a finding until a time (`tools:execute`).
#[utoipa::path(
    post, path = "/api/v1/advisor/findings/{id}/dismiss", operation_id = "dismissAdvisorFinding", tag = "advisor",
    params(("id" = String, Path, description = "Finding id")), request_body = DismissRequest,
    responses((status = 200, description = "Dismissed", body = FindingView), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Resolved, or changed meanwhile", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn dismiss(
    State(state): State<AppState>,
    r: Require<perm::ToolsExecute>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DismissRequest>,
) -> Result<Json<FindingView>, ApiError> {
    if !(1..=365).contains(&b.days) {
        return Err(ApiError::from(portal_core::CoreError::Validation(
            "days: must be between 1 and 365".into(),
        )));
    }
    let ctx = state.ctx(&r.caller);
    let until = ctx.now + b.days * 86_400_000;
    let f = advisor::decide(
        &ctx,
        &r.principal,
        &id,
        Decision::Dismiss { until },
        Some(b.note),
    )
    .await?;
    Ok(Json(FindingView::from(&f)))
}
