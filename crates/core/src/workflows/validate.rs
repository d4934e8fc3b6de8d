//! Validation on save: every problem of a definition, each naming the node
//! (or edge) and the field, so the designer can show it where it belongs.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::definition::{Definition, NodeKind};
use super::expr::{self, Expr};
use super::graph::Graph;
use crate::tools::ToolSpec;

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    /// The node concerned, if a node is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// The field, as a path (`data/toolName`, `edges/e1/target`, `name`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.node_id {
            Some(n) => write!(f, "node {n}: {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// Most nodes a definition may have.
pub const MAX_NODES: usize = 200;
/// Largest step budget of a run.
pub const MAX_STEPS: u32 = 10_000;
/// Longest approval timeout (7 days).
pub const MAX_TIMEOUT_MINUTES: u32 = 7 * 24 * 60;

/// Looks tools up by name.
pub type Catalogue<'a> = &'a dyn Fn(&str) -> Option<&'static ToolSpec>;

struct Found(Vec<Issue>);

impl Found {
    fn node(&mut self, node: &str, field: &str, message: impl Into<String>) {
        self.0.push(Issue {
            node_id: Some(node.to_string()),
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn top(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(Issue {
            node_id: None,
            field: field.to_string(),
            message: message.into(),
        });
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Every problem of `d` (empty when it is valid).
pub fn check(d: &Definition, tools: Catalogue<'_>) -> Vec<Issue> {
    let mut f = Found(Vec::new());
    let name_len = d.name.trim().chars().count();
    if !(1..=255).contains(&name_len) {
        f.top("name", "must be 1 to 255 characters");
    }
    if d.description
        .as_ref()
        .is_some_and(|s| s.chars().count() > 2000)
    {
        f.top("description", "must be at most 2000 characters");
    }
    if d.tags.len() > 20 || d.tags.iter().any(|t| t.is_empty() || t.len() > 50) {
        f.top("tags", "at most 20 tags of 1 to 50 characters");
    }
    if d.input_schema.as_ref().is_some_and(|s| !s.is_object()) {
        f.top("inputSchema", "must be a JSON Schema object");
    }
    if d.max_steps.is_some_and(|m| !(1..=MAX_STEPS).contains(&m)) {
        f.top("maxSteps", format!("must be between 1 and {MAX_STEPS}"));
    }
    if d.nodes.len() > MAX_NODES {
        f.top("nodes", format!("at most {MAX_NODES} nodes"));
    }
    let mut ids = BTreeSet::new();
    for n in &d.nodes {
        if !valid_id(&n.id) {
            f.node(&n.id, "id", "1 to 100 letters, digits, '-' or '_'");
        }
        if !ids.insert(n.id.as_str()) {
            f.node(&n.id, "id", "is used by another node");
        }
    }
    let mut edge_ids = BTreeSet::new();
    for e in &d.edges {
        if !edge_ids.insert(e.id.as_str()) {
            f.top(&format!("edges/{}/id", e.id), "is used by another edge");
        }
        for (field, end) in [("source", &e.source), ("target", &e.target)] {
            if !ids.contains(end.as_str()) {
                f.top(
                    &format!("edges/{}/{field}", e.id),
                    format!("names no node ({end:?})"),
                );
            }
        }
    }
    let g = Graph::of(d);
    let inputs: Vec<&str> = d
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Input(_)))
        .map(|n| n.id.as_str())
        .collect();
    match inputs.as_slice() {
        [start] => {
            if !g.incoming(start).is_empty() {
                f.node(
                    start,
                    "type",
                    "an input node starts the run: no edge may enter it",
                );
            }
            if let Some(c) = g.cycle_member(d) {
                f.node(c, "edges", "is on a cycle (a workflow is a DAG)");
            } else {
                let reach = g.reachable(start);
                for n in d.nodes.iter().filter(|n| !reach.contains(n.id.as_str())) {
                    f.node(&n.id, "edges", format!("cannot be reached from {start}"));
                }
            }
        }
        [] => f.top("nodes", "needs exactly one input node (where a run starts)"),
        more => f.top(
            "nodes",
            format!("has {} input nodes; exactly one starts a run", more.len()),
        ),
    }
    for n in &d.nodes {
        let is_condition = matches!(n.kind, NodeKind::Condition(_));
        for e in g.outgoing(&n.id) {
            match (is_condition, e.branch) {
                (true, None) => f.node(
                    &n.id,
                    &format!("edges/{}/branch", e.id),
                    "an edge leaving a condition says its branch (true or false)",
                ),
                (false, Some(_)) => f.node(
                    &n.id,
                    &format!("edges/{}/branch", e.id),
                    "only edges leaving a condition have a branch",
                ),
                _ => {}
            }
        }
        check_node(&mut f, d, &n.id, &n.kind, tools);
    }
    f.0
}

fn expression(f: &mut Found, node: &str, field: &str, source: &str) {
    if let Err(e) = Expr::parse(source) {
        f.node(node, field, format!("expression {e}"));
    }
}

fn template(f: &mut Found, node: &str, field: &str, source: &str) {
    if let Err(e) = expr::check_template(source) {
        f.node(node, field, format!("template {e}"));
    }
}

fn members(f: &mut Found, d: &Definition, node: &str, field: &str, ids: &[String]) {
    for id in ids {
        match d.node(id) {
            None => f.node(node, field, format!("names no node ({id:?})")),
            Some(_) if id == node => f.node(node, field, "cannot contain itself"),
            Some(_) => {}
        }
    }
}

fn check_node(f: &mut Found, d: &Definition, id: &str, kind: &NodeKind, tools: Catalogue<'_>) {
    match kind {
        NodeKind::Input(_) => {}
        NodeKind::Tool(t) => {
            let Some(spec) = tools(&t.tool_name) else {
                f.node(
                    id,
                    "data/toolName",
                    format!("unknown tool {:?}", t.tool_name),
                );
                return;
            };
            let dynamic: Vec<&str> = t
                .args
                .iter()
                .filter(|(_, v)| expr::is_template(v))
                .map(|(k, _)| k.as_str())
                .collect();
            for k in &dynamic {
                if let Some(v) = t.args.get(*k) {
                    if let Err(e) = expr::check_value(v) {
                        f.node(id, &format!("data/args/{k}"), format!("template {e}"));
                    }
                }
            }
            if let Err(e) = spec.validate_static(&t.args, &dynamic) {
                // `e` is "args/<field>: <why>": the field goes under `data/`.
                let (field, why) = e.split_once(": ").unwrap_or(("args", e.as_str()));
                f.node(id, &format!("data/{field}"), why);
            }
        }
        NodeKind::Condition(c) => expression(f, id, "data/expression", &c.expression),
        NodeKind::Approval(a) => {
            let len = a.message.chars().count();
            if !(1..=2000).contains(&len) {
                f.node(id, "data/message", "must be 1 to 2000 characters");
            }
            template(f, id, "data/message", &a.message);
            if a.timeout_minutes
                .is_some_and(|m| !(1..=MAX_TIMEOUT_MINUTES).contains(&m))
            {
                f.node(
                    id,
                    "data/timeoutMinutes",
                    format!("must be between 1 and {MAX_TIMEOUT_MINUTES}"),
                );
            }
        }
        NodeKind::AiStep(a) => {
            template(f, id, "data/prompt", &a.prompt);
            if a.output_schema.as_ref().is_some_and(|s| !s.is_object()) {
                f.node(id, "data/outputSchema", "must be a JSON Schema object");
            }
        }
        NodeKind::Loop(l) => {
            expression(f, id, "data/items", &l.items);
            if let Some(b) = &l.break_condition {
                expression(f, id, "data/breakCondition", b);
            }
            members(f, d, id, "data/body", &l.body);
            if l.max_iterations.is_some_and(|m| !(1..=1000).contains(&m)) {
                f.node(id, "data/maxIterations", "must be between 1 and 1000");
            }
        }
        NodeKind::Parallel(p) => {
            if p.branches.is_empty() || p.branches.iter().any(Vec::is_empty) {
                f.node(id, "data/branches", "needs at least one branch, none empty");
            }
            for (i, b) in p.branches.iter().enumerate() {
                let field = format!("data/branches/{i}");
                members(f, d, id, &field, b);
                let approval = b
                    .iter()
                    .filter_map(|m| d.node(m))
                    .find(|m| matches!(m.kind, NodeKind::Approval(_)));
                if let Some(m) = approval {
                    f.node(
                        id,
                        &field,
                        format!("approval node {} cannot run inside a parallel branch", m.id),
                    );
                }
            }
        }
        NodeKind::Output(o) => {
            for (k, v) in &o.mapping {
                let field = format!("data/mapping/{k}");
                match v {
                    Value::String(s) => expression(f, id, &field, s),
                    _ => f.node(id, &field, "must be an expression (a string)"),
                }
            }
        }
    }
}
