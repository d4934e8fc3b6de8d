//! Limits and Quotas: service limits from [`crate::catalog::LIMITS`], usage
//! counted from the live resources, quotas from the stored quota policies
//! (`set <family> quota <limit> to <N> in compartment <name>`), and enforcement of
//! the limits on launch/create.

use serde_json::{json, Map, Value};

use super::{availability_domains, Ctx};
use crate::catalog::{self, LimitDef, ShapeDef};
use crate::state::kind;
use crate::wire::{self, ApiError, Reply, Req};

fn limit_exceeded(message: String) -> ApiError {
    ApiError::new(http::StatusCode::BAD_REQUEST, "LimitExceeded", message)
}

fn live(state: Option<&str>) -> bool {
    !matches!(state, Some("TERMINATED" | "TERMINATING" | "DELETED") | None)
}

/// Current usage of a limit (in `ad` for AD-scoped limits, else region-wide),
/// optionally only inside `compartments`.
fn usage(ctx: &Ctx<'_>, def: &LimitDef, ad: Option<&str>, compartments: Option<&[String]>) -> i64 {
    let now = ctx.now;
    let in_scope = |r: &crate::state::Res| {
        ad.is_none_or(|a| r.str("availabilityDomain") == Some(a))
            && compartments.is_none_or(|cs| {
                r.str("compartmentId")
                    .is_some_and(|c| cs.iter().any(|x| x == c))
            })
    };
    let count = |k: &str| {
        ctx.st
            .all(k)
            .filter(|r| live(r.state(now)) || (k == kind::BUCKET))
            .filter(|r| in_scope(r))
            .count() as i64
    };
    match (def.service, def.name) {
        ("compute", name) => ctx
            .st
            .all(kind::INSTANCE)
            .filter(|r| live(r.state(now)) && in_scope(r))
            .filter_map(|r| {
                let shape = catalog::shape(r.str("shape")?)?;
                (shape.limit_name == name).then(|| {
                    let ocpus = r
                        .body
                        .get("shapeConfig")
                        .and_then(|c| c.get("ocpus"))
                        .and_then(Value::as_f64)
                        .unwrap_or(shape.ocpus);
                    shape.limit_units(ocpus)
                })
            })
            .sum(),
        ("block-storage", "total-storage-gb") => [kind::VOLUME, kind::BOOT_VOLUME]
            .iter()
            .flat_map(|k| ctx.st.all(k))
            .filter(|r| live(r.state(now)) && in_scope(r))
            .filter_map(|r| r.body.get("sizeInGBs").and_then(Value::as_i64))
            .sum(),
        ("block-storage", "volume-count") => count(kind::VOLUME),
        ("block-storage", "backup-count") => count(kind::VOLUME_BACKUP),
        ("vcn", "vcn-count") => count(kind::VCN),
        ("vcn", "subnet-count") => count(kind::SUBNET),
        ("object-storage", "bucket-count") => count(kind::BUCKET),
        ("database", name) => ctx
            .st
            .all(kind::AUTONOMOUS_DATABASE)
            .filter(|r| live(r.state(now)) && in_scope(r))
            .map(|r| {
                let free = r
                    .body
                    .get("isFreeTier")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let dw = r.str("dbWorkload") == Some("DW");
                let ecpus = r
                    .body
                    .get("computeCount")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
                    .ceil() as i64;
                match name {
                    "adb-free-count" if free => 1,
                    "adw-ecpu-count" if !free && dw => ecpus,
                    "atp-ecpu-count" if !free && !dw => ecpus,
                    _ => 0,
                }
            })
            .sum(),
        ("load-balancer", _) => count(kind::LOAD_BALANCER),
        ("monitoring", _) => count(kind::ALARM),
        _ => 0,
    }
}

