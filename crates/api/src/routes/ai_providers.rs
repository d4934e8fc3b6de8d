//! AI providers as data (`admin:all`): list (the bootstrap provider of
//! `PORTAL_AI_*` first, read-only, `source: "environment"`), add, get,
//! change, delete, and test (a one-token completion through the outbound
//! guard). The API key is write-only: views say `hasApiKey`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use portal_core::ai_providers::{AiProvider, ProviderType};
use portal_core::config::AiSettings;
use portal_core::service::ai_providers::{self as svc, Fields};
use portal_core::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::no_content;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::ts;

/// An AI provider (never its API key).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AiProviderView {
    /// Id (`environment` for the bootstrap provider).
    pub id: String,
    /// Display name.
    pub name: String,
    /// `openai-compatible`, `anthropic`, `oci` or `azure-openai`.
    #[serde(rename = "type")]
    #[schema(example = "openai-compatible")]
    pub kind: String,
    /// Base URL (`""`: the provider's own endpoint).
    pub base_url: String,
    /// Whether an API key is stored (it is never returned).
    pub has_api_key: bool,
    /// Models besides the default.
    pub models: Vec<String>,
    /// The model used when a caller names none.
    pub default_model: String,
    /// Offered to chat.
    pub enabled: bool,
    /// `environment` (read-only, from `PORTAL_AI_*`) or `database`.
    #[schema(example = "database")]
    pub source: String,
    /// `untested`, `ok` or `failed` (failed: hidden from `GET /api/models`).
    #[schema(example = "untested")]
    pub test_status: String,
    /// Why the last test failed.
    pub test_error: Option<String>,
    /// When it was last tested.
    pub tested_at: Option<String>,
    /// Created (`null` for the bootstrap provider).
    pub created_at: Option<String>,
    /// Last change (`null` for the bootstrap provider).
    pub updated_at: Option<String>,
}

impl From<&AiProvider> for AiProviderView {
    fn from(p: &AiProvider) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            base_url: p.base_url.clone(),
            has_api_key: p.api_key_sealed.is_some(),
            models: p.models.clone(),
            default_model: p.default_model.clone(),
            enabled: p.enabled,
            source: "database".into(),
            test_status: p.test_status.as_str().into(),
            test_error: p.test_error.clone(),
            tested_at: p.tested_at.map(ts),
            created_at: Some(ts(p.created_at)),
            updated_at: Some(ts(p.updated_at)),
        }
    }
}

/// The bootstrap provider as a read-only view (`None` with `PORTAL_AI_PROVIDER=none`).
pub fn environment_view(ai: &AiSettings) -> Option<AiProviderView> {
    let kind = ProviderType::of_environment(ai.provider)?.as_str();
    Some(AiProviderView {
        id: "environment".into(),
        name: portal_ai::provider::ENVIRONMENT_NAME.into(),
        kind: kind.into(),
        base_url: ai.base_url.clone().unwrap_or_default(),
        has_api_key: ai.api_key.is_some(),
        models: ai.extra_models.clone(),
        default_model: ai.model.clone().unwrap_or_default(),
        enabled: true,
        source: "environment".into(),
        test_status: "untested".into(),
        test_error: None,
        tested_at: None,
        created_at: None,
        updated_at: None,
    })
}

/// Every AI provider.
#[derive(Serialize, ToSchema)]
pub struct AiProviderList {
    /// The bootstrap provider first (when configured), then the stored ones, oldest first.
    pub providers: Vec<AiProviderView>,
}

/// A provider's fields. On create `name`, `type` and `defaultModel` are
/// required; on update absent fields stay. An empty `apiKey` removes the key.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiProviderBody {
    /// Display name (unique).
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// `openai-compatible`, `anthropic`, `oci` or `azure-openai`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Base URL (`https://`; plain `http` and private addresses only where
    /// `PORTAL_OUTBOUND_*` allows them). Empty: the provider's own endpoint.
    #[schema(max_length = 2000)]
    pub base_url: Option<String>,
    /// API key, write-only (required for anthropic and azure-openai).
    #[schema(max_length = 4000)]
    pub api_key: Option<String>,
    /// Models besides the default.
    pub models: Option<Vec<String>>,
    /// The model used when a caller names none.
    #[schema(max_length = 200)]
    pub default_model: Option<String>,
    /// Offered to chat (default true).
    pub enabled: Option<bool>,
}

