//! Portal-wide settings (platform admins): `/api/v1/admin/settings`, also
//! answered at `/api/admin/settings`. Not the organisation's settings
//! (`/api/org/settings`: four-eyes, compartments).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use portal_core::portal_settings::{PortalSettings, SettingsChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The portal-wide settings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    /// Shown in the header, titles and footer.
    pub name: String,
    /// The header's logo as a `data:image/…;base64,…` URL ("" = none).
    pub logo: String,
    /// The accent colour in light mode, `#rrggbb` ("" = the default).
    pub accent_color: String,
    /// The accent colour in dark mode, `#rrggbb` ("" = the default).
    pub accent_color_dark: String,
    /// Whether single sign-on creates accounts on first sign-in.
    pub jit_provisioning: bool,
    /// How long a new browser session lasts, in hours.
    pub session_hours: i64,
    /// While true, writes are refused with 503 `MAINTENANCE`; reads work.
    pub maintenance: bool,
    /// The maintenance banner's message ("" = the default).
    pub maintenance_message: String,
    /// The footer's terms-of-use link ("" = none).
    pub terms_url: String,
    /// The footer's privacy link ("" = none).
    pub privacy_url: String,
    /// When they last changed (epoch ms; 0 = never).
    pub updated_at: i64,
}

impl From<&PortalSettings> for SettingsView {
    fn from(s: &PortalSettings) -> Self {
        Self {
            name: s.name.clone(),
            logo: s.logo.clone(),
            accent_color: s.accent_color.clone(),
            accent_color_dark: s.accent_color_dark.clone(),
            jit_provisioning: s.jit_provisioning,
            session_hours: s.session_hours,
            maintenance: s.maintenance,
            maintenance_message: s.maintenance_message.clone(),
            terms_url: s.terms_url.clone(),
            privacy_url: s.privacy_url.clone(),
            updated_at: s.updated_at,
        }
    }
}

/// A change; absent fields stay as they are, "" clears a text field.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    /// Portal name.
    #[schema(
        pattern = r"^[ \t\r\n]*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*[ \t\r\n]*$",
        max_length = 60
    )]
    pub name: Option<String>,
    /// Logo: `data:image/(png|jpeg|gif|webp|svg+xml);base64,…`, or "" for none.
    #[schema(
        pattern = r"^[ \t\r\n]*(data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)?[ \t\r\n]*$",
        max_length = 49152
    )]
    pub logo: Option<String>,
    /// Light-mode accent, `#rrggbb`, or "".
    #[schema(pattern = r"^[ \t\r\n]*(#[0-9A-Fa-f]{6})?[ \t\r\n]*$")]
    pub accent_color: Option<String>,
    /// Dark-mode accent, `#rrggbb`, or "".
    #[schema(pattern = r"^[ \t\r\n]*(#[0-9A-Fa-f]{6})?[ \t\r\n]*$")]
    pub accent_color_dark: Option<String>,
    /// Whether single sign-on creates accounts on first sign-in.
    pub jit_provisioning: Option<bool>,
    /// Lifetime of new browser sessions, in hours.
    #[schema(minimum = 1, maximum = 720)]
    pub session_hours: Option<i64>,
    /// Maintenance mode.
    pub maintenance: Option<bool>,
    /// The maintenance banner's message (no control characters), or "".
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", max_length = 500)]
    pub maintenance_message: Option<String>,
    /// Terms-of-use link (http or https), or "".
    #[schema(
        pattern = r"^[ \t\r\n]*(https?://([A-Za-z0-9]+\.)*[A-Za-z][A-Za-z0-9]*(:[0-9]{1,4})?(/[!-~]*)?)?[ \t\r\n]*$",
        max_length = 500
    )]
    pub terms_url: Option<String>,
    /// Privacy link (http or https), or "".
    #[schema(
        pattern = r"^[ \t\r\n]*(https?://([A-Za-z0-9]+\.)*[A-Za-z][A-Za-z0-9]*(:[0-9]{1,4})?(/[!-~]*)?)?[ \t\r\n]*$",
        max_length = 500
    )]
    pub privacy_url: Option<String>,
}

