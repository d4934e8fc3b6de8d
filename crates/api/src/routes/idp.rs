//! Identity providers (platform admins, browser sessions): list, add, edit,
//! test (discovery, then the key set) and delete. Served at
//! `/api/admin/idp`, beside the other platform routes (`/api/admin/orgs`).
//! The client secret is write-only: views say `hasClientSecret`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use portal_core::service::sso::{self as svc, Fields};
use portal_core::sso::IdentityProvider;
use portal_core::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::no_content;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::ts;

/// An identity provider (never its client secret).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdpView {
    /// Id.
    pub id: String,
    /// The organisation it signs into; `null`: global (tenant claim map, then the default).
    pub org_id: Option<String>,
    /// Shown as "Sign in with …".
    pub name: String,
    /// The issuer, exactly as the OP names itself.
    pub issuer: String,
    /// OAuth client id.
    pub client_id: String,
    /// Whether a client secret is stored (it is never returned).
    pub has_client_secret: bool,
    /// Scopes besides `openid`.
    pub scopes: Vec<String>,
    /// The claim holding the groups.
    pub groups_claim: String,
    /// `id_token` or `userinfo`.
    #[schema(example = "id_token")]
    pub groups_source: String,
    /// Groups whose members are admins.
    pub admin_groups: Vec<String>,
    /// Groups whose members are operators (anyone else: viewer).
    pub operator_groups: Vec<String>,
    /// The claim naming the tenant.
    pub org_claim: Option<String>,
    /// Tenant claim value → organisation id.
    pub org_map: BTreeMap<String, String>,
    /// The organisation when nothing maps.
    pub default_org_id: Option<String>,
    /// Roles follow the groups at every sign-in; manual role changes are refused.
    pub roles_managed: bool,
    /// Accounts and memberships created at first sign-in.
    pub jit: bool,
    /// Email domains allowed (empty: any).
    pub allowed_domains: Vec<String>,
    /// Offered on the sign-in page.
    pub enabled: bool,
    /// The exact redirect URI to register at the OP.
    pub redirect_uri: String,
    /// The post-logout redirect URI to register at the OP (RP-initiated
    /// logout sends the browser back there after signing out).
    pub post_logout_redirect_uri: String,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl IdpView {
    fn new(p: &IdentityProvider, redirect_uri: String, post_logout_redirect_uri: String) -> Self {
        Self {
            id: p.id.clone(),
            org_id: p.org_id.clone().map(Into::into),
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            has_client_secret: p.client_secret_sealed.is_some(),
            scopes: p.scopes.clone(),
            groups_claim: p.groups_claim.clone(),
            groups_source: p.groups_source.as_str().into(),
            admin_groups: p.admin_groups.clone(),
            operator_groups: p.operator_groups.clone(),
            org_claim: p.org_claim.clone(),
            org_map: p.org_map.clone(),
            default_org_id: p.default_org_id.clone(),
            roles_managed: p.roles_managed,
            jit: p.jit,
            allowed_domains: p.allowed_domains.clone(),
            enabled: p.enabled,
            redirect_uri,
            post_logout_redirect_uri,
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
        }
    }
}

/// Every identity provider.
#[derive(Serialize, ToSchema)]
pub struct IdpList {
    /// Oldest first.
    pub providers: Vec<IdpView>,
}

/// A provider's fields. On create `name`, `issuer` and `clientId` are
/// required; on update absent fields stay. For `orgId`, `defaultOrgId`,
/// `orgClaim` and `clientSecret` an empty string clears the value.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdpBody {
    /// The organisation it signs into (empty: global).
    pub org_id: Option<String>,
    /// Button label.
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// Issuer URL (`https://`; plain `http` only in development).
    #[schema(max_length = 2000)]
    pub issuer: Option<String>,
    /// OAuth client id.
    #[schema(max_length = 500)]
    pub client_id: Option<String>,
    /// Client secret, write-only (empty: remove; a public client).
    #[schema(max_length = 2000)]
    pub client_secret: Option<String>,
    /// Scopes besides `openid` (default `email`, `profile`; OCI IAM: add `urn:opc:idm:__myscopes__`).
    pub scopes: Option<Vec<String>>,
    /// Claim holding the groups (default `groups`).
    pub groups_claim: Option<String>,
    /// `id_token` (default) or `userinfo`.
    pub groups_source: Option<String>,
    /// Admin groups.
    pub admin_groups: Option<Vec<String>>,
    /// Operator groups.
    pub operator_groups: Option<Vec<String>>,
    /// Tenant claim (empty: none).
    pub org_claim: Option<String>,
    /// Tenant claim value → organisation id.
    pub org_map: Option<BTreeMap<String, String>>,
    /// Default organisation (empty: none).
    pub default_org_id: Option<String>,
    /// Roles managed by the IdP (default false).
    pub roles_managed: Option<bool>,
    /// Just-in-time provisioning (default false).
    pub jit: Option<bool>,
    /// Allowed email domains (default: any).
    pub allowed_domains: Option<Vec<String>>,
    /// Offered on the sign-in page (default true).
    pub enabled: Option<bool>,
}

