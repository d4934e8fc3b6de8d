//! The questions asked of a resource graph: blast radius, exposure paths,
//! orphans. Each answers the nodes and edges it found.

use std::collections::{BTreeMap, HashSet, VecDeque};

use petgraph::graph::NodeIndex;

use super::model::{EdgeKind, GraphAnswer, NodeKind};
use super::resources::ResourceGraph;

/// Counts of `nodes` by kind.
fn summary<'a>(kinds: impl Iterator<Item = NodeKind> + 'a) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for k in kinds {
        *m.entry(k.as_str().to_string()).or_insert(0) += 1;
    }
    m
}

/// Everything that depends on `start`, transitively (the edges forwards;
/// the internet's ingress edges are not dependencies). `None`: not a node.
pub fn blast_radius(g: &ResourceGraph, id: &str) -> Option<GraphAnswer> {
    let start = g.find(id)?;
    let mut seen: HashSet<NodeIndex> = HashSet::from([start]);
    let mut order = vec![start];
    let mut edges = Vec::new();
    let mut queue = VecDeque::from([start]);
    while let Some(i) = queue.pop_front() {
        for (t, kind) in g.out(i) {
            if kind == EdgeKind::Ingress {
                continue;
            }
            edges.push(g.edge(i, t, kind));
            if seen.insert(t) {
                order.push(t);
                queue.push_back(t);
            }
        }
    }
    Some(GraphAnswer {
        summary: summary(order.iter().skip(1).map(|i| g.node(*i).kind)),
        nodes: order.iter().map(|i| g.node(*i).clone()).collect(),
        edges,
        paths: Vec::new(),
    })
}

fn targets(g: &ResourceGraph, i: NodeIndex, kind: EdgeKind) -> Vec<NodeIndex> {
    g.out(i)
        .filter(|(_, k)| *k == kind)
        .map(|(t, _)| t)
        .collect()
}

/// Internet → security list with an ingress rule open to 0.0.0.0/0 → subnet
/// it guards → VNIC with a public IP → RUNNING instance: every such path.
pub fn exposure(g: &ResourceGraph) -> GraphAnswer {
    let mut out = GraphAnswer::default();
    let Some(internet) = g.find(super::resources::INTERNET) else {
        return out;
    };
    let mut nodes: Vec<NodeIndex> = Vec::new();
    let mut kept: HashSet<NodeIndex> = HashSet::new();
    let mut keep = |i: NodeIndex, nodes: &mut Vec<NodeIndex>| {
        if kept.insert(i) {
            nodes.push(i);
        }
    };
    // Each hop's edge kind is known from where it sits on the path: kept with
    // the pair, instead of searching the internet's (hundreds of) out-edges
    // again for every pair.
    let mut edges: BTreeMap<(NodeIndex, NodeIndex), EdgeKind> = BTreeMap::new();
    let hops = [
        EdgeKind::Ingress,
        EdgeKind::Guards,
        EdgeKind::Hosts,
        EdgeKind::Connects,
    ];
    for sl in targets(g, internet, EdgeKind::Ingress) {
        for subnet in targets(g, sl, EdgeKind::Guards) {
            for vnic in targets(g, subnet, EdgeKind::Hosts) {
                if !g.node(vnic).attrs.contains_key("publicIp") {
                    continue;
                }
                for inst in targets(g, vnic, EdgeKind::Connects) {
                    let running = g.node(inst).attrs.get("lifecycleState")
                        == Some(&serde_json::Value::from("RUNNING"));
                    if !running {
                        continue;
                    }
                    let path = [internet, sl, subnet, vnic, inst];
                    for (w, kind) in path.windows(2).zip(hops) {
                        edges.entry((w[0], w[1])).or_insert(kind);
                    }
                    for i in path {
                        keep(i, &mut nodes);
                    }
                    out.paths
                        .push(path.iter().map(|i| g.node(*i).id.clone()).collect());
                }
            }
        }
    }
    out.edges = edges
        .into_iter()
        .map(|((a, b), kind)| g.edge(a, b, kind))
        .collect();
    let exposed = nodes
        .iter()
        .filter(|i| g.node(**i).kind == NodeKind::Instance);
    out.summary = summary(exposed.map(|i| g.node(*i).kind));
    out.nodes = nodes.iter().map(|i| g.node(*i).clone()).collect();
    out
}

/// [`exposure`] of a snapshot, computed once per snapshot (the graph never
/// changes once built; a changed cloud is a new snapshot).
pub fn exposure_of_snapshot(g: &ResourceGraph) -> GraphAnswer {
    g.memo.exposure.get_or_init(|| exposure(g)).clone()
}

/// [`orphans`] of a snapshot, computed once per snapshot.
pub fn orphans_of_snapshot(g: &ResourceGraph) -> GraphAnswer {
    g.memo.orphans.get_or_init(|| orphans(g)).clone()
}

