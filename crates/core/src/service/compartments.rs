//! The organisation boundary in the cloud: which compartments (with their
//! sub-compartments) an organisation's tool calls may act in.
//!
//! Every organisation shares the portal's one tenancy, so the boundary is
//! deny by default: a new organisation acts in no customer compartment until a
//! platform admin assigns some. The whole tenancy is said explicitly, by the
//! tenancy's OCID in the list; an empty list means nothing. Org admins read
//! their assignment but cannot change it. The embedded demo (the emulator)
//! assigns the whole demo tenancy to the installation's first organisation.

use crate::kinds::AuditAction;
use serde_json::{json, Map, Value};

use super::tools::{Scope, ToolError, ToolRunner};
use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::model::Org;
use crate::tools::valid_ocid;
use crate::CloudMode;

/// Most compartments one organisation may be assigned.
pub const MAX_ALLOWED_COMPARTMENTS: usize = 100;

/// Whether the list assigns the whole tenancy (its OCID is in it).
pub fn whole_tenancy(allowed: &[String]) -> bool {
    allowed.iter().any(|c| valid_ocid(c, Some("tenancy")))
}

/// How an unassigned organisation learns what to do.
fn unassigned(org: &Org, name: &str) -> CoreError {
    CoreError::Forbidden(format!(
        "{name} acts in the cloud, and no cloud compartments are assigned to your organisation \
         yet. A platform admin must assign them: PUT /api/admin/orgs/{}/compartments \
         {{\"allowedCompartments\": [\"<compartment OCID>\", …]}} (the tenancy's OCID for the \
         whole tenancy), or `portal admin org-compartments --org {} --set OCID,…` (`--all` for \
         the whole tenancy)",
        org.id, org.slug
    ))
}

/// Applies the organisation's assignment to a call with validated arguments:
/// it may act only in assigned compartments or their sub-compartments. Calls
/// that touch no customer compartment (regions, prices, Terraform) always run.
pub async fn check(
    runner: &dyn ToolRunner,
    org: &Org,
    name: &str,
    args: &Map<String, Value>,
) -> CoreResult<()> {
    let allowed = &org.allowed_compartments;
    if whole_tenancy(allowed) {
        return Ok(());
    }
    let scope = runner.scope(name, args).await;
    if allowed.is_empty() {
        // Nothing assigned: only calls that touch no compartment, and no
        // lookup's outcome (found or not) is revealed.
        return match scope {
            Ok(Scope::Unbound) => Ok(()),
            _ => Err(unassigned(org, name)),
        };
    }
    let scope = scope.map_err(|e| match e {
        ToolError::NotFound(m) => CoreError::NotFound(m),
        ToolError::Invalid(m) => CoreError::Validation(m),
        ToolError::Cloud(m) => CoreError::Upstream(m),
    })?;
    match scope {
        // The runner confines the call to `allowed` itself (`run_within`).
        Scope::Unbound | Scope::Allowed => Ok(()),
        Scope::Tenancy => Err(CoreError::Forbidden(format!(
            "Your organisation restricts tools to certain compartments, and {name} would act \
             across the whole tenancy; name an allowed compartmentId"
        ))),
        Scope::Compartments(paths) => {
            for path in &paths {
                if !path.iter().any(|c| allowed.iter().any(|a| a == c)) {
                    let c = path.first().map(String::as_str).unwrap_or("(unknown)");
                    return Err(CoreError::Forbidden(if valid_ocid(c, Some("tenancy")) {
                        format!(
                            "{name} would act in the tenancy's root compartment {c}, which is \
                             outside the compartments your organisation allows (it is not \
                             assigned the whole tenancy); name an allowed compartmentId"
                        )
                    } else {
                        format!(
                            "Compartment {c} is outside the compartments your organisation allows"
                        )
                    }));
                }
            }
            Ok(())
        }
    }
}

