//! Compute: instances and their power actions, shapes, images, console history,
//! VNIC/boot-volume/volume attachments.

use serde_json::{json, Map, Value};

use super::workrequests::Target;
use super::{availability_domains, list_in_compartment, Ctx, SORT_TIME_NAME};
use crate::catalog::{self, ShapeDef};
use crate::lifecycle::Lifecycle;
use crate::state::{kind, Res};
use crate::wire::{
    self, check_if_match, copy_tags, time_value, ApiError, BodyExt, Reply, ReplyBody, Req,
};

const INSTANCE_STATES: &[&str] = &[
    "MOVING",
    "PROVISIONING",
    "RUNNING",
    "STARTING",
    "STOPPING",
    "STOPPED",
    "CREATING_IMAGE",
    "TERMINATING",
    "TERMINATED",
];
const INSTANCE_ACTIONS: &[&str] = &[
    "STOP",
    "START",
    "SOFTRESET",
    "RESET",
    "SOFTSTOP",
    "SENDDIAGNOSTICINTERRUPT",
    "DIAGNOSTICREBOOT",
    "REBOOTMIGRATE",
];

/// GET /instances
pub(crate) fn list_instances(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_in_compartment(
        ctx,
        req,
        kind::INSTANCE,
        INSTANCE_STATES,
        SORT_TIME_NAME,
        &[
            ("availabilityDomain", "availabilityDomain"),
            ("displayName", "displayName"),
        ],
    )
}

/// GET /instances/{instanceId}
pub(crate) fn get_instance(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::INSTANCE, req.path("instanceId"))?
        .reply(ctx.now))
}

/// The shape configuration chosen at launch, validated against the shape.
pub(crate) fn shape_config(
    shape: &ShapeDef,
    body: &Map<String, Value>,
) -> Result<(f64, f64), ApiError> {
    let cfg = body.opt_obj("shapeConfig")?;
    if !shape.flex {
        if cfg.is_some_and(|c| c.contains_key("ocpus") || c.contains_key("memoryInGBs")) {
            return Err(ApiError::invalid(format!(
                "Shape {} is not flexible; shapeConfig ocpus/memoryInGBs cannot be set",
                shape.name
            )));
        }
        return Ok((shape.ocpus, shape.memory_gb));
    }
    let ocpus = match cfg {
        Some(c) => c.opt_f64("ocpus")?.unwrap_or(shape.ocpus),
        None => shape.ocpus,
    };
    if ocpus < shape.ocpu_range.0 || ocpus > shape.ocpu_range.1 {
        return Err(ApiError::invalid(format!(
            "shapeConfig.ocpus must be between {} and {} for {}",
            shape.ocpu_range.0, shape.ocpu_range.1, shape.name
        )));
    }
    let memory = match cfg {
        Some(c) => c
            .opt_f64("memoryInGBs")?
            .unwrap_or(ocpus * shape.mem_default_per_ocpu),
        None => ocpus * shape.mem_default_per_ocpu,
    };
    let (lo, hi) = (
        ocpus * shape.mem_per_ocpu.0,
        (ocpus * shape.mem_per_ocpu.1).min(shape.max_memory_gb),
    );
    if memory < lo || memory > hi {
        return Err(ApiError::invalid(format!(
            "shapeConfig.memoryInGBs must be between {lo} and {hi} for {ocpus} OCPUs of {}",
            shape.name
        )));
    }
    Ok((ocpus, memory))
}

/// The `shapeConfig` wire object of an instance.
pub(crate) fn shape_config_json(shape: &ShapeDef, ocpus: f64, memory: f64) -> Value {
    let mut v = json!({
        "ocpus": ocpus,
        "memoryInGBs": memory,
        "processorDescription": shape.processor,
        "networkingBandwidthInGbps": shape.bandwidth(ocpus),
        "maxVnicAttachments": if ocpus >= 2.0 { (ocpus as i64).min(24) } else { 2 },
        "gpus": shape.gpus,
        "localDisks": 0,
        "vcpus": (ocpus * 2.0) as i64,
    });
    if let (Some(obj), Some(gpu)) = (v.as_object_mut(), shape.gpu_description) {
        obj.insert("gpuDescription".into(), json!(gpu));
    }
    v
}

/// Lowest free private IP of a subnet (OCI reserves the first two and the last).
pub(crate) fn allocate_private_ip(ctx: &Ctx<'_>, subnet: &Res) -> Result<String, ApiError> {
    let (net, len) = subnet
        .str("cidrBlock")
        .and_then(super::cidr)
        .ok_or_else(|| ApiError::internal("subnet has no valid cidrBlock"))?;
    let size: u64 = 1u64 << (32 - len);
    let used: Vec<String> = ctx
        .st
        .all(kind::VNIC)
        .filter(|v| {
            v.str("subnetId") == Some(subnet.id()) && v.state(ctx.now) != Some("TERMINATED")
        })
        .filter_map(|v| v.str("privateIp").map(str::to_string))
        .collect();
    for host in 2..size.saturating_sub(1) {
        let ip = super::ipv4_str(net + u32::try_from(host).unwrap_or(0));
        if !used.contains(&ip) {
            return Ok(ip);
        }
    }
    Err(ApiError::new(
        http::StatusCode::BAD_REQUEST,
        "LimitExceeded",
        format!("Subnet {} has no free private IP addresses", subnet.id()),
    ))
}

