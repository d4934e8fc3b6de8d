//! The resource graph of what the organisation may see in its tenancy, built
//! in process (petgraph) from the read tools' answers: compartments → VCNs →
//! subnets → VNICs → instances → volumes; load balancers and their backends;
//! security lists and NSGs on subnets and VNICs.

use std::collections::HashMap;
use std::sync::OnceLock;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde_json::Value;

use super::model::{Edge, EdgeKind, GraphAnswer, Node, NodeKind};

/// The reads a resource graph is built from (each list's `items`; VNICs and
/// load balancers in full, as their `get` tools answer).
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// `listCompartments`.
    pub compartments: Vec<Value>,
    /// `listVcns`.
    pub vcns: Vec<Value>,
    /// `listSubnets`.
    pub subnets: Vec<Value>,
    /// `listSecurityLists`.
    pub security_lists: Vec<Value>,
    /// `listInstances`.
    pub instances: Vec<Value>,
    /// `listVnicAttachments`.
    pub vnic_attachments: Vec<Value>,
    /// `getVnic` of each attached VNIC.
    pub vnics: Vec<Value>,
    /// `listBlockVolumes`.
    pub volumes: Vec<Value>,
    /// `listVolumeAttachments`.
    pub volume_attachments: Vec<Value>,
    /// `getLoadBalancer` of each load balancer.
    pub load_balancers: Vec<Value>,
}

/// The id of the internet node.
pub const INTERNET: &str = "internet";

/// Lifecycle states of something no longer there (or going).
const GONE: &[&str] = &[
    "TERMINATED",
    "TERMINATING",
    "DETACHED",
    "DETACHING",
    "DELETED",
    "DELETING",
];

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn alive(v: &Value) -> bool {
    !s(v, "lifecycleState").is_some_and(|st| GONE.contains(&st))
}

fn strs<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn label(v: &Value, id: &str) -> String {
    s(v, "displayName")
        .or_else(|| s(v, "name"))
        .unwrap_or(id)
        .to_string()
}

/// The ports an ingress rule opens to the whole internet (`all`, `22`,
/// `8000-8080`), when its source is 0.0.0.0/0 (or ::/0).
fn open_ports(rule: &Value) -> Option<String> {
    if !matches!(s(rule, "source"), Some("0.0.0.0/0" | "::/0")) {
        return None;
    }
    let range = ["tcpOptions", "udpOptions"]
        .iter()
        .find_map(|o| rule.get(*o))
        .and_then(|o| o.get("destinationPortRange"));
    let Some(r) = range else {
        return Some("all".into());
    };
    let (min, max) = (r.get("min")?.as_i64()?, r.get("max")?.as_i64()?);
    Some(if min == max {
        min.to_string()
    } else {
        format!("{min}-{max}")
    })
}

/// The graph and an index of its nodes by id.
#[derive(Debug, Default)]
pub struct ResourceGraph {
    /// Nodes carry their facts; edges their meaning.
    pub graph: DiGraph<Node, EdgeKind>,
    index: HashMap<String, NodeIndex>,
    /// Whole-graph answers, computed on first use.
    pub(super) memo: Memo,
}

/// Answers that depend on nothing but the graph, kept with it: a snapshot is
/// shared by every query of its organisation for its TTL.
#[derive(Debug, Default)]
pub(super) struct Memo {
    pub(super) exposure: OnceLock<GraphAnswer>,
    pub(super) orphans: OnceLock<GraphAnswer>,
}

impl ResourceGraph {
    /// The node with this id.
    pub fn find(&self, id: &str) -> Option<NodeIndex> {
        self.index.get(id).copied()
    }

    /// The node at `i`.
    pub fn node(&self, i: NodeIndex) -> &Node {
        &self.graph[i]
    }

    /// How many resources (not the internet) it holds.
    pub fn resources(&self) -> usize {
        self.graph
            .node_weights()
            .filter(|n| n.kind != NodeKind::Internet)
            .count()
    }

    fn add(&mut self, n: Node) -> NodeIndex {
        if let Some(i) = self.index.get(&n.id) {
            return *i;
        }
        let id = n.id.clone();
        let i = self.graph.add_node(n);
        self.index.insert(id, i);
        i
    }

