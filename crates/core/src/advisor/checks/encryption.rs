//! Data protection checks of CIS OCI section 5: buckets and volumes
//! encrypted with a customer-managed key (5.1.2, 5.2.1, 5.2.2) and bucket
//! versioning (5.1.3). They read each resource in detail (the lists do not
//! carry the key or the versioning state).

use serde_json::Value;

use super::storage::{BUCKET, BUCKETS, VOLUMES};
use crate::advisor::check::*;
use crate::advisor::model::{Category, Severity};

const VOLUME: Read = Read::Each {
    list: "listBlockVolumes",
    tool: "getBlockVolume",
    arg: "volumeId",
    field: "id",
    extra: "{}",
};
const BOOT_VOLUMES: Read = Read::Call {
    tool: "listBootVolumes",
    args: "{}",
};
const BOOT_VOLUME: Read = Read::Each {
    list: "listBootVolumes",
    tool: "getBootVolume",
    arg: "bootVolumeId",
    field: "id",
    extra: "{}",
};

/// A resource encrypted with Oracle's key: no `kmsKeyId` in its detail.
fn no_cmk(what: &'static str) -> impl Fn(&Value, &Value) -> Option<Fault> {
    move |item, got| {
        let key = got.get("kmsKeyId").filter(|k| !k.is_null());
        if key.and_then(Value::as_str).is_some_and(|k| !k.is_empty()) {
            return None;
        }
        let name = if s(item, "displayName").is_empty() {
            s(item, "name")
        } else {
            s(item, "displayName")
        };
        Some(Fault {
            path: "/kmsKeyId".into(),
            value: key.cloned().unwrap_or(Value::Null),
            title: format!("{what} {name} is encrypted with an Oracle-managed key"),
        })
    }
}

/// Volumes that exist (not being created or already gone).
fn available(v: &Value) -> bool {
    s(v, "lifecycleState") == "AVAILABLE"
}

fn unversioned(env: &Env<'_>) -> Vec<Hit> {
    detail_hits(
        env,
        &BUCKET,
        |_| true,
        |b, got| {
            let v = s(got, "versioning");
            (v != "Enabled").then(|| Fault {
                path: "/versioning".into(),
                value: got.get("versioning").cloned().unwrap_or(Value::Null),
                title: format!(
                    "Bucket {} keeps no object versions ({})",
                    s(b, "name"),
                    if v.is_empty() { "unset" } else { v }
                ),
            })
        },
    )
}

/// The encryption and versioning checks.
pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "objectstorage.bucket-without-cmk",
        title: "Bucket not encrypted with a customer-managed key",
        cis: Some("5.1.2"),
        category: Category::Security,
        severity: Severity::Low,
        reads: &[BUCKETS, BUCKET],
        fix_tools: &[],
        remediation: "Assign a Vault master encryption key to the bucket (Bucket → Encryption key → Assign) so you control the key's rotation and revocation.",
        predicate: |env| detail_hits(env, &BUCKET, |_| true, no_cmk("Bucket")),
    },
    Check {
        id: "objectstorage.versioning-disabled",
        title: "Bucket versioning disabled",
        cis: Some("5.1.3"),
        category: Category::Availability,
        severity: Severity::Medium,
        reads: &[BUCKETS, BUCKET],
        fix_tools: &[],
        remediation: "Enable versioning on the bucket (Bucket → Edit versioning) so an overwritten or deleted object can be recovered; add a lifecycle rule to expire old versions.",
        predicate: unversioned,
    },
    Check {
        id: "storage.block-volume-without-cmk",
        title: "Block volume not encrypted with a customer-managed key",
        cis: Some("5.2.1"),
        category: Category::Security,
        severity: Severity::Low,
        reads: &[VOLUMES, VOLUME],
        fix_tools: &[],
        remediation: "Assign a Vault master encryption key to the volume (Block volume → Encryption key → Assign).",
        predicate: |env| detail_hits(env, &VOLUME, available, no_cmk("Volume")),
    },
    Check {
        id: "storage.boot-volume-without-cmk",
        title: "Boot volume not encrypted with a customer-managed key",
        cis: Some("5.2.2"),
        category: Category::Security,
        severity: Severity::Low,
        reads: &[BOOT_VOLUMES, BOOT_VOLUME],
        fix_tools: &[],
        remediation: "Assign a Vault master encryption key to the boot volume (Boot volume → Encryption key → Assign).",
        predicate: |env| detail_hits(env, &BOOT_VOLUME, available, no_cmk("Boot volume")),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_customer_key_passes_and_its_absence_is_the_finding() {
        let f = no_cmk("Volume");
        let item = json!({"displayName": "v"});
        assert!(f(&item, &json!({"kmsKeyId": "ocid1.key.oc1..k"})).is_none());
        let hit = f(&item, &json!({})).map(|f| f.value);
        assert_eq!(hit, Some(Value::Null));
        assert!(f(&item, &json!({"kmsKeyId": ""})).is_some());
    }
}
