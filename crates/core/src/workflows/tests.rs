//! Definitions: parse, export exactly, and validate naming the node and field.

use serde_json::{json, Value};

use super::definition::Definition;
use super::validate::{check, Issue};
use crate::tools::{Effect, Kind, Param, Risk, ToolSpec};

static LIST: ToolSpec = ToolSpec {
    name: "listInstances",
    category: "compute",
    description: "d",
    risk: Risk::Read,
    effect: Effect::ReadOnly,
    idempotent: true,
    params: &[
        Param {
            name: "compartmentId",
            kind: Kind::Text { max: 100 },
            required: true,
            description: "",
            default: None,
            secret: false,
        },
        Param {
            name: "limit",
            kind: Kind::Int { min: 1, max: 100 },
            required: false,
            description: "",
            default: None,
            secret: false,
        },
    ],
};

fn tools(name: &str) -> Option<&'static ToolSpec> {
    (name == LIST.name).then_some(&LIST)
}

fn good() -> Value {
    json!({
        "name": "Check and approve",
        "description": "d",
        "tags": ["ops"],
        "inputSchema": {"type": "object", "required": ["compartment"]},
        "nodes": [
            {"id": "in", "type": "input", "data": {}, "position": {"x": 10, "y": 20.5}},
            {"id": "list", "type": "tool", "data": {"toolName": "listInstances",
                "args": {"compartmentId": "{{ input.compartment }}", "limit": 5}}},
            {"id": "any", "type": "condition", "data": {"expression": "steps.list.result.count > 0"}},
            {"id": "ok", "type": "approval", "label": "Approve", "data": {"message": "Go?", "timeoutMinutes": 5, "onReject": "end"}},
            {"id": "out", "type": "output", "data": {"mapping": {"n": "steps.list.result.count"}}}
        ],
        "edges": [
            {"id": "e1", "source": "in", "target": "list"},
            {"id": "e2", "source": "list", "target": "any"},
            {"id": "e3", "source": "any", "target": "ok", "branch": true},
            {"id": "e4", "source": "any", "target": "out", "branch": false},
            {"id": "e5", "source": "ok", "target": "out"}
        ]
    })
}

fn issues(v: Value) -> Vec<Issue> {
    check(&Definition::from_value(v).expect("parses"), &tools)
}

fn edit(f: impl FnOnce(&mut Value)) -> Vec<Issue> {
    let mut v = good();
    f(&mut v);
    issues(v)
}

fn has(found: &[Issue], node: Option<&str>, field: &str) -> bool {
    found
        .iter()
        .any(|i| i.node_id.as_deref() == node && i.field == field)
}

#[test]
fn export_round_trips_exactly() {
    let d = Definition::from_value(good()).unwrap();
    let text = d.to_json();
    let back = Definition::from_json(&text).unwrap();
    assert_eq!(back, d);
    assert_eq!(back.to_json(), text);
    let as_value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(as_value, good(), "export keeps every field as written");
}

#[test]
fn a_good_definition_has_no_issues() {
    assert_eq!(issues(good()), vec![]);
}

#[test]
fn parse_errors_name_the_field() {
    let mut v = good();
    v["nodes"][1]["data"]["tool"] = json!("x");
    let e = Definition::from_value(v).unwrap_err();
    assert!(e.starts_with("nodes[1]"), "{e}");
    let mut v = good();
    v["nodes"][0]["type"] = json!("teleport");
    assert!(Definition::from_value(v).is_err());
}

#[test]
fn unknown_tools_and_bad_static_args_name_the_node_and_field() {
    let f = edit(|v| v["nodes"][1]["data"]["toolName"] = json!("launchRocket"));
    assert!(has(&f, Some("list"), "data/toolName"), "{f:?}");
    let f = edit(|v| v["nodes"][1]["data"]["args"]["limit"] = json!(500));
    assert!(has(&f, Some("list"), "data/args/limit"), "{f:?}");
    let f = edit(|v| v["nodes"][1]["data"]["args"]["colour"] = json!("red"));
    assert!(has(&f, Some("list"), "data/args/colour"), "{f:?}");
    let f = edit(|v| v["nodes"][1]["data"]["args"] = json!({"limit": 5}));
    assert!(has(&f, Some("list"), "data/args/compartmentId"), "{f:?}");
    let f = edit(|v| v["nodes"][1]["data"]["args"]["compartmentId"] = json!("{{ input. }}"));
    assert!(has(&f, Some("list"), "data/args/compartmentId"), "{f:?}");
}

#[test]
fn graph_problems_name_the_node_or_edge() {
    let f = edit(|v| v["edges"][4]["target"] = json!("nowhere"));
    assert!(has(&f, None, "edges/e5/target"), "{f:?}");
    let f = edit(|v| {
        v["edges"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "back", "source": "out", "target": "list"}))
    });
    assert!(
        f.iter()
            .any(|i| i.field == "edges" && i.message.contains("cycle")),
        "{f:?}"
    );
    let f = edit(|v| {
        v["nodes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "lonely", "type": "output", "data": {}}))
    });
    assert!(has(&f, Some("lonely"), "edges"), "{f:?}");
    let f = edit(|v| {
        v["edges"][2]
            .as_object_mut()
            .unwrap()
            .remove("branch")
            .map(|_| ())
            .unwrap()
    });
    assert!(has(&f, Some("any"), "edges/e3/branch"), "{f:?}");
    let f = edit(|v| v["nodes"][0]["type"] = json!("output"));
    assert!(has(&f, None, "nodes"), "{f:?}");
}

#[test]
fn expressions_that_do_not_parse_name_the_node() {
    let f = edit(|v| v["nodes"][2]["data"]["expression"] = json!("steps.list.result.count >"));
    assert!(has(&f, Some("any"), "data/expression"), "{f:?}");
    let f = edit(|v| v["nodes"][4]["data"]["mapping"]["n"] = json!("(("));
    assert!(has(&f, Some("out"), "data/mapping/n"), "{f:?}");
    let f = edit(|v| v["nodes"][3]["data"]["timeoutMinutes"] = json!(0));
    assert!(has(&f, Some("ok"), "data/timeoutMinutes"), "{f:?}");
}

#[test]
fn approvals_inside_parallel_branches_are_refused() {
    let f = edit(|v| {
        let nodes = v["nodes"].as_array_mut().unwrap();
        nodes.push(json!({"id": "par", "type": "parallel", "data": {"branches": [["ok"]]}}));
        v["edges"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "e9", "source": "in", "target": "par"}));
    });
    assert!(has(&f, Some("par"), "data/branches/0"), "{f:?}");
}

#[tokio::test]
async fn retry_tokens_are_scoped_to_one_call_and_repeat_in_sequence() {
    use crate::service::tools::{next_retry_token, with_retry_token};
    assert_eq!(next_retry_token(), None, "no token outside a tokened call");
    let seq = || async { (next_retry_token(), next_retry_token(), next_retry_token()) };
    let first = with_retry_token("tok".into(), seq()).await;
    assert_eq!(
        first,
        (
            Some("tok".into()),
            Some("tok-2".into()),
            Some("tok-3".into())
        )
    );
    // The same call repeated (a step re-run after a crash) sends the same tokens.
    assert_eq!(with_retry_token("tok".into(), seq()).await, first);
    assert_eq!(next_retry_token(), None);
}