/// Quota value for `limit` that applies to `compartment` (from quota statements).
fn quota_for(ctx: &Ctx<'_>, limit: &str, compartment: &str) -> Option<i64> {
    let name = ctx.st.compartment_name(compartment);
    let is_tenancy = compartment == ctx.st.meta.tenancy_id;
    let mut best: Option<i64> = None;
    for q in ctx.st.all(kind::QUOTA) {
        for stmt in q
            .body
            .get("statements")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(s) = stmt.as_str() else { continue };
            let words: Vec<&str> = s.split_whitespace().collect();
            // set <family> quota <limit> to <N> in (compartment <name> | tenancy)
            if words.len() < 7
                || !words[0].eq_ignore_ascii_case("set")
                || words.get(3) != Some(&limit)
            {
                continue;
            }
            let Some(n) = words.get(5).and_then(|w| w.parse::<i64>().ok()) else {
                continue;
            };
            let applies = match (words.get(7), words.get(8)) {
                (Some(w), Some(c)) if w.eq_ignore_ascii_case("compartment") => {
                    c.trim_matches('\'') == name
                }
                _ => {
                    words
                        .get(7)
                        .is_some_and(|w| w.eq_ignore_ascii_case("tenancy"))
                        || is_tenancy && words.len() == 7
                }
            };
            if applies {
                best = Some(best.map_or(n, |b: i64| b.min(n)));
            }
        }
    }
    best
}

/// 400 `LimitExceeded` when launching `ocpus` of `shape` in `ad` would pass the limit.
pub(crate) fn check_compute_limit(
    ctx: &Ctx<'_>,
    shape: &ShapeDef,
    ocpus: f64,
    ad: &str,
) -> Result<(), ApiError> {
    let Some(def) = catalog::LIMITS.iter().find(|l| l.name == shape.limit_name) else {
        return Ok(());
    };
    let used = usage(ctx, def, Some(ad), None);
    let wanted = shape.limit_units(ocpus);
    if used + wanted > def.value {
        return Err(limit_exceeded(format!(
            "Service limit {} exceeded in {ad}: {used} used + {wanted} requested > {}",
            def.name, def.value
        )));
    }
    Ok(())
}

/// 400 `LimitExceeded` when a new volume of `size_gb` in `ad` would pass the limit.
pub(crate) fn check_storage_limit(ctx: &Ctx<'_>, size_gb: i64, ad: &str) -> Result<(), ApiError> {
    for def in catalog::LIMITS
        .iter()
        .filter(|l| l.service == "block-storage" && l.scope == "AD")
    {
        let used = usage(ctx, def, Some(ad), None);
        let wanted = if def.name == "total-storage-gb" {
            size_gb
        } else {
            1
        };
        if used + wanted > def.value {
            return Err(limit_exceeded(format!(
                "Service limit {} exceeded in {ad}: {used} used + {wanted} requested > {}",
                def.name, def.value
            )));
        }
    }
    Ok(())
}

/// 400 `LimitExceeded` when a new Autonomous Database would pass the limit.
pub(crate) fn check_adb_limit(
    ctx: &Ctx<'_>,
    workload: &str,
    ecpus: f64,
    free: bool,
) -> Result<(), ApiError> {
    let name = if free {
        "adb-free-count"
    } else if workload == "DW" {
        "adw-ecpu-count"
    } else {
        "atp-ecpu-count"
    };
    let Some(def) = catalog::LIMITS.iter().find(|l| l.name == name) else {
        return Ok(());
    };
    let used = usage(ctx, def, None, None);
    let wanted = if free { 1 } else { ecpus.ceil() as i64 };
    if used + wanted > def.value {
        return Err(limit_exceeded(format!(
            "Service limit {name} exceeded: {used} used + {wanted} requested > {}",
            def.value
        )));
    }
    Ok(())
}

