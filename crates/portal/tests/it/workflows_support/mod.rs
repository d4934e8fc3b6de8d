//! Shared by the workflow tests: definitions, and waiting for a run to reach a status.
#![allow(dead_code)]

use std::time::Duration;

use portal_testkit::Client;
use serde_json::{json, Value};

/// input → list instances (read) → condition → approval → output.
pub fn check_and_approve(compartment_arg: &str, on_reject: &str, timeout: Option<u32>) -> Value {
    let mut approval = json!({"message": "Found {{ steps.list.result.count }} instances; go on?", "onReject": on_reject});
    if let Some(t) = timeout {
        approval["timeoutMinutes"] = json!(t);
    }
    json!({
        "name": "Check then approve",
        "tags": ["ops"],
        "inputSchema": {"type": "object", "required": ["compartment"],
            "properties": {"compartment": {"type": "string", "minLength": 1}}},
        "nodes": [
            {"id": "in", "type": "input", "data": {}},
            {"id": "list", "type": "tool", "data": {"toolName": "listInstances",
                "args": {"compartmentId": compartment_arg}}},
            {"id": "any", "type": "condition", "data": {"expression": "steps.list.result.count >= 0"}},
            {"id": "ok", "type": "approval", "data": approval},
            {"id": "none", "type": "output", "data": {"mapping": {"empty": "true"}}},
            {"id": "out", "type": "output", "data": {"mapping": {
                "count": "steps.list.result.count", "approvedBy": "steps.ok.decidedBy"}}}
        ],
        "edges": [
            {"id": "e1", "source": "in", "target": "list"},
            {"id": "e2", "source": "list", "target": "any"},
            {"id": "e3", "source": "any", "target": "ok", "branch": true},
            {"id": "e4", "source": "any", "target": "none", "branch": false},
            {"id": "e5", "source": "ok", "target": "out"}
        ]
    })
}

/// Creates and publishes `def`; its id.
pub async fn publish(c: &Client, def: Value) -> String {
    let res = c.post("/api/v1/workflows", def).await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    let id = body["workflow"]["id"].as_str().unwrap().to_string();
    let res = c
        .post(&format!("/api/v1/workflows/{id}/publish"), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    id
}

/// Starts a run; its id.
pub async fn start(c: &Client, workflow: &str, input: Value) -> String {
    let res = c
        .post(
            &format!("/api/v1/workflows/{workflow}/run"),
            json!({"input": input}),
        )
        .await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["run"]["id"].as_str().unwrap().to_string()
}

/// The run with its steps.
pub async fn run(c: &Client, run: &str) -> Value {
    let res = c.get(&format!("/api/v1/workflows/runs/{run}")).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Waits (up to 20 s) for the run to reach `status`; the run body.
pub async fn wait_for(c: &Client, run_id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let body = run(c, run_id).await;
        if body["run"]["status"] == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run never became {status}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The step of `node` in a run body.
pub fn step<'a>(body: &'a Value, node: &str) -> &'a Value {
    body["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["nodeId"] == node))
        .unwrap_or_else(|| panic!("no step {node}: {body:#}"))
}
