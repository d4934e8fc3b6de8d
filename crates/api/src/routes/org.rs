//! Organisation members (org admins) and organisations (platform admins).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use portal_core::rbac::Role;
use portal_core::service::{compartments, members};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::no_content;
use super::listing::degraded;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::{InvitationView, MemberView, OrgView};

/// The organisation's members.
#[derive(Serialize, ToSchema)]
pub struct Members {
    /// Members, by email.
    pub members: Vec<MemberView>,
    /// Present (true) when the database is away and the list is empty for that reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<bool>,
    /// Why the list is degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Lists the active organisation's members (`admin:users`).
#[utoipa::path(
    get, path = "/api/org/members", operation_id = "listMembers", tag = "organizations",
    responses(
        (status = 200, description = "Members", body = Members),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::AdminUsers>,
) -> Result<Json<Members>, ApiError> {
    match members::list(&state.ctx(&r.caller), &r.principal).await {
        Ok(m) => Ok(Json(Members {
            members: m.iter().map(MemberView::from).collect(),
            degraded: None,
            message: None,
        })),
        Err(e) => {
            let (degraded, message) = degraded(e)?;
            Ok(Json(Members {
                members: Vec::new(),
                degraded: Some(degraded),
                message: Some(message),
            }))
        }
    }
}

/// A person to invite: by email (an account is created when the address has none).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMember {
    /// Email of the person.
    #[schema(
        pattern = r"^\s*[^\s@]+@(?=\S*\.)[^\s.](?:\S*[^\s.])?\s*$",
        max_length = 254
    )]
    pub email: String,
    /// Name for the account, should one be created.
    #[schema(
        pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*\s*$",
        max_length = 100
    )]
    pub name: Option<String>,
    /// Role in the organisation once accepted.
    #[schema(value_type = crate::views::RoleName, example = "operator")]
    pub role: Role,
}

/// The invitation. The same shape whether or not the address had an account.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Added {
    /// Always `invited`: the person becomes a member once they accept.
    pub status: &'static str,
    /// The pending invitation.
    pub invitation: InvitationView,
    /// Hand this to the person with the invitation: if the portal created
    /// their account, it is its one-time password (changed at first sign-in);
    /// people who already had an account sign in with their own password and
    /// accept under `GET /api/invitations`.
    pub one_time_password: String,
}

/// Invites a person to the organisation (`admin:users`; only roles within the
/// caller's own permissions, `admin` only from a browser session).
#[utoipa::path(
    post, path = "/api/org/members", operation_id = "addMember", tag = "organizations", request_body = AddMember,
    responses(
        (status = 201, description = "Invited", body = Added),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (including a role beyond the caller's own)", body = ErrorBody),
        (status = 409, description = "Already a member, or an invitation is pending", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn add(
    State(state): State<AppState>,
    r: Require<perm::AdminUsers>,
    ApiJson(b): ApiJson<AddMember>,
) -> Result<(StatusCode, Json<Added>), ApiError> {
    let invited = members::add(
        &state.ctx(&r.caller),
        &r.principal,
        &b.email,
        b.name.as_deref(),
        b.role,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Added {
            status: "invited",
            invitation: InvitationView::new(&invited.invitation, &invited.email, None),
            one_time_password: invited.one_time_password,
        }),
    ))
}

/// A new role.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetRole {
    /// The role.
    #[schema(value_type = crate::views::RoleName, example = "viewer")]
    pub role: Role,
}

/// The member's new role.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleSet {
    /// User id.
    pub user_id: String,
    /// Role now.
    #[schema(value_type = String)]
    pub role: Role,
}

