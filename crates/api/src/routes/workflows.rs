//! Workflow definitions (`/api/v1/workflows`, also at `/api/workflows`):
//! list and search, create (import), read, export, replace, delete, validate,
//! publish, archive and versions. Adapters over `portal_core::workflows::service`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::workflows::model::{Workflow, WorkflowFilter, WorkflowStatus, WorkflowVersion};
use portal_core::workflows::service as wf;
use portal_core::workflows::validate::Issue;
use portal_core::workflows::Definition;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::views::ts;

/// The tool catalogue validation checks tool nodes against (none without a cloud).
fn tools(state: &AppState) -> Option<std::sync::Arc<dyn portal_core::service::tools::ToolRunner>> {
    state.cloud.get().map(|c| c.tools.clone())
}

/// A workflow in lists.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSummary {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// `draft`, `published` or `archived`.
    pub status: String,
    /// Latest published version (0: never published).
    pub version: i64,
    /// Tags.
    pub tags: Vec<String>,
    /// Steps in the draft.
    pub node_count: usize,
    /// Edges in the draft.
    pub edge_count: usize,
    /// Who created it.
    pub owner_id: String,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

impl From<&Workflow> for WorkflowSummary {
    fn from(w: &Workflow) -> Self {
        let d = &w.definition;
        Self {
            id: w.id.clone(),
            name: d.name.clone(),
            description: d.description.clone(),
            status: w.status.as_str().into(),
            version: w.version,
            tags: d.tags.clone(),
            node_count: d.nodes.len(),
            edge_count: d.edges.len(),
            owner_id: w.owner_id.clone(),
            created_at: ts(w.created_at),
            updated_at: ts(w.updated_at),
        }
    }
}

/// A workflow with its draft definition.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowView {
    /// The summary.
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    /// The draft's steps.
    #[schema(value_type = Vec<Object>)]
    pub nodes: Value,
    /// The draft's edges.
    #[schema(value_type = Vec<Object>)]
    pub edges: Value,
    /// JSON Schema of a run's input.
    #[schema(value_type = Option<Object>)]
    pub input_schema: Option<Value>,
}

impl From<&Workflow> for WorkflowView {
    fn from(w: &Workflow) -> Self {
        let d = &w.definition;
        Self {
            summary: w.into(),
            nodes: serde_json::to_value(&d.nodes).unwrap_or_default(),
            edges: serde_json::to_value(&d.edges).unwrap_or_default(),
            input_schema: d.input_schema.clone(),
        }
    }
}

/// One workflow.
#[derive(Serialize, ToSchema)]
pub struct WorkflowBody {
    /// The workflow.
    pub workflow: WorkflowView,
}

fn body(w: &Workflow) -> Json<WorkflowBody> {
    Json(WorkflowBody { workflow: w.into() })
}

/// Which workflows to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `draft`, `published` or `archived`.
    pub status: Option<String>,
    /// Case-insensitive part of the name (at most 200 characters).
    pub search: Option<String>,
    /// Having this tag.
    pub tag: Option<String>,
    /// Page size (1–100, default 50).
    pub limit: Option<i64>,
    /// Page start (default 0).
    pub offset: Option<i64>,
}

/// A page of workflows.
#[derive(Serialize, ToSchema)]
pub struct WorkflowList {
    /// The page, most recently changed first.
    pub workflows: Vec<WorkflowSummary>,
    /// How many match in all.
    pub total: i64,
}

/// The organisation's workflows (`workflows:read`).
#[utoipa::path(
    get, path = "/api/v1/workflows", operation_id = "listWorkflows", tag = "workflows", params(ListQuery),
    responses((status = 200, description = "A page", body = WorkflowList)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsRead>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<WorkflowList>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            WorkflowStatus::parse(s).ok_or_else(|| {
                ApiError::Validation("status: must be draft, published or archived".into())
            })
        })
        .transpose()?;
    let f = WorkflowFilter {
        status,
        search: q.search.filter(|s| !s.trim().is_empty()),
        tag: q.tag,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    let page = wf::list(&state.ctx(&r.caller), &r.principal, &f).await?;
    Ok(Json(WorkflowList {
        workflows: page.items.iter().map(WorkflowSummary::from).collect(),
        total: page.total,
    }))
}

/// A definition as imported and exported (workflows as code).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // documents the body; parsed as a `Definition`
pub struct DefinitionBody {
    /// 1–255 characters.
    pub name: String,
    /// At most 2000 characters.
    pub description: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// JSON Schema of a run's input.
    #[schema(value_type = Option<Object>)]
    pub input_schema: Option<Value>,
    /// Steps: `{id, type: input|tool|condition|approval|ai-step|loop|parallel|output, data, label?, position?}`.
    #[schema(value_type = Vec<Object>)]
    pub nodes: Vec<Value>,
    /// `{id, source, target, label?, branch?}`; edges leaving a condition name their branch.
    #[schema(value_type = Vec<Object>)]
    pub edges: Vec<Value>,
}

