//! The usage graph of an organisation from its own tool executions: who ran
//! which tool on which resource, how often, and which tools go together.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::model::{Edge, EdgeKind, GraphAnswer, Node, NodeKind};
use crate::model::UsageRow;

/// Every OCID among the string values of `args` (JSON text; not JSON: none).
fn ocids(args: &str) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::String(s) if s.starts_with("ocid1.") => {
                out.insert(s.clone());
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            Value::Object(m) => m.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    if let Ok(v) = serde_json::from_str::<Value>(args) {
        walk(&v, &mut out);
    }
    out
}

/// The resource type an OCID names (`ocid1.instance.oc1...` → `instance`).
fn ocid_type(id: &str) -> &str {
    id.split('.').nth(1).unwrap_or("resource")
}

fn count_edge(m: &mut BTreeMap<(String, String), i64>, a: &str, b: &str, n: i64) {
    *m.entry((a.to_string(), b.to_string())).or_insert(0) += n;
}

fn edges(m: BTreeMap<(String, String), i64>, kind: EdgeKind) -> impl Iterator<Item = Edge> {
    m.into_iter().map(move |((from, to), n)| Edge {
        from,
        to,
        kind,
        count: Some(n),
    })
}

/// User → tool (`ran`) → resource (`touched`), with execution counts on the
/// edges and on the tool nodes, and the organisation's impact in `summary`
/// (executions, users, tools, resources). `names` labels principals.
pub fn usage(rows: &[UsageRow], names: &HashMap<String, String>) -> GraphAnswer {
    let mut ran = BTreeMap::new();
    let mut touched = BTreeMap::new();
    let mut tools: BTreeMap<&str, (i64, BTreeSet<&str>)> = BTreeMap::new();
    let mut users: BTreeMap<&str, i64> = BTreeMap::new();
    let mut resources: BTreeMap<String, i64> = BTreeMap::new();
    for r in rows {
        count_edge(&mut ran, &r.principal_id, &r.tool_name, r.count);
        let t = tools.entry(&r.tool_name).or_default();
        t.0 += r.count;
        t.1.insert(&r.principal_id);
        *users.entry(&r.principal_id).or_insert(0) += r.count;
        for id in ocids(&r.args) {
            count_edge(&mut touched, &r.tool_name, &id, r.count);
            *resources.entry(id).or_insert(0) += r.count;
        }
    }
    let mut out = GraphAnswer::default();
    for (u, n) in &users {
        let label = names.get(*u).map(String::as_str).unwrap_or(u);
        out.nodes
            .push(Node::new(*u, NodeKind::User, label).with("executions", *n));
    }
    for (t, (n, who)) in &tools {
        out.nodes.push(
            Node::new(*t, NodeKind::Tool, *t)
                .with("executions", *n)
                .with("users", who.len()),
        );
    }
    for (id, n) in &resources {
        out.nodes.push(
            Node::new(id, NodeKind::Resource, id)
                .with("resourceType", ocid_type(id))
                .with("executions", *n),
        );
    }
    out.edges.extend(edges(ran, EdgeKind::Ran));
    out.edges.extend(edges(touched, EdgeKind::Touched));
    out.summary = BTreeMap::from([
        ("executions".into(), users.values().sum()),
        ("users".into(), users.len() as i64),
        ("tools".into(), tools.len() as i64),
        ("resources".into(), resources.len() as i64),
    ]);
    out
}

/// Tools used together: an edge between two tools for every hour in which
/// one user ran both (`count` such hours), each tool with its executions.
pub fn cooccurrence(rows: &[UsageRow]) -> GraphAnswer {
    let mut hours: BTreeMap<(&str, i64), BTreeSet<&str>> = BTreeMap::new();
    let mut runs: BTreeMap<&str, i64> = BTreeMap::new();
    for r in rows {
        hours
            .entry((&r.principal_id, r.hour))
            .or_default()
            .insert(&r.tool_name);
        *runs.entry(&r.tool_name).or_insert(0) += r.count;
    }
    let mut pairs = BTreeMap::new();
    for tools in hours.values() {
        let v: Vec<&&str> = tools.iter().collect();
        for (i, a) in v.iter().enumerate() {
            for b in v.iter().skip(i + 1) {
                count_edge(&mut pairs, a, b, 1);
            }
        }
    }
    let mut out = GraphAnswer::default();
    for (t, n) in &runs {
        out.nodes
            .push(Node::new(*t, NodeKind::Tool, *t).with("executions", *n));
    }
    out.summary = BTreeMap::from([("pairs".into(), pairs.len() as i64)]);
    out.edges.extend(edges(pairs, EdgeKind::CoOccurs));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(p: &str, hour: i64, tool: &str, args: &str, count: i64) -> UsageRow {
        UsageRow {
            principal_id: p.into(),
            hour,
            tool_name: tool.into(),
            args: args.into(),
            count,
        }
    }

    #[test]
    fn usage_counts_runs_and_resources() {
        let rows = [
            row(
                "u1",
                1,
                "getInstance",
                r#"{"instanceId":"ocid1.instance.oc1..a"}"#,
                2,
            ),
            row("u1", 2, "listVcns", "{}", 1),
            row(
                "u2",
                2,
                "getInstance",
                r#"{"instanceId":"ocid1.instance.oc1..a"}"#,
                1,
            ),
        ];
        let g = usage(&rows, &HashMap::new());
        assert_eq!(g.summary["executions"], 4);
        assert_eq!(g.summary["resources"], 1);
        let touched: Vec<_> = g
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Touched)
            .collect();
        assert_eq!(touched.len(), 1);
        assert_eq!(touched[0].count, Some(3));
    }

    #[test]
    fn cooccurrence_pairs_tools_of_one_user_in_one_hour() {
        let rows = [
            row("u1", 1, "a", "{}", 1),
            row("u1", 1, "b", "{}", 1),
            row("u1", 2, "a", "{}", 1),
            row("u1", 2, "b", "{}", 3),
            row("u2", 2, "c", "{}", 1),
        ];
        let g = cooccurrence(&rows);
        assert_eq!(g.edges.len(), 1);
        assert_eq!(
            (g.edges[0].from.as_str(), g.edges[0].to.as_str()),
            ("a", "b")
        );
        assert_eq!(g.edges[0].count, Some(2));
    }
}
