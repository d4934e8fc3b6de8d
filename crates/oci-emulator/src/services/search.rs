//! Resource Search: structured (`query ... resources where ...`) and free-text
//! search over every resource of the tenancy.

use serde_json::{json, Map, Value};

use super::Ctx;
use crate::searchql;
use crate::state::{kind, Res};
use crate::wire::{self, ApiError, BodyExt, Reply, Req};

/// (search type name, state kind, ResourceSummary resourceType).
pub(crate) const TYPES: &[(&str, &str, &str)] = &[
    ("instance", kind::INSTANCE, "Instance"),
    ("vcn", kind::VCN, "Vcn"),
    ("subnet", kind::SUBNET, "Subnet"),
    ("securitylist", kind::SECURITY_LIST, "SecurityList"),
    ("routetable", kind::ROUTE_TABLE, "RouteTable"),
    ("internetgateway", kind::INTERNET_GATEWAY, "InternetGateway"),
    ("natgateway", kind::NAT_GATEWAY, "NatGateway"),
    ("vnic", kind::VNIC, "Vnic"),
    ("volume", kind::VOLUME, "Volume"),
    ("bootvolume", kind::BOOT_VOLUME, "BootVolume"),
    ("volumebackup", kind::VOLUME_BACKUP, "VolumeBackup"),
    ("bucket", kind::BUCKET, "Bucket"),
    (
        "autonomousdatabase",
        kind::AUTONOMOUS_DATABASE,
        "AutonomousDatabase",
    ),
    ("compartment", kind::COMPARTMENT, "Compartment"),
    ("user", kind::USER, "User"),
    ("group", kind::GROUP, "Group"),
    ("policy", kind::POLICY, "Policy"),
    ("loadbalancer", kind::LOAD_BALANCER, "LoadBalancer"),
    ("alarm", kind::ALARM, "Alarm"),
];

fn summary(ctx: &Ctx<'_>, res: &Res, resource_type: &str) -> Value {
    let rendered = res.render(ctx.now);
    let name = res
        .str("displayName")
        .or_else(|| res.str("name"))
        .unwrap_or("");
    let mut m = Map::new();
    m.insert("resourceType".into(), json!(resource_type));
    m.insert("identifier".into(), json!(res.id()));
    m.insert("compartmentId".into(), json!(res.str("compartmentId")));
    m.insert("displayName".into(), json!(name));
    for f in ["timeCreated", "availabilityDomain", "lifecycleState"] {
        if let Some(v) = rendered.get(f) {
            m.insert(f.into(), v.clone());
        }
    }
    m.insert(
        "freeformTags".into(),
        res.body
            .get("freeformTags")
            .cloned()
            .unwrap_or_else(|| json!({})),
    );
    m.insert(
        "definedTags".into(),
        res.body
            .get("definedTags")
            .cloned()
            .unwrap_or_else(|| json!({})),
    );
    m.insert("systemTags".into(), json!({}));
    m.insert("identityContext".into(), json!({}));
    m.insert("additionalDetails".into(), json!({}));
    Value::Object(m)
}

/// A field of a resource for a condition: summary fields, `freeformTags.<key>`,
/// then the resource's own top-level attributes; case-insensitive names.
fn field_value(summary: &Value, res: &Res, rendered: &Value, field: &str) -> Option<String> {
    if let Some(key) = field.strip_prefix("freeformTags.") {
        return res
            .body
            .get("freeformTags")
            .and_then(Value::as_object)
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .and_then(|(_, v)| v.as_str().map(str::to_string));
    }
    for src in [summary, rendered] {
        if let Some((_, v)) = src
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)))
        {
            return Some(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
    }
    None
}

/// POST /resources
pub(crate) fn search_resources(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    if let Some(t) = req.query("tenantId") {
        if t != ctx.st.meta.tenancy_id {
            return Err(ApiError::not_found(format!("tenancy {t}")));
        }
    }
    let body = req.json()?;
    let search_type = body
        .opt_enum("type", &["Structured", "FreeText"])?
        .ok_or_else(|| ApiError::missing("type"))?;
    body.opt_enum("matchingContextType", &["NONE", "HIGHLIGHTS"])?;
    let (query, text) = if search_type == "Structured" {
        let q = searchql::parse(&body.req_str("query")?).map_err(ApiError::invalid)?;
        for t in &q.types {
            if !TYPES.iter().any(|(n, _, _)| n == t) {
                return Err(ApiError::invalid(format!(
                    "Unknown resource type `{t}`; supported: all, {}",
                    TYPES.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        (Some(q), None)
    } else {
        (None, Some(body.req_str("text")?.to_lowercase()))
    };
    let mut items = Vec::new();
    for (name, k, resource_type) in TYPES {
        if query
            .as_ref()
            .is_some_and(|q| !q.types.is_empty() && !q.types.iter().any(|t| t == name))
        {
            continue;
        }
        for res in ctx.st.all(k) {
            if ctx.expired(res) {
                continue;
            }
            let s = summary(ctx, res, resource_type);
            let keep = match (&query, &text) {
                (Some(q), _) => {
                    q.filter.is_empty() || {
                        let rendered = res.render(ctx.now);
                        q.filter.iter().any(|term| {
                            term.iter().all(|c| {
                                c.holds(field_value(&s, res, &rendered, &c.field).as_deref())
                            })
                        })
                    }
                }
                (None, Some(t)) => {
                    let hay = format!(
                        "{} {} {} {}",
                        s["displayName"].as_str().unwrap_or(""),
                        res.id(),
                        resource_type,
                        s["freeformTags"]
                    )
                    .to_lowercase();
                    t.split_whitespace().all(|w| hay.contains(w))
                }
                (None, None) => false,
            };
            if keep {
                items.push(s);
            }
        }
    }
    let (sort_field, desc) = query
        .as_ref()
        .and_then(|q| q.sort.clone())
        .unwrap_or_else(|| ("timeCreated".into(), true));
    items.sort_by(|a, b| {
        let key = |v: &Value| {
            v.as_object()
                .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(&sort_field)))
                .map(|(_, x)| {
                    x.as_str()
                        .map(str::to_lowercase)
                        .unwrap_or_else(|| x.to_string())
                })
                .unwrap_or_default()
        };
        let o = key(a)
            .cmp(&key(b))
            .then_with(|| a["identifier"].as_str().cmp(&b["identifier"].as_str()));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    wire::collection_reply(req, items, 100, |page, _| json!({ "items": page }))
}
