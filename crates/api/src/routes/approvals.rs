//! The chat-facing tool routes (`/api/tools/*`): what running a tool needs,
//! running it by tool-call id, and deciding approvals.

use axum::extract::State;
use axum::Json;
use portal_core::model::Approval;
use portal_core::service::{approvals, tools as gateway};
use portal_core::tools::Risk;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::tools::{run_tool, runner, Execute, Executed};
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::views::ts;

/// Which tool.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Which {
    /// Tool name.
    pub tool_name: String,
}

/// What running a tool requires.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Requirements {
    /// Tool.
    pub tool_name: &'static str,
    /// `read`, `confirm` or `danger`.
    pub risk: &'static str,
    /// Whether a run needs an approval first.
    pub requires_approval: bool,
    /// Permissions needed to request it.
    pub required_permissions: Vec<&'static str>,
    /// Whether the caller holds them.
    pub can_run: bool,
}

/// What running a tool requires (`tools:read`).
#[utoipa::path(
    get, path = "/api/tools/execute", operation_id = "getToolRequirements", tag = "tools", params(Which),
    responses(
        (status = 200, description = "Requirements", body = Requirements),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 404, description = "Unknown tool", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn requirements(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiQuery(q): ApiQuery<Which>,
) -> Result<Json<Requirements>, ApiError> {
    let tools = runner(&state, &r.principal).await?;
    let spec = gateway::find(tools.as_ref(), &q.tool_name)?;
    let mut perms = vec!["tools:execute"];
    if spec.risk == Risk::Danger {
        perms.push("tools:danger");
    }
    Ok(Json(Requirements {
        tool_name: spec.name,
        risk: spec.risk.as_str(),
        requires_approval: spec.risk != Risk::Read,
        required_permissions: perms,
        can_run: gateway::may_run(&r.principal, spec),
    }))
}

/// A tool call.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Call {
    /// The caller's id for this call (a retry with it runs once approved).
    pub tool_call_id: Option<String>,
    /// Tool.
    pub tool_name: String,
    /// Arguments.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub args: serde_json::Value,
    /// The granted approval to spend.
    pub approval_id: Option<String>,
}

/// Runs a tool call through the gateway (`tools:execute`).
#[utoipa::path(
    post, path = "/api/tools/execute", operation_id = "runToolCall", tag = "tools", request_body = Call,
    responses(
        (status = 200, description = "Result", body = Executed),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN, or APPROVAL_REQUIRED with approvalId, toolCallId and approveUrl", body = ErrorBody),
        (status = 404, description = "Unknown tool or approval", body = ErrorBody),
        (status = 409, description = "Approval already used, or for other arguments", body = ErrorBody),
        (status = 502, description = "CLOUD_ERROR", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn execute(
    State(state): State<AppState>,
    r: Require<perm::ToolsExecute>,
    ApiJson(c): ApiJson<Call>,
) -> Result<Json<Executed>, ApiError> {
    let b = Execute {
        args: c.args,
        approval_id: c.approval_id,
        tool_call_id: c.tool_call_id,
    };
    Ok(Json(run_tool(&state, &r, &c.tool_name, &b).await?))
}

/// An approval as approvers see it (secret arguments redacted).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalView {
    /// Approval id.
    pub id: String,
    /// Tool.
    pub tool_name: String,
    /// `confirm` or `danger`.
    pub risk: &'static str,
    /// Who asked.
    pub requester: String,
    /// Arguments, secrets redacted.
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// Whether a second person must approve it whatever the organisation's
    /// four-eyes setting (tools that run code or change IAM).
    pub four_eyes: bool,
    /// The caller's id for the call.
    pub tool_call_id: Option<String>,
    /// `pending`, `approved`, `rejected`, `consumed` or `expired`.
    pub status: &'static str,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// When asked.
    pub created_at: String,
    /// When it lapses.
    pub expires_at: String,
}

impl From<&Approval> for ApprovalView {
    fn from(a: &Approval) -> Self {
        Self {
            id: a.id.to_string(),
            tool_name: a.tool_name.clone(),
            risk: a.risk.as_str(),
            requester: a.requester.clone(),
            args: serde_json::from_str(&a.args_redacted).unwrap_or(serde_json::Value::Null),
            four_eyes: a.four_eyes,
            tool_call_id: a.tool_call_id.clone(),
            status: a.status.as_str(),
            decided_by: a.decided_by.clone(),
            reason: a.reason.clone(),
            created_at: ts(a.created_at),
            expires_at: ts(a.expires_at),
        }
    }
}

/// A page of pending approvals.
#[derive(Serialize, ToSchema)]
pub struct Pending {
    /// Newest first.
    pub approvals: Vec<ApprovalView>,
    /// How many are pending in all (page with `limit` and `offset`).
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Paging of the approvers' list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PendingQuery {
    /// Page size (1–200, default 100).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The organisation's pending approvals, one page (`tools:approve`).
#[utoipa::path(
    get, path = "/api/tools/approve", operation_id = "listPendingApprovals", tag = "tools", params(PendingQuery),
    responses(
        (status = 200, description = "Pending approvals", body = Pending),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn pending(
    State(state): State<AppState>,
    r: Require<perm::ToolsApprove>,
    ApiQuery(q): ApiQuery<PendingQuery>,
) -> Result<Json<Pending>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    let offset = q.offset.unwrap_or(0);
    let page = approvals::pending(&state.ctx(&r.caller), &r.principal, limit, offset).await?;
    Ok(Json(Pending {
        approvals: page.items.iter().map(ApprovalView::from).collect(),
        total: page.total,
        limit,
        offset,
    }))
}

/// One approval, for review.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    /// The approval (arguments redacted).
    #[serde(flatten)]
    pub approval: ApprovalView,
    /// The full arguments, secrets included — only for a caller who may decide
    /// this pending approval and did not ask for it; otherwise absent.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_args: Option<serde_json::Value>,
    /// What a pending destructive (`danger`) call would affect, read from the
    /// cloud as the caller; absent for other calls or when it cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<ImpactView>,
}

/// The blast radius of a destructive call.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImpactView {
    /// The resource it acts on.
    pub resource: String,
    /// Its name.
    pub label: String,
    /// What depends on it, by node kind (as `/api/graph?kind=blast-radius` counts).
    pub summary: std::collections::BTreeMap<String, i64>,
    /// One line, e.g. "deleteVcn: 2 subnets, 3 VNICs, 3 instances".
    pub text: String,
}