impl From<AiProviderBody> for Fields {
    fn from(b: AiProviderBody) -> Self {
        Fields {
            name: b.name,
            kind: b.kind,
            base_url: b.base_url,
            api_key: b
                .api_key
                .map(|k| (!k.trim().is_empty()).then(|| Secret::new(k))),
            models: b.models,
            default_model: b.default_model,
            enabled: b.enabled,
        }
    }
}

/// What "Test" found.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AiProviderTest {
    /// The one-token completion worked.
    pub ok: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// The provider, its test status recorded.
    pub provider: AiProviderView,
}

/// Lists the AI providers.
#[utoipa::path(
    get, path = "/api/admin/ai-providers", operation_id = "listAiProviders", tag = "admin",
    responses(
        (status = 200, description = "Providers", body = AiProviderList),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
) -> Result<Json<AiProviderList>, ApiError> {
    let rows = svc::list(&state.ctx(&r.caller), &r.principal).await?;
    let providers = environment_view(&state.settings.ai)
        .into_iter()
        .chain(rows.iter().map(AiProviderView::from))
        .collect();
    Ok(Json(AiProviderList { providers }))
}

/// Adds an AI provider.
#[utoipa::path(
    post, path = "/api/admin/ai-providers", operation_id = "createAiProvider", tag = "admin",
    request_body = AiProviderBody,
    responses(
        (status = 201, description = "Created", body = AiProviderView),
        (status = 400, description = "VALIDATION_ERROR (names the field)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiJson(b): ApiJson<AiProviderBody>,
) -> Result<(StatusCode, Json<AiProviderView>), ApiError> {
    let ctx = state.ctx(&r.caller);
    let p = state
        .app
        .create_ai_provider(&ctx, &r.principal, b.into())
        .await?;
    Ok((StatusCode::CREATED, Json(AiProviderView::from(&p))))
}

/// One AI provider.
#[utoipa::path(
    get, path = "/api/admin/ai-providers/{id}", operation_id = "getAiProvider", tag = "admin",
    params(("id" = String, Path, description = "Provider id")),
    responses(
        (status = 200, description = "The provider", body = AiProviderView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AiProviderView>, ApiError> {
    let p = svc::get(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(Json(AiProviderView::from(&p)))
}

/// Changes an AI provider; absent fields stay. Changing its connection
/// (type, URL, key, models) clears the test flag.
#[utoipa::path(
    patch, path = "/api/admin/ai-providers/{id}", operation_id = "updateAiProvider", tag = "admin",
    params(("id" = String, Path, description = "Provider id")), request_body = AiProviderBody,
    responses(
        (status = 200, description = "Updated", body = AiProviderView),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AiProviderBody>,
) -> Result<Json<AiProviderView>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let p = state
        .app
        .update_ai_provider(&ctx, &r.principal, &id, b.into())
        .await?;
    Ok(Json(AiProviderView::from(&p)))
}

/// Deletes an AI provider.
#[utoipa::path(
    delete, path = "/api/admin/ai-providers/{id}", operation_id = "deleteAiProvider", tag = "admin",
    params(("id" = String, Path, description = "Provider id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&r.caller);
    state
        .app
        .delete_ai_provider(&ctx, &r.principal, &id)
        .await?;
    Ok(no_content())
}

/// Tests an AI provider: a one-token completion of its default model, sent
/// now through the outbound guard. A failure is a 200 with the reason, and
/// flags the provider (hidden from `GET /api/models` until a test passes or
/// its connection changes).
#[utoipa::path(
    post, path = "/api/admin/ai-providers/{id}/test", operation_id = "testAiProvider", tag = "admin",
    params(("id" = String, Path, description = "Provider id")),
    responses(
        (status = 200, description = "What the test found", body = AiProviderTest),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn test(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AiProviderTest>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let t = state.app.test_ai_provider(&ctx, &r.principal, &id).await?;
    Ok(Json(AiProviderTest {
        ok: t.error.is_none(),
        error: t.error,
        provider: AiProviderView::from(&t.provider),
    }))
}