/// Deterministic-looking public IP for a VNIC.
fn public_ip_for(ctx: &Ctx<'_>, vnic_id: &str) -> String {
    let h = crate::state::hash_str(ctx.st.meta.seed, vnic_id);
    format!(
        "129.{}.{}.{}",
        146 + (h % 8),
        (h >> 8) % 256,
        1 + (h >> 16) % 253
    )
}

/// Create a VNIC (and its attachment) for an instance in `subnet`.
pub(crate) fn create_vnic(
    ctx: &mut Ctx<'_>,
    instance: &Res,
    subnet_id: &str,
    assign_public: Option<bool>,
    hostname: Option<String>,
) -> Result<(), ApiError> {
    let subnet = ctx.get(kind::SUBNET, subnet_id)?.clone();
    let private_ip = allocate_private_ip(ctx, &subnet)?;
    let prohibit_public = subnet
        .body
        .get("prohibitPublicIpOnVnic")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if assign_public == Some(true) && prohibit_public {
        return Err(ApiError::invalid(format!(
            "Subnet {subnet_id} prohibits public IPs on VNICs"
        )));
    }
    let vnic_id = ctx.st.new_ocid("vnic", true);
    let public = assign_public.unwrap_or(!prohibit_public);
    let display = instance
        .str("displayName")
        .unwrap_or("instance")
        .to_string();
    let ad = instance.str("availabilityDomain").unwrap_or("").to_string();
    let compartment = instance.str("compartmentId").unwrap_or("").to_string();
    let mut vnic = json!({
        "id": vnic_id,
        "availabilityDomain": ad,
        "compartmentId": compartment,
        "displayName": display,
        "hostnameLabel": hostname.unwrap_or_else(|| display.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "")),
        "isPrimary": true,
        "macAddress": mac_for(ctx.st.meta.seed, &vnic_id),
        "privateIp": private_ip,
        "skipSourceDestCheck": false,
        "subnetId": subnet_id,
        "nsgIds": [],
        "timeCreated": time_value(ctx.now),
        "freeformTags": {},
        "definedTags": {},
    });
    if public {
        if let Some(o) = vnic.as_object_mut() {
            o.insert("publicIp".into(), json!(public_ip_for(ctx, &vnic_id)));
        }
    }
    let vnic = Res::new(
        vnic.as_object().cloned().unwrap_or_default(),
        Lifecycle::path(&["PROVISIONING", "AVAILABLE"], ctx.now, ctx.delay),
    );
    ctx.st.insert(kind::VNIC, vnic);
    let attachment_id = ctx.st.new_ocid("vnicattachment", true);
    let att = json!({
        "id": attachment_id,
        "availabilityDomain": ad,
        "compartmentId": compartment,
        "displayName": format!("{display}-vnic"),
        "instanceId": instance.id(),
        "nicIndex": 0,
        "subnetId": subnet_id,
        "vnicId": vnic_id,
        "timeCreated": time_value(ctx.now),
    });
    ctx.st.insert(
        kind::VNIC_ATTACHMENT,
        Res::new(
            att.as_object().cloned().unwrap_or_default(),
            Lifecycle::path(&["ATTACHING", "ATTACHED"], ctx.now, ctx.delay),
        ),
    );
    Ok(())
}

fn mac_for(seed: u64, id: &str) -> String {
    let h = crate::state::hash_str(seed, id);
    format!(
        "02:00:17:{:02X}:{:02X}:{:02X}",
        h & 0xff,
        (h >> 8) & 0xff,
        (h >> 16) & 0xff
    )
}