impl From<SettingsPatch> for SettingsChange {
    fn from(p: SettingsPatch) -> Self {
        Self {
            name: p.name,
            logo: p.logo,
            accent_color: p.accent_color,
            accent_color_dark: p.accent_color_dark,
            jit_provisioning: p.jit_provisioning,
            session_hours: p.session_hours,
            maintenance: p.maintenance,
            maintenance_message: p.maintenance_message,
            terms_url: p.terms_url,
            privacy_url: p.privacy_url,
        }
    }
}

/// A platform admin, checked before the body is read (so anyone else gets 403
/// whatever they send; the service checks again).
pub struct PlatformAdmin(Require<perm::Authenticated>);

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let r = Require::<perm::Authenticated>::from_request_parts(parts, state).await?;
        if r.principal.is_platform_admin() {
            Ok(Self(r))
        } else {
            Err(ApiError::Forbidden(
                "Only platform admins see or change the portal settings".into(),
            ))
        }
    }
}

async fn read(
    state: &AppState,
    PlatformAdmin(r): &PlatformAdmin,
) -> Result<SettingsView, ApiError> {
    let s = portal_core::portal_settings::get(&state.ctx(&r.caller)).await?;
    Ok(SettingsView::from(&s))
}

async fn write(
    state: &AppState,
    PlatformAdmin(r): &PlatformAdmin,
    b: SettingsPatch,
) -> Result<SettingsView, ApiError> {
    let s = state
        .app
        .change_portal_settings(&state.ctx(&r.caller), &r.principal, b.into())
        .await?;
    Ok(SettingsView::from(s.as_ref()))
}

/// The portal-wide settings (platform admins).
#[utoipa::path(
    get, path = "/api/v1/admin/settings", operation_id = "getPortalSettings", tag = "admin",
    responses(
        (status = 200, description = "Settings", body = SettingsView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    r: PlatformAdmin,
) -> Result<Json<SettingsView>, ApiError> {
    read(&state, &r).await.map(Json)
}

/// Changes the portal-wide settings (platform admins; audited). Every replica
/// applies them within seconds; maintenance mode refuses writes with 503.
#[utoipa::path(
    patch, path = "/api/v1/admin/settings", operation_id = "updatePortalSettings", tag = "admin",
    request_body = SettingsPatch,
    responses(
        (status = 200, description = "Changed", body = SettingsView),
        (status = 400, description = "VALIDATION_ERROR (names the field)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    r: PlatformAdmin,
    ApiJson(b): ApiJson<SettingsPatch>,
) -> Result<Json<SettingsView>, ApiError> {
    write(&state, &r, b).await.map(Json)
}

/// The portal-wide settings at the reference's path (as `getPortalSettings`).
#[utoipa::path(
    get, path = "/api/admin/settings", operation_id = "getPortalSettingsAlias", tag = "admin",
    responses(
        (status = 200, description = "Settings", body = SettingsView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get_alias(
    State(state): State<AppState>,
    r: PlatformAdmin,
) -> Result<Json<SettingsView>, ApiError> {
    read(&state, &r).await.map(Json)
}

/// Changes the portal-wide settings at the reference's path (as `updatePortalSettings`).
#[utoipa::path(
    patch, path = "/api/admin/settings", operation_id = "updatePortalSettingsAlias", tag = "admin",
    request_body = SettingsPatch,
    responses(
        (status = 200, description = "Changed", body = SettingsView),
        (status = 400, description = "VALIDATION_ERROR (names the field)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn update_alias(
    State(state): State<AppState>,
    r: PlatformAdmin,
    ApiJson(b): ApiJson<SettingsPatch>,
) -> Result<Json<SettingsView>, ApiError> {
    write(&state, &r, b).await.map(Json)
}