    /// An edge between two known nodes (an unknown end is outside what the
    /// organisation may see, or gone: no edge).
    fn link(&mut self, from: Option<&str>, to: &str, kind: EdgeKind) {
        let (Some(a), Some(b)) = (from.and_then(|f| self.find(f)), self.find(to)) else {
            return;
        };
        if !self
            .graph
            .edges_connecting(a, b)
            .any(|e| *e.weight() == kind)
        {
            self.graph.add_edge(a, b, kind);
        }
    }

    /// The edges leaving `i`, with their kind.
    pub fn out(&self, i: NodeIndex) -> impl Iterator<Item = (NodeIndex, EdgeKind)> + '_ {
        self.graph
            .edges_directed(i, Direction::Outgoing)
            .map(|e| (e.target(), *e.weight()))
    }

    /// The edges reaching `i`, with their kind.
    pub fn incoming(&self, i: NodeIndex) -> impl Iterator<Item = (NodeIndex, EdgeKind)> + '_ {
        self.graph
            .edges_directed(i, Direction::Incoming)
            .map(|e| (e.source(), *e.weight()))
    }

    /// The wire edge `a → b`.
    pub fn edge(&self, a: NodeIndex, b: NodeIndex, kind: EdgeKind) -> Edge {
        Edge {
            from: self.graph[a].id.clone(),
            to: self.graph[b].id.clone(),
            kind,
            count: None,
        }
    }

    /// Builds the graph of what `inv` holds (gone resources left out).
    pub fn build(inv: &Inventory) -> Self {
        let mut g = ResourceGraph::default();
        let items = |list: &'_ [Value]| -> Vec<(String, Value)> {
            list.iter()
                .filter(|v| alive(v))
                .filter_map(|v| Some((s(v, "id")?.to_string(), v.clone())))
                .collect()
        };
        let compartments = items(&inv.compartments);
        for (id, c) in &compartments {
            g.add(Node::new(id, NodeKind::Compartment, label(c, id)));
        }
        for (id, c) in &compartments {
            g.link(s(c, "compartmentId"), id, EdgeKind::Contains);
        }
        for (id, v) in items(&inv.vcns) {
            let n = Node::new(&id, NodeKind::Vcn, label(&v, &id)).with(
                "cidrBlocks",
                v.get("cidrBlocks").cloned().unwrap_or_default(),
            );
            g.add(n);
            g.link(s(&v, "compartmentId"), &id, EdgeKind::Contains);
        }
        let mut open = false;
        for (id, sl) in items(&inv.security_lists) {
            let ports: Vec<String> = sl
                .get("ingressSecurityRules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(open_ports)
                .collect();
            let exposed = !ports.is_empty();
            g.add(Node::new(&id, NodeKind::SecurityList, label(&sl, &id)).with("openPorts", ports));
            g.link(s(&sl, "vcnId"), &id, EdgeKind::Contains);
            if exposed {
                if !open {
                    g.add(Node::new(
                        INTERNET,
                        NodeKind::Internet,
                        "Internet (0.0.0.0/0)",
                    ));
                    open = true;
                }
                g.link(Some(INTERNET), &id, EdgeKind::Ingress);
            }
        }
        for (id, sn) in items(&inv.subnets) {
            let n = Node::new(&id, NodeKind::Subnet, label(&sn, &id))
                .with(
                    "cidrBlock",
                    sn.get("cidrBlock").cloned().unwrap_or_default(),
                )
                .with(
                    "prohibitPublicIpOnVnic",
                    sn.get("prohibitPublicIpOnVnic")
                        .cloned()
                        .unwrap_or(Value::Bool(false)),
                );
            g.add(n);
            g.link(s(&sn, "vcnId"), &id, EdgeKind::Contains);
            for sl in strs(&sn, "securityListIds") {
                g.link(Some(sl), &id, EdgeKind::Guards);
            }
        }
        for (id, i) in items(&inv.instances) {
            let n = Node::new(&id, NodeKind::Instance, label(&i, &id))
                .with(
                    "lifecycleState",
                    i.get("lifecycleState").cloned().unwrap_or_default(),
                )
                .with("shape", i.get("shape").cloned().unwrap_or_default());
            g.add(n);
            g.link(s(&i, "compartmentId"), &id, EdgeKind::Contains);
        }
        let vnics: HashMap<&str, &Value> = inv
            .vnics
            .iter()
            .filter_map(|v| Some((s(v, "id")?, v)))
            .collect();
        for a in inv.vnic_attachments.iter().filter(|v| alive(v)) {
            let (Some(vid), Some(inst)) = (s(a, "vnicId"), s(a, "instanceId")) else {
                continue;
            };
            if g.find(inst).is_none() {
                continue;
            }
            let v = vnics.get(vid).copied().unwrap_or(&Value::Null);
            let mut n = Node::new(
                vid,
                NodeKind::Vnic,
                s(v, "displayName").or(s(v, "privateIp")).unwrap_or(vid),
            );
            for key in ["privateIp", "publicIp"] {
                if let Some(ip) = s(v, key) {
                    n = n.with(key, ip);
                }
            }
            g.add(n);
            g.link(s(v, "subnetId").or(s(a, "subnetId")), vid, EdgeKind::Hosts);
            g.link(Some(vid), inst, EdgeKind::Connects);
            for nsg in strs(v, "nsgIds") {
                g.add(Node::new(nsg, NodeKind::Nsg, nsg));
                g.link(Some(nsg), vid, EdgeKind::Guards);
            }
        }
        for (id, v) in items(&inv.volumes) {
            let n = Node::new(&id, NodeKind::Volume, label(&v, &id))
                .with("sizeInGBs", v.get("sizeInGBs").cloned().unwrap_or_default());
            g.add(n);
            g.link(s(&v, "compartmentId"), &id, EdgeKind::Contains);
        }
        for a in inv.volume_attachments.iter().filter(|v| alive(v)) {
            if let Some(vol) = s(a, "volumeId") {
                g.link(s(a, "instanceId"), vol, EdgeKind::Attaches);
            }
        }
        g.load_balancers(inv);
        g
    }

    /// Load balancers: in their subnets, behind their NSGs, in front of the
    /// instances whose private IPs are their backends.
    fn load_balancers(&mut self, inv: &Inventory) {
        let by_ip: HashMap<String, String> = self
            .graph
            .node_indices()
            .filter(|i| self.graph[*i].kind == NodeKind::Vnic)
            .filter_map(|i| {
                let ip = self.graph[i].attrs.get("privateIp")?.as_str()?.to_string();
                let inst = self
                    .out(i)
                    .find(|(_, k)| *k == EdgeKind::Connects)
                    .map(|(t, _)| self.graph[t].id.clone())?;
                Some((ip, inst))
            })
            .collect();
        for lb in inv.load_balancers.iter().filter(|v| alive(v)) {
            let Some(id) = s(lb, "id") else { continue };
            let public: Vec<&str> = lb
                .get("ipAddresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|a| a.get("isPublic").and_then(Value::as_bool) == Some(true))
                .filter_map(|a| s(a, "ipAddress"))
                .collect();
            self.add(
                Node::new(id, NodeKind::LoadBalancer, label(lb, id)).with("publicIps", public),
            );
            self.link(s(lb, "compartmentId"), id, EdgeKind::Contains);
            for sn in strs(lb, "subnetIds") {
                self.link(Some(sn), id, EdgeKind::Hosts);
            }
            for nsg in strs(lb, "networkSecurityGroupIds") {
                self.add(Node::new(nsg, NodeKind::Nsg, nsg));
                self.link(Some(nsg), id, EdgeKind::Guards);
            }
            let sets = lb.get("backendSets").and_then(Value::as_object);
            for set in sets.into_iter().flat_map(|m| m.values()) {
                for b in set
                    .get("backends")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(inst) = s(b, "ipAddress").and_then(|ip| by_ip.get(ip)) {
                        let inst = inst.clone();
                        self.link(Some(&inst), id, EdgeKind::Backend);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn open_ports_only_for_rules_open_to_the_internet() {
        let ssh = json!({"source": "0.0.0.0/0", "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}});
        assert_eq!(open_ports(&ssh).as_deref(), Some("22"));
        let all = json!({"source": "0.0.0.0/0", "protocol": "all"});
        assert_eq!(open_ports(&all).as_deref(), Some("all"));
        let inside = json!({"source": "10.0.0.0/16", "protocol": "all"});
        assert_eq!(open_ports(&inside), None);
    }
}
