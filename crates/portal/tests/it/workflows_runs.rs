//! The durable executor's paths over HTTP: rejection and timeout of an
//! approval step (each node rule), cancel, retry from the failed step, a
//! revoked starter stopping the run, and a tool that itself needs an approval
//! parking the run until an approver decides (the tool then runs once).

use crate::workflows_support;

use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};
use workflows_support::*;

async fn setup() -> (TestApp, Client, Client, String) {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "50")
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let tenancy = admin.tenancy().await;
    (app, admin, op, tenancy)
}

/// input → approval → list instances → output: the tool runs only after the decision.
fn approve_then_list() -> Value {
    json!({
        "name": "Approve then list",
        "nodes": [
            {"id": "in", "type": "input", "data": {}},
            {"id": "ok", "type": "approval", "data": {"message": "List {{ input.compartment }}?",
                "approvers": {"role": "admin"}}},
            {"id": "list", "type": "tool", "data": {"toolName": "listInstances",
                "args": {"compartmentId": "{{ input.compartment }}"}}},
            {"id": "out", "type": "output", "data": {"mapping": {"n": "steps.list.result.count"}}}
        ],
        "edges": [
            {"id": "e1", "source": "in", "target": "ok"},
            {"id": "e2", "source": "ok", "target": "list"},
            {"id": "e3", "source": "list", "target": "out"}
        ]
    })
}

async fn decide(c: &Client, run: &str, node: &str, verdict: &str) -> (u16, Value) {
    let res = c
        .post(
            &format!("/api/v1/workflows/runs/{run}/steps/{node}/{verdict}"),
            json!({"reason": "because"}),
        )
        .await;
    let s = res.status().as_u16();
    (s, res.json().await.unwrap())
}

#[tokio::test]
async fn rejection_follows_the_node_rule() {
    let (_app, admin, op, tenancy) = setup().await;
    let fail = publish(
        &admin,
        check_and_approve("{{ input.compartment }}", "fail", None),
    )
    .await;
    let end = publish(
        &admin,
        check_and_approve("{{ input.compartment }}", "end", None),
    )
    .await;
    let input = json!({"compartment": tenancy});

    let r1 = start(&op, &fail, input.clone()).await;
    wait_for(&op, &r1, "suspended").await;
    let (s, _) = decide(&op, &r1, "ok", "reject").await;
    assert_eq!(s, 200);
    let failed = wait_for(&op, &r1, "failed").await;
    assert_eq!(step(&failed, "ok")["status"], "failed");
    let err = failed["run"]["error"].as_str().unwrap();
    assert!(
        err.contains("Rejected by") && err.contains("because"),
        "{err}"
    );
    // Deciding again is refused: nothing waits any more.
    let (s, _) = decide(&admin, &r1, "ok", "approve").await;
    assert_eq!(s, 409);

    let r2 = start(&op, &end, input).await;
    wait_for(&op, &r2, "suspended").await;
    decide(&op, &r2, "ok", "reject").await;
    let ended = wait_for(&op, &r2, "completed").await;
    assert_eq!(step(&ended, "ok")["output"]["approved"], false);
    assert_eq!(step(&ended, "out")["status"], "skipped", "{ended:#}");
    assert_eq!(ended["run"]["output"], Value::Null);
}

#[tokio::test]
async fn an_approval_step_that_lapses_is_rejected() {
    let (app, admin, op, tenancy) = setup().await;
    let id = publish(
        &admin,
        check_and_approve("{{ input.compartment }}", "fail", Some(60)),
    )
    .await;
    let run_id = start(&op, &id, json!({"compartment": tenancy})).await;
    let parked = wait_for(&op, &run_id, "suspended").await;
    assert!(step(&parked, "ok")["deadline"].is_string());
    // An hour passes: the lapse job is due and the deadline behind us.
    app.sql(&format!(
        "UPDATE workflow_steps SET deadline = 1 WHERE run_id = '{run_id}'; \
         UPDATE jobs SET run_after = 1 WHERE id LIKE 'wf-{run_id}-ok-%-timeout'"
    ))
    .await;
    let failed = wait_for(&op, &run_id, "failed").await;
    let err = failed["run"]["error"].as_str().unwrap();
    assert!(err.contains("timed out"), "{err}");
}

