//! Container registry and monitoring checks.

use serde_json::{json, Value};

use crate::advisor::check::*;
use crate::advisor::model::{Category, Severity};

const REPOS: Read = Read::Call {
    tool: "listContainerRepos",
    args: "{}",
};
const IMAGES: Read = Read::Call {
    tool: "listContainerImages",
    args: "{}",
};
const ALARMS: Read = Read::Call {
    tool: "getAlarmStatus",
    args: "{}",
};

fn public_repos(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listContainerRepos");
    l.items
        .iter()
        .filter(|(_, r)| r.get("isPublic").and_then(Value::as_bool) == Some(true))
        .map(|(n, r)| Hit {
            resource_id: s(r, "id").into(),
            resource_name: s(r, "displayName").into(),
            title: format!("Container repository {} is public", s(r, "displayName")),
            evidence: item_evidence(&l, *n, "/isPublic", &json!(true)),
            savings_cents: None,
            fix: Vec::new(),
        })
        .collect()
}

fn untagged(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listContainerImages");
    l.items
        .iter()
        .filter(|(_, i)| s(i, "lifecycleState") != "DELETED")
        .filter(|(_, i)| i.get("version").is_none_or(Value::is_null))
        .map(|(n, i)| Hit {
            resource_id: s(i, "id").into(),
            resource_name: s(i, "displayName").into(),
            title: format!(
                "Untagged image {} in {}",
                s(i, "digest").get(..19).unwrap_or(s(i, "digest")),
                s(i, "repositoryName")
            ),
            evidence: item_evidence(&l, *n, "/version", &Value::Null),
            savings_cents: None,
            fix: Vec::new(),
        })
        .collect()
}

fn firing(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("getAlarmStatus");
    l.items
        .iter()
        .filter(|(_, a)| s(a, "status") == "FIRING")
        .map(|(n, a)| Hit {
            resource_id: s(a, "id").into(),
            resource_name: s(a, "displayName").into(),
            title: format!("Alarm {} is firing", s(a, "displayName")),
            evidence: item_evidence(&l, *n, "/status", &json!("FIRING")),
            savings_cents: None,
            fix: Vec::new(),
        })
        .collect()
}

/// The registry and monitoring checks.
pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "containers.public-repository",
        title: "Public container repository",
        cis: None,
        category: Category::Security,
        severity: Severity::Medium,
        reads: &[REPOS],
        fix_tools: &[],
        remediation: "Make the repository private unless its images are meant for anyone; pulls then need an auth token.",
        predicate: public_repos,
    },
    Check {
        id: "containers.untagged-image",
        title: "Untagged container image",
        cis: None,
        category: Category::Cost,
        severity: Severity::Low,
        reads: &[IMAGES],
        fix_tools: &[],
        remediation: "Untagged images are usually superseded builds. Delete them, or add a retention policy to the repository.",
        predicate: untagged,
    },
    Check {
        id: "monitoring.alarm-firing",
        title: "Monitoring alarm firing",
        cis: None,
        category: Category::Availability,
        severity: Severity::High,
        reads: &[ALARMS],
        fix_tools: &[],
        remediation: "An alarm is firing now: look at the metric it watches and the resource behind it.",
        predicate: firing,
    },
];
