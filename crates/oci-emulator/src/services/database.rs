//! Database: Autonomous Databases (create, start/stop, delete).

use serde_json::{json, Map, Value};

use super::{Ctx, SORT_TIME_NAME, TERMINAL_STATES};
use crate::lifecycle::Lifecycle;
use crate::state::{kind, Res};
use crate::wire::{self, check_if_match, copy_tags, time_value, ApiError, BodyExt, Reply, Req};

const ADB_STATES: &[&str] = &[
    "PROVISIONING",
    "AVAILABLE",
    "STOPPING",
    "STOPPED",
    "STARTING",
    "TERMINATING",
    "TERMINATED",
    "UNAVAILABLE",
    "RESTORE_IN_PROGRESS",
    "RESTORE_FAILED",
    "BACKUP_IN_PROGRESS",
    "SCALE_IN_PROGRESS",
    "AVAILABLE_NEEDS_ATTENTION",
    "UPDATING",
    "MAINTENANCE_IN_PROGRESS",
    "RESTARTING",
    "RECREATING",
    "ROLE_CHANGE_IN_PROGRESS",
    "UPGRADING",
    "INACCESSIBLE",
    "STANDBY",
    "TRANSPORTING",
];
const WORKLOADS: &[&str] = &["OLTP", "DW", "AJD", "APEX", "LH"];

/// GET /autonomousDatabases
pub(crate) fn list_autonomous_databases(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    req.query_enum("dbWorkload", WORKLOADS)?;
    req.query_enum("infrastructureType", &["CLOUD", "CLOUD_AT_CUSTOMER"])?;
    req.query_bool("isFreeTier")?;
    let not_equal = req
        .query_enum("lifecycleStateNotEqualTo", ADB_STATES)?
        .map(str::to_string);
    let show_terminal = req
        .query("lifecycleState")
        .is_some_and(|s| TERMINAL_STATES.contains(&s));
    let mut items = ctx.rendered(kind::AUTONOMOUS_DATABASE, show_terminal, |r| {
        r.str("compartmentId") == Some(compartment.as_str())
    });
    for (p, f) in [
        ("displayName", "displayName"),
        ("dbWorkload", "dbWorkload"),
        ("infrastructureType", "infrastructureType"),
        ("isFreeTier", "isFreeTier"),
        ("dbVersion", "dbVersion"),
    ] {
        wire::filter_eq(req, &mut items, p, f);
    }
    wire::filter_lifecycle(req, &mut items, ADB_STATES)?;
    if let Some(ne) = not_equal {
        items.retain(|v| v.get("lifecycleState").and_then(Value::as_str) != Some(ne.as_str()));
    }
    wire::sort_items(req, &mut items, SORT_TIME_NAME)?;
    wire::list_reply(req, items)
}

/// GET /autonomousDatabases/{id}
pub(crate) fn get_autonomous_database(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::AUTONOMOUS_DATABASE, req.path("autonomousDatabaseId"))?
        .reply(ctx.now))
}

fn check_password(pw: &str) -> Result<(), ApiError> {
    let ok = (12..=30).contains(&pw.len())
        && pw.chars().any(|c| c.is_ascii_uppercase())
        && pw.chars().any(|c| c.is_ascii_lowercase())
        && pw.chars().any(|c| c.is_ascii_digit())
        && !pw.contains('"')
        && !pw.to_ascii_lowercase().contains("admin");
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "adminPassword must be 12-30 characters with at least one upper-case letter, one lower-case letter and one digit, and must not contain `\"` or `admin`",
        ))
    }
}

