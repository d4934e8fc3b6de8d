//! The tool catalogue and execution for API clients (`/api/v1/tools`). Every
//! execution goes through the core gateway as the calling principal.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use portal_core::service::tools::{self as gateway, ToolRunner};
use portal_core::tools::ToolSpec;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// How long one tool may run.
pub use portal_app::TOOL_TIMEOUT;

/// The catalogue `p` runs from: the cloud's tools and those of its
/// organisation's MCP servers.
pub async fn runner(
    state: &AppState,
    p: &portal_core::identity::Principal,
) -> Result<Arc<dyn ToolRunner>, ApiError> {
    state.app.org_tools(p).await.ok_or_else(|| {
        ApiError::NotFound(
            "No cloud is configured (PORTAL_CLOUD=none): tools are unavailable".into(),
        )
    })
}

/// A tool in the catalogue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolView {
    /// Name.
    pub name: &'static str,
    /// Category.
    pub category: &'static str,
    /// What it does (written for a model).
    pub description: &'static str,
    /// `read`, `confirm` or `danger`.
    pub risk: &'static str,
    /// JSON Schema of its arguments.
    #[schema(value_type = Object)]
    pub input_schema: serde_json::Value,
    /// Whether the caller may run it.
    pub can_run: bool,
}

impl ToolView {
    fn new(s: &ToolSpec, p: &portal_core::identity::Principal) -> Self {
        Self {
            name: s.name,
            category: s.category,
            description: s.description,
            risk: s.risk.as_str(),
            input_schema: s.schema(),
            can_run: gateway::may_run(p, s),
        }
    }
}

/// The catalogue.
#[derive(Serialize, ToSchema)]
pub struct Catalogue {
    /// Which cloud the tools act on.
    pub cloud: &'static str,
    /// Every tool.
    pub tools: Vec<ToolView>,
}

/// The tool catalogue, marking what the caller may run (`tools:read`).
#[utoipa::path(
    get, path = "/api/v1/tools", operation_id = "listTools", tag = "tools",
    responses(
        (status = 200, description = "Catalogue", body = Catalogue),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "No cloud configured", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
) -> Result<Json<Catalogue>, ApiError> {
    let tools = runner(&state, &r.principal).await?;
    Ok(Json(Catalogue {
        cloud: tools.cloud(),
        tools: tools
            .specs()
            .iter()
            .map(|s| ToolView::new(s, &r.principal))
            .collect(),
    }))
}

/// One tool (`tools:read`).
#[utoipa::path(
    get, path = "/api/v1/tools/{name}", operation_id = "getTool", tag = "tools",
    params(("name" = String, Path, description = "Tool name")),
    responses(
        (status = 200, description = "The tool", body = ToolView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Unknown tool", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ToolView>, ApiError> {
    let tools = runner(&state, &r.principal).await?;
    let spec = gateway::find(tools.as_ref(), &name)?;
    Ok(Json(ToolView::new(spec, &r.principal)))
}

/// Arguments for a run.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Execute {
    /// The tool's arguments (see its `inputSchema`); absent or null for none.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub args: serde_json::Value,
    /// The granted approval to spend (tools that change the cloud).
    pub approval_id: Option<String>,
    /// The caller's id for this call; a retry with the same id runs once approved.
    pub tool_call_id: Option<String>,
}

/// The result of a run.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Executed {
    /// Execution id (as in the activity feed).
    pub execution_id: String,
    /// The tool.
    pub tool: &'static str,
    /// Which cloud answered.
    pub cloud: &'static str,
    /// Milliseconds it took.
    pub duration_ms: i64,
    /// The tool's output.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
}

/// Makes an `APPROVAL_REQUIRED` answer's `approveUrl` absolute.
pub fn absolute(state: &AppState, e: ApiError) -> ApiError {
    match e {
        ApiError::ApprovalRequired {
            approval_id,
            tool_call_id,
            approve_url,
        } => ApiError::ApprovalRequired {
            approve_url: format!("{}{approve_url}", state.settings.http.public_url),
            approval_id,
            tool_call_id,
        },
        other => other,
    }
}

/// Runs a tool through the gateway for the caller; every HTTP entry point uses it.
pub async fn run_tool(
    state: &AppState,
    r: &Require<perm::ToolsExecute>,
    name: &str,
    b: &Execute,
) -> Result<Executed, ApiError> {
    let tools = runner(state, &r.principal).await?;
    let ctx = state.ctx(&r.caller);
    let approval_id = b
        .approval_id
        .as_deref()
        .map(portal_core::ids::ApprovalId::from);
    let req = gateway::Request {
        name,
        args: &b.args,
        tool_call_id: b.tool_call_id.as_deref(),
        approval_id: approval_id.as_ref(),
    };
    let done = gateway::execute(
        &ctx,
        tools.as_ref(),
        &state.metrics,
        &r.principal,
        req,
        TOOL_TIMEOUT,
    )
    .await
    .map_err(|e| absolute(state, e.into()))?;
    Ok(Executed {
        execution_id: done.id,
        tool: done.spec.name,
        cloud: done.cloud,
        duration_ms: done.duration_ms,
        result: done.result,
    })
}

/// Runs a tool through the gateway (`tools:execute`; `danger` tools also `tools:danger`).
/// Tools that change the cloud answer `APPROVAL_REQUIRED` until an approval is granted;
/// the same call (or one naming `approvalId`/`toolCallId`) then runs once.
#[utoipa::path(
    post, path = "/api/v1/tools/{name}/execute", operation_id = "executeTool", tag = "tools", request_body = Execute,
    params(("name" = String, Path, description = "Tool name")),
    responses(
        (status = 200, description = "Result", body = Executed),
        (status = 400, description = "VALIDATION_ERROR (names the argument)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN, or APPROVAL_REQUIRED with approvalId, toolCallId and approveUrl", body = ErrorBody),
        (status = 404, description = "Unknown tool or approval, or no cloud configured", body = ErrorBody),
        (status = 409, description = "The approval was already used, or was for other arguments", body = ErrorBody),
        (status = 502, description = "CLOUD_ERROR: the cloud refused or failed the call", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn execute(
    State(state): State<AppState>,
    r: Require<perm::ToolsExecute>,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<Execute>,
) -> Result<Json<Executed>, ApiError> {
    Ok(Json(run_tool(&state, &r, &name, &b).await?))
}
