//! Chat sessions of the calling principal in the active organisation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use portal_core::service::chat;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::no_content;
use super::listing::degraded;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::views::ChatSessionView;

/// Paging.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// A page of sessions.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    /// Newest first.
    pub sessions: Vec<ChatSessionView>,
    /// How many the caller has.
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

/// The caller's chat sessions, newest first (`sessions:read`).
#[utoipa::path(
    get, path = "/api/sessions", operation_id = "listSessions", tag = "sessions", params(Paging),
    responses(
        (status = 200, description = "Sessions", body = SessionList),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::SessionsRead>,
    ApiQuery(q): ApiQuery<Paging>,
) -> Result<Json<SessionList>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    let offset = q.offset.unwrap_or(0);
    match chat::list(&state.ctx(&r.caller), &r.principal, q.limit, q.offset).await {
        Ok(page) => Ok(Json(SessionList {
            sessions: page.items.iter().map(ChatSessionView::from).collect(),
            total: page.total,
            limit,
            offset,
            degraded: None,
            message: None,
        })),
        Err(e) => {
            let (d, m) = degraded(e)?;
            Ok(Json(SessionList {
                sessions: Vec::new(),
                total: 0,
                limit,
                offset,
                degraded: Some(d),
                message: Some(m),
            }))
        }
    }
}

/// A new session.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSession {
    /// Title.
    #[schema(
        pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*\s*$",
        max_length = 200
    )]
    pub title: Option<String>,
    /// Model (default `default`).
    #[schema(
        pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*\s*$",
        max_length = 100
    )]
    pub model: Option<String>,
}

/// One session.
#[derive(Serialize, ToSchema)]
pub struct OneSession {
    /// The session.
    pub session: ChatSessionView,
}

/// Creates a session (`sessions:write`).
#[utoipa::path(
    post, path = "/api/sessions", operation_id = "createSession", tag = "sessions", request_body = NewSession,
    responses(
        (status = 201, description = "Created", body = OneSession),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    r: Require<perm::SessionsWrite>,
    ApiJson(b): ApiJson<NewSession>,
) -> Result<(StatusCode, Json<OneSession>), ApiError> {
    let s = chat::create(
        &state.ctx(&r.caller),
        &r.principal,
        b.title.as_deref(),
        b.model.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(OneSession {
            session: ChatSessionView::from(&s),
        }),
    ))
}

/// One of the caller's sessions (`sessions:read`); anyone else's is 404.
#[utoipa::path(
    get, path = "/api/sessions/{id}", operation_id = "getChatSession", tag = "sessions",
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = OneSession),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    r: Require<perm::SessionsRead>,
    ApiPath(id): ApiPath<portal_core::ids::SessionId>,
) -> Result<Json<OneSession>, ApiError> {
    let s = chat::get(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(Json(OneSession {
        session: ChatSessionView::from(&s),
    }))
}

/// A new title (`null` clears it).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rename {
    /// Title.
    #[schema(
        pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*\s*$",
        max_length = 200
    )]
    pub title: Option<String>,
}

/// Renames a session (`sessions:write`).
#[utoipa::path(
    patch, path = "/api/sessions/{id}", operation_id = "renameSession", tag = "sessions", request_body = Rename,
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "Renamed", body = OneSession),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn rename(
    State(state): State<AppState>,
    r: Require<perm::SessionsWrite>,
    ApiPath(id): ApiPath<portal_core::ids::SessionId>,
    ApiJson(b): ApiJson<Rename>,
) -> Result<Json<OneSession>, ApiError> {
    let s = chat::rename(&state.ctx(&r.caller), &r.principal, &id, b.title.as_deref()).await?;
    Ok(Json(OneSession {
        session: ChatSessionView::from(&s),
    }))
}

/// Deletes a session and its messages (`sessions:write`).
#[utoipa::path(
    delete, path = "/api/sessions/{id}", operation_id = "deleteSession", tag = "sessions",
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    r: Require<perm::SessionsWrite>,
    ApiPath(id): ApiPath<portal_core::ids::SessionId>,
) -> Result<Response, ApiError> {
    chat::delete(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(no_content())
}
