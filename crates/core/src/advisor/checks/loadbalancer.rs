//! Load balancer checks over each load balancer's detail: plain-HTTP
//! listeners on public load balancers, delete protection.

use serde_json::{json, Value};

use crate::advisor::check::*;
use crate::advisor::model::{Category, Severity};

const LBS: Read = Read::Call {
    tool: "listLoadBalancers",
    args: "{}",
};
const LB: Read = Read::Each {
    list: "listLoadBalancers",
    tool: "getLoadBalancer",
    arg: "loadBalancerId",
    field: "id",
    extra: "{}",
};

fn active(lb: &Value) -> bool {
    s(lb, "lifecycleState") == "ACTIVE"
}

/// A public load balancer with a listener that terminates no TLS. A private
/// one (traffic stays in the VCN) is not a finding.
fn plain_http(lb: &Value, got: &Value) -> Option<Fault> {
    if got.get("isPrivate").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let listeners = got.get("listeners").and_then(Value::as_object)?;
    let (name, l) = listeners.iter().find(|(_, l)| {
        s(l, "protocol") == "HTTP" && l.get("sslConfiguration").is_none_or(Value::is_null)
    })?;
    Some(Fault {
        path: format!("/listeners/{name}"),
        value: l.clone(),
        title: format!(
            "{} serves plain HTTP to the internet on port {}",
            s(lb, "displayName"),
            l.get("port").and_then(Value::as_i64).unwrap_or(0)
        ),
    })
}

fn unprotected(lb: &Value, got: &Value) -> Option<Fault> {
    let on = got.get("isDeleteProtectionEnabled");
    (on.and_then(Value::as_bool) != Some(true)).then(|| Fault {
        path: "/isDeleteProtectionEnabled".into(),
        value: on.cloned().unwrap_or(json!(null)),
        title: format!("{} can be deleted in one call", s(lb, "displayName")),
    })
}

/// The load balancer checks.
pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "loadbalancer.plain-http-listener",
        title: "Public load balancer listener without TLS",
        cis: None,
        category: Category::Security,
        severity: Severity::Medium,
        reads: &[LBS, LB],
        fix_tools: &[],
        remediation: "Add an HTTPS listener with a certificate and turn the HTTP listener into a redirect to it (a rule set with a 301), so no traffic crosses the internet unencrypted.",
        predicate: |env| detail_hits(env, &LB, active, plain_http),
    },
    Check {
        id: "loadbalancer.delete-protection-disabled",
        title: "Load balancer without delete protection",
        cis: None,
        category: Category::Availability,
        severity: Severity::Low,
        reads: &[LBS, LB],
        fix_tools: &[],
        remediation: "Enable delete protection (Load balancer → Edit → Delete protection) so removing a serving load balancer takes a deliberate second step.",
        predicate: |env| detail_hits(env, &LB, active, unprotected),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_listeners_without_tls_are_plain_http() {
        let lb = json!({"displayName": "lb"});
        let http = json!({"http": {"protocol": "HTTP", "port": 80}});
        assert!(plain_http(&lb, &json!({"isPrivate": false, "listeners": http})).is_some());
        assert!(plain_http(&lb, &json!({"isPrivate": true, "listeners": http})).is_none());
        let tls = json!({"https": {"protocol": "HTTP", "port": 443, "sslConfiguration": {"certificateName": "c"}}});
        assert!(plain_http(&lb, &json!({"isPrivate": false, "listeners": tls})).is_none());
    }
}