fn clearable(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| (!s.trim().is_empty()).then_some(s))
}

impl From<IdpBody> for Fields {
    fn from(b: IdpBody) -> Self {
        Fields {
            org_id: clearable(b.org_id),
            name: b.name,
            issuer: b.issuer,
            client_id: b.client_id,
            client_secret: clearable(b.client_secret).map(|o| o.map(Secret::new)),
            scopes: b.scopes,
            groups_claim: b.groups_claim,
            groups_source: b.groups_source,
            admin_groups: b.admin_groups,
            operator_groups: b.operator_groups,
            org_claim: clearable(b.org_claim),
            org_map: b.org_map,
            default_org_id: clearable(b.default_org_id),
            roles_managed: b.roles_managed,
            jit: b.jit,
            allowed_domains: b.allowed_domains,
            enabled: b.enabled,
        }
    }
}

/// What "test connection" found.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdpTest {
    /// Both steps passed.
    pub ok: bool,
    /// The step that failed: `discovery` or `jwks`.
    pub failed_step: Option<String>,
    /// What was found, or what went wrong.
    pub detail: String,
    /// Keys the OP publishes.
    pub keys: usize,
}

fn view(state: &AppState, p: &IdentityProvider) -> IdpView {
    IdpView::new(
        p,
        portal_app::sso::callback_url(&state.app),
        portal_app::sso::post_logout_url(&state.app),
    )
}

/// Lists the identity providers.
#[utoipa::path(
    get, path = "/api/admin/idp", operation_id = "listIdentityProviders", tag = "sso",
    responses(
        (status = 200, description = "Providers", body = IdpList),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
) -> Result<Json<IdpList>, ApiError> {
    let all = svc::list_all(&state.ctx(&r.caller), &r.principal).await?;
    Ok(Json(IdpList {
        providers: all.iter().map(|p| view(&state, p)).collect(),
    }))
}

/// Adds an identity provider.
#[utoipa::path(
    post, path = "/api/admin/idp", operation_id = "createIdentityProvider", tag = "sso",
    request_body = IdpBody,
    responses(
        (status = 201, description = "Created", body = IdpView),
        (status = 400, description = "VALIDATION_ERROR (names the field)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiJson(b): ApiJson<IdpBody>,
) -> Result<(StatusCode, Json<IdpView>), ApiError> {
    let policy = state.settings.outbound.policy();
    let p = svc::create(&state.ctx(&r.caller), &r.principal, &policy, b.into()).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &p))))
}

/// One identity provider.
#[utoipa::path(
    get, path = "/api/admin/idp/{id}", operation_id = "getIdentityProvider", tag = "sso",
    params(("id" = String, Path, description = "Provider id")),
    responses(
        (status = 200, description = "The provider", body = IdpView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<IdpView>, ApiError> {
    let p = svc::get(&state.ctx(&r.caller), &r.principal, &id).await?;
    Ok(Json(view(&state, &p)))
}

/// Changes an identity provider; absent fields stay.
#[utoipa::path(
    patch, path = "/api/admin/idp/{id}", operation_id = "updateIdentityProvider", tag = "sso",
    params(("id" = String, Path, description = "Provider id")), request_body = IdpBody,
    responses(
        (status = 200, description = "Updated", body = IdpView),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<IdpBody>,
) -> Result<Json<IdpView>, ApiError> {
    let policy = state.settings.outbound.policy();
    let ctx = state.ctx(&r.caller);
    let before = svc::get(&ctx, &r.principal, &id).await?;
    let p = svc::update(&ctx, &r.principal, &policy, &id, b.into()).await?;
    state.app.sso_forget(&before.issuer);
    Ok(Json(view(&state, &p)))
}

/// Deletes an identity provider (the accounts it signed in stay).
#[utoipa::path(
    delete, path = "/api/admin/idp/{id}", operation_id = "deleteIdentityProvider", tag = "sso",
    params(("id" = String, Path, description = "Provider id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let p = svc::delete(&state.ctx(&r.caller), &r.principal, &id).await?;
    state.app.sso_forget(&p.issuer);
    Ok(no_content())
}

/// Tests a provider: discovery, then its key set, fetched now through the
/// outbound guard. A failure is a 200 naming the step.
#[utoipa::path(
    post, path = "/api/admin/idp/{id}/test", operation_id = "testIdentityProvider", tag = "sso",
    params(("id" = String, Path, description = "Provider id")),
    responses(
        (status = 200, description = "What the test found", body = IdpTest),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn test(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<IdpTest>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let t = state.app.sso_test(&ctx, &r.principal, &id).await?;
    Ok(Json(IdpTest {
        ok: t.failed_step.is_none(),
        failed_step: t.failed_step.map(str::to_string),
        detail: t.detail,
        keys: t.keys,
    }))
}