/// GET /20190729/services
pub(crate) fn list_services(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    ctx.compartment_param(req)?;
    let by = req
        .query_enum("sortBy", &["name", "description"])?
        .unwrap_or("name");
    let desc = req.query_enum("sortOrder", &["ASC", "DESC"])? == Some("DESC");
    let mut items: Vec<Value> = catalog::LIMIT_SERVICES
        .iter()
        .map(|(n, d)| json!({"name": n, "description": d, "supportedSubscriptions": []}))
        .collect();
    items.sort_by(|a, b| {
        let o = a[by].as_str().cmp(&b[by].as_str());
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    wire::list_reply(req, items)
}

/// GET /20190729/limitValues
pub(crate) fn list_limit_values(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    ctx.compartment_param(req)?;
    let service = req.query_required("serviceName")?;
    if !catalog::LIMIT_SERVICES.iter().any(|(n, _)| *n == service) {
        return Err(ApiError::invalid(format!(
            "Unknown serviceName `{service}`"
        )));
    }
    let scope = req.query_enum("scopeType", &["GLOBAL", "REGION", "AD"])?;
    req.query_enum("sortBy", &["name"])?;
    let desc = req.query_enum("sortOrder", &["ASC", "DESC"])? == Some("DESC");
    let ads = availability_domains(&ctx.region());
    let mut items = Vec::new();
    for def in catalog::LIMITS.iter().filter(|l| l.service == service) {
        if scope.is_some_and(|s| s != def.scope) || req.query("name").is_some_and(|n| n != def.name)
        {
            continue;
        }
        if def.scope == "AD" {
            for ad in &ads {
                if req.query("availabilityDomain").is_some_and(|a| a != ad) {
                    continue;
                }
                items.push(json!({"name": def.name, "scopeType": "AD", "availabilityDomain": ad, "value": def.value}));
            }
        } else {
            items.push(json!({"name": def.name, "scopeType": def.scope, "value": def.value}));
        }
    }
    items.sort_by(|a, b| {
        let o = a["name"].as_str().cmp(&b["name"].as_str());
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    wire::list_reply(req, items)
}

/// GET /20190729/services/{serviceName}/limits/{limitName}/resourceAvailability
pub(crate) fn get_resource_availability(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    let service = req.path("serviceName");
    let limit = req.path("limitName");
    let def = catalog::LIMITS
        .iter()
        .find(|l| l.service == service && l.name == limit)
        .ok_or_else(|| ApiError::not_found(format!("limit {service}/{limit}")))?;
    let ad = req.query("availabilityDomain");
    if def.scope == "AD" {
        let a = ad.ok_or_else(|| ApiError::missing("availabilityDomain"))?;
        if !availability_domains(&ctx.region()).iter().any(|x| x == a) {
            return Err(ApiError::invalid(format!(
                "Unknown availabilityDomain `{a}`"
            )));
        }
    } else if ad.is_some() {
        return Err(ApiError::invalid(format!(
            "{limit} is {}-scoped; availabilityDomain must not be set",
            def.scope
        )));
    }
    let used_total = usage(ctx, def, ad, None);
    let mut available = (def.value - used_total).max(0);
    let mut m = Map::new();
    let used = match quota_for(ctx, limit, &compartment) {
        Some(q) => {
            let subtree = ctx.st.compartment_subtree(&compartment);
            let used_here = usage(ctx, def, ad, Some(&subtree));
            available = available.min((q - used_here).max(0));
            m.insert("effectiveQuotaValue".into(), json!(q as f64));
            used_here
        }
        None => used_total,
    };
    m.insert("used".into(), json!(used));
    m.insert("available".into(), json!(available));
    m.insert("fractionalUsage".into(), json!(used as f64));
    m.insert("fractionalAvailability".into(), json!(available as f64));
    Ok(Reply::json(Value::Object(m)))
}

const QUOTA_SUMMARY_FIELDS: &[&str] = &[
    "id",
    "compartmentId",
    "name",
    "description",
    "timeCreated",
    "lifecycleState",
    "freeformTags",
    "definedTags",
];

/// GET /20181025/quotas
pub(crate) fn list_quotas(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    let mut items: Vec<Value> = ctx
        .rendered(kind::QUOTA, false, |q| {
            q.str("compartmentId") == Some(compartment.as_str())
        })
        .into_iter()
        .map(|v| {
            Value::Object(
                v.as_object()
                    .map(|m| {
                        m.iter()
                            .filter(|(k, _)| QUOTA_SUMMARY_FIELDS.contains(&k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect();
    wire::filter_eq(req, &mut items, "name", "name");
    wire::filter_lifecycle(req, &mut items, &["ACTIVE"])?;
    wire::sort_items(req, &mut items, &["NAME", "TIMECREATED"])?;
    wire::list_reply(req, items)
}
