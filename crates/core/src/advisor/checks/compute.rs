//! Compute checks: stopped instances still paying for storage, idle
//! instances, instance hardening (CIS OCI 3.1–3.3), old shapes.

use serde_json::{json, Value};

use crate::advisor::check::*;
use crate::advisor::model::{Category, FixStep, Severity};

const INSTANCES: Read = Read::Call {
    tool: "listInstances",
    args: "{}",
};

/// Hourly CPU maxima per compartment over 14 days (one series per instance).
pub(super) const CPU_14D: Read = Read::Each {
    list: "listCompartments",
    tool: "summarizeMetrics",
    arg: "compartmentId",
    field: "id",
    extra: r#"{"namespace":"oci_computeagent","query":"CpuUtilization[1d].max()","hours":336}"#,
};
const COMPARTMENTS: Read = Read::Call {
    tool: "listCompartments",
    args: "{}",
};

fn live(i: &Value) -> bool {
    matches!(
        s(i, "lifecycleState"),
        "RUNNING" | "STOPPED" | "STARTING" | "STOPPING"
    )
}

fn hit(
    env: &Env<'_>,
    field: &str,
    title: String,
    pick: impl Fn(&Value) -> Option<Value>,
) -> Vec<Hit> {
    let l = env.list("listInstances");
    l.items
        .iter()
        .filter(|(_, i)| live(i))
        .filter_map(|(n, i)| {
            let v = pick(i)?;
            Some(Hit {
                resource_id: s(i, "id").into(),
                resource_name: s(i, "displayName").into(),
                title: format!("{} {title}", s(i, "displayName")),
                evidence: item_evidence(&l, *n, field, &v),
                savings_cents: None,
                fix: Vec::new(),
            })
        })
        .collect()
}

fn not_true(v: Option<&Value>) -> Option<Value> {
    match v {
        Some(Value::Bool(true)) => None,
        Some(other) => Some(other.clone()),
        None => Some(Value::Null),
    }
}

fn stopped(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listInstances");
    let block = env.prices.storage_gb_month(StorageClass::Block);
    l.items
        .iter()
        .filter(|(_, i)| s(i, "lifecycleState") == "STOPPED")
        .map(|(n, i)| {
            let gb = i
                .pointer("/sourceDetails/bootVolumeSizeInGBs")
                .and_then(Value::as_f64);
            let id = s(i, "id");
            Hit {
                resource_id: id.into(),
                resource_name: s(i, "displayName").into(),
                title: format!(
                    "{} is stopped but its {} GB boot volume is still billed",
                    s(i, "displayName"),
                    gb.unwrap_or(0.0)
                ),
                evidence: item_evidence(&l, *n, "/lifecycleState", &json!("STOPPED")),
                savings_cents: gb.zip(block).map(|(gb, p)| cents(gb * p)),
                fix: vec![FixStep {
                    tool: "terminateInstance".into(),
                    args: json!({"instanceId": id, "preserveBootVolume": false}),
                }],
            }
        })
        .collect()
}

/// Every daily CPU maximum of the instance over 14 days, when there are 14.
fn daily_max(env: &Env<'_>, instance: &Value) -> Option<(Value, Vec<f64>, usize)> {
    let (args, res) = env.each(&CPU_14D, s(instance, "compartmentId"))?;
    let series = res.get("items")?.as_array()?;
    let (k, m) = series.iter().enumerate().find(|(_, m)| {
        m.pointer("/dimensions/resourceId").and_then(Value::as_str) == Some(s(instance, "id"))
    })?;
    let points: Vec<f64> = m
        .get("datapoints")?
        .as_array()?
        .iter()
        .filter_map(|p| p.get("value").and_then(Value::as_f64))
        .collect();
    Some((args, points, k))
}

/// Running for 14 days with every daily CPU maximum under 5 %: so the 95th
/// percentile is under 5 % too (conservative: a busy hour clears it).
fn idle(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listInstances");
    let mut out = Vec::new();
    for (_, i) in &l.items {
        let created = time_ms(i, "timeCreated").unwrap_or(env.now);
        if s(i, "lifecycleState") != "RUNNING" || env.now - created < 14 * DAY_MS {
            continue;
        }
        let Some((args, points, k)) = daily_max(env, i) else {
            continue;
        };
        let peak = points.iter().copied().fold(0.0_f64, f64::max);
        if points.len() < 14 || peak >= 5.0 {
            continue;
        }
        let ocpus = i.pointer("/shapeConfig/ocpus").and_then(Value::as_f64);
        let mem = i
            .pointer("/shapeConfig/memoryInGBs")
            .and_then(Value::as_f64);
        let hourly = ocpus
            .zip(mem)
            .and_then(|(o, m)| env.prices.compute_hourly(s(i, "shape"), o, m));
        let id = s(i, "id");
        out.push(Hit {
            resource_id: id.into(),
            resource_name: s(i, "displayName").into(),
            title: format!(
                "{} peaked at {peak:.1} % CPU over 14 days",
                s(i, "displayName")
            ),
            evidence: crate::advisor::model::Evidence {
                tool: "summarizeMetrics".into(),
                args_hash: args_hash(&args),
                args,
                path: format!("/items/{k}/datapoints"),
                value: json!(peak),
            },
            savings_cents: hourly.map(|h| cents(h * HOURS_PER_MONTH)),
            fix: vec![FixStep {
                tool: "stopInstance".into(),
                args: json!({"instanceId": id}),
            }],
        });
    }
    out
}

