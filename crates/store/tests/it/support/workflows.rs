#![allow(dead_code)]
//! Workflow definitions and runs to store, for the workflow contract and the
//! unit-of-work checks.

use portal_core::identity::PrincipalSnapshot;
use portal_core::workflows::model::*;
use portal_core::workflows::Definition;
use serde_json::json;

pub fn definition(name: &str, tag: &str) -> Definition {
    Definition::from_value(json!({
        "name": name, "tags": [tag],
        "nodes": [
            {"id": "in", "type": "input", "data": {}},
            {"id": "ok", "type": "approval", "data": {"message": "go?"}},
            {"id": "out", "type": "output", "data": {}}
        ],
        "edges": [
            {"id": "e1", "source": "in", "target": "ok"},
            {"id": "e2", "source": "ok", "target": "out"}
        ]
    }))
    .unwrap()
}

pub fn workflow(id: &str, org: &str, name: &str, tag: &str, at: i64) -> Workflow {
    Workflow {
        id: id.into(),
        org_id: org.into(),
        owner_id: "user:u1".into(),
        status: WorkflowStatus::Draft,
        version: 0,
        definition: definition(name, tag),
        created_at: at,
        updated_at: at,
    }
}

pub fn new_run(org: &str, at: i64) -> WorkflowRun {
    WorkflowRun {
        id: "r1".into(),
        org_id: org.into(),
        workflow_id: "w1".into(),
        version: 1,
        status: RunStatus::Running,
        input: json!({"x": 1}),
        output: None,
        error: None,
        started_by: "user:u1".into(),
        principal: PrincipalSnapshot {
            id: "user:u1".into(),
            key_id: None,
            session: false,
            session_id: None,
            permissions: vec!["workflows:execute".into()],
        },
        steps_used: 0,
        max_steps: 10,
        event_seq: 0,
        rev: 0,
        created_at: at,
        updated_at: at,
        finished_at: None,
    }
}