/// An Autonomous Database body (also used by the seed).
#[allow(clippy::too_many_arguments)]
pub(crate) fn adb_body(
    id: &str,
    compartment: &str,
    db_name: &str,
    display: &str,
    workload: &str,
    ecpus: f64,
    storage_tb: i64,
    free_tier: bool,
    region: &str,
    now: i64,
) -> Map<String, Value> {
    let host = format!("adb.{region}.oraclecloud.com");
    let lower = db_name.to_ascii_lowercase();
    let slug = id
        .rsplit('.')
        .next()
        .unwrap_or("")
        .get(..12)
        .unwrap_or("")
        .to_ascii_uppercase();
    let tns = |level: &str| {
        format!(
            "(description=(retry_count=20)(retry_delay=3)(address=(protocol=tcps)(port=1522)(host={host}))(connect_data=(service_name=g{}_{lower}_{level}.adb.oraclecloud.com))(security=(ssl_server_dn_match=yes)))",
            slug.to_ascii_lowercase()
        )
    };
    let apex = format!("https://{slug}-{lower}.adb.{region}.oraclecloudapps.com");
    let connection_strings = json!({
        "high": tns("high"),
        "medium": tns("medium"),
        "low": tns("low"),
        "allConnectionStrings": {"HIGH": tns("high"), "MEDIUM": tns("medium"), "LOW": tns("low")},
    });
    let mongo = format!(
        "mongodb://[user:password@]{slug}-{lower}.adb.{region}.oraclecloudapps.com:27017/[user]?authMechanism=PLAIN&authSource=$external&ssl=true&retryWrites=false&loadBalanced=true"
    );
    let connection_urls = json!({
        "sqlDevWebUrl": format!("{apex}/ords/sql-developer"),
        "apexUrl": format!("{apex}/ords/apex"),
        "ordsUrl": format!("{apex}/ords/"),
        "graphStudioUrl": format!("{apex}/graphstudio/"),
        "machineLearningUserManagementUrl": format!("{apex}/omlusers/"),
        "mongoDbUrl": mongo,
    });
    let mut v = json!({
        "id": id,
        "compartmentId": compartment,
        "dbName": db_name,
        "displayName": display,
        "dbWorkload": workload,
        "computeModel": "ECPU",
        "computeCount": ecpus,
        "dataStorageSizeInTBs": storage_tb,
        "dataStorageSizeInGBs": storage_tb * 1024,
        "usedDataStorageSizeInTBs": 0,
        "isFreeTier": free_tier,
        "licenseModel": "LICENSE_INCLUDED",
        "dbVersion": "19c",
        "characterSet": "AL32UTF8",
        "ncharacterSet": "AL16UTF16",
        "isDedicated": false,
        "isAutoScalingEnabled": false,
        "isAutoScalingForStorageEnabled": false,
        "infrastructureType": "CLOUD",
        "backupRetentionPeriodInDays": 60,
        "openMode": "READ_WRITE",
        "permissionLevel": "UNRESTRICTED",
        "isMtlsConnectionRequired": true,
        "whitelistedIps": [],
    });
    let extra = json!({
        "isDataGuardEnabled": false,
        "isLocalDataGuardEnabled": false,
        "isRemoteDataGuardEnabled": false,
        "isRefreshableClone": false,
        "isPreview": false,
        "dataSafeStatus": "NOT_REGISTERED",
        "operationsInsightsStatus": "NOT_ENABLED",
        "databaseManagementStatus": "NOT_ENABLED",
        "serviceConsoleUrl": format!("{apex}/console/index.html"),
        "connectionStrings": connection_strings,
        "connectionUrls": connection_urls,
        "timeCreated": time_value(now),
        "freeformTags": {},
        "definedTags": {},
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v.as_object().cloned().unwrap_or_default()
}

/// POST /autonomousDatabases
pub(crate) fn create_autonomous_database(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let source = body.opt_str("source")?.unwrap_or_else(|| "NONE".into());
    if source != "NONE" {
        return Err(ApiError::invalid(format!(
            "source `{source}` is not supported by the emulator; only NONE (a new database) is"
        )));
    }
    let compartment = body.req_str("compartmentId")?;
    let db_name = body.req_str("dbName")?;
    ctx.require_compartment(&compartment)?;
    if db_name.len() > 30
        || !db_name.starts_with(|c: char| c.is_ascii_alphabetic())
        || !db_name.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(ApiError::invalid(format!(
            "dbName `{db_name}` must start with a letter and contain at most 30 letters and digits"
        )));
    }
    let password = body.req_str("adminPassword")?;
    check_password(&password)?;
    let workload = body
        .opt_enum("dbWorkload", WORKLOADS)?
        .unwrap_or_else(|| "OLTP".into());
    let free_tier = body.opt_bool("isFreeTier")?.unwrap_or(false);
    let ecpus = match (
        body.opt_f64("computeCount")?,
        body.opt_i64("cpuCoreCount")?,
        body.opt_f64("ocpuCount")?,
    ) {
        (Some(c), _, _) => c,
        (None, Some(c), _) => c as f64 * 4.0,
        (None, None, Some(o)) => o * 4.0,
        (None, None, None) => 2.0,
    };
    if !free_tier && !(2.0..=512.0).contains(&ecpus) {
        return Err(ApiError::invalid(format!(
            "computeCount must be between 2 and 512 ECPUs, got {ecpus}"
        )));
    }
    let storage_tb = match (
        body.opt_i64("dataStorageSizeInTBs")?,
        body.opt_i64("dataStorageSizeInGBs")?,
    ) {
        (Some(tb), _) => tb,
        (None, Some(gb)) => gb.saturating_add(1023) / 1024,
        (None, None) => 1,
    };
    if !(1..=384).contains(&storage_tb) {
        return Err(ApiError::invalid(format!(
            "dataStorageSizeInTBs must be between 1 and 384, got {storage_tb}"
        )));
    }
    let now = ctx.now;
    if ctx.st.all(kind::AUTONOMOUS_DATABASE).any(|a| {
        a.str("dbName")
            .is_some_and(|n| n.eq_ignore_ascii_case(&db_name))
            && a.state(now) != Some("TERMINATED")
    }) {
        return Err(ApiError::conflict(format!(
            "An Autonomous Database named {db_name} already exists in this tenancy"
        )));
    }
    super::limits::check_adb_limit(ctx, &workload, ecpus, free_tier)?;
    let display = body
        .opt_str("displayName")?
        .unwrap_or_else(|| db_name.clone());
    let id = ctx.st.new_ocid("autonomousdatabase", true);
    let region = ctx.region();
    let mut m = adb_body(
        &id,
        &compartment,
        &db_name,
        &display,
        &workload,
        ecpus,
        storage_tb,
        free_tier,
        &region,
        now,
    );
    if free_tier {
        m.insert("computeCount".into(), json!(2.0));
    }
    for f in ["licenseModel", "dbVersion"] {
        if let Some(v) = body.opt_str(f)? {
            m.insert(f.into(), json!(v));
        }
    }
    for f in [
        "isAutoScalingEnabled",
        "isAutoScalingForStorageEnabled",
        "isMtlsConnectionRequired",
    ] {
        if let Some(v) = body.opt_bool(f)? {
            m.insert(f.into(), json!(v));
        }
    }
    if let Some(ips) = body.opt_arr("whitelistedIps")? {
        m.insert("whitelistedIps".into(), Value::Array(ips.clone()));
    }
    copy_tags(&body, &mut m)?;
    let res = Res::new(
        m,
        Lifecycle::path(&["PROVISIONING", "AVAILABLE"], now, ctx.delay),
    );
    if req
        .header("opc-dry-run")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return Ok(res.reply(now));
    }
    ctx.st.insert(kind::AUTONOMOUS_DATABASE, res.clone());
    ctx.audit(
        &compartment,
        "DatabaseApi.CreateAutonomousDatabase",
        &res,
        &format!("Autonomous Database {display} ({workload}) created"),
    );
    Ok(res.reply(now))
}

