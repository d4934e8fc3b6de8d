//! A tenancy with nothing wrong: every check stays quiet over it, and each
//! single fault put into it is found by its check (so the quiet is not an
//! artefact of a fixture the checks never read).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::CHECKS;
use crate::advisor::check::*;

struct NoPrices;

impl Prices for NoPrices {
    fn compute_hourly(&self, _: &str, _: f64, _: f64) -> Option<f64> {
        None
    }
    fn storage_gb_month(&self, _: StorageClass) -> Option<f64> {
        None
    }
}

const NOW: i64 = 1_800_000_000_000;

fn at(days_ago: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp((NOW - days_ago * DAY_MS) / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// List reads by tool, and per-item reads by tool and key.
struct Tenancy {
    lists: BTreeMap<&'static str, Value>,
    details: BTreeMap<(&'static str, &'static str), Value>,
}

fn clean() -> Tenancy {
    let items = |v: Value| json!({ "items": v });
    let lists = BTreeMap::from([
        (
            "listInstances",
            items(json!([{
                "id": "i1", "displayName": "web", "lifecycleState": "RUNNING", "shape": "VM.Standard.E5.Flex",
                "compartmentId": "c1", "timeCreated": at(30), "faultDomain": "FAULT-DOMAIN-1",
                "shapeConfig": {"ocpus": 1.0, "memoryInGBs": 8.0},
                "launchOptions": {"isPvEncryptionInTransitEnabled": true},
                "instanceOptions": {"areLegacyImdsEndpointsDisabled": true},
                "platformConfig": {"isSecureBootEnabled": true},
            }])),
        ),
        (
            "listCompartments",
            items(json!([{"id": "c1", "name": "Production"}])),
        ),
        (
            "listBlockVolumes",
            items(
                json!([{"id": "v1", "displayName": "data", "sizeInGBs": 50, "lifecycleState": "AVAILABLE"}]),
            ),
        ),
        (
            "listVolumeAttachments",
            items(json!([{"volumeId": "v1", "instanceId": "i1", "lifecycleState": "ATTACHED"}])),
        ),
        (
            "listVolumeBackups",
            items(
                json!([{"id": "vb1", "displayName": "data-daily", "volumeId": "v1", "sizeInGBs": 50, "lifecycleState": "AVAILABLE", "timeCreated": at(1)}]),
            ),
        ),
        (
            "listBootVolumes",
            items(
                json!([{"id": "bv1", "displayName": "web (Boot Volume)", "lifecycleState": "AVAILABLE"}]),
            ),
        ),
        (
            "listAutonomousDatabases",
            items(json!([{"id": "d1", "displayName": "db", "lifecycleState": "AVAILABLE"}])),
        ),
        ("listBuckets", items(json!([{"name": "assets"}]))),
        (
            "listSecurityLists",
            items(json!([
                {"id": "sl1", "displayName": "Default Security List for vcn", "ingressSecurityRules": [
                    {"protocol": "1", "source": "10.0.0.0/16", "icmpOptions": {"type": 3}}]},
                {"id": "sl2", "displayName": "web", "ingressSecurityRules": [
                    {"protocol": "6", "source": "0.0.0.0/0", "tcpOptions": {"destinationPortRange": {"min": 443, "max": 443}}}]},
            ])),
        ),
        (
            "listLoadBalancers",
            items(json!([{"id": "lb1", "displayName": "lb", "lifecycleState": "ACTIVE"}])),
        ),
        (
            "listUsers",
            items(
                json!([{"id": "u1", "name": "alice", "email": "alice@example.com", "lifecycleState": "ACTIVE", "isMfaActivated": true}]),
            ),
        ),
        (
            "listPolicies",
            items(
                json!([{"id": "p1", "name": "admins", "statements": ["Allow group Administrators to manage all-resources in tenancy"]}]),
            ),
        ),
        (
            "listContainerRepos",
            items(json!([{"id": "r1", "displayName": "shop/web", "isPublic": false}])),
        ),
        (
            "listContainerImages",
            items(json!([{"id": "img1", "version": "1.0.0", "lifecycleState": "AVAILABLE"}])),
        ),
        (
            "getAlarmStatus",
            items(json!([{"id": "a1", "displayName": "cpu", "status": "OK"}])),
        ),
    ]);
    let busy: Vec<Value> = (0..14).map(|_| json!({"value": 40.0})).collect();
    let details = BTreeMap::from([
        (
            ("summarizeMetrics", "c1"),
            items(json!([{"dimensions": {"resourceId": "i1"}, "datapoints": busy}])),
        ),
        (
            ("getBlockVolume", "v1"),
            json!({"id": "v1", "kmsKeyId": "ocid1.key.oc1..k"}),
        ),
        (
            ("getBootVolume", "bv1"),
            json!({"id": "bv1", "kmsKeyId": "ocid1.key.oc1..k"}),
        ),
        (
            ("getAutonomousDatabase", "d1"),
            json!({"id": "d1", "subnetId": "ocid1.subnet.oc1..s", "whitelistedIps": [],
            "isAutoScalingEnabled": true, "isLocalDataGuardEnabled": true, "computeCount": 2}),
        ),
        (
            ("getBucket", "assets"),
            json!({"id": "bk1", "name": "assets", "publicAccessType": "NoPublicAccess",
            "kmsKeyId": "ocid1.key.oc1..k", "versioning": "Enabled", "storageTier": "Standard", "autoTiering": "InfrequentAccess"}),
        ),
        (
            ("getLoadBalancer", "lb1"),
            json!({"id": "lb1", "isPrivate": false, "isDeleteProtectionEnabled": true,
            "listeners": {"https": {"name": "https", "protocol": "HTTP", "port": 443, "sslConfiguration": {"certificateName": "shop"}}}}),
        ),
    ]);
    Tenancy { lists, details }
}

/// What every check reads, filled from the tenancy the way a scan fills it.
fn inputs(t: &Tenancy) -> Inputs {
    let mut inputs = Inputs::default();
    for c in CHECKS.iter() {
        for r in c.reads {
            match r {
                Read::Call { tool, args } => {
                    let got = t
                        .lists
                        .get(tool)
                        .unwrap_or_else(|| panic!("fixture lacks {tool}"));
                    inputs.put(tool, &Value::Object(fixed_args(args)), got.clone());
                }
                Read::Each {
                    list,
                    tool,
                    arg,
                    field,
                    extra,
                } => {
                    let items = t.lists[list]["items"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    for item in items {
                        let key = s(&item, field).to_string();
                        let got = t
                            .details
                            .get(&(*tool, key.as_str()))
                            .unwrap_or_else(|| panic!("fixture lacks {tool} {key}"));
                        let mut a = fixed_args(extra);
                        a.insert((*arg).to_string(), Value::from(key.clone()));
                        inputs.put(tool, &Value::Object(a), got.clone());
                    }
                }
            }
        }
    }
    inputs
}

/// The ids of the checks that find something.
fn failing(t: &Tenancy) -> Vec<&'static str> {
    let inputs = inputs(t);
    let env = Env {
        inputs: &inputs,
        prices: &NoPrices,
        now: NOW,
    };
    CHECKS
        .iter()
        .filter(|c| !(c.predicate)(&env).is_empty())
        .map(|c| c.id)
        .collect()
}

#[test]
fn a_clean_tenancy_produces_no_findings() {
    assert_eq!(CHECKS.len(), 30);
    assert_eq!(failing(&clean()), Vec::<&str>::new());
}

#[test]
fn each_fault_in_the_clean_tenancy_is_found_by_its_check() {
    type Fault = fn(&mut Tenancy);
    let faults: &[(&str, Fault)] = &[
        ("objectstorage.bucket-without-cmk", |t| {
            t.details.get_mut(&("getBucket", "assets")).unwrap()["kmsKeyId"] = Value::Null
        }),
        ("objectstorage.versioning-disabled", |t| {
            t.details.get_mut(&("getBucket", "assets")).unwrap()["versioning"] = json!("Disabled")
        }),
        ("objectstorage.auto-tiering-disabled", |t| {
            t.details.get_mut(&("getBucket", "assets")).unwrap()["autoTiering"] = json!("Disabled")
        }),
        ("objectstorage.public-bucket", |t| {
            t.details.get_mut(&("getBucket", "assets")).unwrap()["publicAccessType"] =
                json!("ObjectRead")
        }),
        ("storage.block-volume-without-cmk", |t| {
            t.details
                .insert(("getBlockVolume", "v1"), json!({"id": "v1"}));
        }),
        ("storage.boot-volume-without-cmk", |t| {
            t.details
                .insert(("getBootVolume", "bv1"), json!({"id": "bv1"}));
        }),
        ("storage.volume-without-backup", |t| {
            t.lists.insert("listVolumeBackups", json!({"items": []}));
        }),
        ("database.adb-unrestricted-access", |t| {
            t.details.get_mut(&("getAutonomousDatabase", "d1")).unwrap()["subnetId"] = Value::Null
        }),
        ("database.adb-auto-scaling-disabled", |t| {
            t.details.get_mut(&("getAutonomousDatabase", "d1")).unwrap()["isAutoScalingEnabled"] =
                json!(false)
        }),
        ("database.adb-without-standby", |t| {
            t.details.get_mut(&("getAutonomousDatabase", "d1")).unwrap()
                ["isLocalDataGuardEnabled"] = json!(false)
        }),
        ("loadbalancer.plain-http-listener", |t| {
            t.details.get_mut(&("getLoadBalancer", "lb1")).unwrap()["listeners"]["https"]
                ["sslConfiguration"] = Value::Null
        }),
        ("loadbalancer.delete-protection-disabled", |t| {
            t.details.get_mut(&("getLoadBalancer", "lb1")).unwrap()["isDeleteProtectionEnabled"] =
                json!(false)
        }),
        ("network.default-security-list-open", |t| {
            t.lists.get_mut("listSecurityLists").unwrap()["items"][0]["ingressSecurityRules"][0]
                ["protocol"] = json!("6")
        }),
        ("iam.user-without-email", |t| {
            t.lists.get_mut("listUsers").unwrap()["items"][0]["email"] = Value::Null
        }),
        ("iam.user-without-mfa", |t| {
            t.lists.get_mut("listUsers").unwrap()["items"][0]["isMfaActivated"] = json!(false)
        }),
        ("compute.legacy-imds", |t| {
            t.lists.get_mut("listInstances").unwrap()["items"][0]["instanceOptions"] = json!({})
        }),
        ("compute.idle-instance", |t| {
            let quiet: Vec<Value> = (0..14).map(|_| json!({"value": 1.0})).collect();
            t.details.get_mut(&("summarizeMetrics", "c1")).unwrap()["items"][0]["datapoints"] =
                json!(quiet);
        }),
    ];
    for (check, fault) in faults {
        let mut t = clean();
        fault(&mut t);
        assert_eq!(failing(&t), vec![*check], "a fault for {check}");
    }
}

#[test]
fn archive_buckets_are_not_asked_to_tier() {
    let mut t = clean();
    let b = t.details.get_mut(&("getBucket", "assets")).unwrap();
    b["storageTier"] = json!("Archive");
    b["autoTiering"] = json!("Disabled");
    assert_eq!(failing(&t), Vec::<&str>::new());
}