/// POST /instances
pub(crate) fn launch_instance(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let compartment = body.req_str("compartmentId")?;
    let ad = body.req_str("availabilityDomain")?;
    let shape_name = body.req_str("shape")?;
    ctx.require_compartment(&compartment)?;
    let ads = availability_domains(&ctx.region());
    if !ads.contains(&ad) {
        return Err(ApiError::invalid(format!(
            "availabilityDomain `{ad}` is not one of {}",
            ads.join(", ")
        )));
    }
    let shape = catalog::shape(&shape_name)
        .ok_or_else(|| ApiError::invalid(format!("Shape `{shape_name}` is not supported")))?;
    let (ocpus, memory) = shape_config(shape, &body)?;

    // Source: an image (sourceDetails or legacy imageId) or an existing boot volume.
    let source = body.opt_obj("sourceDetails")?.cloned();
    let (image_id, boot_volume_id, boot_size) = match &source {
        Some(src) => match src.req_str("sourceType")?.as_str() {
            "image" => (
                Some(src.req_str("imageId")?),
                None,
                src.opt_i64("bootVolumeSizeInGBs")?,
            ),
            "bootVolume" => (None, Some(src.req_str("bootVolumeId")?), None),
            other => {
                return Err(ApiError::invalid(format!(
                    "sourceDetails.sourceType must be image or bootVolume, got `{other}`"
                )))
            }
        },
        None => match body.opt_str("imageId")? {
            Some(id) => (Some(id), None, None),
            None => return Err(ApiError::missing("sourceDetails")),
        },
    };
    let image_id = match (&image_id, &boot_volume_id) {
        (Some(id), _) => {
            let image = ctx
                .st
                .get(kind::IMAGE, id)
                .ok_or_else(|| ApiError::invalid(format!("Image `{id}` does not exist")))?;
            let arch = catalog::image_arch(image.str("displayName").unwrap_or(""));
            if arch != shape.arch {
                return Err(ApiError::invalid(format!(
                    "Image `{id}` ({arch}) is not compatible with shape {} ({})",
                    shape.name, shape.arch
                )));
            }
            Some(id.clone())
        }
        (None, Some(bv)) => {
            let vol = ctx
                .st
                .get(kind::BOOT_VOLUME, bv)
                .ok_or_else(|| ApiError::invalid(format!("Boot volume `{bv}` does not exist")))?;
            if vol.state(ctx.now) != Some("AVAILABLE") {
                return Err(ApiError::incorrect_state(format!(
                    "Boot volume {bv} is not AVAILABLE"
                )));
            }
            if ctx.st.all(kind::BOOT_VOLUME_ATTACHMENT).any(|a| {
                a.str("bootVolumeId") == Some(bv.as_str()) && a.state(ctx.now) != Some("DETACHED")
            }) {
                return Err(ApiError::conflict(format!(
                    "Boot volume {bv} is already attached"
                )));
            }
            vol.str("imageId").map(str::to_string)
        }
        (None, None) => None,
    };

    let vnic = body.opt_obj("createVnicDetails")?.cloned();
    let subnet_id = match &vnic {
        Some(v) => v.opt_str("subnetId")?,
        None => None,
    }
    .or(body.opt_str("subnetId")?)
    .ok_or_else(|| ApiError::missing("createVnicDetails.subnetId"))?;
    let subnet = ctx
        .st
        .get(kind::SUBNET, &subnet_id)
        .ok_or_else(|| ApiError::invalid(format!("Subnet `{subnet_id}` does not exist")))?;
    if subnet.state(ctx.now) != Some("AVAILABLE") {
        return Err(ApiError::incorrect_state(format!(
            "Subnet {subnet_id} is not AVAILABLE"
        )));
    }
    if let Some(subnet_ad) = subnet.str("availabilityDomain") {
        if subnet_ad != ad {
            return Err(ApiError::invalid(format!(
                "Subnet {subnet_id} is in {subnet_ad}, not {ad}"
            )));
        }
    }
    super::limits::check_compute_limit(ctx, shape, ocpus, &ad)?;

    let id = ctx.st.new_ocid("instance", true);
    let fd_index = crate::state::hash_str(ctx.st.meta.seed, &id) % 3 + 1;
    let fault_domain = body
        .opt_str("faultDomain")?
        .unwrap_or_else(|| format!("FAULT-DOMAIN-{fd_index}"));
    let display = body.opt_str("displayName")?.unwrap_or_else(|| {
        let t = wire::fmt_time(ctx.now);
        format!(
            "instance{}",
            t.get(..16).unwrap_or("").replace(['-', ':', 'T'], "")
        )
    });
    let mut inst = Map::new();
    inst.insert("id".into(), json!(id));
    inst.insert("availabilityDomain".into(), json!(ad));
    inst.insert("compartmentId".into(), json!(compartment));
    inst.insert("displayName".into(), json!(display));
    inst.insert("faultDomain".into(), json!(fault_domain));
    inst.insert("region".into(), json!(ctx.region()));
    inst.insert("shape".into(), json!(shape.name));
    inst.insert(
        "shapeConfig".into(),
        shape_config_json(shape, ocpus, memory),
    );
    inst.insert("launchMode".into(), json!("PARAVIRTUALIZED"));
    inst.insert(
        "launchOptions".into(),
        json!({"bootVolumeType": "PARAVIRTUALIZED", "firmware": "UEFI_64", "networkType": "PARAVIRTUALIZED", "remoteDataVolumeType": "PARAVIRTUALIZED", "isPvEncryptionInTransitEnabled": false, "isConsistentVolumeNamingEnabled": true}),
    );
    // Shielded-instance and metadata-service settings, as given at launch.
    for field in ["platformConfig", "instanceOptions"] {
        if let Some(v) = body.opt_obj(field)? {
            inst.insert(field.into(), Value::Object(v.clone()));
        }
    }
    inst.insert(
        "agentConfig".into(),
        json!({"isMonitoringDisabled": false, "isManagementDisabled": false, "areAllPluginsDisabled": false}),
    );
    inst.insert(
        "metadata".into(),
        Value::Object(body.opt_obj("metadata")?.cloned().unwrap_or_default()),
    );
    inst.insert(
        "extendedMetadata".into(),
        Value::Object(
            body.opt_obj("extendedMetadata")?
                .cloned()
                .unwrap_or_default(),
        ),
    );
    copy_tags(&body, &mut inst)?;
    inst.insert("timeCreated".into(), time_value(ctx.now));
    if let Some(img) = &image_id {
        inst.insert("imageId".into(), json!(img));
    }
    let size_gb = boot_size.unwrap_or(47).max(47);
    let boot_volume_id = match boot_volume_id {
        Some(bv) => {
            inst.insert(
                "sourceDetails".into(),
                json!({"sourceType": "bootVolume", "bootVolumeId": bv}),
            );
            bv
        }
        None => {
            inst.insert(
                "sourceDetails".into(),
                json!({"sourceType": "image", "imageId": image_id, "bootVolumeSizeInGBs": size_gb}),
            );
            let bv_id = ctx.st.new_ocid("bootvolume", true);
            let bv = json!({
                "id": bv_id,
                "availabilityDomain": ad,
                "compartmentId": compartment,
                "displayName": format!("{display} (Boot Volume)"),
                "imageId": image_id,
                "sizeInGBs": size_gb,
                "sizeInMBs": size_gb * 1024,
                "vpusPerGB": 10,
                "isHydrated": true,
                "timeCreated": time_value(ctx.now),
                "freeformTags": {},
                "definedTags": {},
            });
            ctx.st.insert(
                kind::BOOT_VOLUME,
                Res::new(
                    bv.as_object().cloned().unwrap_or_default(),
                    Lifecycle::path(&["PROVISIONING", "AVAILABLE"], ctx.now, ctx.delay),
                ),
            );
            bv_id
        }
    };
    let res = Res::new(
        inst,
        Lifecycle::path(&["PROVISIONING", "RUNNING"], ctx.now, ctx.delay),
    );
    let att_id = ctx.st.new_ocid("bootvolumeattachment", true);
    let att = json!({
        "id": att_id,
        "availabilityDomain": ad,
        "compartmentId": compartment,
        "bootVolumeId": boot_volume_id,
        "instanceId": id,
        "displayName": format!("Remote boot attachment for instance"),
        "isPvEncryptionInTransitEnabled": false,
        "timeCreated": time_value(ctx.now),
    });
    ctx.st.insert(
        kind::BOOT_VOLUME_ATTACHMENT,
        Res::new(
            att.as_object().cloned().unwrap_or_default(),
            Lifecycle::path(&["ATTACHING", "ATTACHED"], ctx.now, ctx.delay),
        ),
    );
    let (assign_public, hostname) = match &vnic {
        Some(v) => (v.opt_bool("assignPublicIp")?, v.opt_str("hostnameLabel")?),
        None => (None, None),
    };
    create_vnic(ctx, &res, &subnet_id, assign_public, hostname)?;
    ctx.st.insert(kind::INSTANCE, res.clone());
    ctx.audit(
        &compartment,
        "ComputeApi.LaunchInstance",
        &res,
        &format!("Instance {display} launched with shape {}", shape.name),
    );
    ctx.dirty = true;
    let done = res.lc.settles_at().unwrap_or(ctx.now);
    let target = Target {
        action: "CREATED",
        entity_type: "instance",
        id: res.id(),
        collection: "/instances",
    };
    let wr = ctx.work_request("LaunchInstance", &compartment, &target, done);
    Ok(res.reply(ctx.now).header("opc-work-request-id", wr))
}

