//! The common PUT updates: instance (`UpdateInstanceDetails`), VCN
//! (`UpdateVcnDetails`), subnet (`UpdateSubnetDetails`) and volume
//! (`UpdateVolumeDetails`). Each honours `if-match` against the resource's
//! current etag, answers 404 for unknown ids, 409 `IncorrectState` for resources
//! that are gone or going, 400 for bad bodies, and returns the updated resource
//! with its new etag. Fields the emulator does not model are ignored, as OCI
//! ignores fields it does not change.

use serde_json::{json, Map, Value};

use super::compute::{shape_config, shape_config_json};
use super::Ctx;
use crate::catalog;
use crate::state::{kind, Res};
use crate::wire::{check_if_match, ApiError, BodyExt, Reply, Req};

/// The fields every update shares: `displayName`, `freeformTags`, `definedTags`.
struct Common {
    display: Option<String>,
    freeform: Option<Map<String, Value>>,
    defined: Option<Map<String, Value>>,
}

fn common(body: &Map<String, Value>) -> Result<Common, ApiError> {
    let display = body.opt_str("displayName")?;
    if display
        .as_deref()
        .is_some_and(|d| d.trim().is_empty() || d.len() > 255)
    {
        return Err(ApiError::invalid(
            "Field `displayName` must be 1-255 characters",
        ));
    }
    let freeform = body.opt_obj("freeformTags")?.cloned();
    if let Some((k, _)) = freeform.iter().flatten().find(|(_, v)| !v.is_string()) {
        return Err(ApiError::invalid(format!(
            "Field `freeformTags.{k}` must be a string"
        )));
    }
    let defined = body.opt_obj("definedTags")?.cloned();
    if let Some((k, _)) = defined.iter().flatten().find(|(_, v)| !v.is_object()) {
        return Err(ApiError::invalid(format!(
            "Field `definedTags.{k}` must be an object"
        )));
    }
    Ok(Common {
        display,
        freeform,
        defined,
    })
}

fn apply(res: &mut Res, c: Common) {
    if let Some(d) = c.display {
        res.body.insert("displayName".into(), json!(d));
    }
    if let Some(t) = c.freeform {
        res.body.insert("freeformTags".into(), Value::Object(t));
    }
    if let Some(t) = c.defined {
        res.body.insert("definedTags".into(), Value::Object(t));
    }
}

/// The resource, checked for `if-match` and for being neither gone nor going.
fn current(
    ctx: &Ctx<'_>,
    req: &Req<'_>,
    kind: &str,
    id: &str,
    gone: &[&str],
) -> Result<Res, ApiError> {
    let res = ctx.get(kind, id)?;
    check_if_match(req.headers, &res.render(ctx.now))?;
    let state = res.state(ctx.now).unwrap_or("");
    if gone.contains(&state) {
        return Err(ApiError::incorrect_state(format!(
            "The {kind} {id} is {state} and cannot be updated"
        )));
    }
    Ok(res.clone())
}

fn store(ctx: &mut Ctx<'_>, kind: &str, res: Res, event: &str) -> Reply {
    let compartment = res.str("compartmentId").unwrap_or("").to_string();
    ctx.st.insert(kind, res.clone());
    ctx.audit(&compartment, event, &res, "Resource updated");
    res.reply(ctx.now)
}

/// PUT /instances/{instanceId}
pub(crate) fn update_instance(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("instanceId").to_string();
    let body = req.json()?;
    let mut res = current(
        ctx,
        req,
        kind::INSTANCE,
        &id,
        &["TERMINATING", "TERMINATED"],
    )?;
    let c = common(&body)?;
    let metadata = body.opt_obj("metadata")?.cloned();
    if let Some((k, _)) = metadata.iter().flatten().find(|(_, v)| !v.is_string()) {
        return Err(ApiError::invalid(format!(
            "Field `metadata.{k}` must be a string"
        )));
    }
    if let Some(shape_name) = body.opt_str("shape")? {
        if res.str("shape") != Some(shape_name.as_str()) {
            return Err(ApiError::invalid(format!(
                "Changing the shape to `{shape_name}` is not supported by the emulator; change shapeConfig instead"
            )));
        }
    }
    if body.opt_obj("shapeConfig")?.is_some() {
        let name = res.str("shape").unwrap_or("");
        let shape = catalog::shape(name)
            .ok_or_else(|| ApiError::invalid(format!("Shape `{name}` is not supported")))?;
        let (ocpus, memory) = shape_config(shape, &body)?;
        res.body.insert(
            "shapeConfig".into(),
            shape_config_json(shape, ocpus, memory),
        );
    }
    apply(&mut res, c);
    if let Some(m) = metadata {
        res.body.insert("metadata".into(), Value::Object(m));
    }
    Ok(store(ctx, kind::INSTANCE, res, "ComputeApi.UpdateInstance"))
}

