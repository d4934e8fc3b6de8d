//! Storage and database checks: volumes nobody uses, old backups, stopped
//! Autonomous Databases, public buckets (CIS OCI 5.1.1).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::advisor::check::*;
use crate::advisor::model::{Category, FixStep, Severity};

pub(super) const VOLUMES: Read = Read::Call {
    tool: "listBlockVolumes",
    args: "{}",
};
const ATTACHMENTS: Read = Read::Call {
    tool: "listVolumeAttachments",
    args: "{}",
};
const BACKUPS: Read = Read::Call {
    tool: "listVolumeBackups",
    args: "{}",
};
pub(super) const ADBS: Read = Read::Call {
    tool: "listAutonomousDatabases",
    args: "{}",
};
pub(super) const BUCKETS: Read = Read::Call {
    tool: "listBuckets",
    args: "{}",
};
pub(super) const BUCKET: Read = Read::Each {
    list: "listBuckets",
    tool: "getBucket",
    arg: "bucketName",
    field: "name",
    extra: "{}",
};

/// Backups older than this are flagged.
const OLD_BACKUP_DAYS: i64 = 30;

/// The volumes attached (or attaching) to an instance.
fn attached<'a>(env: &Env<'a>) -> BTreeSet<&'a str> {
    env.list("listVolumeAttachments")
        .items
        .into_iter()
        .filter(|(_, a)| matches!(s(a, "lifecycleState"), "ATTACHED" | "ATTACHING"))
        .map(|(_, a)| s(a, "volumeId"))
        .collect()
}

fn unattached(env: &Env<'_>) -> Vec<Hit> {
    let attached = attached(env);
    let price = env.prices.storage_gb_month(StorageClass::Block);
    let l = env.list("listBlockVolumes");
    l.items
        .iter()
        .filter(|(_, v)| s(v, "lifecycleState") == "AVAILABLE" && !attached.contains(s(v, "id")))
        .map(|(n, v)| {
            let gb = v.get("sizeInGBs").and_then(Value::as_f64).unwrap_or(0.0);
            Hit {
                resource_id: s(v, "id").into(),
                resource_name: s(v, "displayName").into(),
                title: format!("{} ({gb} GB) is attached to nothing", s(v, "displayName")),
                evidence: item_evidence(&l, *n, "/id", &json!(s(v, "id"))),
                savings_cents: price.map(|p| cents(gb * p)),
                fix: vec![FixStep {
                    tool: "createVolumeBackup".into(),
                    args: json!({"volumeId": s(v, "id"), "type": "FULL", "displayName": format!("{}-final", s(v, "displayName"))}),
                }],
            }
        })
        .collect()
}

/// A volume in use with no backup at all. An unattached volume is
/// `storage.unattached-volume`'s finding (its plan takes the backup).
fn unprotected(env: &Env<'_>) -> Vec<Hit> {
    let backed: BTreeSet<&str> = env
        .list("listVolumeBackups")
        .items
        .iter()
        .filter(|(_, b)| matches!(s(b, "lifecycleState"), "AVAILABLE" | "CREATING"))
        .map(|(_, b)| s(b, "volumeId"))
        .collect();
    let attached = attached(env);
    let l = env.list("listBlockVolumes");
    l.items
        .iter()
        .filter(|(_, v)| s(v, "lifecycleState") == "AVAILABLE")
        .filter(|(_, v)| attached.contains(s(v, "id")) && !backed.contains(s(v, "id")))
        .map(|(n, v)| Hit {
            resource_id: s(v, "id").into(),
            resource_name: s(v, "displayName").into(),
            title: format!("{} is in use and has no backup", s(v, "displayName")),
            evidence: item_evidence(&l, *n, "/id", &json!(s(v, "id"))),
            savings_cents: None,
            fix: vec![FixStep {
                tool: "createVolumeBackup".into(),
                args: json!({"volumeId": s(v, "id"), "type": "FULL", "displayName": format!("{}-full", s(v, "displayName"))}),
            }],
        })
        .collect()
}

fn old_backups(env: &Env<'_>) -> Vec<Hit> {
    let price = env.prices.storage_gb_month(StorageClass::Object);
    let l = env.list("listVolumeBackups");
    l.items
        .iter()
        .filter(|(_, b)| s(b, "lifecycleState") == "AVAILABLE")
        .filter_map(|(n, b)| {
            let age = (env.now - time_ms(b, "timeCreated")?) / DAY_MS;
            if age <= OLD_BACKUP_DAYS {
                return None;
            }
            let gb = b.get("sizeInGBs").and_then(Value::as_f64).unwrap_or(0.0);
            Some(Hit {
                resource_id: s(b, "id").into(),
                resource_name: s(b, "displayName").into(),
                title: format!("{} is {age} days old", s(b, "displayName")),
                evidence: item_evidence(&l, *n, "/timeCreated", &b["timeCreated"]),
                savings_cents: price.map(|p| cents(gb * p)),
                fix: Vec::new(),
            })
        })
        .collect()
}