/// POST /instances/{instanceId}?action=
pub(crate) fn instance_action(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("instanceId").to_string();
    let action = req
        .query_enum("action", INSTANCE_ACTIONS)?
        .ok_or_else(|| ApiError::missing("action"))?
        .to_string();
    let now = ctx.now;
    let delay = ctx.delay;
    let inst = ctx.get(kind::INSTANCE, &id)?;
    check_if_match(req.headers, &inst.render(now))?;
    let state = inst.state(now).unwrap_or("").to_string();
    let path: Option<&[&str]> = match (action.as_str(), state.as_str()) {
        ("START", "STOPPED") => Some(&["STARTING", "RUNNING"]),
        ("START", "RUNNING" | "STARTING") => None,
        ("STOP" | "SOFTSTOP", "RUNNING") => Some(&["STOPPING", "STOPPED"]),
        ("STOP" | "SOFTSTOP", "STOPPED" | "STOPPING") => None,
        ("RESET" | "SOFTRESET" | "DIAGNOSTICREBOOT" | "REBOOTMIGRATE", "RUNNING") => {
            Some(&["STOPPING", "STARTING", "RUNNING"])
        }
        ("SENDDIAGNOSTICINTERRUPT", "RUNNING") => None,
        _ => {
            return Err(ApiError::incorrect_state(format!(
                "Instance {id} is {state}; action {action} is not allowed in this state"
            )))
        }
    };
    let compartment = inst.str("compartmentId").unwrap_or("").to_string();
    let res = {
        let inst = ctx.get_mut(kind::INSTANCE, &id)?;
        if let Some(path) = path {
            inst.lc.transition(path, now, delay);
        }
        inst.clone()
    };
    if path.is_some() {
        ctx.audit(
            &compartment,
            "ComputeApi.InstanceAction",
            &res,
            &format!("Instance action {action} accepted"),
        );
    }
    Ok(res.reply(now))
}