/// Changes a member's role (`admin:users`); the last admin cannot be demoted.
#[utoipa::path(
    patch, path = "/api/org/members/{userId}", operation_id = "setMemberRole", tag = "organizations", request_body = SetRole,
    params(("userId" = String, Path, description = "The member's user id")),
    responses(
        (status = 200, description = "Changed", body = RoleSet),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not a member", body = ErrorBody),
        (status = 409, description = "Last admin", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn set_role(
    State(state): State<AppState>,
    r: Require<perm::AdminUsers>,
    ApiPath(user_id): ApiPath<portal_core::ids::UserId>,
    ApiJson(b): ApiJson<SetRole>,
) -> Result<Json<RoleSet>, ApiError> {
    members::set_role(&state.ctx(&r.caller), &r.principal, &user_id, b.role).await?;
    // Permissions derive from the role: drop cached principals so it shows at once here.
    Ok(Json(RoleSet {
        user_id: user_id.into_string(),
        role: b.role,
    }))
}

/// Removes a member (`admin:users`); the last admin cannot be removed.
#[utoipa::path(
    delete, path = "/api/org/members/{userId}", operation_id = "removeMember", tag = "organizations",
    params(("userId" = String, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "Not a member", body = ErrorBody),
        (status = 409, description = "Last admin", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    r: Require<perm::AdminUsers>,
    ApiPath(user_id): ApiPath<portal_core::ids::UserId>,
) -> Result<axum::response::Response, ApiError> {
    members::remove(&state.ctx(&r.caller), &r.principal, &user_id).await?;
    Ok(no_content())
}

/// Organisation settings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgSettings {
    /// Whether a `danger` approval must come from someone other than the requester.
    pub four_eyes: bool,
    /// Compartments (with their sub-compartments) the organisation's tools may act in,
    /// as a platform admin assigned them: empty means none, the tenancy's OCID the
    /// whole tenancy.
    pub allowed_compartments: Vec<String>,
    /// Whether members may sign in with a password (platform admins always may).
    pub password_sign_in: bool,
}

/// A change to the organisation's settings; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsChange {
    /// Whether a `danger` approval must come from someone other than the requester.
    pub four_eyes: Option<bool>,
    /// Compartment OCIDs the organisation's tools may act in (and their
    /// sub-compartments): only platform admins assign them (as with
    /// `PUT /api/admin/orgs/{orgId}/compartments`); anyone else gets 403.
    pub allowed_compartments: Option<Vec<String>>,
    /// `false` turns password sign-in off for the organisation's members
    /// (platform admins keep it, as the break-glass path). Refused (400)
    /// unless single sign-on works for the organisation: an enabled identity
    /// provider that reaches it, has signed a member in, and passes the
    /// connection test now.
    pub password_sign_in: Option<bool>,
}

/// The active organisation's settings (`admin:orgs`).
#[utoipa::path(
    get, path = "/api/org/settings", operation_id = "getOrgSettings", tag = "organizations",
    responses(
        (status = 200, description = "Settings", body = OrgSettings),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    r: Require<perm::AdminOrgs>,
) -> Result<Json<OrgSettings>, ApiError> {
    current(&state, &r).await.map(Json)
}

async fn current(state: &AppState, r: &Require<perm::AdminOrgs>) -> Result<OrgSettings, ApiError> {
    let org = members::current_org(&state.ctx(&r.caller), &r.principal).await?;
    Ok(OrgSettings {
        four_eyes: org.four_eyes,
        allowed_compartments: org.allowed_compartments,
        password_sign_in: org.password_sign_in,
    })
}

/// Changes the active organisation's settings (`admin:orgs`; audited): four-eyes
/// approval of `danger` tools. The compartments every tool call obeys are
/// assigned by platform admins only (`PUT /api/admin/orgs/{orgId}/compartments`).
#[utoipa::path(
    put, path = "/api/org/settings", operation_id = "updateOrgSettings", tag = "organizations", request_body = SettingsChange,
    responses(
        (status = 200, description = "Changed", body = OrgSettings),
        (status = 400, description = "VALIDATION_ERROR (names the field)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn settings(
    State(state): State<AppState>,
    r: Require<perm::AdminOrgs>,
    ApiJson(b): ApiJson<SettingsChange>,
) -> Result<Json<OrgSettings>, ApiError> {
    let ctx = state.ctx(&r.caller);
    if let Some(list) = &b.allowed_compartments {
        let org = r.principal.org()?;
        let tenancy = state.cloud.get().map(|c| c.tenancy.as_str());
        compartments::assign(&ctx, &r.principal, &org.id, list, tenancy).await?;
    }
    if let Some(on) = b.four_eyes {
        members::set_four_eyes(&ctx, &r.principal, on).await?;
    }
    if let Some(on) = b.password_sign_in {
        state
            .app
            .set_password_sign_in(&ctx, &r.principal, on)
            .await?;
    }
    current(&state, &r).await.map(Json)
}

/// A new organisation.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrg {
    /// Display name.
    #[schema(
        pattern = r"^\s*[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*\s*$",
        max_length = 100
    )]
    pub name: String,
    /// Unique slug (derived from the name when absent).
    #[schema(pattern = r"^\s*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])\s*$")]
    pub slug: Option<String>,
}

/// Organisations.
#[derive(Serialize, ToSchema)]
pub struct Orgs {
    /// Every organisation.
    pub organizations: Vec<OrgView>,
}

/// Lists every organisation (platform admins).
#[utoipa::path(
    get, path = "/api/admin/orgs", operation_id = "listOrganizations", tag = "organizations",
    responses(
        (status = 200, description = "Organisations", body = Orgs),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn list_orgs(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
) -> Result<Json<Orgs>, ApiError> {
    let orgs = members::list_orgs(&state.ctx(&r.caller), &r.principal).await?;
    Ok(Json(Orgs {
        organizations: orgs.iter().map(|o| OrgView::new(o, None)).collect(),
    }))
}

/// Creates an organisation with the caller as its admin (platform admins).
#[utoipa::path(
    post, path = "/api/admin/orgs", operation_id = "createOrganization", tag = "organizations", request_body = CreateOrg,
    responses(
        (status = 201, description = "Created", body = OrgView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
        (status = 409, description = "Slug taken", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn create_org(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiJson(b): ApiJson<CreateOrg>,
) -> Result<(StatusCode, Json<OrgView>), ApiError> {
    let org = members::create_org(
        &state.ctx(&r.caller),
        &r.principal,
        b.slug.as_deref(),
        &b.name,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(OrgView::new(&org, Some(Role::Admin))),
    ))
}
