//! Workflow runs (`/api/v1/workflows/.../run*`, also under `/api/workflows`):
//! start a run, list and read runs with their steps, cancel, retry from the
//! failed step, decide an approval step (the stream is `workflow_stream`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::workflows::model::{RunStatus, WorkflowRun, WorkflowStep};
use portal_core::workflows::service as wf;
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
pub struct RunView {
    /// Id.
    pub id: String,
    /// The workflow.
    pub workflow_id: String,
    /// The version it runs.
    pub version: i64,
    /// `running`, `suspended`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// The input.
    #[schema(value_type = Object)]
    pub input: Value,
    /// The output, once completed.
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// Who started it (every step acts as them).
    pub started_by: String,
    /// Steps executed (the budget counts these).
    pub steps_used: i64,
    /// The step budget.
    pub max_steps: i64,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
}

impl From<&WorkflowRun> for RunView {
    fn from(r: &WorkflowRun) -> Self {
        Self {
            id: r.id.clone(),
            workflow_id: r.workflow_id.clone(),
            version: r.version,
            status: r.status.as_str().into(),
            input: r.input.clone(),
            output: r.output.clone(),
            error: r.error.clone(),
            started_by: r.started_by.clone(),
            steps_used: r.steps_used,
            max_steps: r.max_steps,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
            finished_at: r.finished_at.map(ts),
        }
    }
}

/// A step of a run.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepView {
    /// The node.
    pub node_id: String,
    /// Its kind.
    pub node_type: String,
    /// `pending`, `running`, `waiting`, `completed`, `failed` or `skipped`.
    pub status: String,
    /// Attempt (a retry adds one).
    pub attempt: i64,
    /// What it ran with (secret arguments redacted).
    #[schema(value_type = Option<Object>)]
    pub input: Option<Value>,
    /// What it gave.
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// The tool approval it waits for.
    pub approval_id: Option<String>,
    /// When an approval step lapses.
    pub deadline: Option<String>,
    /// Started.
    pub started_at: Option<String>,
    /// Settled.
    pub finished_at: Option<String>,
}

impl From<&WorkflowStep> for StepView {
    fn from(s: &WorkflowStep) -> Self {
        Self {
            node_id: s.node_id.clone(),
            node_type: s.node_type.clone(),
            status: s.status.as_str().into(),
            attempt: s.attempt,
            input: s.input.clone(),
            output: s.output.clone(),
            error: s.error.clone(),
            approval_id: s.approval_id.as_deref().map(str::to_string),
            deadline: s.deadline.map(ts),
            started_at: s.started_at.map(ts),
            finished_at: s.finished_at.map(ts),
        }
    }
}

/// A run and its steps.
#[derive(Serialize, ToSchema)]
pub struct RunBody {
    /// The run.
    pub run: RunView,
    /// Its steps, in the order they became due.
    pub steps: Vec<StepView>,
}

/// What to run with.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The input (checked against the version's `inputSchema`).
    #[schema(value_type = Option<Object>)]
    pub input: Option<Value>,
    /// A published version (default: the latest).
    pub version: Option<i64>,
}

/// Starts a run as the caller (`workflows:execute`); it proceeds in the background.
#[utoipa::path(
    post, path = "/api/v1/workflows/{id}/run", operation_id = "runWorkflow", tag = "workflows", request_body = RunRequest,
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 201, description = "Started", body = RunBody), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Not published, or archived", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn start(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsExecute>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RunRequest>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&r.caller);
    let input = b.input.unwrap_or_else(|| json!({}));
    let run = wf::start(&ctx, &r.principal, &id, input, b.version).await?;
    let l = wf::get_run(&ctx, &r.principal, &run.id).await?;
    Ok((StatusCode::CREATED, Json(run_body(&l.run, &l.steps))).into_response())
}

fn run_body(run: &WorkflowRun, steps: &[WorkflowStep]) -> RunBody {
    RunBody {
        run: run.into(),
        steps: steps.iter().map(StepView::from).collect(),
    }
}

/// Which runs to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunsQuery {
    /// Only runs of this workflow.
    pub workflow_id: Option<String>,
    /// `running`, `suspended`, `completed`, `failed` or `cancelled`.
    pub status: Option<String>,
    /// Page size (1–100, default 50).
    pub limit: Option<i64>,
    /// Page start.
    pub offset: Option<i64>,
}

/// A page of runs.
#[derive(Serialize, ToSchema)]
pub struct RunList {
    /// Newest first.
    pub runs: Vec<RunView>,
    /// How many match in all.
    pub total: i64,
}

async fn runs_page(
    state: &AppState,
    r: &Require<perm::WorkflowsRead>,
    workflow_id: Option<&str>,
    q: RunsQuery,
) -> Result<Json<RunList>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            RunStatus::parse(s).ok_or_else(|| {
                ApiError::Validation(
                    "status: must be running, suspended, completed, failed or cancelled".into(),
                )
            })
        })
        .transpose()?;
    let page = wf::list_runs(
        &state.ctx(&r.caller),
        &r.principal,
        workflow_id.or(q.workflow_id.as_deref()),
        status,
        q.limit.unwrap_or(50),
        q.offset.unwrap_or(0),
    )
    .await?;
    Ok(Json(RunList {
        runs: page.items.iter().map(RunView::from).collect(),
        total: page.total,
    }))
}

