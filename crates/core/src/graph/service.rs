//! What adapters call: one typed graph query, answered for the caller's
//! organisation only (`admin:audit`). Resource queries read the cloud as the
//! caller (so the organisation's compartment policy bounds them), through the
//! organisation's short-lived snapshot; usage
//! queries read the organisation's own tool executions.

use std::collections::HashMap;
use std::sync::Arc;

use super::model::{GraphAnswer, QueryKind};
use super::queries;
use super::read::Cloud;
use super::resources::ResourceGraph;
use super::usage;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::rbac::Permission;
use crate::service::Ctx;

/// Default usage window.
pub const DEFAULT_DAYS: i64 = 30;
/// Longest usage window.
pub const MAX_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;
/// Longest resource id accepted (OCIDs are far shorter).
const MAX_RESOURCE: usize = 255;

/// One query.
#[derive(Debug, Clone)]
pub struct Query {
    /// What to answer.
    pub kind: QueryKind,
    /// The resource (OCID), for a blast radius.
    pub resource: Option<String>,
    /// The usage window in days back from now.
    pub days: Option<i64>,
}

/// The resource graph of what `p`'s organisation may see (its snapshot).
pub async fn resource_graph(cloud: &Cloud<'_>, p: &Principal) -> CoreResult<Arc<ResourceGraph>> {
    cloud.graph(p).await
}

/// The blast radius of `resource` in `g`; another organisation's (or an
/// unknown) resource is not found.
pub fn blast_radius(g: &ResourceGraph, resource: &str) -> CoreResult<GraphAnswer> {
    queries::blast_radius(g, resource).ok_or_else(|| {
        CoreError::NotFound(format!(
            "resource: {resource:?} is not in your organisation's resource graph"
        ))
    })
}

/// Answers `q` for `p`'s organisation. `cloud` is needed by resource queries
/// (`None`: no cloud configured, they are not found).
pub async fn query(
    ctx: &Ctx<'_>,
    cloud: Option<&Cloud<'_>>,
    p: &Principal,
    q: &Query,
) -> CoreResult<GraphAnswer> {
    p.require(Permission::AdminAudit)?;
    let org = p.org()?.id.clone();
    if q.kind != QueryKind::BlastRadius && q.resource.is_some() {
        return Err(CoreError::Validation(format!(
            "resource: only for kind blast-radius, not {}",
            q.kind
        )));
    }
    if q.kind.reads_cloud() && q.days.is_some() {
        return Err(CoreError::Validation(format!(
            "days: only for kinds usage and tool-cooccurrence, not {}",
            q.kind
        )));
    }
    if q.kind.reads_cloud() {
        let resource = match (q.kind, q.resource.as_deref()) {
            (QueryKind::BlastRadius, None | Some("")) => {
                return Err(CoreError::Validation(
                    "resource: required for kind blast-radius (an OCID)".into(),
                ))
            }
            (_, Some(r)) if r.len() > MAX_RESOURCE => {
                return Err(CoreError::Validation(format!(
                    "resource: at most {MAX_RESOURCE} characters (an OCID)"
                )))
            }
            (_, r) => r,
        };
        let cloud = cloud.ok_or_else(|| {
            CoreError::NotFound("No cloud is configured: the resource graph is unavailable".into())
        })?;
        let g = resource_graph(cloud, p).await?;
        return match (q.kind, resource) {
            (QueryKind::BlastRadius, Some(r)) => blast_radius(&g, r),
            (QueryKind::Exposure, _) => Ok(queries::exposure_of_snapshot(&g)),
            _ => Ok(queries::orphans_of_snapshot(&g)),
        };
    }
    let days = q.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(CoreError::Validation(format!(
            "days: must be between 1 and {MAX_DAYS}"
        )));
    }
    let cached = ctx.tenancy.map(|t| t.usage.get(&org, q.kind, days));
    let generation = match cached {
        Some(Ok(hit)) => return Ok((*hit).clone()),
        Some(Err(g)) => Some(g),
        None => None,
    };
    let answer = usage_answer(ctx, &org, q.kind, days).await?;
    if let (Some(t), Some(g)) = (ctx.tenancy, generation) {
        t.usage.put(&org, q.kind, days, g, Arc::new(answer.clone()));
    }
    Ok(answer)
}

/// The usage graph (or tool co-occurrence) of `org` over `days`, aggregated now.
async fn usage_answer(
    ctx: &Ctx<'_>,
    org: &crate::ids::OrgId,
    kind: QueryKind,
    days: i64,
) -> CoreResult<GraphAnswer> {
    let rows = ctx.store.usage_rows(org, ctx.now - days * DAY_MS).await?;
    Ok(match kind {
        QueryKind::Usage => {
            let names: HashMap<String, String> = ctx
                .store
                .list_members(org)
                .await?
                .into_iter()
                .map(|m| (format!("user:{}", m.user.id), m.user.email))
                .collect();
            usage::usage(&rows, &names)
        }
        _ => usage::cooccurrence(&rows),
    })
}