#[tokio::test]
async fn who_may_decide_is_the_node_s_rule_and_cancel_stops_the_run() {
    let (_app, admin, op, tenancy) = setup().await;
    let id = publish(&admin, approve_then_list()).await;
    let run_id = start(&op, &id, json!({"compartment": tenancy})).await;
    wait_for(&op, &run_id, "suspended").await;
    // The node asks for an admin: the operator may not decide.
    let (s, body) = decide(&op, &run_id, "ok", "approve").await;
    assert_eq!(s, 403, "{body}");
    let res = op
        .post(
            &format!("/api/v1/workflows/runs/{run_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let cancelled = run(&op, &run_id).await;
    assert_eq!(cancelled["run"]["status"], "cancelled");
    let (s, _) = decide(&admin, &run_id, "ok", "approve").await;
    assert_eq!(s, 409, "a cancelled run takes no decision");
    let res = op
        .post(
            &format!("/api/v1/workflows/runs/{run_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 409);
    // Nothing after the approval ever ran.
    assert!(cancelled["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["nodeId"] != "list"));
}

#[tokio::test]
async fn a_failed_run_is_retried_from_its_failed_step() {
    let (_app, admin, op, tenancy) = setup().await;
    let id = publish(&admin, approve_then_list()).await;
    let run_id = start(&op, &id, json!({"compartment": tenancy})).await;
    wait_for(&op, &run_id, "suspended").await;
    // The starter loses the right to run tools before the tool step runs.
    let op_id = op.user_id();
    let res = admin
        .patch(
            &format!("/api/org/members/{op_id}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (s, _) = decide(&admin, &run_id, "ok", "approve").await;
    assert_eq!(s, 200);
    let failed = wait_for(&admin, &run_id, "failed").await;
    assert_eq!(step(&failed, "list")["status"], "failed");
    assert!(
        step(&failed, "list")["error"]
            .as_str()
            .unwrap()
            .contains("tools:execute"),
        "{failed:#}"
    );
    // A completed run cannot be retried, a failed one can once the cause is gone.
    let res = admin
        .patch(
            &format!("/api/org/members/{op_id}"),
            json!({"role": "operator"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = op
        .post(&format!("/api/v1/workflows/runs/{run_id}/retry"), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let done = wait_for(&op, &run_id, "completed").await;
    assert_eq!(step(&done, "list")["attempt"], 2);
    assert_eq!(
        step(&done, "ok")["attempt"],
        1,
        "the approval is not asked again"
    );
    assert_eq!(step(&done, "ok")["status"], "completed");
    assert!(done["run"]["output"]["n"].is_number(), "{done:#}");
    let res = op
        .post(&format!("/api/v1/workflows/runs/{run_id}/retry"), json!({}))
        .await;
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn a_revoked_starter_stops_the_run() {
    let (_app, admin, _op, tenancy) = setup().await;
    let id = publish(&admin, approve_then_list()).await;
    let (key, key_id) = admin
        .create_key(
            "automation",
            &[
                "workflows:read",
                "workflows:execute",
                "tools:read",
                "tools:execute",
            ],
        )
        .await;
    let bot = _app.with_key(&key);
    let run_id = start(&bot, &id, json!({"compartment": tenancy})).await;
    wait_for(&admin, &run_id, "suspended").await;
    let res = admin.delete(&format!("/api/api-keys/{key_id}")).await;
    assert!(res.status().is_success(), "{}", res.status());
    let (s, _) = decide(&admin, &run_id, "ok", "approve").await;
    assert_eq!(s, 200);
    let failed = wait_for(&admin, &run_id, "failed").await;
    let err = failed["run"]["error"].as_str().unwrap();
    assert!(err.contains("revoked"), "{err}");
    assert_ne!(step(&failed, "list")["status"], "completed", "{failed:#}");
}

/// input → stop an instance (needs an approval) → output.
fn stop_instance() -> Value {
    json!({
        "name": "Stop an instance",
        "nodes": [
            {"id": "in", "type": "input", "data": {}},
            {"id": "stop", "type": "tool", "data": {"toolName": "stopInstance",
                "args": {"instanceId": "{{ input.instance }}"}}},
            {"id": "out", "type": "output", "data": {"mapping": {"state": "steps.stop.result"}}}
        ],
        "edges": [
            {"id": "e1", "source": "in", "target": "stop"},
            {"id": "e2", "source": "stop", "target": "out"}
        ]
    })
}

async fn stops_recorded(app: &TestApp, outcome: &str) -> usize {
    app.query_strings(&format!(
        "SELECT id FROM tool_executions WHERE tool_name = 'stopInstance' AND status = '{outcome}'"
    ))
    .await
    .len()
}

#[tokio::test]
async fn a_tool_needing_approval_parks_the_run_until_decided() {
    let (app, admin, op, _tenancy) = setup().await;
    let instance = admin.running_instance().await;
    let id = publish(&admin, stop_instance()).await;
    let run_id = start(&op, &id, json!({"instance": instance})).await;
    let parked = wait_for(&op, &run_id, "suspended").await;
    let approval = step(&parked, "stop")["approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("{parked:#}"))
        .to_string();
    assert_eq!(step(&parked, "stop")["status"], "waiting");
    assert_eq!(stops_recorded(&app, "success").await, 0);
    // The approvals inbox shows it, bound to the run's starter; deciding it resumes the run.
    let res = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true, "reason": "ok"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let done = wait_for(&op, &run_id, "completed").await;
    assert_eq!(
        step(&done, "stop")["input"]["instanceId"],
        instance.as_str()
    );
    assert_eq!(
        stops_recorded(&app, "success").await,
        1,
        "the tool ran once"
    );
    let (_, inst) =
        portal_testkit::run_tool(&admin, "getInstance", json!({"instanceId": instance})).await;
    let state = inst["result"]["lifecycleState"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(state == "STOPPING" || state == "STOPPED", "{inst}");

    // A rejected tool approval fails the step (and the run), the tool never runs.
    let other = start(&op, &id, json!({"instance": instance})).await;
    let parked = wait_for(&op, &other, "suspended").await;
    let approval = step(&parked, "stop")["approvalId"]
        .as_str()
        .unwrap()
        .to_string();
    let res = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": false, "reason": "no"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let failed = wait_for(&op, &other, "failed").await;
    assert!(
        step(&failed, "stop")["error"]
            .as_str()
            .unwrap()
            .contains("rejected"),
        "{failed:#}"
    );
    assert_eq!(stops_recorded(&app, "success").await, 1);
}

#[tokio::test]
async fn a_run_stops_at_its_step_budget() {
    let (_app, admin, op, tenancy) = setup().await;
    let mut def = check_and_approve("{{ input.compartment }}", "fail", None);
    def["maxSteps"] = json!(2);
    let id = publish(&admin, def).await;
    let run_id = start(&op, &id, json!({"compartment": tenancy})).await;
    let failed = wait_for(&op, &run_id, "failed").await;
    assert!(
        failed["run"]["error"]
            .as_str()
            .unwrap()
            .contains("budget of 2 steps"),
        "{failed:#}"
    );
    assert_eq!(failed["run"]["stepsUsed"], 2);
    assert_eq!(step(&failed, "list")["status"], "completed");
    assert_eq!(step(&failed, "any")["status"], "pending", "never ran");
}

#[tokio::test]
async fn a_step_whose_runner_died_mid_step_is_taken_over_and_the_run_ends_once() {
    let (app, admin, op, tenancy) = setup().await;
    let id = publish(
        &admin,
        check_and_approve("{{ input.compartment }}", "fail", None),
    )
    .await;
    let run_id = start(&op, &id, json!({"compartment": tenancy})).await;
    wait_for(&op, &run_id, "suspended").await;
    // The state a replica leaves when it dies inside the output step: the
    // approval decided, the output step running, its job claimed under a lease
    // that has lapsed (as the step's own transaction wrote them, nothing more).
    let approved = r#"{"approved":true,"decidedBy":"user:x","reason":null}"#;
    app.sql(&format!(
        "UPDATE workflow_steps SET status = 'completed', output = '{approved}' \
           WHERE run_id = '{run_id}' AND node_id = 'ok'; \
         INSERT INTO workflow_steps (run_id, org_id, node_id, node_type, status, attempt, \
           started_at, created_at, updated_at) SELECT id, org_id, 'out', 'output', 'running', 1, 1, 1, 1 \
           FROM workflow_runs WHERE id = '{run_id}'; \
         UPDATE workflow_runs SET status = 'running', rev = rev + 1 WHERE id = '{run_id}'; \
         INSERT INTO jobs (id, kind, payload, state, run_after, attempts, max_attempts, \
           lease_owner, lease_until, created_at, updated_at) SELECT 'wf-{run_id}-out-1', \
           'workflow.step', REPLACE(payload, '\"nodeId\":\"in\"', '\"nodeId\":\"out\"'), 'running', 1, 1, 5, 'replica-dead', 1, 1, 1 \
           FROM jobs WHERE id = 'wf-{run_id}-in-1'"
    ))
    .await;
    let done = wait_for(&op, &run_id, "completed").await;
    assert_eq!(step(&done, "out")["status"], "completed");
    assert!(done["run"]["output"]["count"].is_number(), "{done:#}");
    let job = app
        .query_strings(&format!(
            "SELECT state || ' ' || attempts FROM jobs WHERE id = 'wf-{run_id}-out-1'"
        ))
        .await;
    let mut job = job;
    for _ in 0..100 {
        if job == ["done 2"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        job = app
            .query_strings(&format!(
                "SELECT state || ' ' || attempts FROM jobs WHERE id = 'wf-{run_id}-out-1'"
            ))
            .await;
    }
    assert_eq!(job, ["done 2"], "taken over once");
    let ends = app
        .query_strings(&format!(
            "SELECT kind FROM workflow_run_events WHERE run_id = '{run_id}' AND kind = 'run.completed'"
        ))
        .await;
    assert_eq!(ends.len(), 1, "the run ended exactly once");
    let outbox = app
        .query_strings(&format!(
            "SELECT kind FROM events WHERE kind = 'workflow.run.completed' AND payload LIKE '%{run_id}%'"
        ))
        .await;
    assert_eq!(outbox.len(), 1);
}
