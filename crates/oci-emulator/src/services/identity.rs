//! Identity: tenancy, compartments (with subtree listing), users, groups,
//! policies, regions, region subscriptions and availability domains.

use serde_json::{json, Map, Value};

use super::{availability_domains, Ctx};
use crate::catalog;
use crate::lifecycle::Lifecycle;
use crate::state::{hash_str, kind, Res};
use crate::wire::{self, copy_tags, time_value, ApiError, BodyExt, Reply, Req};

const IAM_STATES: &[&str] = &["CREATING", "ACTIVE", "INACTIVE", "DELETING", "DELETED"];
const SORT_TIME_NAME: &[&str] = &["TIMECREATED", "NAME"];

/// The root compartment (the tenancy) rendered as a `Compartment`.
fn root_compartment(ctx: &Ctx<'_>) -> Value {
    json!({
        "id": ctx.st.meta.tenancy_id,
        "compartmentId": ctx.st.meta.tenancy_id,
        "name": ctx.st.meta.tenancy_name,
        "description": "The root compartment of the tenancy",
        "timeCreated": time_value(ctx.st.meta.seeded_at - 90 * 86_400_000),
        "lifecycleState": "ACTIVE",
        "isAccessible": true,
        "freeformTags": {},
        "definedTags": {},
    })
}

/// GET /compartments
pub(crate) fn list_compartments(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let parent = ctx.compartment_param(req)?;
    let subtree = req.query_bool("compartmentIdInSubtree")?.unwrap_or(false);
    let access = req
        .query_enum("accessLevel", &["ANY", "ACCESSIBLE"])?
        .unwrap_or("ANY");
    if subtree && parent != ctx.st.meta.tenancy_id {
        return Err(ApiError::invalid(
            "compartmentIdInSubtree can only be true when compartmentId is the tenancy (root compartment)",
        ));
    }
    let scope: Vec<String> = if subtree {
        ctx.st.compartment_subtree(&parent)
    } else {
        vec![parent.clone()]
    };
    let mut items = ctx.rendered(kind::COMPARTMENT, true, |c| {
        c.str("compartmentId")
            .is_some_and(|p| scope.iter().any(|s| s == p))
    });
    if access == "ACCESSIBLE" {
        items.retain(|c| {
            c.get("isAccessible") == Some(&json!(true))
                && c.get("lifecycleState") != Some(&json!("DELETED"))
        });
    }
    wire::filter_eq(req, &mut items, "name", "name");
    wire::filter_lifecycle(req, &mut items, IAM_STATES)?;
    wire::sort_items(req, &mut items, SORT_TIME_NAME)?;
    wire::list_reply(req, items)
}

/// GET /compartments/{compartmentId}
pub(crate) fn get_compartment(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("compartmentId");
    if id == ctx.st.meta.tenancy_id {
        return Ok(Reply::resource(root_compartment(ctx)));
    }
    Ok(ctx.get(kind::COMPARTMENT, id)?.reply(ctx.now))
}

fn require_tenancy(ctx: &Ctx<'_>, id: &str) -> Result<(), ApiError> {
    if id == ctx.st.meta.tenancy_id {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("tenancy {id}")))
    }
}

/// GET /tenancies/{tenancyId}
pub(crate) fn get_tenancy(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    require_tenancy(ctx, req.path("tenancyId"))?;
    Ok(Reply::resource(json!({
        "id": ctx.st.meta.tenancy_id,
        "name": ctx.st.meta.tenancy_name,
        "description": "Demo tenancy served by the portal's OCI emulator",
        "homeRegionKey": catalog::region_key(&ctx.region()),
        "freeformTags": {},
        "definedTags": {},
    })))
}

/// GET /tenancies/{tenancyId}/regionSubscriptions
pub(crate) fn list_region_subscriptions(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    require_tenancy(ctx, req.path("tenancyId"))?;
    let home = ctx.region();
    let second = if home == "us-phoenix-1" {
        "us-ashburn-1"
    } else {
        "us-phoenix-1"
    };
    Ok(Reply::json(json!([
        {"regionKey": catalog::region_key(&home), "regionName": home, "status": "READY", "isHomeRegion": true},
        {"regionKey": catalog::region_key(second), "regionName": second, "status": "READY", "isHomeRegion": false},
    ])))
}

