//! Blockstorage: boot volumes, block volumes and volume backups.

use serde_json::{json, Map, Value};

use super::{Ctx, SORT_TIME_NAME, TERMINAL_STATES};
use crate::lifecycle::Lifecycle;
use crate::state::{kind, Res};
use crate::wire::{self, check_if_match, copy_tags, time_value, ApiError, BodyExt, Reply, Req};

const VOLUME_STATES: &[&str] = &[
    "PROVISIONING",
    "RESTORING",
    "AVAILABLE",
    "TERMINATING",
    "TERMINATED",
    "FAULTY",
];
const BACKUP_STATES: &[&str] = &[
    "CREATING",
    "AVAILABLE",
    "TERMINATING",
    "TERMINATED",
    "FAULTY",
    "REQUEST_RECEIVED",
];

/// Volumes of `kind` in the optional `compartmentId` (default: whole tenancy).
fn list_volumes_of(ctx: &Ctx<'_>, req: &Req<'_>, k: &str) -> Result<Reply, ApiError> {
    let compartment = match req.query("compartmentId") {
        Some(c) => {
            ctx.require_compartment(c)?;
            Some(c.to_string())
        }
        None => None,
    };
    let show_terminal = req
        .query("lifecycleState")
        .is_some_and(|s| TERMINAL_STATES.contains(&s));
    let mut items = ctx.rendered(k, show_terminal, |r| {
        compartment
            .as_deref()
            .is_none_or(|c| r.str("compartmentId") == Some(c))
    });
    for (p, f) in [
        ("availabilityDomain", "availabilityDomain"),
        ("displayName", "displayName"),
        ("volumeGroupId", "volumeGroupId"),
        ("clusterPlacementGroupId", "clusterPlacementGroupId"),
    ] {
        wire::filter_eq(req, &mut items, p, f);
    }
    wire::filter_lifecycle(req, &mut items, VOLUME_STATES)?;
    wire::sort_items(req, &mut items, SORT_TIME_NAME)?;
    wire::list_reply(req, items)
}

/// GET /bootVolumes
pub(crate) fn list_boot_volumes(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_volumes_of(ctx, req, kind::BOOT_VOLUME)
}

/// GET /bootVolumes/{bootVolumeId}
pub(crate) fn get_boot_volume(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::BOOT_VOLUME, req.path("bootVolumeId"))?
        .reply(ctx.now))
}

/// GET /volumes
pub(crate) fn list_volumes(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_volumes_of(ctx, req, kind::VOLUME)
}

/// GET /volumes/{volumeId}
pub(crate) fn get_volume(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx.get(kind::VOLUME, req.path("volumeId"))?.reply(ctx.now))
}

/// A block volume body (also used by the seed).
pub(crate) fn volume_body(
    id: &str,
    compartment: &str,
    ad: &str,
    display: &str,
    size_gb: i64,
    vpus: i64,
    now: i64,
) -> Map<String, Value> {
    let v = json!({
        "id": id,
        "availabilityDomain": ad,
        "compartmentId": compartment,
        "displayName": display,
        "sizeInGBs": size_gb,
        "sizeInMBs": size_gb * 1024,
        "vpusPerGB": vpus,
        "isHydrated": true,
        "isAutoTuneEnabled": false,
        "timeCreated": time_value(now),
        "freeformTags": {},
        "definedTags": {},
    });
    v.as_object().cloned().unwrap_or_default()
}