/// PUT /vcns/{vcnId}
pub(crate) fn update_vcn(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("vcnId").to_string();
    let body = req.json()?;
    let mut res = current(ctx, req, kind::VCN, &id, &["TERMINATING", "TERMINATED"])?;
    apply(&mut res, common(&body)?);
    Ok(store(ctx, kind::VCN, res, "VirtualNetworkApi.UpdateVcn"))
}

/// PUT /subnets/{subnetId}
pub(crate) fn update_subnet(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("subnetId").to_string();
    let body = req.json()?;
    let mut res = current(ctx, req, kind::SUBNET, &id, &["TERMINATING", "TERMINATED"])?;
    let c = common(&body)?;
    let vcn = res.str("vcnId").unwrap_or("").to_string();
    let in_vcn = |kind: &str, rid: &str| -> Result<(), ApiError> {
        let other = ctx.st.get(kind, rid).ok_or_else(|| {
            ApiError::new(
                http::StatusCode::BAD_REQUEST,
                "RelatedResourceNotAuthorizedOrNotFound",
                format!("The {kind} {rid} does not exist"),
            )
        })?;
        if other.str("vcnId") == Some(vcn.as_str()) {
            Ok(())
        } else {
            Err(ApiError::invalid(format!(
                "The {kind} {rid} belongs to another VCN"
            )))
        }
    };
    let route_table = body.opt_str("routeTableId")?;
    if let Some(rt) = &route_table {
        in_vcn(kind::ROUTE_TABLE, rt)?;
    }
    let security_lists = match body.opt_arr("securityListIds")? {
        Some(arr) => {
            let mut out = Vec::with_capacity(arr.len());
            for v in arr {
                let sl = v.as_str().ok_or_else(|| {
                    ApiError::invalid("Field `securityListIds` must be an array of strings")
                })?;
                in_vcn(kind::SECURITY_LIST, sl)?;
                out.push(sl.to_string());
            }
            Some(out)
        }
        None => None,
    };
    if let Some(cidr) = body.opt_str("cidrBlock")? {
        if res.str("cidrBlock") != Some(cidr.as_str()) {
            return Err(ApiError::invalid(
                "Changing a subnet's cidrBlock is not supported by the emulator",
            ));
        }
    }
    apply(&mut res, c);
    if let Some(rt) = route_table {
        res.body.insert("routeTableId".into(), json!(rt));
    }
    if let Some(sl) = security_lists {
        res.body.insert("securityListIds".into(), json!(sl));
    }
    Ok(store(
        ctx,
        kind::SUBNET,
        res,
        "VirtualNetworkApi.UpdateSubnet",
    ))
}

/// PUT /volumes/{volumeId}: tags, name, performance, and growing (never
/// shrinking) `sizeInGBs`, which takes the volume through PROVISIONING.
pub(crate) fn update_volume(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("volumeId").to_string();
    let body = req.json()?;
    let mut res = current(
        ctx,
        req,
        kind::VOLUME,
        &id,
        &["TERMINATING", "TERMINATED", "FAULTY"],
    )?;
    let c = common(&body)?;
    let size = body.opt_i64("sizeInGBs")?;
    let old_size = res
        .body
        .get("sizeInGBs")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(s) = size {
        if s < old_size {
            return Err(ApiError::invalid(format!(
                "sizeInGBs can only grow: the volume has {old_size} GB, got {s}"
            )));
        }
        if s > 32_768 {
            return Err(ApiError::invalid(format!(
                "sizeInGBs must be at most 32768, got {s}"
            )));
        }
    }
    let vpus = body.opt_i64("vpusPerGB")?;
    if vpus.is_some_and(|v| !(0..=120).contains(&v) || v % 10 != 0) {
        return Err(ApiError::invalid(
            "vpusPerGB must be a multiple of 10 between 0 and 120",
        ));
    }
    let auto_tune = body.opt_bool("isAutoTuneEnabled")?;
    if size.is_some_and(|s| s > old_size) {
        if res.state(ctx.now) != Some("AVAILABLE") {
            return Err(ApiError::incorrect_state(format!(
                "Volume {id} must be AVAILABLE to be resized"
            )));
        }
        res.lc
            .transition(&["PROVISIONING", "AVAILABLE"], ctx.now, ctx.delay);
    }
    apply(&mut res, c);
    if let Some(s) = size {
        res.body.insert("sizeInGBs".into(), json!(s));
        res.body.insert("sizeInMBs".into(), json!(s * 1024));
    }
    if let Some(v) = vpus {
        res.body.insert("vpusPerGB".into(), json!(v));
    }
    if let Some(a) = auto_tune {
        res.body.insert("isAutoTuneEnabled".into(), json!(a));
    }
    Ok(store(
        ctx,
        kind::VOLUME,
        res,
        "BlockstorageApi.UpdateVolume",
    ))
}
