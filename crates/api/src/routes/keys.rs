//! API keys of the active organisation (org admins, from a browser session).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use portal_core::identity::now_ms;
use portal_core::service::keys;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::no_content;
use super::listing::degraded;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::ApiKeyView;

/// The organisation's keys.
#[derive(Serialize, ToSchema)]
pub struct Keys {
    /// Keys, newest first (revoked ones included).
    pub keys: Vec<ApiKeyView>,
    /// Present (true) when the database is away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<bool>,
    /// Why the list is degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Lists the organisation's API keys (`admin:all`, not with a key).
#[utoipa::path(
    get, path = "/api/api-keys", operation_id = "listApiKeys", tag = "api-keys",
    responses(
        (status = 200, description = "Keys", body = Keys),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
) -> Result<Json<Keys>, ApiError> {
    let now = now_ms();
    match keys::list(&state.ctx(&r.caller), &r.principal).await {
        Ok(k) => Ok(Json(Keys {
            keys: k.iter().map(|k| ApiKeyView::new(k, now)).collect(),
            degraded: None,
            message: None,
        })),
        Err(e) => {
            let (d, m) = degraded(e)?;
            Ok(Json(Keys {
                keys: Vec::new(),
                degraded: Some(d),
                message: Some(m),
            }))
        }
    }
}

/// A new key.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKey {
    /// Name, unique in the organisation.
    #[schema(
        pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*\s*$",
        max_length = 100
    )]
    pub name: String,
    /// Permissions (each one the creator holds), e.g. `["tools:read", "sessions:read"]`.
    pub permissions: Vec<String>,
    /// Days until it expires (1–3650); never when absent.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
}

/// The created key: `key` is shown once.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKey {
    /// The secret, `portal_` + 64 hex characters. Store it now: it is never shown again.
    pub key: String,
    /// The stored key.
    pub api_key: ApiKeyView,
}

/// Creates a key acting as the caller in this organisation (`admin:all`).
#[utoipa::path(
    post, path = "/api/api-keys", operation_id = "createApiKey", tag = "api-keys", request_body = CreateKey,
    responses(
        (status = 201, description = "Created", body = CreatedKey),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (keys cannot create keys)", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiJson(b): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let ctx = state.ctx(&r.caller);
    let created = keys::create(
        &ctx,
        &r.principal,
        &b.name,
        &b.permissions,
        b.expires_in_days,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: created.key,
            api_key: ApiKeyView::new(&created.record, ctx.now),
        }),
    ))
}

/// Revokes a key; it stops working within seconds on every replica.
#[utoipa::path(
    delete, path = "/api/api-keys/{id}", operation_id = "revokeApiKey", tag = "api-keys",
    params(("id" = String, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "No such live key in this organisation", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn revoke(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    keys::revoke(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(no_content())
}