/// Creates (imports) a draft (`workflows:write`); refused with the first problem, naming the node and field.
#[utoipa::path(
    post, path = "/api/v1/workflows", operation_id = "createWorkflow", tag = "workflows", request_body = DefinitionBody,
    responses((status = 201, description = "Created", body = WorkflowBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsWrite>,
    ApiJson(b): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let d = wf::parse(b)?;
    let t = tools(&state);
    let w = wf::create(&state.ctx(&r.caller), &r.principal, t.as_deref(), d).await?;
    Ok((StatusCode::CREATED, body(&w)).into_response())
}

/// What validation found.
#[derive(Serialize, ToSchema)]
pub struct Validation {
    /// True when there is no issue.
    pub valid: bool,
    /// Every issue, each naming its node (if any) and field.
    #[schema(value_type = Vec<Object>)]
    pub issues: Vec<Issue>,
}

/// Validates a definition without saving it (`workflows:read`).
#[utoipa::path(
    post, path = "/api/v1/workflows/validate", operation_id = "validateWorkflow", tag = "workflows", request_body = DefinitionBody,
    responses((status = 200, description = "Issues (none when valid)", body = Validation)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn validate(
    State(state): State<AppState>,
    _r: Require<perm::WorkflowsRead>,
    ApiJson(b): ApiJson<Value>,
) -> Result<Json<Validation>, ApiError> {
    let d = wf::parse(b)?;
    let t = tools(&state);
    let issues = wf::check(t.as_deref(), &d);
    Ok(Json(Validation {
        valid: issues.is_empty(),
        issues,
    }))
}

/// One workflow with its draft (`workflows:read`).
#[utoipa::path(
    get, path = "/api/v1/workflows/{id}", operation_id = "getWorkflow", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 200, description = "The workflow", body = WorkflowBody), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsRead>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WorkflowBody>, ApiError> {
    Ok(body(
        &wf::get(&state.ctx(&r.caller), &r.principal, &id).await?,
    ))
}

/// Replaces the draft (`workflows:write`).
#[utoipa::path(
    put, path = "/api/v1/workflows/{id}", operation_id = "updateWorkflow", tag = "workflows", request_body = DefinitionBody,
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 200, description = "Saved", body = WorkflowBody), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Archived, or changed meanwhile", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsWrite>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<Value>,
) -> Result<Json<WorkflowBody>, ApiError> {
    let d = wf::parse(b)?;
    let t = tools(&state);
    let w = wf::update(&state.ctx(&r.caller), &r.principal, t.as_deref(), &id, d).await?;
    Ok(body(&w))
}

/// Deletes a workflow with its versions and runs (`workflows:write`).
#[utoipa::path(
    delete, path = "/api/v1/workflows/{id}", operation_id = "deleteWorkflow", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsWrite>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    wf::delete(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The draft as a definition document (`workflows:read`): what `POST /api/v1/workflows` imports.
#[utoipa::path(
    get, path = "/api/v1/workflows/{id}/export", operation_id = "exportWorkflow", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 200, description = "The definition", body = DefinitionBody), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsRead>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Definition>, ApiError> {
    Ok(Json(
        wf::get(&state.ctx(&r.caller), &r.principal, &id)
            .await?
            .definition,
    ))
}

/// Freezes the draft as the next version (`workflows:write`), if it is valid.
#[utoipa::path(
    post, path = "/api/v1/workflows/{id}/publish", operation_id = "publishWorkflow", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 200, description = "Published", body = WorkflowBody), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Archived", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn publish(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsWrite>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WorkflowBody>, ApiError> {
    let t = tools(&state);
    let w = wf::publish(&state.ctx(&r.caller), &r.principal, t.as_deref(), &id).await?;
    Ok(body(&w))
}

/// Archives a workflow: kept with its runs, runs no more (`workflows:write`).
#[utoipa::path(
    post, path = "/api/v1/workflows/{id}/archive", operation_id = "archiveWorkflow", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 200, description = "Archived", body = WorkflowBody), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn archive(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsWrite>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WorkflowBody>, ApiError> {
    Ok(body(
        &wf::archive(&state.ctx(&r.caller), &r.principal, &id).await?,
    ))
}

/// A frozen version.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    /// 1, 2, …
    pub version: i64,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub created_at: String,
    /// The definition as published.
    #[schema(value_type = Object)]
    pub definition: Value,
}

impl From<&WorkflowVersion> for VersionView {
    fn from(v: &WorkflowVersion) -> Self {
        Self {
            version: v.version,
            published_by: v.published_by.clone(),
            created_at: ts(v.created_at),
            definition: serde_json::to_value(&v.definition).unwrap_or_default(),
        }
    }
}

/// Versions, newest first.
#[derive(Serialize, ToSchema)]
pub struct VersionList {
    /// The versions.
    pub versions: Vec<VersionView>,
}

/// Every published version (`workflows:read`).
#[utoipa::path(
    get, path = "/api/v1/workflows/{id}/versions", operation_id = "listWorkflowVersions", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses((status = 200, description = "Versions", body = VersionList), (status = 404, description = "Not found", body = ErrorBody)),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn versions(
    State(state): State<AppState>,
    r: Require<perm::WorkflowsRead>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<VersionList>, ApiError> {
    let vs = wf::versions(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(Json(VersionList {
        versions: vs.iter().map(VersionView::from).collect(),
    }))
}

/// Where the reference served workflows, kept as an alias of `/api/v1/workflows`.
pub const ALIAS: &str = "/api/workflows";

/// Answers `/api/workflows/*` with the `/api/v1/workflows/*` route of `api`
/// (the same handler, guard and document entry; the alias is not listed twice).
pub fn alias(api: axum::Router<AppState>, state: &AppState) -> axum::Router<AppState> {
    use axum::extract::Request;
    use tower::ServiceExt;
    let forward = api
        .with_state(state.clone())
        .map_request(|mut req: Request| {
            // Nested: the path arrives without the alias prefix.
            let pq = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
            let tail = if pq == "/" || pq.starts_with("/?") {
                &pq[1..]
            } else {
                pq
            };
            if let Ok(uri) = format!("/api/v1/workflows{tail}").parse() {
                *req.uri_mut() = uri;
            }
            req
        });
    axum::Router::new().nest_service(ALIAS, forward)
}
