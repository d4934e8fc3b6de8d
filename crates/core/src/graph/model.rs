//! What a graph answer holds: typed nodes and edges, and the query kinds.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// The public internet: where exposure paths start.
    Internet,
    /// A compartment (the tenancy's root included).
    Compartment,
    /// A virtual cloud network.
    Vcn,
    /// A subnet of a VCN.
    Subnet,
    /// A security list of a VCN.
    SecurityList,
    /// A network security group named by a VNIC or a load balancer (its
    /// rules are not read: no tool lists them).
    Nsg,
    /// A virtual network interface.
    Vnic,
    /// A compute instance.
    Instance,
    /// A block volume.
    Volume,
    /// A load balancer.
    LoadBalancer,
    /// A portal user or API key (the principal of tool executions).
    User,
    /// A tool of the catalogue.
    Tool,
    /// A cloud resource named (by OCID) in a tool's arguments.
    Resource,
}

impl NodeKind {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Internet => "internet",
            NodeKind::Compartment => "compartment",
            NodeKind::Vcn => "vcn",
            NodeKind::Subnet => "subnet",
            NodeKind::SecurityList => "security-list",
            NodeKind::Nsg => "nsg",
            NodeKind::Vnic => "vnic",
            NodeKind::Instance => "instance",
            NodeKind::Volume => "volume",
            NodeKind::LoadBalancer => "load-balancer",
            NodeKind::User => "user",
            NodeKind::Tool => "tool",
            NodeKind::Resource => "resource",
        }
    }
}

/// What an edge means. Resource edges point from what a resource depends on
/// to the dependent (`from` going away affects `to`): blast radius follows
/// them forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// A compartment holds a resource; a VCN holds its subnets and security lists.
    Contains,
    /// A security list or NSG guards a subnet or VNIC.
    Guards,
    /// A subnet hosts a VNIC or a load balancer.
    Hosts,
    /// A VNIC connects an instance.
    Connects,
    /// An instance has a volume attached.
    Attaches,
    /// An instance is a backend of a load balancer.
    Backend,
    /// The internet reaches a security list through an ingress rule open to 0.0.0.0/0.
    Ingress,
    /// A user ran a tool (`count` times).
    Ran,
    /// A tool was run on a resource (`count` times).
    Touched,
    /// Two tools were run by the same user within the same hour (`count` such hours).
    CoOccurs,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// OCID, user id, tool name, or `internet`.
    pub id: String,
    /// What it is.
    pub kind: NodeKind,
    /// Its display name.
    pub label: String,
    /// Facts the queries read or report (lifecycle state, public IP, open ports, counts).
    #[serde(flatten)]
    pub attrs: BTreeMap<String, Value>,
}

impl Node {
    /// A node without attributes.
    pub fn new(id: impl Into<String>, kind: NodeKind, label: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind,
            label: label.into(),
            attrs: BTreeMap::new(),
        }
    }

    /// With one more attribute.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.attrs.insert(key.into(), value.into());
        self
    }
}

/// One edge between two node ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// What it means.
    pub kind: EdgeKind,
    /// How often, for usage edges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
}

/// A query's answer: `{nodes, edges}`, and for exposure the paths found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GraphAnswer {
    /// Nodes, each once.
    pub nodes: Vec<Node>,
    /// Edges between them.
    pub edges: Vec<Edge>,
    /// Exposure paths (node ids from the internet to an instance).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<Vec<String>>,
    /// Counts of the affected or listed nodes by kind (blast radius, orphans).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub summary: BTreeMap<String, i64>,
}

/// The questions `/api/graph` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryKind {
    /// Everything that depends on a resource.
    BlastRadius,
    /// Internet → open ingress rule → subnet → public VNIC → running instance.
    Exposure,
    /// Unattached volumes, empty subnets, unused security lists, empty VCNs.
    Orphans,
    /// User → tool → resource from the organisation's tool executions.
    Usage,
    /// Tools used together (same user, same hour).
    ToolCooccurrence,
}

impl QueryKind {
    /// Every kind, in the order error messages list them.
    pub const ALL: [QueryKind; 5] = [
        QueryKind::BlastRadius,
        QueryKind::Exposure,
        QueryKind::Orphans,
        QueryKind::Usage,
        QueryKind::ToolCooccurrence,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryKind::BlastRadius => "blast-radius",
            QueryKind::Exposure => "exposure",
            QueryKind::Orphans => "orphans",
            QueryKind::Usage => "usage",
            QueryKind::ToolCooccurrence => "tool-cooccurrence",
        }
    }

    /// Whether it reads the cloud (else the portal's own database).
    pub fn reads_cloud(self) -> bool {
        matches!(
            self,
            QueryKind::BlastRadius | QueryKind::Exposure | QueryKind::Orphans
        )
    }
}

impl fmt::Display for QueryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown query kind; its message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("kind: unknown graph query {0:?} (valid kinds: blast-radius, exposure, orphans, usage, tool-cooccurrence)")]
pub struct UnknownKind(pub String);

impl FromStr for QueryKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        QueryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.chars().take(64).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_the_error_lists_every_kind() {
        for k in QueryKind::ALL {
            assert_eq!(k.as_str().parse::<QueryKind>(), Ok(k));
        }
        let e = "pagerank".parse::<QueryKind>().unwrap_err().to_string();
        for k in QueryKind::ALL {
            assert!(e.contains(k.as_str()), "{e}");
        }
    }
}
