//! The signed-in person's invitations: list, accept, decline.

use axum::extract::State;
use axum::Json;
use portal_core::service::invitations;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;
use crate::views::InvitationView;

/// Pending invitations.
#[derive(Serialize, ToSchema)]
pub struct Invitations {
    /// Newest first.
    pub invitations: Vec<InvitationView>,
}

/// The caller's pending invitations (browser sessions only).
#[utoipa::path(
    get, path = "/api/invitations", operation_id = "listMyInvitations", tag = "organizations",
    responses(
        (status = 200, description = "Pending invitations", body = Invitations),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a browser session", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn mine(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
) -> Result<Json<Invitations>, ApiError> {
    let list = invitations::mine(&state.ctx(&r.caller), &r.principal).await?;
    Ok(Json(Invitations {
        invitations: list
            .iter()
            .map(|(i, o)| InvitationView::new(i, "", Some(o)))
            .collect(),
    }))
}

async fn decide(
    state: &AppState,
    r: &Require<perm::Authenticated>,
    id: &str,
    accept: bool,
) -> Result<Json<InvitationView>, ApiError> {
    let inv = invitations::decide(&state.ctx(&r.caller), &r.principal, id, accept).await?;
    // The new membership changes what the user's sessions resolve to.
    Ok(Json(InvitationView::new(&inv, "", None)))
}

/// Accepts an invitation: the caller becomes a member (not their default
/// organisation until they switch to it).
#[utoipa::path(
    post, path = "/api/invitations/{id}/accept", operation_id = "acceptInvitation", tag = "organizations",
    params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "Accepted", body = InvitationView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a browser session", body = ErrorBody),
        (status = 404, description = "No such pending invitation for the caller", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn accept(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InvitationView>, ApiError> {
    decide(&state, &r, &id, true).await
}

/// Declines an invitation.
#[utoipa::path(
    post, path = "/api/invitations/{id}/decline", operation_id = "declineInvitation", tag = "organizations",
    params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "Declined", body = InvitationView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a browser session", body = ErrorBody),
        (status = 404, description = "No such pending invitation for the caller", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn decline(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InvitationView>, ApiError> {
    decide(&state, &r, &id, false).await
}