/// DELETE /instances/{instanceId}
pub(crate) fn terminate_instance(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("instanceId").to_string();
    let preserve_boot = req.query_bool("preserveBootVolume")?.unwrap_or(false);
    let preserve_data = req
        .query_bool("preserveDataVolumesCreatedAtLaunch")?
        .unwrap_or(true);
    let _ = preserve_data; // data volumes are never created at launch here
    let now = ctx.now;
    let delay = ctx.delay;
    let inst = ctx.get(kind::INSTANCE, &id)?;
    check_if_match(req.headers, &inst.render(now))?;
    let state = inst.state(now).unwrap_or("").to_string();
    let compartment = inst.str("compartmentId").unwrap_or("").to_string();
    let target = Target {
        action: "DELETED",
        entity_type: "instance",
        id: &id,
        collection: "/instances",
    };
    if state == "TERMINATING" || state == "TERMINATED" {
        // Repeated terminate: a work request finishing with the first one.
        let done = inst.lc.settles_at().unwrap_or(now);
        let wr = ctx.work_request("TerminateInstance", &compartment, &target, done);
        return Ok(Reply::no_content().header("opc-work-request-id", wr));
    }
    let res = {
        let inst = ctx.get_mut(kind::INSTANCE, &id)?;
        inst.lc
            .transition(&["TERMINATING", "TERMINATED"], now, delay);
        inst.clone()
    };
    detach_everything(ctx, &id, !preserve_boot);
    ctx.audit(
        &compartment,
        "ComputeApi.TerminateInstance",
        &res,
        &format!("Instance terminated (preserveBootVolume={preserve_boot})"),
    );
    let done = res.lc.settles_at().unwrap_or(now);
    let wr = ctx.work_request("TerminateInstance", &compartment, &target, done);
    Ok(Reply::no_content().header("opc-work-request-id", wr))
}

/// Detach VNICs/volumes of a terminated instance; terminate its boot volume unless preserved.
fn detach_everything(ctx: &mut Ctx<'_>, instance_id: &str, delete_boot: bool) {
    let now = ctx.now;
    let delay = ctx.delay;
    let mut boot_volumes = Vec::new();
    let mut vnics = Vec::new();
    for k in [
        kind::BOOT_VOLUME_ATTACHMENT,
        kind::VNIC_ATTACHMENT,
        kind::VOLUME_ATTACHMENT,
    ] {
        if let Some(map) = ctx.st.resources.get_mut(k) {
            for att in map.values_mut() {
                if att.str("instanceId") != Some(instance_id) || att.state(now) == Some("DETACHED")
                {
                    continue;
                }
                if let Some(bv) = att.str("bootVolumeId") {
                    boot_volumes.push(bv.to_string());
                }
                if let Some(v) = att.str("vnicId") {
                    vnics.push(v.to_string());
                }
                att.lc.transition(&["DETACHING", "DETACHED"], now, delay);
            }
        }
    }
    for v in vnics {
        if let Some(vnic) = ctx.st.get_mut(kind::VNIC, &v) {
            vnic.lc
                .transition(&["TERMINATING", "TERMINATED"], now, delay);
        }
    }
    if delete_boot {
        for bv in boot_volumes {
            if let Some(vol) = ctx.st.get_mut(kind::BOOT_VOLUME, &bv) {
                vol.lc
                    .transition(&["TERMINATING", "TERMINATED"], now, delay);
            }
        }
    }
    ctx.dirty = true;
}

/// GET /shapes
pub(crate) fn list_shapes(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    ctx.compartment_param(req)?;
    if let Some(ad) = req.query("availabilityDomain") {
        if !availability_domains(&ctx.region()).iter().any(|a| a == ad) {
            return Err(ApiError::invalid(format!(
                "Unknown availabilityDomain `{ad}`"
            )));
        }
    }
    let image_arch = match req.query("imageId") {
        Some(img) => Some(catalog::image_arch(
            ctx.get(kind::IMAGE, img)?.str("displayName").unwrap_or(""),
        )),
        None => None,
    };
    let items: Vec<Value> = catalog::SHAPES
        .iter()
        .filter(|s| image_arch.is_none_or(|a| a == s.arch))
        .filter(|s| req.query("shape").is_none_or(|n| n == s.name))
        .map(ShapeDef::to_json)
        .collect();
    wire::list_reply(req, items)
}

