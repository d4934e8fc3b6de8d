//! The organisation's outbox events (`/api/v1/events`), for integrations to
//! poll by id until webhooks deliver them.

use axum::extract::State;
use axum::Json;
use portal_core::model::Event;
use portal_core::service::events;
use portal_core::validate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::listing::degraded;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::views::ts;

/// Default page size.
const DEFAULT_LIMIT: i64 = 100;
/// Largest page size.
const MAX_LIMIT: i64 = 1000;

/// Cursor and page size. Taken as text so a malformed number is reported
/// with its parameter's name (the generic query error does not name it).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Only events with a greater id: the `next` of the previous page (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// One event.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// Global, increasing id.
    pub id: i64,
    /// `tool.executed`, `approval.requested` or `approval.decided`.
    pub kind: String,
    /// Details (secret arguments redacted; times in epoch milliseconds).
    #[schema(value_type = Object)]
    pub payload: Value,
    /// When it happened.
    pub created_at: String,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self {
            id: e.id,
            kind: e.kind.clone(),
            // Written through the journal from a JSON value, so it parses; should a row
            // have been written otherwise, show it as text rather than fail the page.
            payload: serde_json::from_str(&e.payload)
                .unwrap_or_else(|_| Value::String(e.payload.clone())),
            created_at: ts(e.created_at),
        }
    }
}

/// A page of events.
#[derive(Serialize, ToSchema)]
pub struct EventList {
    /// Oldest first.
    pub events: Vec<EventView>,
    /// The last id on this page, to pass as `after` next; null when the page is
    /// empty (keep the cursor you have).
    pub next: Option<i64>,
    /// Present (true) when the database is away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<bool>,
    /// Why the list is degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Parses an optional integer query parameter, naming it when malformed.
pub(crate) fn int(field: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|s| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| ApiError::Validation(format!("query/{field}: must be an integer")))
    })
    .transpose()
}

/// The active organisation's events after `after`, oldest first (`admin:audit`).
#[utoipa::path(
    get, path = "/api/v1/events", operation_id = "listEvents", tag = "events", params(Query),
    responses(
        (status = 200, description = "Events", body = EventList),
        (status = 400, description = "VALIDATION_ERROR (names after or limit)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::AdminAudit>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<EventList>, ApiError> {
    let after = validate::offset("query/after", int("after", q.after.as_deref())?)?;
    let limit = validate::limit(
        "query/limit",
        int("limit", q.limit.as_deref())?,
        DEFAULT_LIMIT,
        MAX_LIMIT,
    )?;
    match events::list(&state.ctx(&r.caller), &r.principal, after, limit).await {
        Ok(items) => Ok(Json(EventList {
            next: items.last().map(|e| e.id),
            events: items.iter().map(EventView::from).collect(),
            degraded: None,
            message: None,
        })),
        Err(e) => {
            let (d, m) = degraded(e)?;
            Ok(Json(EventList {
                events: Vec::new(),
                next: None,
                degraded: Some(d),
                message: Some(m),
            }))
        }
    }
}