fn stopped_adb(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listAutonomousDatabases");
    l.items
        .iter()
        .filter(|(_, d)| s(d, "lifecycleState") == "STOPPED")
        .map(|(n, d)| Hit {
            resource_id: s(d, "id").into(),
            resource_name: s(d, "displayName").into(),
            title: format!(
                "{} is stopped but its {} TB of storage is still billed",
                s(d, "displayName"),
                d.get("dataStorageSizeInTBs")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            ),
            evidence: item_evidence(&l, *n, "/lifecycleState", &json!("STOPPED")),
            // The price list has no Autonomous Database storage rate.
            savings_cents: None,
            fix: vec![FixStep {
                tool: "terminateAutonomousDatabase".into(),
                args: json!({"autonomousDatabaseId": s(d, "id")}),
            }],
        })
        .collect()
}

fn public_buckets(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listBuckets");
    l.items
        .iter()
        .filter_map(|(_, b)| {
            let name = s(b, "name");
            let (args, got) = env.each(&BUCKET, name)?;
            let access = s(got, "publicAccessType");
            if access.is_empty() || access == "NoPublicAccess" {
                return None;
            }
            Some(Hit {
                resource_id: if s(got, "id").is_empty() {
                    name.into()
                } else {
                    s(got, "id").into()
                },
                resource_name: name.into(),
                title: format!("Bucket {name} is readable by anyone ({access})"),
                evidence: crate::advisor::model::Evidence {
                    tool: "getBucket".into(),
                    args_hash: args_hash(&args),
                    args,
                    path: "/publicAccessType".into(),
                    value: json!(access),
                },
                savings_cents: None,
                fix: Vec::new(),
            })
        })
        .collect()
}

/// A Standard-tier bucket that never moves cold objects to Infrequent
/// Access. Archive buckets have no tiers to move between: not a finding.
fn untiered(env: &Env<'_>) -> Vec<Hit> {
    detail_hits(
        env,
        &BUCKET,
        |_| true,
        |b, got| {
            let standard = matches!(s(got, "storageTier"), "" | "Standard");
            (standard && s(got, "autoTiering") != "InfrequentAccess").then(|| Fault {
                path: "/autoTiering".into(),
                value: got.get("autoTiering").cloned().unwrap_or(Value::Null),
                title: format!(
                    "Bucket {} keeps every object in the Standard tier",
                    s(b, "name")
                ),
            })
        },
    )
}

/// The storage and database checks.
pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "storage.unattached-volume",
        title: "Block volume attached to nothing",
        cis: None,
        category: Category::Cost,
        severity: Severity::Medium,
        reads: &[VOLUMES, ATTACHMENTS],
        fix_tools: &["createVolumeBackup"],
        remediation: "A volume attached to no instance is billed for nothing. Take a final backup (the plan does) and delete the volume, or attach it where it is needed.",
        predicate: unattached,
    },
    Check {
        id: "storage.volume-without-backup",
        title: "Block volume in use without any backup",
        cis: None,
        category: Category::Availability,
        severity: Severity::Medium,
        reads: &[VOLUMES, ATTACHMENTS, BACKUPS],
        fix_tools: &["createVolumeBackup"],
        remediation: "Take a full backup now (the plan does) and assign a backup policy (Bronze, Silver or Gold) so the volume keeps being backed up.",
        predicate: unprotected,
    },
    Check {
        id: "storage.old-backup",
        title: "Volume backup older than 30 days",
        cis: None,
        category: Category::Cost,
        severity: Severity::Low,
        reads: &[BACKUPS],
        fix_tools: &[],
        remediation: "Backups older than the retention you need only cost money. Set a backup policy with retention, and delete manual backups past it.",
        predicate: old_backups,
    },
    Check {
        id: "objectstorage.auto-tiering-disabled",
        title: "Bucket auto-tiering disabled",
        cis: None,
        category: Category::Cost,
        severity: Severity::Low,
        reads: &[BUCKETS, BUCKET],
        fix_tools: &[],
        remediation: "Enable auto-tiering (Bucket → Edit auto-tiering) so objects not read for 30 days move to Infrequent Access, which costs less per GB-month.",
        predicate: untiered,
    },
    Check {
        id: "database.stopped-autonomous-database",
        title: "Stopped Autonomous Database still paying for storage",
        cis: None,
        category: Category::Cost,
        severity: Severity::Low,
        reads: &[ADBS],
        fix_tools: &["terminateAutonomousDatabase"],
        remediation: "A stopped Autonomous Database bills no OCPUs but keeps billing its storage. Terminate it if it is not coming back (export what matters first).",
        predicate: stopped_adb,
    },
    Check {
        id: "objectstorage.public-bucket",
        title: "Public Object Storage bucket",
        cis: Some("5.1.1"),
        category: Category::Security,
        severity: Severity::High,
        reads: &[BUCKETS, BUCKET],
        fix_tools: &[],
        remediation: "Set the bucket's visibility to private (Bucket → Edit visibility) and serve public content through pre-authenticated requests or a CDN.",
        predicate: public_buckets,
    },
];