/// Images visible from a compartment: platform images (kept in the tenancy
/// compartment) plus custom images of that compartment.
fn visible_images(ctx: &Ctx<'_>, compartment: &str) -> Vec<Value> {
    let tenancy = ctx.tenancy();
    ctx.rendered(kind::IMAGE, false, |r| {
        r.str("compartmentId") == Some(compartment)
            || r.str("compartmentId") == Some(tenancy.as_str())
    })
}

/// GET /images
pub(crate) fn list_images(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    let mut items = visible_images(ctx, &compartment);
    for (p, f) in [
        ("displayName", "displayName"),
        ("operatingSystem", "operatingSystem"),
        ("operatingSystemVersion", "operatingSystemVersion"),
    ] {
        wire::filter_eq(req, &mut items, p, f);
    }
    if let Some(shape) = req.query("shape") {
        let s = catalog::shape(shape)
            .ok_or_else(|| ApiError::invalid(format!("Shape `{shape}` is not supported")))?;
        items.retain(|i| {
            catalog::image_arch(i.get("displayName").and_then(Value::as_str).unwrap_or(""))
                == s.arch
        });
    }
    wire::filter_lifecycle(
        req,
        &mut items,
        &[
            "PROVISIONING",
            "IMPORTING",
            "AVAILABLE",
            "EXPORTING",
            "DISABLED",
            "DELETED",
        ],
    )?;
    wire::sort_items(req, &mut items, SORT_TIME_NAME)?;
    wire::list_reply(req, items)
}

/// GET /images/{imageId}
pub(crate) fn get_image(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx.get(kind::IMAGE, req.path("imageId"))?.reply(ctx.now))
}

/// POST /instanceConsoleHistories
pub(crate) fn capture_console_history(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let instance_id = body.req_str("instanceId")?;
    let inst = ctx
        .st
        .get(kind::INSTANCE, &instance_id)
        .ok_or_else(|| ApiError::not_found(format!("instance {instance_id}")))?;
    let state = inst.state(ctx.now).unwrap_or("");
    if !matches!(state, "RUNNING" | "STOPPED" | "STARTING" | "STOPPING") {
        return Err(ApiError::incorrect_state(format!(
            "Cannot capture console history of an instance in state {state}"
        )));
    }
    let compartment = inst.str("compartmentId").unwrap_or("").to_string();
    let ad = inst.str("availabilityDomain").unwrap_or("").to_string();
    let id = ctx.st.new_ocid("consolehistory", true);
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("availabilityDomain".into(), json!(ad));
    m.insert("compartmentId".into(), json!(compartment));
    m.insert(
        "displayName".into(),
        json!(body
            .opt_str("displayName")?
            .unwrap_or_else(|| format!("console-history-{}", &id[id.len().saturating_sub(6)..]))),
    );
    m.insert("instanceId".into(), json!(instance_id));
    m.insert("timeCreated".into(), time_value(ctx.now));
    copy_tags(&body, &mut m)?;
    let res = Res::new(
        m,
        Lifecycle::path(
            &["REQUESTED", "GETTING-HISTORY", "SUCCEEDED"],
            ctx.now,
            ctx.delay,
        ),
    );
    ctx.st.insert(kind::CONSOLE_HISTORY, res.clone());
    ctx.dirty = true;
    Ok(res.reply(ctx.now))
}

/// GET /instanceConsoleHistories/{id}
pub(crate) fn get_console_history(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::CONSOLE_HISTORY, req.path("instanceConsoleHistoryId"))?
        .reply(ctx.now))
}

/// The serial console text of an instance as of `at`: a boot transcript derived
/// from the instance's shape, image and state history, plus its stored log lines.
fn console_text(ctx: &Ctx<'_>, instance: &Res, at: i64) -> String {
    let name = instance.str("displayName").unwrap_or("instance");
    let shape = instance.str("shape").unwrap_or("");
    let image = instance
        .str("imageId")
        .and_then(|i| ctx.st.get(kind::IMAGE, i))
        .and_then(|i| i.str("displayName"))
        .unwrap_or("Oracle-Linux");
    let boot = instance.lc.entered("RUNNING", at).unwrap_or(ctx.now);
    let mut lines = vec![
        format!("[    0.000000] Linux version 5.15.0-208.159.3.el8uek.x86_64 ({image})"),
        format!("[    0.000000] Command line: BOOT_IMAGE=/vmlinuz root=/dev/mapper/ocivolume-root console=ttyS0,115200"),
        format!("[    0.012000] DMI: OracleCloud.com {shape}"),
        "[    1.204311] virtio_net virtio1 ens3: renamed from eth0".to_string(),
        "[    2.551209] EXT4-fs (dm-0): mounted filesystem with ordered data mode".to_string(),
        format!("[    4.100000] cloud-init[1021]: Cloud-init v. 22.1 running 'init' at {}", wire::fmt_time(boot)),
        format!("[    6.300000] systemd[1]: Reached target Multi-User System on {name}."),
        format!("{name} login: "),
    ];
    for log in crate::logs::entries(ctx.st, at - 24 * 3_600_000, at, ctx.now)
        .iter()
        .filter(|l| l.datetime <= at)
    {
        let c = &log.content;
        if c.get("subject").and_then(Value::as_str) == Some(instance.id()) {
            if let Some(msg) = c.pointer("/data/message").and_then(Value::as_str) {
                lines.push(format!("{} {name} {msg}", wire::fmt_time(log.datetime)));
            }
        }
    }
    lines.join("\n") + "\n"
}