/// Checks and normalises a list of compartment (or tenancy) OCIDs. A tenancy
/// OCID means the whole tenancy, so it must be the cloud's own (`tenancy`, when
/// known): a mistyped one would otherwise assign everything.
fn normalise(allowed: &[String], tenancy: Option<&str>) -> CoreResult<Vec<String>> {
    if allowed.len() > MAX_ALLOWED_COMPARTMENTS {
        return Err(CoreError::Validation(format!(
            "body/allowedCompartments: at most {MAX_ALLOWED_COMPARTMENTS} compartments"
        )));
    }
    let mut list: Vec<String> = Vec::with_capacity(allowed.len());
    for (i, c) in allowed.iter().enumerate() {
        let c = c.trim();
        if !valid_ocid(c, Some("compartment")) {
            return Err(CoreError::Validation(format!(
                "body/allowedCompartments/{i}: must be the OCID of a compartment or the tenancy"
            )));
        }
        if valid_ocid(c, Some("tenancy")) && tenancy.is_some_and(|t| t != c) {
            return Err(CoreError::Validation(format!(
                "body/allowedCompartments/{i}: is not the tenancy of the configured cloud"
            )));
        }
        if !list.iter().any(|x| x == c) {
            list.push(c.to_string());
        }
    }
    Ok(list)
}

/// Stores an assignment and audits it in the organisation's chain and the system chain.
async fn store(ctx: &Ctx<'_>, org: &Org, actor: &str, list: Vec<String>) -> CoreResult<Org> {
    let detail = json!({"allowedCompartments": list, "wholeTenancy": whole_tenancy(&list)});
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        actor,
        AuditAction::OrgCompartmentsAssigned,
        None,
        "success",
        detail.clone(),
    )
    .audit(
        None,
        actor,
        AuditAction::OrgCompartmentsAssigned,
        Some(&format!("org:{}", org.id)),
        "success",
        detail,
    );
    ctx.store.set_org_compartments(&org.id, &list, &j).await?;
    Ok(Org {
        allowed_compartments: list,
        ..org.clone()
    })
}

/// Assigns the compartments organisation `org_id` may act in (platform admins
/// only; `[]` takes every compartment away, the tenancy's OCID gives the whole
/// tenancy, `tenancy` being the configured cloud's when there is one); audited.
pub async fn assign(
    ctx: &Ctx<'_>,
    p: &Principal,
    org_id: &str,
    allowed: &[String],
    tenancy: Option<&str>,
) -> CoreResult<Org> {
    if !p.is_platform_admin() {
        return Err(CoreError::Forbidden(
            "Only platform admins assign an organisation's cloud compartments \
             (PUT /api/admin/orgs/{orgId}/compartments, or `portal admin org-compartments`)"
                .into(),
        ));
    }
    let org = ctx
        .store
        .org_by_id(org_id)
        .await?
        .ok_or_else(|| CoreError::NotFound("Organisation not found".into()))?;
    let list = normalise(allowed, tenancy)?;
    let assigned = store(ctx, &org, &p.actor(), list).await?;
    ctx.credentials_changed();
    Ok(assigned)
}

/// CLI (an operator on the host): assigns organisation `slug`'s compartments; audited.
pub async fn assign_cli(
    ctx: &Ctx<'_>,
    slug: &str,
    allowed: &[String],
    tenancy: Option<&str>,
) -> CoreResult<Org> {
    let org = ctx
        .store
        .org_by_slug(slug)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("Organisation {slug:?} not found")))?;
    let list = normalise(allowed, tenancy)?;
    store(ctx, &org, "system:cli", list).await
}

/// The embedded demo works out of the box: with the emulator as the cloud, the
/// installation's first organisation is assigned the whole demo tenancy
/// (recorded and audited like any assignment). Later organisations, and every
/// organisation on a real cloud, get nothing until a platform admin assigns it.
pub async fn grant_first_org_demo_tenancy(
    ctx: &Ctx<'_>,
    org: Org,
    cloud: Option<(CloudMode, &str)>,
    actor: &str,
) -> CoreResult<Org> {
    let Some((CloudMode::Emulator, tenancy)) = cloud else {
        return Ok(org);
    };
    if !org.allowed_compartments.is_empty() || ctx.store.list_orgs().await?.len() != 1 {
        return Ok(org);
    }
    store(ctx, &org, actor, vec![tenancy.to_string()]).await
}