/// POST /volumes
pub(crate) fn create_volume(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let compartment = body.req_str("compartmentId")?;
    ctx.require_compartment(&compartment)?;
    let ad = body.req_str("availabilityDomain")?;
    if !super::availability_domains(&ctx.region()).contains(&ad) {
        return Err(ApiError::invalid(format!(
            "Unknown availabilityDomain `{ad}`"
        )));
    }
    let backup_id = match body.opt_obj("sourceDetails")? {
        Some(src) => match src.req_str("type")?.as_str() {
            "volumeBackup" => Some(src.req_str("id")?),
            other => {
                return Err(ApiError::invalid(format!(
                "sourceDetails.type `{other}` is not supported by the emulator (use volumeBackup)"
            )))
            }
        },
        None => body.opt_str("volumeBackupId")?,
    };
    let backup = match &backup_id {
        Some(b) => {
            let backup = ctx
                .st
                .get(kind::VOLUME_BACKUP, b)
                .ok_or_else(|| ApiError::invalid(format!("Volume backup `{b}` does not exist")))?;
            if backup.state(ctx.now) != Some("AVAILABLE") {
                return Err(ApiError::incorrect_state(format!(
                    "Volume backup {b} is not AVAILABLE"
                )));
            }
            Some(backup.clone())
        }
        None => None,
    };
    let min_size = backup
        .as_ref()
        .and_then(|b| b.body.get("sizeInGBs").and_then(Value::as_i64))
        .unwrap_or(50);
    let size_gb = match (body.opt_i64("sizeInGBs")?, body.opt_i64("sizeInMBs")?) {
        (Some(g), _) => g,
        (None, Some(mb)) => mb / 1024,
        (None, None) => min_size.max(1024),
    };
    if !(50..=32768).contains(&size_gb) {
        return Err(ApiError::invalid(format!(
            "sizeInGBs must be between 50 and 32768, got {size_gb}"
        )));
    }
    if size_gb < min_size {
        return Err(ApiError::invalid(format!(
            "sizeInGBs {size_gb} is smaller than the source backup ({min_size} GB)"
        )));
    }
    let vpus = body.opt_i64("vpusPerGB")?.unwrap_or(10);
    if !(0..=120).contains(&vpus) || vpus % 10 != 0 {
        return Err(ApiError::invalid(
            "vpusPerGB must be a multiple of 10 between 0 and 120",
        ));
    }
    super::limits::check_storage_limit(ctx, size_gb, &ad)?;
    let id = ctx.st.new_ocid("volume", true);
    let display = body
        .opt_str("displayName")?
        .unwrap_or_else(|| format!("volume{}", ctx.now / 1000));
    let mut m = volume_body(&id, &compartment, &ad, &display, size_gb, vpus, ctx.now);
    copy_tags(&body, &mut m)?;
    let first = if let Some(b) = &backup {
        m.insert(
            "sourceDetails".into(),
            json!({"type": "volumeBackup", "id": b.id()}),
        );
        "RESTORING"
    } else {
        "PROVISIONING"
    };
    let res = Res::new(
        m,
        Lifecycle::path(&[first, "AVAILABLE"], ctx.now, ctx.delay),
    );
    ctx.st.insert(kind::VOLUME, res.clone());
    ctx.audit(
        &compartment,
        "BlockstorageApi.CreateVolume",
        &res,
        &format!("Volume {display} of {size_gb} GB created"),
    );
    Ok(res.reply(ctx.now))
}

/// DELETE /volumes/{volumeId}
pub(crate) fn delete_volume(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("volumeId").to_string();
    let now = ctx.now;
    let vol = ctx.get(kind::VOLUME, &id)?.clone();
    check_if_match(req.headers, &vol.render(now))?;
    match vol.state(now) {
        Some("TERMINATED" | "TERMINATING") => return Ok(Reply::no_content()),
        Some("AVAILABLE" | "FAULTY") => {}
        other => {
            return Err(ApiError::incorrect_state(format!(
                "Volume {id} is {}; it can be deleted once AVAILABLE",
                other.unwrap_or("")
            )))
        }
    }
    let attached: Vec<String> = ctx
        .st
        .all(kind::VOLUME_ATTACHMENT)
        .filter(|a| a.str("volumeId") == Some(id.as_str()) && a.state(now) != Some("DETACHED"))
        .filter_map(|a| a.str("instanceId").map(str::to_string))
        .collect();
    if !attached.is_empty() {
        return Err(ApiError::conflict(format!(
            "Volume {id} is attached to {}; detach it first",
            attached.join(", ")
        )));
    }
    let delay = ctx.delay;
    ctx.get_mut(kind::VOLUME, &id)?
        .lc
        .transition(&["TERMINATING", "TERMINATED"], now, delay);
    let compartment = vol.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        "BlockstorageApi.DeleteVolume",
        &vol,
        "Volume deleted",
    );
    Ok(Reply::no_content())
}