fn adb_transition(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
    action: &str,
    from: &str,
    idempotent: &[&str],
    path: &[&str],
) -> Result<Reply, ApiError> {
    let id = req.path("autonomousDatabaseId").to_string();
    let now = ctx.now;
    let delay = ctx.delay;
    let adb = ctx.get(kind::AUTONOMOUS_DATABASE, &id)?;
    check_if_match(req.headers, &adb.render(now))?;
    let state = adb.state(now).unwrap_or("").to_string();
    if idempotent.contains(&state.as_str()) {
        return Ok(adb.reply(now));
    }
    if state != from {
        return Err(ApiError::incorrect_state(format!(
            "Autonomous Database {id} is {state}; {action} requires {from}"
        )));
    }
    let res = {
        let adb = ctx.get_mut(kind::AUTONOMOUS_DATABASE, &id)?;
        adb.lc.transition(path, now, delay);
        adb.clone()
    };
    let compartment = res.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        &format!("DatabaseApi.{action}AutonomousDatabase"),
        &res,
        &format!("{action} requested"),
    );
    Ok(res.reply(now))
}

/// POST /autonomousDatabases/{id}/actions/start
pub(crate) fn start_autonomous_database(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    adb_transition(
        ctx,
        req,
        "Start",
        "STOPPED",
        &["AVAILABLE", "STARTING"],
        &["STARTING", "AVAILABLE"],
    )
}

/// POST /autonomousDatabases/{id}/actions/stop
pub(crate) fn stop_autonomous_database(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    req.json_or_empty()?.opt_bool("isForceStop")?;
    adb_transition(
        ctx,
        req,
        "Stop",
        "AVAILABLE",
        &["STOPPED", "STOPPING"],
        &["STOPPING", "STOPPED"],
    )
}

/// DELETE /autonomousDatabases/{id}
pub(crate) fn delete_autonomous_database(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let id = req.path("autonomousDatabaseId").to_string();
    let now = ctx.now;
    let delay = ctx.delay;
    let adb = ctx.get(kind::AUTONOMOUS_DATABASE, &id)?;
    check_if_match(req.headers, &adb.render(now))?;
    match adb.state(now) {
        Some("TERMINATING" | "TERMINATED") => return Ok(Reply::no_content()),
        Some("AVAILABLE" | "STOPPED" | "UNAVAILABLE" | "AVAILABLE_NEEDS_ATTENTION") => {}
        other => {
            return Err(ApiError::incorrect_state(format!(
                "Autonomous Database {id} is {}; wait until the current operation finishes",
                other.unwrap_or("")
            )))
        }
    }
    if req
        .header("opc-dry-run")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return Ok(Reply::no_content());
    }
    let res = {
        let adb = ctx.get_mut(kind::AUTONOMOUS_DATABASE, &id)?;
        adb.lc
            .transition(&["TERMINATING", "TERMINATED"], now, delay);
        adb.clone()
    };
    let compartment = res.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        "DatabaseApi.DeleteAutonomousDatabase",
        &res,
        "Autonomous Database terminated",
    );
    Ok(Reply::no_content())
}
