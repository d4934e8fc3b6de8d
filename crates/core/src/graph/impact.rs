//! The blast radius of a destructive call waiting for approval, as approvers
//! see it: "deleteVcn: 2 subnets, 3 VNICs, 3 instances".

use std::collections::BTreeMap;

use serde_json::Value;

use super::queries;
use super::read::Cloud;
use super::resources::ResourceGraph;
use crate::error::CoreResult;
use crate::identity::Principal;
use crate::model::Approval;
use crate::tools::Risk;

/// What a destructive call would affect.
#[derive(Debug, Clone, PartialEq)]
pub struct Impact {
    /// The resource the call acts on.
    pub resource: String,
    /// Its display name.
    pub label: String,
    /// What depends on it, counted by node kind.
    pub counts: BTreeMap<String, i64>,
    /// One line for people.
    pub text: String,
}

/// Kinds in the order a sentence names them, with their singular and plural.
const WORDS: &[(&str, &str, &str)] = &[
    ("compartment", "compartment", "compartments"),
    ("vcn", "VCN", "VCNs"),
    ("subnet", "subnet", "subnets"),
    ("security-list", "security list", "security lists"),
    ("vnic", "VNIC", "VNICs"),
    ("instance", "instance", "instances"),
    ("volume", "volume", "volumes"),
    ("load-balancer", "load balancer", "load balancers"),
    ("nsg", "NSG", "NSGs"),
];

/// `"deleteVcn: 2 subnets, 1 VNIC"` (or that nothing depends on it).
pub fn sentence(tool: &str, counts: &BTreeMap<String, i64>) -> String {
    let parts: Vec<String> = WORDS
        .iter()
        .filter_map(|(k, one, many)| {
            let n = *counts.get(*k)?;
            (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }))
        })
        .collect();
    if parts.is_empty() {
        format!("{tool}: nothing else depends on it")
    } else {
        format!("{tool}: {}", parts.join(", "))
    }
}

/// The resource a destructive call acts on: for `danger` tools, the first
/// OCID argument other than a compartment.
pub fn target(a: &Approval) -> Option<String> {
    if a.risk != Risk::Danger {
        return None;
    }
    let args: Value = serde_json::from_str(&a.args_redacted).ok()?;
    args.as_object()?
        .iter()
        .filter(|(k, _)| k.ends_with("Id") && k.as_str() != "compartmentId")
        .find_map(|(_, v)| v.as_str().filter(|s| s.starts_with("ocid1.")))
        .map(str::to_owned)
}

/// The impact of `a` in `g` (`None`: not destructive, or its resource is
/// not in the graph, e.g. already gone).
pub fn of(g: &ResourceGraph, a: &Approval) -> Option<Impact> {
    let resource = target(a)?;
    let b = queries::blast_radius(g, &resource)?;
    let label = b.nodes.first().map(|n| n.label.clone()).unwrap_or_default();
    Some(Impact {
        text: sentence(&a.tool_name, &b.summary),
        resource,
        label,
        counts: b.summary,
    })
}

/// The impacts of `approvals`, in order, from the organisation's snapshot
/// read as `p` (not at all when none is destructive).
pub async fn of_approvals(
    cloud: &Cloud<'_>,
    p: &Principal,
    approvals: &[Approval],
) -> CoreResult<Vec<Option<Impact>>> {
    if approvals.iter().all(|a| target(a).is_none()) {
        return Ok(vec![None; approvals.len()]);
    }
    let g = cloud.graph(p).await?;
    Ok(approvals.iter().map(|a| of(&g, a)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_count_in_dependency_order() {
        let c = BTreeMap::from([
            ("instance".to_string(), 2),
            ("subnet".to_string(), 3),
            ("vnic".to_string(), 1),
        ]);
        assert_eq!(
            sentence("deleteVcn", &c),
            "deleteVcn: 3 subnets, 1 VNIC, 2 instances"
        );
        assert_eq!(
            sentence("deleteBucket", &BTreeMap::new()),
            "deleteBucket: nothing else depends on it"
        );
    }
}