/// GET /instanceConsoleHistories/{id}/data
pub(crate) fn get_console_history_content(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let hist = ctx.get(kind::CONSOLE_HISTORY, req.path("instanceConsoleHistoryId"))?;
    if hist.state(ctx.now) != Some("SUCCEEDED") {
        return Err(ApiError::incorrect_state(format!(
            "Console history {} is not SUCCEEDED yet",
            hist.id()
        )));
    }
    let captured = hist.lc.steps.first().map(|s| s.at).unwrap_or(ctx.now);
    let instance_id = hist.str("instanceId").unwrap_or("").to_string();
    let inst = ctx.get(kind::INSTANCE, &instance_id)?;
    let text = console_text(ctx, inst, captured).into_bytes();
    let parse = |name: &str, default: usize| -> Result<usize, ApiError> {
        match req.query(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| ApiError::invalid(format!("`{name}` must be a non-negative integer"))),
        }
    };
    let offset = parse("offset", 0)?.min(text.len());
    let length = parse("length", 10 * 1024 * 1024)?;
    let end = offset.saturating_add(length).min(text.len());
    let chunk = bytes::Bytes::copy_from_slice(&text[offset..end]);
    Ok(Reply {
        status: http::StatusCode::OK,
        headers: vec![("opc-bytes-remaining".into(), (text.len() - end).to_string())],
        body: ReplyBody::Bytes(chunk, "application/octet-stream".into()),
    })
}

/// GET /vnicAttachments
pub(crate) fn list_vnic_attachments(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_in_compartment(
        ctx,
        req,
        kind::VNIC_ATTACHMENT,
        &[],
        SORT_TIME_NAME,
        &[
            ("availabilityDomain", "availabilityDomain"),
            ("instanceId", "instanceId"),
            ("vnicId", "vnicId"),
        ],
    )
}

/// GET /bootVolumeAttachments (availabilityDomain and compartmentId required)
pub(crate) fn list_boot_volume_attachments(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    req.query_required("availabilityDomain")?;
    list_in_compartment(
        ctx,
        req,
        kind::BOOT_VOLUME_ATTACHMENT,
        &[],
        SORT_TIME_NAME,
        &[
            ("availabilityDomain", "availabilityDomain"),
            ("instanceId", "instanceId"),
            ("bootVolumeId", "bootVolumeId"),
        ],
    )
}

/// GET /volumeAttachments
pub(crate) fn list_volume_attachments(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_in_compartment(
        ctx,
        req,
        kind::VOLUME_ATTACHMENT,
        &[],
        SORT_TIME_NAME,
        &[
            ("availabilityDomain", "availabilityDomain"),
            ("instanceId", "instanceId"),
            ("volumeId", "volumeId"),
        ],
    )
}

