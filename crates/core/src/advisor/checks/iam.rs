//! Identity checks: console users without MFA (CIS OCI 1.7), users without
//! an email address (CIS 1.13) and policies granting `manage all-resources`
//! to anyone but the administrators (CIS 1.2).

use serde_json::{json, Value};

use crate::advisor::check::*;
use crate::advisor::model::{Category, Severity};

const USERS: Read = Read::Call {
    tool: "listUsers",
    args: "{}",
};
const POLICIES: Read = Read::Call {
    tool: "listPolicies",
    args: "{}",
};

/// A user MFA matters for: one that may sign in to the console. Service
/// users (API keys only, no console password) are a known false positive.
fn console_user(u: &Value) -> bool {
    s(u, "lifecycleState") == "ACTIVE"
        && u.pointer("/capabilities/canUseConsolePassword")
            .and_then(Value::as_bool)
            .unwrap_or(true)
}

fn no_mfa(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listUsers");
    l.items
        .iter()
        .filter(|(_, u)| console_user(u))
        .filter(|(_, u)| u.get("isMfaActivated").and_then(Value::as_bool) != Some(true))
        .map(|(n, u)| Hit {
            resource_id: s(u, "id").into(),
            resource_name: s(u, "name").into(),
            title: format!("{} signs in to the console without MFA", s(u, "name")),
            evidence: item_evidence(&l, *n, "/isMfaActivated", &u["isMfaActivated"]),
            savings_cents: None,
            fix: Vec::new(),
        })
        .collect()
}

fn no_email(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listUsers");
    l.items
        .iter()
        .filter(|(_, u)| s(u, "lifecycleState") == "ACTIVE" && !s(u, "email").contains('@'))
        .map(|(n, u)| Hit {
            resource_id: s(u, "id").into(),
            resource_name: s(u, "name").into(),
            title: format!(
                "{} has no email address to reach them or reset their password",
                s(u, "name")
            ),
            evidence: item_evidence(&l, *n, "/email", u.get("email").unwrap_or(&Value::Null)),
            savings_cents: None,
            fix: Vec::new(),
        })
        .collect()
}

/// The group a statement empowers to manage all resources, if it does so.
/// `Allow group Administrators to manage all-resources in tenancy` is the
/// tenancy's own administrator policy, which CIS 1.2 expects: not a finding.
fn manages_all(statement: &str) -> Option<String> {
    let words: Vec<String> = statement
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let at = words.iter().position(|w| w == "manage")?;
    if words.get(at + 1).map(String::as_str) != Some("all-resources") {
        return None;
    }
    if words.first().map(String::as_str) != Some("allow") {
        return None;
    }
    let subject = words.get(1..at.checked_sub(1)?)?.join(" ");
    let group = subject
        .strip_prefix("group ")
        .unwrap_or(&subject)
        .to_string();
    (group != "administrators").then_some(group)
}

fn manage_all(env: &Env<'_>) -> Vec<Hit> {
    let l = env.list("listPolicies");
    let mut out = Vec::new();
    for (n, p) in &l.items {
        let statements = p
            .get("statements")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (k, st) in statements.iter().enumerate() {
            let Some(group) = st.as_str().and_then(manages_all) else {
                continue;
            };
            out.push(Hit {
                resource_id: s(p, "id").into(),
                resource_name: s(p, "name").into(),
                title: format!("Policy {} lets {group} manage all resources", s(p, "name")),
                evidence: item_evidence(&l, *n, &format!("/statements/{k}"), &json!(st)),
                savings_cents: None,
                fix: Vec::new(),
            });
            break;
        }
    }
    out
}

/// The identity checks.
pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "iam.user-without-mfa",
        title: "Console user without MFA",
        cis: Some("1.7"),
        category: Category::Security,
        severity: Severity::High,
        reads: &[USERS],
        fix_tools: &[],
        remediation: "Have the user enable multi-factor authentication (Profile → Security → Enable MFA), or take away their console password if they only use API keys.",
        predicate: no_mfa,
    },
    Check {
        id: "iam.user-without-email",
        title: "User without an email address",
        cis: Some("1.13"),
        category: Category::Security,
        severity: Severity::Low,
        reads: &[USERS],
        fix_tools: &[],
        remediation: "Record a current email address for the user (Identity → Users → Edit): it is where password resets and security notices go, and how an owner is found.",
        predicate: no_email,
    },
    Check {
        id: "iam.manage-all-resources",
        title: "Policy grants manage all-resources beyond the administrators",
        cis: Some("1.2"),
        category: Category::Security,
        severity: Severity::Critical,
        reads: &[POLICIES],
        fix_tools: &[],
        remediation: "Only the tenancy's Administrators group should manage all-resources. Replace the statement with service-level grants (e.g. manage instance-family in one compartment).",
        predicate: manage_all,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_non_administrators_managing_all_resources_are_found() {
        assert_eq!(
            manages_all("ALLOW GROUP Administrators to manage all-resources IN TENANCY"),
            None
        );
        assert_eq!(
            manages_all("Allow group Developers to manage all-resources in compartment Dev"),
            Some("developers".into())
        );
        assert_eq!(
            manages_all("Allow group Developers to manage instance-family in tenancy"),
            None
        );
        assert_eq!(manages_all("manage all-resources"), None);
    }
}