/// The organisation's runs (`workflows:read`).
#[utoipa::path(
    get, path = "/api/v1/workflows/runs", operation_id = "listWorkflowRuns", tag = "workflows", params(RunsQuery),
    responses((status = 200, description = "A page", body = RunList)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsRead>,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> Result<Json<RunList>, ApiError> {
    runs_page(&state, &r, None, q).await
}

/// One workflow's runs (`workflows:read`).
#[utoipa::path(
    get, path = "/api/v1/workflows/{id}/runs", operation_id = "listRunsOfWorkflow", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id"), RunsQuery),
    responses((status = 200, description = "A page", body = RunList), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list_of(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsRead>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> Result<Json<RunList>, ApiError> {
    runs_page(&state, &r, Some(&id), q).await
}

/// A run with its steps (`workflows:read`).
#[utoipa::path(
    get, path = "/api/v1/workflows/runs/{runId}", operation_id = "getWorkflowRun", tag = "workflows",
    params(("runId" = String, Path, description = "Run id")),
    responses((status = 200, description = "The run", body = RunBody), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsRead>,
    ApiPath(run_id): ApiPath<String>,
) -> Result<Json<RunBody>, ApiError> {
    let l = wf::get_run(&state.ctx(&r.caller), &r.principal, &run_id).await?;
    Ok(Json(run_body(&l.run, &l.steps)))
}

async fn reread(
    state: &AppState,
    r: &Require<perm::WorkflowsExecute>,
    run_id: &str,
) -> Result<Json<RunBody>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let l = portal_core::workflows::runs::load(&ctx, &r.principal.org()?.id, run_id).await?;
    Ok(Json(run_body(&l.run, &l.steps)))
}

/// Cancels a run (`workflows:execute`): a step executing now finishes; nothing after it runs.
#[utoipa::path(
    post, path = "/api/v1/workflows/runs/{runId}/cancel", operation_id = "cancelWorkflowRun", tag = "workflows",
    params(("runId" = String, Path, description = "Run id")),
    responses((status = 200, description = "Cancelled", body = RunBody), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Already ended", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn cancel(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsExecute>,
    ApiPath(run_id): ApiPath<String>,
) -> Result<Json<RunBody>, ApiError> {
    wf::cancel(&state.ctx(&r.caller), &r.principal, &run_id).await?;
    reread(&state, &r, &run_id).await
}

/// Runs a failed run again from its failed step (`workflows:execute`).
#[utoipa::path(
    post, path = "/api/v1/workflows/runs/{runId}/retry", operation_id = "retryWorkflowRun", tag = "workflows",
    params(("runId" = String, Path, description = "Run id")),
    responses((status = 200, description = "Running again", body = RunBody), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Not failed", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn retry(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsExecute>,
    ApiPath(run_id): ApiPath<String>,
) -> Result<Json<RunBody>, ApiError> {
    wf::retry(&state.ctx(&r.caller), &r.principal, &run_id).await?;
    reread(&state, &r, &run_id).await
}

/// A decision's reason.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why (at most 500 characters).
    pub reason: Option<String>,
}

/// Run and node of an approval step.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct StepPath {
    /// Run id.
    pub run_id: String,
    /// The approval node's id.
    pub node_id: String,
}

async fn decide(
    state: &AppState,
    r: &Require<perm::WorkflowsExecute>,
    p: StepPath,
    approved: bool,
    reason: Option<String>,
) -> Result<Json<RunBody>, ApiError> {
    wf::decide(
        &state.ctx(&r.caller),
        &r.principal,
        &p.run_id,
        &p.node_id,
        approved,
        reason.as_deref(),
    )
    .await?;
    reread(state, r, &p.run_id).await
}

/// Approves a waiting approval step (`workflows:execute`, and what the node asks of approvers).
#[utoipa::path(
    post, path = "/api/v1/workflows/runs/{runId}/steps/{nodeId}/approve", operation_id = "approveWorkflowStep", tag = "workflows",
    params(StepPath), request_body = Reason,
    responses((status = 200, description = "Decided; the run goes on", body = RunBody), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Not waiting", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn approve(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsExecute>,
    ApiPath(p): ApiPath<StepPath>,
    ApiJson(b): ApiJson<Reason>,
) -> Result<Json<RunBody>, ApiError> {
    let reason = b.reason;
    decide(&state, &r, p, true, reason).await
}

/// Rejects a waiting approval step (`workflows:execute`); the node's `onReject` rule applies.
#[utoipa::path(
    post, path = "/api/v1/workflows/runs/{runId}/steps/{nodeId}/reject", operation_id = "rejectWorkflowStep", tag = "workflows",
    params(StepPath), request_body = Reason,
    responses((status = 200, description = "Decided", body = RunBody), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Not waiting", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn reject(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsExecute>,
    ApiPath(p): ApiPath<StepPath>,
    ApiJson(b): ApiJson<Reason>,
) -> Result<Json<RunBody>, ApiError> {
    let reason = b.reason;
    decide(&state, &r, p, false, reason).await
}