/// POST /volumeAttachments
pub(crate) fn attach_volume(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let attach_type = body
        .opt_enum(
            "type",
            &[
                "service_determined",
                "emulated",
                "iscsi",
                "nvme",
                "paravirtualized",
            ],
        )?
        .ok_or_else(|| ApiError::missing("type"))?;
    let instance_id = body.req_str("instanceId")?;
    let volume_id = body.req_str("volumeId")?;
    let shareable = body.opt_bool("isShareable")?.unwrap_or(false);
    let read_only = body.opt_bool("isReadOnly")?.unwrap_or(false);
    let now = ctx.now;
    let inst = ctx
        .st
        .get(kind::INSTANCE, &instance_id)
        .ok_or_else(|| ApiError::not_found(format!("instance {instance_id}")))?
        .clone();
    let vol = ctx
        .st
        .get(kind::VOLUME, &volume_id)
        .ok_or_else(|| ApiError::not_found(format!("volume {volume_id}")))?
        .clone();
    let inst_state = inst.state(now).unwrap_or("");
    if !matches!(inst_state, "RUNNING" | "STOPPED") {
        return Err(ApiError::incorrect_state(format!(
            "Instance {instance_id} is {inst_state}; volumes attach only to RUNNING or STOPPED instances"
        )));
    }
    let vol_state = vol.state(now).unwrap_or("");
    if vol_state != "AVAILABLE" {
        return Err(ApiError::incorrect_state(format!(
            "Volume {volume_id} is {vol_state}, not AVAILABLE"
        )));
    }
    if inst.str("availabilityDomain") != vol.str("availabilityDomain") {
        return Err(ApiError::invalid(format!(
            "Volume {volume_id} and instance {instance_id} are in different availability domains"
        )));
    }
    let existing: Vec<&Res> = ctx
        .st
        .all(kind::VOLUME_ATTACHMENT)
        .filter(|a| {
            a.str("volumeId") == Some(volume_id.as_str())
                && !matches!(a.state(now), Some("DETACHED" | "DETACHING"))
        })
        .collect();
    if existing
        .iter()
        .any(|a| a.str("instanceId") == Some(instance_id.as_str()))
    {
        return Err(ApiError::conflict(format!(
            "Volume {volume_id} is already attached to instance {instance_id}"
        )));
    }
    let all_shareable = existing
        .iter()
        .all(|a| a.body.get("isShareable") == Some(&json!(true)));
    let may_share = existing.is_empty() || (shareable && all_shareable);
    if !may_share {
        return Err(ApiError::conflict(format!(
            "Volume {volume_id} is already attached to another instance"
        )));
    }
    let used_devices: Vec<String> = ctx
        .st
        .all(kind::VOLUME_ATTACHMENT)
        .filter(|a| {
            a.str("instanceId") == Some(instance_id.as_str()) && a.state(now) != Some("DETACHED")
        })
        .filter_map(|a| a.str("device").map(str::to_string))
        .collect();
    let device = match body.opt_str("device")? {
        Some(d) => {
            if used_devices.contains(&d) {
                return Err(ApiError::conflict(format!("Device {d} is already in use")));
            }
            d
        }
        None => ('b'..='z')
            .map(|c| format!("/dev/oracleoci/oraclevd{c}"))
            .find(|d| !used_devices.contains(d))
            .ok_or_else(|| ApiError::conflict("No free device paths on the instance"))?,
    };
    let attachment_type = if attach_type == "service_determined" {
        "paravirtualized".to_string()
    } else {
        attach_type
    };
    let id = ctx.st.new_ocid("volumeattachment", true);
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("attachmentType".into(), json!(attachment_type));
    m.insert(
        "availabilityDomain".into(),
        json!(inst.str("availabilityDomain")),
    );
    m.insert("compartmentId".into(), json!(inst.str("compartmentId")));
    m.insert("device".into(), json!(device));
    m.insert(
        "displayName".into(),
        json!(body
            .opt_str("displayName")?
            .unwrap_or_else(|| format!("volumeattachment{}", &id[id.len().saturating_sub(6)..]))),
    );
    m.insert("instanceId".into(), json!(instance_id));
    m.insert("volumeId".into(), json!(volume_id));
    m.insert("isReadOnly".into(), json!(read_only));
    m.insert("isShareable".into(), json!(shareable));
    m.insert("isPvEncryptionInTransitEnabled".into(), json!(false));
    m.insert("isMultipath".into(), json!(false));
    m.insert("timeCreated".into(), time_value(now));
    if attachment_type == "iscsi" {
        let h = crate::state::hash_str(ctx.st.meta.seed, &id);
        m.insert("ipv4".into(), json!(format!("169.254.2.{}", 2 + h % 250)));
        m.insert(
            "iqn".into(),
            json!(format!(
                "iqn.2015-12.com.oracleiaas:{}",
                &volume_id[volume_id.len().saturating_sub(12)..]
            )),
        );
        m.insert("port".into(), json!(3260));
        m.insert("iscsiLoginState".into(), json!("LOGIN_SUCCEEDED"));
    }
    let res = Res::new(
        m,
        Lifecycle::path(&["ATTACHING", "ATTACHED"], now, ctx.delay),
    );
    ctx.st.insert(kind::VOLUME_ATTACHMENT, res.clone());
    let compartment = inst.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        "ComputeApi.AttachVolume",
        &inst,
        &format!("Volume {volume_id} attached at {device}"),
    );
    Ok(res.reply(now))
}

/// GET /volumeAttachments/{volumeAttachmentId}
pub(crate) fn get_volume_attachment(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::VOLUME_ATTACHMENT, req.path("volumeAttachmentId"))?
        .reply(ctx.now))
}

/// DELETE /volumeAttachments/{volumeAttachmentId}
pub(crate) fn detach_volume(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("volumeAttachmentId").to_string();
    let now = ctx.now;
    let delay = ctx.delay;
    let att = ctx.get(kind::VOLUME_ATTACHMENT, &id)?;
    check_if_match(req.headers, &att.render(now))?;
    let state = att.state(now).unwrap_or("").to_string();
    if state != "ATTACHED" && state != "ATTACHING" {
        return Err(ApiError::incorrect_state(format!(
            "Volume attachment {id} is {state}"
        )));
    }
    let att = ctx.get_mut(kind::VOLUME_ATTACHMENT, &id)?;
    att.lc.transition(&["DETACHING", "DETACHED"], now, delay);
    let compartment = att.str("compartmentId").unwrap_or("").to_string();
    let done = att.lc.settles_at().unwrap_or(now);
    ctx.dirty = true;
    let target = Target {
        action: "DELETED",
        entity_type: "volumeAttachment",
        id: &id,
        collection: "/volumeAttachments",
    };
    let wr = ctx.work_request("DetachVolume", &compartment, &target, done);
    Ok(Reply::no_content().header("opc-work-request-id", wr))
}
