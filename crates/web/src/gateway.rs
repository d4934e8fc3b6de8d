//! Tool runs from pages: through the one gateway, as the signed-in principal
//! (ARCHITECTURE.md rule 2), exactly as the API's `run_tool` does.

use std::sync::Arc;

use portal_core::service::tools::{self, Executed, ToolRunner};
use portal_core::CoreResult;
use portal_http::{AppState, HttpError};
use serde_json::Value;

use crate::visit::{Member, PageError};

/// The member's catalogue (the configured cloud's tools and its
/// organisation's MCP servers' tools), or a 404 page when no cloud is configured.
pub async fn runner(state: &AppState, m: &Member) -> Result<Arc<dyn ToolRunner>, PageError> {
    state.app.org_tools(&m.principal).await.ok_or_else(|| {
        HttpError::NotFound(
            "No cloud is configured (PORTAL_CLOUD=none): tools are unavailable".into(),
        )
        .into()
    })
}

/// Runs `name` with `args` for the page's member (an approval to spend optional).
pub async fn run(
    state: &AppState,
    m: &Member,
    runner: &dyn ToolRunner,
    name: &str,
    args: &Value,
    approval_id: Option<&portal_core::ids::ApprovalId>,
) -> CoreResult<Executed> {
    let ctx = state.ctx(&m.caller);
    let req = tools::Request {
        name,
        args,
        tool_call_id: None,
        approval_id,
    };
    tools::execute(
        &ctx,
        runner,
        &state.metrics,
        &m.principal,
        req,
        portal_app::TOOL_TIMEOUT,
    )
    .await
}

/// What each of `approvals` would affect if approved (destructive calls
/// only), from the organisation's tenancy snapshot read as the page's member;
/// the error is a message safe to show (the page says the blast radius is
/// unavailable).
pub async fn impacts(
    state: &AppState,
    m: &Member,
    approvals: &[portal_core::model::Approval],
) -> Result<Vec<Option<portal_core::graph::impact::Impact>>, String> {
    state
        .app
        .approval_impacts(&m.principal, approvals)
        .await
        .map_err(|e| e.to_string())
}
