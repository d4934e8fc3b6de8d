//! Sign-in, sign-out, the current session, passwords, organisation switching.
//! Paths follow the reference's auth library (`/api/auth/...`).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::service::auth;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{
    check_csrf_headers, clear_session_cookie, perm, session_cookie, session_cookie_name, AnyCaller,
    Require,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::middleware::caller::cookie;
use crate::state::AppState;
use crate::views::{OrgView, SessionView};

/// Email and password.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignIn {
    /// Account email.
    #[schema(
        pattern = r"^\s*[^\s@]+@(?=\S*\.)[^\s.](?:\S*[^\s.])?\s*$",
        max_length = 254
    )]
    pub email: String,
    /// Password.
    #[schema(format = Password, write_only)]
    pub password: String,
}

async fn view_of(
    state: &AppState,
    caller: &crate::middleware::caller::Caller,
    p: &portal_core::identity::Principal,
) -> Result<SessionView, ApiError> {
    let orgs = auth::session_orgs(&state.ctx(caller), p)
        .await?
        .iter()
        .map(|(o, r)| OrgView::new(o, Some(*r)))
        .collect();
    Ok(SessionView::new(p, orgs))
}

/// Signs in with email and password; sets the session cookie.
#[utoipa::path(
    post, path = "/api/auth/sign-in/email", operation_id = "signInWithEmail", tag = "auth", request_body = SignIn,
    responses(
        (status = 200, description = "Signed in; `Set-Cookie` carries the session", body = SessionView),
        (status = 401, description = "INVALID_CREDENTIALS", body = ErrorBody),
        (status = 403, description = "Cross-site sign-in refused", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this account or address", body = ErrorBody),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    if headers.contains_key(header::ORIGIN) {
        check_csrf_headers(&state, &headers)?;
    }
    let ctx = state.ctx(&caller);
    let signed = auth::sign_in(&ctx, &state.throttle, &body.email, &body.password).await?;
    let p = auth::session_principal(&ctx, &signed.token).await?;
    let view = view_of(&state, &caller, &p).await?;
    let cookie = session_cookie(&state, &signed.token, signed.expires_at, ctx.now);
    Ok(([(header::SET_COOKIE, cookie)], Json(view)).into_response())
}

/// Signs out: revokes the session and clears the cookie.
#[utoipa::path(
    post, path = "/api/auth/sign-out", operation_id = "signOut", tag = "auth",
    responses(
        (status = 200, description = "Signed out", body = Ok),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a browser session, or cross-site", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn sign_out(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
) -> Result<Response, ApiError> {
    auth::sign_out(&state.ctx(&r.caller), &r.principal).await?;
    Ok((
        [(header::SET_COOKIE, clear_session_cookie(&state))],
        Json(Ok { success: true }),
    )
        .into_response())
}

/// `{success: true}`.
#[derive(Serialize, ToSchema)]
pub struct Ok {
    /// Always true.
    pub success: bool,
}

/// The caller: user, active organisation, role and permissions.
#[utoipa::path(
    get, path = "/api/auth/get-session", operation_id = "getSession", tag = "auth",
    responses(
        (status = 200, description = "The caller", body = SessionView),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get_session(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(view_of(&state, &r.caller, &r.principal).await?))
}

/// Current and new password.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePassword {
    /// The password now.
    #[schema(format = Password, write_only)]
    pub current_password: String,
    /// The new password (12 to 256 characters).
    #[schema(format = Password, write_only, min_length = 12, max_length = 256)]
    pub new_password: String,
}

/// Changes the password; other sessions of the user are revoked.
#[utoipa::path(
    post, path = "/api/auth/change-password", operation_id = "changePassword", tag = "auth", request_body = ChangePassword,
    responses(
        (status = 200, description = "Changed", body = Ok),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a browser session, or cross-site", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<Json<Ok>, ApiError> {
    auth::change_password(
        &state.ctx(&r.caller),
        &r.principal,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(Json(Ok { success: true }))
}

/// The organisation to switch to, by id or slug.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetActive {
    /// Organisation id.
    pub organization_id: Option<String>,
    /// Or its slug.
    pub organization_slug: Option<String>,
}

/// Switches the session's active organisation (one the user belongs to).
#[utoipa::path(
    post, path = "/api/auth/organization/set-active", operation_id = "setActiveOrganization", tag = "auth", request_body = SetActive,
    responses(
        (status = 200, description = "Switched", body = SessionView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such organisation for this user", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn set_active(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SetActive>,
) -> Result<Json<SessionView>, ApiError> {
    let org_ref = body
        .organization_id
        .or(body.organization_slug)
        .ok_or_else(|| {
            ApiError::Validation("body: organizationId or organizationSlug is required".into())
        })?;
    let ctx = state.ctx(&r.caller);
    auth::set_active_org(&ctx, &r.principal, &org_ref).await?;
    let token = cookie(&headers, session_cookie_name(&state)).ok_or(ApiError::AuthRequired)?;
    let p = auth::session_principal(&ctx, token).await?;
    Ok(Json(view_of(&state, &r.caller, &p).await?))
}

/// `204 No Content`.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
