//! Network checks: security lists open to the internet on administration
//! ports (CIS OCI 2.1 SSH, 2.2 RDP), default security lists admitting more
//! than ICMP (CIS 2.5).

use serde_json::{json, Value};

use crate::advisor::check::*;
use crate::advisor::model::{Category, FixStep, Severity};

const SECURITY_LISTS: Read = Read::Call {
    tool: "listSecurityLists",
    args: "{}",
};

/// Whether an ingress rule lets anyone on the internet reach `port` over TCP.
fn opens(rule: &Value, port: i64) -> bool {
    let anywhere = matches!(s(rule, "source"), "0.0.0.0/0" | "::/0");
    let tcp = matches!(s(rule, "protocol"), "6" | "all");
    if !anywhere || !tcp {
        return false;
    }
    match rule.pointer("/tcpOptions/destinationPortRange") {
        None => true, // every port
        Some(r) => {
            let lo = r.get("min").and_then(Value::as_i64).unwrap_or(1);
            let hi = r.get("max").and_then(Value::as_i64).unwrap_or(65_535);
            (lo..=hi).contains(&port)
        }
    }
}

/// A rule as `updateSecurityListRules` takes it (the read adds `sourceType`).
fn writable(rule: &Value) -> Value {
    const FIELDS: &[&str] = &[
        "protocol",
        "source",
        "isStateless",
        "description",
        "tcpOptions",
        "udpOptions",
        "icmpOptions",
    ];
    let mut out = serde_json::Map::new();
    for f in FIELDS {
        if let Some(v) = rule.get(*f).filter(|v| !v.is_null()) {
            out.insert((*f).to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// Security lists `pick`ed with an ingress rule that is `bad`: evidence is the
/// first such rule, the plan writes the list back without them.
fn rule_hits(
    env: &Env<'_>,
    pick: impl Fn(&Value) -> bool,
    bad: impl Fn(&Value) -> bool,
    title: impl Fn(&Value) -> String,
) -> Vec<Hit> {
    let l = env.list("listSecurityLists");
    let mut out = Vec::new();
    for (n, sl) in l.items.iter().filter(|(_, sl)| pick(sl)) {
        let rules = sl
            .get("ingressSecurityRules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(k) = rules.iter().position(&bad) else {
            continue;
        };
        let keep: Vec<Value> = rules.iter().filter(|r| !bad(r)).map(writable).collect();
        out.push(Hit {
            resource_id: s(sl, "id").into(),
            resource_name: s(sl, "displayName").into(),
            title: title(sl),
            evidence: item_evidence(&l, *n, &format!("/ingressSecurityRules/{k}"), &rules[k]),
            savings_cents: None,
            fix: vec![FixStep {
                tool: "updateSecurityListRules".into(),
                args: json!({"securityListId": s(sl, "id"), "ingressSecurityRules": keep}),
            }],
        });
    }
    out
}

fn open_port(env: &Env<'_>, port: i64, what: &str) -> Vec<Hit> {
    rule_hits(
        env,
        |_| true,
        |r| opens(r, port),
        |sl| {
            format!(
                "{} lets anyone on the internet reach {what} (port {port})",
                s(sl, "displayName")
            )
        },
    )
}

/// A VCN's default security list: OCI names it `Default Security List for <vcn>`
/// (the list read does not say which list is a VCN's default otherwise).
fn is_default(sl: &Value) -> bool {
    s(sl, "displayName").starts_with("Default Security List for ")
}

/// ICMP is what CIS 2.5 leaves in a default list (path MTU discovery and
/// reachability errors): any other ingress rule is the finding.
fn not_icmp(rule: &Value) -> bool {
    s(rule, "protocol") != "1"
}

fn default_open(env: &Env<'_>) -> Vec<Hit> {
    rule_hits(env, is_default, not_icmp, |sl| {
        format!("{} admits more than ICMP", s(sl, "displayName"))
    })
}

/// The network checks.
pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "network.ssh-open-to-internet",
        title: "Security list allows SSH from 0.0.0.0/0",
        cis: Some("2.1"),
        category: Category::Security,
        severity: Severity::Critical,
        reads: &[SECURITY_LISTS],
        fix_tools: &["updateSecurityListRules"],
        remediation: "Remove the ingress rule that opens port 22 to 0.0.0.0/0 (the plan keeps every other rule); reach instances through the Bastion service or from a known address range.",
        predicate: |env| open_port(env, 22, "SSH"),
    },
    Check {
        id: "network.rdp-open-to-internet",
        title: "Security list allows RDP from 0.0.0.0/0",
        cis: Some("2.2"),
        category: Category::Security,
        severity: Severity::Critical,
        reads: &[SECURITY_LISTS],
        fix_tools: &["updateSecurityListRules"],
        remediation: "Remove the ingress rule that opens port 3389 to 0.0.0.0/0 (the plan keeps every other rule); reach Windows hosts through the Bastion service.",
        predicate: |env| open_port(env, 3389, "RDP"),
    },
    Check {
        id: "network.default-security-list-open",
        title: "Default security list admits more than ICMP",
        cis: Some("2.5"),
        category: Category::Security,
        severity: Severity::Medium,
        reads: &[SECURITY_LISTS],
        fix_tools: &["updateSecurityListRules"],
        remediation: "Leave only ICMP in a VCN's default security list (the plan keeps its ICMP rules) and put the ports a subnet needs in a security list or NSG of its own, so a new subnet starts closed.",
        predicate: default_open,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_opens_a_port_only_from_anywhere_over_tcp_in_its_range() {
        let r = |v: Value| v;
        assert!(opens(
            &r(
                json!({"source": "0.0.0.0/0", "protocol": "6", "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}})
            ),
            22
        ));
        assert!(opens(
            &r(json!({"source": "0.0.0.0/0", "protocol": "all"})),
            3389
        ));
        assert!(opens(
            &r(
                json!({"source": "0.0.0.0/0", "protocol": "6", "tcpOptions": {"destinationPortRange": {"min": 1, "max": 1024}}})
            ),
            22
        ));
        assert!(!opens(
            &r(json!({"source": "10.0.0.0/16", "protocol": "6"})),
            22
        ));
        assert!(!opens(
            &r(json!({"source": "0.0.0.0/0", "protocol": "17"})),
            22
        ));
        assert!(!opens(
            &r(
                json!({"source": "0.0.0.0/0", "protocol": "6", "tcpOptions": {"destinationPortRange": {"min": 443, "max": 443}}})
            ),
            22
        ));
    }
}
