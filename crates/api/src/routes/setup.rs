//! First run: while no admin exists, a one-time token (printed at start and
//! kept in `<data dir>/setup-token`) lets one request create the first admin.

use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use portal_app::setup::SetupCheck;
use portal_core::service::setup;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::middleware::caller::Caller;
use crate::state::AppState;
use crate::views::{OrgView, UserView};

/// Whether first-run setup is still open.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// True while no admin exists.
    pub setup_required: bool,
}

/// Whether the first admin still has to be created.
#[utoipa::path(
    get, path = "/api/setup/status", operation_id = "getSetupStatus", tag = "setup",
    responses((status = 200, description = "Setup state", body = Status))
)]
pub async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    Ok(Json(Status {
        setup_required: state.app.setup_required().await?,
    }))
}

/// The first admin and organisation.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetupAdmin {
    /// Admin email.
    #[schema(
        pattern = r"^\s*[^\s@]+@(?=\S*\.)[^\s.](?:\S*[^\s.])?\s*$",
        max_length = 254
    )]
    pub email: String,
    /// Admin password (12 to 256 characters).
    #[schema(format = Password, write_only, min_length = 12, max_length = 256)]
    pub password: String,
    /// Admin name.
    #[schema(
        pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*\s*$",
        max_length = 100
    )]
    pub name: String,
    /// The first organisation's name (its slug is derived from it).
    #[schema(
        pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*\s*$",
        max_length = 100
    )]
    pub org_name: String,
}

/// What setup created.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetupDone {
    /// The admin (also a platform admin).
    pub user: UserView,
    /// The organisation.
    pub organization: OrgView,
}

/// Creates the first admin with `Authorization: Bearer <setup token>`; the token is then retired.
#[utoipa::path(
    post, path = "/api/setup/admin", operation_id = "createFirstAdmin", tag = "setup", request_body = SetupAdmin,
    responses(
        (status = 201, description = "Admin and organisation created", body = SetupDone),
        (status = 401, description = "Missing or wrong setup token", body = ErrorBody),
        (status = 403, description = "Setup is already complete", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn admin(
    State(state): State<AppState>,
    token: SetupToken,
    ApiJson(b): ApiJson<SetupAdmin>,
) -> Result<(StatusCode, Json<SetupDone>), ApiError> {
    let (user, org) = match setup::bootstrap(
        &state.ctx(&token.0),
        &b.email,
        &b.password,
        &b.name,
        &b.org_name,
        state.cloud.get().map(|c| (c.mode, c.tenancy.as_str())),
    )
    .await
    {
        Ok(v) => v,
        Err(portal_core::CoreError::Conflict(_)) => {
            state.app.finish_setup();
            return Err(ApiError::Forbidden("Setup is already complete".into()));
        }
        Err(e) => return Err(e.into()),
    };
    state.app.finish_setup();
    Ok((
        StatusCode::CREATED,
        Json(SetupDone {
            user: UserView::from(&user),
            organization: OrgView::new(&org, Some(portal_core::rbac::Role::Admin)),
        }),
    ))
}

/// A request carrying the valid setup token while setup is open; checked
/// before the body is read, so token-less callers learn nothing about it.
pub struct SetupToken(Caller);

impl FromRequestParts<AppState> for SetupToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::AuthRequired)?;
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        // No credentials at all is 401 whatever the state; a token once setup
        // is over is 403.
        let Some(presented) = presented else {
            return Err(ApiError::AuthRequired);
        };
        match state.app.check_setup_token(presented).await? {
            SetupCheck::Valid => Ok(SetupToken(caller)),
            SetupCheck::Wrong => Err(ApiError::AuthRequired),
            SetupCheck::Complete => Err(ApiError::Forbidden("Setup is already complete".into())),
        }
    }
}
