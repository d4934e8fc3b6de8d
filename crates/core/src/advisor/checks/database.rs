//! Autonomous Database checks over each database's detail: network access
//! (CIS OCI 2.8), auto-scaling, a standby.

use serde_json::{json, Value};

use super::storage::ADBS;
use crate::advisor::check::*;
use crate::advisor::model::{Category, Severity};

const ADB: Read = Read::Each {
    list: "listAutonomousDatabases",
    tool: "getAutonomousDatabase",
    arg: "autonomousDatabaseId",
    field: "id",
    extra: "{}",
};

/// Databases that exist (stopped ones still hold data and an endpoint).
fn live(d: &Value) -> bool {
    matches!(
        s(d, "lifecycleState"),
        "AVAILABLE" | "STOPPED" | "STARTING" | "STOPPING" | "SCALE_IN_PROGRESS" | "UPDATING"
    )
}

/// Serving now: the checks about running behaviour skip stopped databases.
fn serving(d: &Value) -> bool {
    s(d, "lifecycleState") == "AVAILABLE"
}

fn is_true(v: &Value, field: &str) -> bool {
    v.get(field).and_then(Value::as_bool) == Some(true)
}

/// Reachable from any address: no private endpoint (subnet) and an empty
/// access control list.
fn unrestricted(d: &Value, got: &Value) -> Option<Fault> {
    if !s(got, "subnetId").is_empty() || !s(got, "privateEndpoint").is_empty() {
        return None;
    }
    let acl = got.get("whitelistedIps").and_then(Value::as_array);
    if acl.is_some_and(|a| !a.is_empty()) {
        return None;
    }
    Some(Fault {
        path: "/whitelistedIps".into(),
        value: got.get("whitelistedIps").cloned().unwrap_or(Value::Null),
        title: format!(
            "{} accepts connections from any IP address",
            s(d, "displayName")
        ),
    })
}

/// Always Free databases cannot auto-scale: a known false positive.
fn fixed_size(d: &Value, got: &Value) -> Option<Fault> {
    if is_true(got, "isFreeTier") || is_true(got, "isAutoScalingEnabled") {
        return None;
    }
    Some(Fault {
        path: "/isAutoScalingEnabled".into(),
        value: got
            .get("isAutoScalingEnabled")
            .cloned()
            .unwrap_or(json!(null)),
        title: format!(
            "{} cannot scale past its {} ECPUs under load",
            s(d, "displayName"),
            got.get("computeCount")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
        ),
    })
}

/// No local or remote standby. Always Free databases cannot have one.
fn no_standby(d: &Value, got: &Value) -> Option<Fault> {
    let guarded = [
        "isDataGuardEnabled",
        "isLocalDataGuardEnabled",
        "isRemoteDataGuardEnabled",
    ]
    .iter()
    .any(|f| is_true(got, f));
    if guarded || is_true(got, "isFreeTier") {
        return None;
    }
    Some(Fault {
        path: "/isLocalDataGuardEnabled".into(),
        value: got
            .get("isLocalDataGuardEnabled")
            .cloned()
            .unwrap_or(json!(null)),
        title: format!("{} has no standby database", s(d, "displayName")),
    })
}

/// The Autonomous Database checks.
pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "database.adb-unrestricted-access",
        title: "Autonomous Database reachable from any IP address",
        cis: Some("2.8"),
        category: Category::Security,
        severity: Severity::High,
        reads: &[ADBS, ADB],
        fix_tools: &[],
        remediation: "Restrict the database to allowed sources (an access control list of addresses or VCNs) or move it to a private endpoint in a VCN subnet.",
        predicate: |env| detail_hits(env, &ADB, live, unrestricted),
    },
    Check {
        id: "database.adb-auto-scaling-disabled",
        title: "Autonomous Database auto-scaling disabled",
        cis: None,
        category: Category::Performance,
        severity: Severity::Low,
        reads: &[ADBS, ADB],
        fix_tools: &[],
        remediation: "Enable compute auto-scaling so the database can use up to three times its base ECPUs under load (billed only while used).",
        predicate: |env| detail_hits(env, &ADB, serving, fixed_size),
    },
    Check {
        id: "database.adb-without-standby",
        title: "Autonomous Database without a standby (Data Guard)",
        cis: None,
        category: Category::Availability,
        severity: Severity::Medium,
        reads: &[ADBS, ADB],
        fix_tools: &[],
        remediation: "Enable Autonomous Data Guard (a local standby in another availability domain, or a cross-region one) so an outage or corruption fails over instead of waiting for a restore.",
        predicate: |env| detail_hits(env, &ADB, serving, no_standby),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_is_restricted_by_a_private_endpoint_or_an_access_list() {
        let d = json!({"displayName": "db"});
        assert!(unrestricted(&d, &json!({"whitelistedIps": []})).is_some());
        assert!(unrestricted(&d, &json!({})).is_some());
        assert!(unrestricted(&d, &json!({"whitelistedIps": ["10.0.0.0/16"]})).is_none());
        assert!(unrestricted(&d, &json!({"subnetId": "ocid1.subnet.oc1..s"})).is_none());
    }

    #[test]
    fn always_free_databases_are_not_asked_to_scale_or_to_keep_a_standby() {
        let d = json!({"displayName": "db"});
        let free = json!({"isFreeTier": true, "isAutoScalingEnabled": false});
        assert!(fixed_size(&d, &free).is_none());
        assert!(no_standby(&d, &free).is_none());
        let paid = json!({"isFreeTier": false, "isAutoScalingEnabled": false});
        assert!(fixed_size(&d, &paid).is_some());
        assert!(no_standby(&d, &paid).is_some());
        assert!(no_standby(&d, &json!({"isLocalDataGuardEnabled": true})).is_none());
    }
}
