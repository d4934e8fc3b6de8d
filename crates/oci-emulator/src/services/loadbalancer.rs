//! Load Balancer: load balancers, backend sets and health computed from the
//! state of the instances behind each backend (a backend is OK while the instance
//! owning its IP address is RUNNING).

use serde_json::{json, Value};

use super::{Ctx, SORT_TIME_NAME};
use crate::state::kind;
use crate::wire::{ApiError, Reply, Req};

/// GET /loadBalancers
pub(crate) fn list_load_balancers(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query_enum("detail", &["full", "simple"])?;
    super::list_in_compartment(
        ctx,
        req,
        kind::LOAD_BALANCER,
        &["CREATING", "FAILED", "ACTIVE", "DELETING", "DELETED"],
        SORT_TIME_NAME,
        &[("displayName", "displayName")],
    )
}

/// GET /loadBalancers/{id}
pub(crate) fn get_load_balancer(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::LOAD_BALANCER, req.path("loadBalancerId"))?
        .reply(ctx.now))
}

/// Health of one backend: the instance that owns the IP must be RUNNING.
fn backend_ok(ctx: &Ctx<'_>, ip: &str) -> bool {
    let Some(vnic) = ctx
        .st
        .all(kind::VNIC)
        .find(|v| v.str("privateIp") == Some(ip) && v.state(ctx.now) == Some("AVAILABLE"))
    else {
        return false;
    };
    let Some(att) = ctx
        .st
        .all(kind::VNIC_ATTACHMENT)
        .find(|a| a.str("vnicId") == Some(vnic.id()) && a.state(ctx.now) == Some("ATTACHED"))
    else {
        return false;
    };
    att.str("instanceId")
        .and_then(|i| ctx.st.get(kind::INSTANCE, i))
        .is_some_and(|i| i.state(ctx.now) == Some("RUNNING"))
}

/// (status, warning, critical, unknown, total) of a backend set.
fn backend_set_health(ctx: &Ctx<'_>, set: &Value) -> Value {
    let backends = set
        .get("backends")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut critical = Vec::new();
    let mut warning = Vec::new();
    let mut ok = 0;
    for b in &backends {
        let name = b
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let ip = b.get("ipAddress").and_then(Value::as_str).unwrap_or("");
        let offline = b.get("offline").and_then(Value::as_bool).unwrap_or(false);
        let drain = b.get("drain").and_then(Value::as_bool).unwrap_or(false);
        if offline || !backend_ok(ctx, ip) {
            critical.push(name);
        } else if drain {
            warning.push(name);
        } else {
            ok += 1;
        }
    }
    let status = if backends.is_empty() {
        "UNKNOWN"
    } else if ok == backends.len() {
        "OK"
    } else if critical.len() == backends.len() {
        "CRITICAL"
    } else {
        "WARNING"
    };
    json!({
        "status": status,
        "warningStateBackendNames": warning,
        "criticalStateBackendNames": critical,
        "unknownStateBackendNames": [],
        "totalBackendCount": backends.len(),
    })
}

/// GET /loadBalancers/{id}/health
pub(crate) fn get_load_balancer_health(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let lb = ctx.get(kind::LOAD_BALANCER, req.path("loadBalancerId"))?;
    let sets = lb
        .body
        .get("backendSets")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (mut warn, mut crit, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for (name, set) in &sets {
        match backend_set_health(ctx, set)["status"].as_str() {
            Some("CRITICAL") => crit.push(name.clone()),
            Some("WARNING") => warn.push(name.clone()),
            Some("UNKNOWN") => unknown.push(name.clone()),
            _ => {}
        }
    }
    let status = if sets.is_empty() {
        "UNKNOWN"
    } else if !crit.is_empty() {
        "CRITICAL"
    } else if !warn.is_empty() || !unknown.is_empty() {
        "WARNING"
    } else {
        "OK"
    };
    Ok(Reply::json(json!({
        "status": status,
        "warningStateBackendSetNames": warn,
        "criticalStateBackendSetNames": crit,
        "unknownStateBackendSetNames": unknown,
        "totalBackendSetCount": sets.len(),
    })))
}

/// GET /loadBalancers/{id}/backendSets
pub(crate) fn list_backend_sets(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let lb = ctx.get(kind::LOAD_BALANCER, req.path("loadBalancerId"))?;
    let items: Vec<Value> = lb
        .body
        .get("backendSets")
        .and_then(Value::as_object)
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    Ok(Reply::json(Value::Array(items)))
}

/// GET /loadBalancers/{id}/backendSets/{name}/health
pub(crate) fn get_backend_set_health(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let lb = ctx.get(kind::LOAD_BALANCER, req.path("loadBalancerId"))?;
    let name = req.path("backendSetName");
    let set = lb
        .body
        .get("backendSets")
        .and_then(|m| m.get(name))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("backend set {name}")))?;
    Ok(Reply::json(backend_set_health(ctx, &set)))
}