/// GET /volumeBackups
pub(crate) fn list_volume_backups(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    super::list_in_compartment(
        ctx,
        req,
        kind::VOLUME_BACKUP,
        BACKUP_STATES,
        SORT_TIME_NAME,
        &[
            ("volumeId", "volumeId"),
            ("displayName", "displayName"),
            ("sourceVolumeBackupId", "sourceVolumeBackupId"),
        ],
    )
}

/// A volume backup body (also used by the seed).
pub(crate) fn backup_body(
    id: &str,
    volume: &Res,
    display: &str,
    backup_type: &str,
    source: &str,
    now: i64,
) -> Map<String, Value> {
    let size = volume
        .body
        .get("sizeInGBs")
        .and_then(Value::as_i64)
        .unwrap_or(50);
    let unique = if backup_type == "FULL" {
        (size * 2 / 5).max(1)
    } else {
        (size / 20).max(1)
    };
    let v = json!({
        "id": id,
        "compartmentId": volume.str("compartmentId"),
        "displayName": display,
        "volumeId": volume.id(),
        "type": backup_type,
        "sourceType": source,
        "sizeInGBs": size,
        "sizeInMBs": size * 1024,
        "uniqueSizeInGBs": unique,
        "uniqueSizeInMbs": unique * 1024,
        "timeCreated": time_value(now),
        "timeRequestReceived": time_value(now),
        "freeformTags": {},
        "definedTags": {},
    });
    v.as_object().cloned().unwrap_or_default()
}

/// POST /volumeBackups
pub(crate) fn create_volume_backup(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let volume_id = body.req_str("volumeId")?;
    let backup_type = body
        .opt_enum("type", &["FULL", "INCREMENTAL"])?
        .unwrap_or_else(|| "INCREMENTAL".into());
    let vol = ctx
        .st
        .get(kind::VOLUME, &volume_id)
        .ok_or_else(|| ApiError::not_found(format!("volume {volume_id}")))?
        .clone();
    if vol.state(ctx.now) != Some("AVAILABLE") {
        return Err(ApiError::incorrect_state(format!(
            "Volume {volume_id} is not AVAILABLE"
        )));
    }
    let id = ctx.st.new_ocid("volumebackup", true);
    let display = body.opt_str("displayName")?.unwrap_or_else(|| {
        format!(
            "{}-backup-{}",
            vol.str("displayName").unwrap_or("volume"),
            ctx.now / 1000
        )
    });
    let mut m = backup_body(&id, &vol, &display, &backup_type, "MANUAL", ctx.now);
    copy_tags(&body, &mut m)?;
    let res = Res::new(
        m,
        Lifecycle::path(
            &["REQUEST_RECEIVED", "CREATING", "AVAILABLE"],
            ctx.now,
            ctx.delay,
        ),
    );
    ctx.st.insert(kind::VOLUME_BACKUP, res.clone());
    let compartment = vol.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        "BlockstorageApi.CreateVolumeBackup",
        &res,
        &format!("{backup_type} backup of {volume_id} requested"),
    );
    Ok(res.reply(ctx.now))
}

/// GET /volumeBackups/{volumeBackupId}
pub(crate) fn get_volume_backup(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::VOLUME_BACKUP, req.path("volumeBackupId"))?
        .reply(ctx.now))
}
