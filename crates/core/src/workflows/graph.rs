//! The graph's shape: who follows whom, in what order, and what cannot be
//! reached. Kahn's algorithm is enough for graphs of a few hundred nodes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::definition::{Definition, Edge};

/// Adjacency of a definition whose edges all name existing nodes.
pub struct Graph<'a> {
    /// Outgoing edges by source node.
    pub out: BTreeMap<&'a str, Vec<&'a Edge>>,
    /// Incoming edges by target node.
    pub inc: BTreeMap<&'a str, Vec<&'a Edge>>,
}

impl<'a> Graph<'a> {
    /// The graph of `d`, ignoring edges that name unknown nodes.
    pub fn of(d: &'a Definition) -> Self {
        let ids: BTreeSet<&str> = d.nodes.iter().map(|n| n.id.as_str()).collect();
        let mut out: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
        let mut inc: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
        for e in &d.edges {
            if ids.contains(e.source.as_str()) && ids.contains(e.target.as_str()) {
                out.entry(e.source.as_str()).or_default().push(e);
                inc.entry(e.target.as_str()).or_default().push(e);
            }
        }
        Self { out, inc }
    }

    /// Edges leaving `node`.
    pub fn outgoing(&self, node: &str) -> &[&'a Edge] {
        self.out.get(node).map(Vec::as_slice).unwrap_or_default()
    }

    /// Edges entering `node`.
    pub fn incoming(&self, node: &str) -> &[&'a Edge] {
        self.inc.get(node).map(Vec::as_slice).unwrap_or_default()
    }

    /// A node on a cycle, or `None` when the graph is acyclic.
    pub fn cycle_member(&self, d: &'a Definition) -> Option<&'a str> {
        let mut indegree: BTreeMap<&str, usize> = d
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), self.incoming(&n.id).len()))
            .collect();
        let mut queue: VecDeque<&str> = indegree
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(id, _)| *id)
            .collect();
        while let Some(id) = queue.pop_front() {
            for e in self.outgoing(id) {
                if let Some(n) = indegree.get_mut(e.target.as_str()) {
                    *n -= 1;
                    if *n == 0 {
                        queue.push_back(e.target.as_str());
                    }
                }
            }
            indegree.remove(id);
        }
        d.nodes
            .iter()
            .map(|n| n.id.as_str())
            .find(|id| indegree.contains_key(id))
    }

    /// Every node reachable from `start` (itself included).
    pub fn reachable(&self, start: &'a str) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(id) = queue.pop_front() {
            for e in self.outgoing(id) {
                if seen.insert(e.target.as_str()) {
                    queue.push_back(e.target.as_str());
                }
            }
        }
        seen
    }
}
