//! The activity feed: the organisation's recent tool executions.

use axum::extract::State;
use axum::Json;
use portal_core::model::ActivityFilter;
use portal_core::service::activity;
use portal_core::validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::listing::degraded;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::views::{parse_ts, ActivityView};

/// Filters and paging.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Only this tool.
    pub tool: Option<String>,
    /// Only this principal (`user:…` or `key:…`).
    pub principal: Option<String>,
    /// Only this status (`success`, `error`, `denied`, `pending`, `running`, `unknown`).
    #[param(value_type = Option<ActivityStatusName>, inline)]
    pub status: Option<String>,
    /// From (RFC 3339, inclusive).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Until (RFC 3339, exclusive).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Rows to skip.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Activity statuses (documentation only: the handler names the parameter in its error).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ActivityStatusName {
    /// Ran and succeeded.
    Success,
    /// Ran and failed.
    Error,
    /// Refused.
    Denied,
    /// Waiting for approval.
    Pending,
    /// Running now.
    Running,
    /// Started, outcome not recorded.
    Unknown,
}

/// A page of executions.
#[derive(Serialize, ToSchema)]
pub struct ActivityList {
    /// Newest first.
    pub items: Vec<ActivityView>,
    /// Matching in all.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Offset used.
    pub offset: i64,
    /// Present (true) when the database is away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<bool>,
    /// Why the list is degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Recent tool executions in the active organisation (`tools:read`).
#[utoipa::path(
    get, path = "/api/activity", operation_id = "listActivity", tag = "activity", params(Query),
    responses(
        (status = 200, description = "Executions", body = ActivityList),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::ToolsRead>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<ActivityList>, ApiError> {
    let f = ActivityFilter {
        tool: q.tool,
        principal: q.principal,
        status: q.status,
        from: q.from.as_deref().map(|s| parse_ts("from", s)).transpose()?,
        to: q.to.as_deref().map(|s| parse_ts("to", s)).transpose()?,
        limit: validate::limit("query/limit", q.limit, 20, 100)?,
        offset: validate::offset("query/offset", q.offset)?,
    };
    match activity::list(&state.ctx(&r.caller), &r.principal, &f).await {
        Ok(p) => Ok(Json(ActivityList {
            items: p.items.iter().map(ActivityView::from).collect(),
            total: p.total,
            limit: f.limit,
            offset: f.offset,
            degraded: None,
            message: None,
        })),
        Err(e) => {
            let (d, m) = degraded(e)?;
            Ok(Json(ActivityList {
                items: Vec::new(),
                total: 0,
                limit: f.limit,
                offset: f.offset,
                degraded: Some(d),
                message: Some(m),
            }))
        }
    }
}