/// The impact of a pending approval (`None` when not destructive or not readable).
async fn impact_of(
    state: &AppState,
    r: &Require<perm::ToolsApprove>,
    a: &Approval,
) -> Option<ImpactView> {
    if a.status != "pending" || portal_core::graph::impact::target(a).is_none() {
        return None;
    }
    state.cloud.get()?;
    match state
        .app
        .approval_impacts(&r.principal, std::slice::from_ref(a))
        .await
    {
        Ok(mut v) => v.pop().flatten().map(|i| ImpactView {
            resource: i.resource,
            label: i.label,
            summary: i.counts,
            text: i.text,
        }),
        Err(e) => {
            tracing::warn!(approval = %a.id, error = %e, "blast radius of the approval could not be read");
            None
        }
    }
}

/// One approval of the organisation (`tools:approve`); eligible approvers also
/// get `reviewArgs`, the arguments they are asked to approve, secrets included.
#[utoipa::path(
    get, path = "/api/tools/approve/{approvalId}", operation_id = "getApprovalForReview", tag = "tools",
    params(("approvalId" = String, Path, description = "Approval id")),
    responses(
        (status = 200, description = "The approval", body = Review),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "No such approval in this organisation", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn review(
    State(state): State<AppState>,
    r: Require<perm::ToolsApprove>,
    ApiPath(approval_id): ApiPath<portal_core::ids::ApprovalId>,
) -> Result<Json<Review>, ApiError> {
    let (a, full) = approvals::review(&state.ctx(&r.caller), &r.principal, &approval_id).await?;
    Ok(Json(Review {
        impact: impact_of(&state, &r, &a).await,
        approval: ApprovalView::from(&a),
        review_args: full,
    }))
}
/// A decision.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Decision {
    /// The approval (or name it by `toolCallId`).
    pub approval_id: Option<String>,
    /// The call's id (with `requester`: tool-call ids are unique per requester only).
    pub tool_call_id: Option<String>,
    /// Who asked (`user:…` or `key:…`), required with `toolCallId`.
    pub requester: Option<String>,
    /// Approve (true) or reject (false).
    pub approved: bool,
    /// Why (shown to the requester).
    pub reason: Option<String>,
}

/// Decides an approval (`tools:approve`; `danger` also `tools:danger` and, with
/// four-eyes, someone other than the requester).
#[utoipa::path(
    post, path = "/api/tools/approve", operation_id = "decideApproval", tag = "tools", request_body = Decision,
    responses(
        (status = 200, description = "Decided", body = ApprovalView),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (permission, or four-eyes)", body = ErrorBody),
        (status = 404, description = "No such approval in this organisation", body = ErrorBody),
        (status = 409, description = "No longer pending", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn decide(
    State(state): State<AppState>,
    r: Require<perm::ToolsApprove>,
    ApiJson(d): ApiJson<Decision>,
) -> Result<Json<ApprovalView>, ApiError> {
    let approval_id = d
        .approval_id
        .as_deref()
        .map(portal_core::ids::ApprovalId::from);
    let a = approvals::decide(
        &state.ctx(&r.caller),
        &r.principal,
        approvals::Target {
            approval_id: approval_id.as_ref(),
            tool_call_id: d.tool_call_id.as_deref(),
            requester: d.requester.as_deref(),
        },
        d.approved,
        d.reason.as_deref(),
    )
    .await?;
    Ok(Json(ApprovalView::from(&a)))
}