/// Shapes of earlier generations (Always Free micro shapes are not: they cost nothing).
fn old_shape(env: &Env<'_>) -> Vec<Hit> {
    hit(
        env,
        "/shape",
        "runs on a previous-generation shape".into(),
        |i| {
            let shape = s(i, "shape");
            let old = shape.starts_with("VM.Standard1.")
                || shape.starts_with("VM.Standard2.")
                || shape.starts_with("BM.Standard2.")
                || shape.starts_with("VM.Standard.E2.");
            (old && !shape.ends_with(".Micro")).then(|| json!(shape))
        },
    )
}

/// The compute checks.
pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "compute.stopped-instance",
        title: "Stopped instance still paying for its boot volume",
        cis: None,
        category: Category::Cost,
        severity: Severity::Medium,
        reads: &[INSTANCES],
        fix_tools: &["terminateInstance"],
        remediation: "A stopped instance bills no compute but its boot volume keeps costing. Terminate it if it is not coming back (take a backup first if its disk matters), or start it if it should be serving.",
        predicate: stopped,
    },
    Check {
        id: "compute.idle-instance",
        title: "Idle instance (CPU under 5 % for 14 days)",
        cis: None,
        category: Category::Cost,
        severity: Severity::Medium,
        reads: &[INSTANCES, COMPARTMENTS, CPU_14D],
        fix_tools: &["stopInstance"],
        remediation: "An instance whose CPU never passed 5 % in two weeks does no work worth its price. Stop it (or terminate it), or move its job to a smaller shape.",
        predicate: idle,
    },
    Check {
        id: "compute.legacy-imds",
        title: "Legacy instance metadata endpoint (IMDSv1) enabled",
        cis: Some("3.1"),
        category: Category::Security,
        severity: Severity::High,
        reads: &[INSTANCES],
        fix_tools: &[],
        remediation: "Disable the legacy v1 metadata endpoints (Instance → Edit → Instance metadata service: version 2 only) so a server-side request forgery cannot read instance credentials.",
        predicate: |env| {
            hit(env, "/instanceOptions/areLegacyImdsEndpointsDisabled", "still serves the legacy metadata endpoint".into(), |i| {
                not_true(i.pointer("/instanceOptions/areLegacyImdsEndpointsDisabled"))
            })
        },
    },
    Check {
        id: "compute.secure-boot",
        title: "Secure Boot disabled",
        cis: Some("3.2"),
        category: Category::Security,
        severity: Severity::Medium,
        reads: &[INSTANCES],
        fix_tools: &[],
        remediation: "Relaunch the instance as a Shielded Instance with Secure Boot enabled so only signed boot loaders and kernels run.",
        predicate: |env| {
            hit(env, "/platformConfig/isSecureBootEnabled", "boots without Secure Boot".into(), |i| {
                not_true(i.pointer("/platformConfig/isSecureBootEnabled"))
            })
        },
    },
    Check {
        id: "compute.in-transit-encryption",
        title: "In-transit encryption of boot and block volumes disabled",
        cis: Some("3.3"),
        category: Category::Security,
        severity: Severity::Medium,
        reads: &[INSTANCES],
        fix_tools: &[],
        remediation: "Enable in-transit encryption (paravirtualized attachments) so volume traffic between host and storage is encrypted.",
        predicate: |env| {
            hit(env, "/launchOptions/isPvEncryptionInTransitEnabled", "sends volume traffic unencrypted".into(), |i| {
                not_true(i.pointer("/launchOptions/isPvEncryptionInTransitEnabled"))
            })
        },
    },
    Check {
        id: "compute.previous-generation-shape",
        title: "Instance on a previous-generation shape",
        cis: None,
        category: Category::Performance,
        severity: Severity::Low,
        reads: &[INSTANCES],
        fix_tools: &[],
        remediation: "Move to a current Flex shape (E5, A1): more performance per OCPU for the same or less money, sized to what the workload needs.",
        predicate: old_shape,
    },
];