/// Why a node is an orphan, if it is one.
fn orphaned(g: &ResourceGraph, i: NodeIndex) -> Option<&'static str> {
    let has_out = |kind: EdgeKind| g.out(i).any(|(_, k)| k == kind);
    match g.node(i).kind {
        NodeKind::Volume if !g.incoming(i).any(|(_, k)| k == EdgeKind::Attaches) => {
            Some("unattached volume")
        }
        NodeKind::Subnet if !has_out(EdgeKind::Hosts) => {
            Some("subnet without VNICs or load balancers")
        }
        NodeKind::SecurityList if !has_out(EdgeKind::Guards) => Some("security list on no subnet"),
        NodeKind::Vcn
            if !g
                .out(i)
                .any(|(t, k)| k == EdgeKind::Contains && g.node(t).kind == NodeKind::Subnet) =>
        {
            Some("VCN without subnets")
        }
        NodeKind::LoadBalancer if !g.incoming(i).any(|(_, k)| k == EdgeKind::Backend) => {
            Some("load balancer without backends")
        }
        _ => None,
    }
}

/// Unattached volumes, empty subnets and VCNs, unused security lists, load
/// balancers without backends (each with its `reason`).
pub fn orphans(g: &ResourceGraph) -> GraphAnswer {
    let found: Vec<_> = g
        .graph
        .node_indices()
        .filter_map(|i| Some((i, orphaned(g, i)?)))
        .collect();
    GraphAnswer {
        summary: summary(found.iter().map(|(i, _)| g.node(*i).kind)),
        nodes: found
            .iter()
            .map(|(i, why)| g.node(*i).clone().with("reason", *why))
            .collect(),
        edges: Vec::new(),
        paths: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::resources::Inventory;
    use serde_json::json;

    fn demo() -> ResourceGraph {
        let open = json!([{"source": "0.0.0.0/0", "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}}]);
        ResourceGraph::build(&Inventory {
            compartments: vec![json!({"id": "c1", "name": "prod", "lifecycleState": "ACTIVE"})],
            vcns: vec![
                json!({"id": "v1", "compartmentId": "c1"}),
                json!({"id": "v2", "compartmentId": "c1"}),
            ],
            security_lists: vec![json!({"id": "sl1", "vcnId": "v1", "ingressSecurityRules": open})],
            subnets: vec![
                json!({"id": "s1", "vcnId": "v1", "securityListIds": ["sl1"]}),
                json!({"id": "s2", "vcnId": "v1", "securityListIds": ["sl1"]}),
            ],
            instances: vec![
                json!({"id": "i1", "compartmentId": "c1", "lifecycleState": "RUNNING"}),
                json!({"id": "i2", "compartmentId": "c1", "lifecycleState": "RUNNING"}),
                json!({"id": "i3", "compartmentId": "c1", "lifecycleState": "TERMINATED"}),
            ],
            vnic_attachments: vec![
                json!({"vnicId": "n1", "instanceId": "i1", "subnetId": "s1"}),
                json!({"vnicId": "n2", "instanceId": "i2", "subnetId": "s1"}),
                json!({"vnicId": "n3", "instanceId": "i3", "subnetId": "s1"}),
            ],
            vnics: vec![
                json!({"id": "n1", "subnetId": "s1", "publicIp": "1.2.3.4", "privateIp": "10.0.0.2"}),
                json!({"id": "n2", "subnetId": "s1", "privateIp": "10.0.0.3"}),
            ],
            volumes: vec![
                json!({"id": "vol1", "compartmentId": "c1"}),
                json!({"id": "vol2", "compartmentId": "c1"}),
            ],
            volume_attachments: vec![
                json!({"instanceId": "i1", "volumeId": "vol1", "lifecycleState": "ATTACHED"}),
            ],
            load_balancers: Vec::new(),
        })
    }

    #[test]
    fn blast_radius_follows_dependencies_not_the_internet() {
        let g = demo();
        let b = blast_radius(&g, "v1").unwrap();
        assert_eq!(b.summary.get("subnet"), Some(&2));
        assert_eq!(b.summary.get("vnic"), Some(&2));
        assert_eq!(
            b.summary.get("instance"),
            Some(&2),
            "the terminated one is gone"
        );
        assert_eq!(b.summary.get("volume"), Some(&1));
        assert!(!b.nodes.iter().any(|n| n.id == "v2" || n.id == "internet"));
        assert!(blast_radius(&g, "nope").is_none());
    }

    #[test]
    fn exposure_needs_an_open_rule_a_public_ip_and_a_running_instance() {
        let e = exposure(&demo());
        assert_eq!(e.paths, vec![vec!["internet", "sl1", "s1", "n1", "i1"]]);
        assert_eq!(e.edges.len(), 4);
    }

    #[test]
    fn exposure_edges_carry_each_hops_kind_and_snapshots_answer_the_same() {
        let g = demo();
        let e = exposure(&g);
        // Every edge is the graph's own, with its kind (one of each hop here).
        for x in &e.edges {
            let (a, b) = (g.find(&x.from).unwrap(), g.find(&x.to).unwrap());
            assert!(g.out(a).any(|(t, k)| t == b && k == x.kind), "{x:?}");
        }
        let mut kinds: Vec<String> = e.edges.iter().map(|x| format!("{:?}", x.kind)).collect();
        kinds.sort();
        assert_eq!(kinds, ["Connects", "Guards", "Hosts", "Ingress"]);
        assert_eq!(exposure_of_snapshot(&g), e);
        assert_eq!(exposure_of_snapshot(&g), e, "the kept answer");
        assert_eq!(orphans_of_snapshot(&g), orphans(&g));
    }

    #[test]
    fn orphans_are_what_nothing_uses() {
        let o = orphans(&demo());
        let mut ids: Vec<&str> = o.nodes.iter().map(|n| n.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, vec!["s2", "v2", "vol2"]);
    }
}