/// GET /regions
pub(crate) fn list_regions(_ctx: &mut Ctx<'_>, _req: &Req<'_>) -> Result<Reply, ApiError> {
    let items: Vec<Value> = catalog::REGIONS
        .iter()
        .map(|(k, n)| json!({"key": k, "name": n}))
        .collect();
    Ok(Reply::json(Value::Array(items)))
}

/// GET /availabilityDomains
pub(crate) fn list_availability_domains(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    ctx.compartment_param(req)?;
    let tenancy = ctx.tenancy();
    let seed = ctx.st.meta.seed;
    let items: Vec<Value> = availability_domains(&ctx.region())
        .into_iter()
        .map(|name| {
            let h = hash_str(seed, &name);
            json!({
                "name": name,
                "id": format!("ocid1.availabilitydomain.oc1..aaaaaaaa{h:016x}{:016x}", h.rotate_left(17)),
                "compartmentId": tenancy,
            })
        })
        .collect();
    Ok(Reply::json(Value::Array(items)))
}

fn list_iam(ctx: &Ctx<'_>, req: &Req<'_>, k: &str) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    let mut items = ctx.rendered(k, true, |r| {
        r.str("compartmentId") == Some(compartment.as_str())
    });
    wire::filter_eq(req, &mut items, "name", "name");
    wire::filter_eq(req, &mut items, "externalIdentifier", "externalIdentifier");
    wire::filter_eq(req, &mut items, "identityProviderId", "identityProviderId");
    wire::filter_lifecycle(req, &mut items, IAM_STATES)?;
    wire::sort_items(req, &mut items, SORT_TIME_NAME)?;
    wire::list_reply(req, items)
}

/// GET /users
pub(crate) fn list_users(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_iam(ctx, req, kind::USER)
}

/// GET /users/{userId}
pub(crate) fn get_user(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx.get(kind::USER, req.path("userId"))?.reply(ctx.now))
}

/// GET /groups
pub(crate) fn list_groups(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_iam(ctx, req, kind::GROUP)
}

/// GET /policies
pub(crate) fn list_policies(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_iam(ctx, req, kind::POLICY)
}

/// A policy body (also used by the seed).
pub(crate) fn policy_body(
    id: &str,
    compartment: &str,
    name: &str,
    description: &str,
    statements: &[String],
    now: i64,
) -> Map<String, Value> {
    json!({
        "id": id,
        "compartmentId": compartment,
        "name": name,
        "description": description,
        "statements": statements,
        "timeCreated": time_value(now),
        "freeformTags": {},
        "definedTags": {},
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

/// POST /policies
pub(crate) fn create_policy(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let compartment = body.req_str("compartmentId")?;
    let name = body.req_str("name")?;
    let description = body.req_str("description")?;
    let statements: Vec<String> = body
        .opt_arr("statements")?
        .ok_or_else(|| ApiError::missing("statements"))?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| ApiError::invalid("statements must be strings"))
        })
        .collect::<Result<_, _>>()?;
    if statements.is_empty() {
        return Err(ApiError::missing("statements"));
    }
    for (i, s) in statements.iter().enumerate() {
        let first = s
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if !matches!(first.as_str(), "allow" | "endorse" | "admit" | "define") {
            return Err(ApiError::invalid(format!(
                "statements[{i}] must start with Allow, Endorse, Admit or Define: `{s}`"
            )));
        }
    }
    ctx.require_compartment(&compartment)?;
    let now = ctx.now;
    if ctx.st.all(kind::POLICY).any(|p| {
        p.str("compartmentId") == Some(compartment.as_str())
            && p.str("name") == Some(name.as_str())
            && p.state(now) != Some("DELETED")
    }) {
        return Err(ApiError::conflict(format!(
            "A policy named {name} already exists in this compartment"
        )));
    }
    let id = ctx.st.new_ocid("policy", false);
    let mut m = policy_body(&id, &compartment, &name, &description, &statements, now);
    copy_tags(&body, &mut m)?;
    if let Some(v) = body.opt_str("versionDate")? {
        m.insert("versionDate".into(), json!(v));
    }
    let res = Res::new(m, Lifecycle::path(&["CREATING", "ACTIVE"], now, ctx.delay));
    ctx.st.insert(kind::POLICY, res.clone());
    ctx.audit(
        &compartment,
        "IdentityControlPlane.CreatePolicy",
        &res,
        &format!("Policy {name} created"),
    );
    Ok(res.reply(now))
}
