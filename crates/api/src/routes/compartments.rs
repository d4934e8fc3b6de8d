//! Assigning organisations their cloud compartments (platform admins): the
//! organisation boundary in the shared tenancy. Org admins only read theirs
//! (`GET /api/org/settings`).

use axum::extract::State;
use axum::Json;
use portal_core::service::compartments;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// An assignment of compartments to an organisation.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Assignment {
    /// Compartment OCIDs the organisation's tools may act in, with their
    /// sub-compartments; the tenancy's OCID assigns the whole tenancy; `[]`
    /// takes everything away.
    pub allowed_compartments: Vec<String>,
}

/// An organisation's assignment as stored.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Assigned {
    /// The organisation.
    pub org_id: String,
    /// Its slug.
    pub slug: String,
    /// The assigned compartments (empty: none, tool calls touching the cloud are refused).
    pub allowed_compartments: Vec<String>,
    /// Whether the whole tenancy is assigned.
    pub whole_tenancy: bool,
}

/// Assigns the compartments an organisation's tools may act in (platform
/// admins; audited in the organisation's and the system's ledger).
#[utoipa::path(
    put, path = "/api/admin/orgs/{orgId}/compartments", operation_id = "assignOrgCompartments", tag = "organizations",
    request_body = Assignment,
    params(("orgId" = String, Path, description = "The organisation's id")),
    responses(
        (status = 200, description = "Assigned", body = Assigned),
        (status = 400, description = "VALIDATION_ERROR (names the entry)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "Not a platform admin", body = ErrorBody),
        (status = 404, description = "No such organisation", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub async fn assign(
    State(state): State<AppState>,
    r: Require<perm::Authenticated>,
    ApiPath(org_id): ApiPath<portal_core::ids::OrgId>,
    ApiJson(b): ApiJson<Assignment>,
) -> Result<Json<Assigned>, ApiError> {
    let org = compartments::assign(
        &state.ctx(&r.caller),
        &r.principal,
        &org_id,
        &b.allowed_compartments,
        state.cloud.get().map(|c| c.tenancy.as_str()),
    )
    .await?;
    // Cached credentials carry the organisation: drop them so every replica
    // sees the change within the cache's lifetime.
    Ok(Json(Assigned {
        whole_tenancy: compartments::whole_tenancy(&org.allowed_compartments),
        org_id: org.id.into_string(),
        slug: org.slug,
        allowed_compartments: org.allowed_compartments,
    }))
}
