//! The webhook outbox: the gateway and the approval flow emit events that are
//! stored durably and can be polled at `/api/v1/events` — per organisation, in
//! order, with secret arguments redacted.

use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

async fn setup() -> (TestApp, Client) {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    (app, admin)
}

async fn call(c: &Client, body: Value) -> (u16, Value) {
    let res = c.post("/api/tools/execute", body).await;
    let s = res.status().as_u16();
    (s, res.json().await.unwrap())
}

async fn decide(c: &Client, approval: &str, approved: bool) -> (u16, Value) {
    let res = c
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": approved, "reason": "checked"}),
        )
        .await;
    let s = res.status().as_u16();
    (s, res.json().await.unwrap())
}

/// Every event of the caller's organisation, paging with `after` two at a time
/// (so the cursor is exercised); checks ids increase and `next` is the last id.
async fn all_events(c: &Client) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let res = c
            .get(&format!("/api/v1/events?after={after}&limit=2"))
            .await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        let events = page["events"].as_array().unwrap().clone();
        if events.is_empty() {
            assert!(page["next"].is_null(), "{page}");
            return out;
        }
        assert!(events.len() <= 2, "{page}");
        for e in &events {
            let id = e["id"].as_i64().unwrap();
            assert!(id > after, "ids increase: {id} after {after}");
            assert!(e["createdAt"].as_str().unwrap().ends_with('Z'), "{e}");
            assert!(e["payload"].is_object(), "payload is JSON: {e}");
            after = id;
        }
        assert_eq!(page["next"], after, "{page}");
        out.extend(events);
    }
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

async fn first_compartment(c: &Client) -> String {
    let (status, comps) = call(c, json!({"toolName": "listCompartments", "args": {}})).await;
    assert_eq!(status, 200, "{comps}");
    comps["result"]["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn running_instance(c: &Client) -> String {
    let (_, comps) = call(c, json!({"toolName": "listCompartments", "args": {}})).await;
    for comp in comps["result"]["items"].as_array().unwrap() {
        let (_, body) = call(
            c,
            json!({"toolName": "listInstances", "args": {"compartmentId": comp["id"], "lifecycleState": "RUNNING"}}),
        )
        .await;
        if let Some(i) = body["result"]["items"].as_array().unwrap().first() {
            return i["id"].as_str().unwrap().to_string();
        }
    }
    panic!("no running instance in the demo tenancy");
}

#[tokio::test]
async fn a_read_tool_emits_one_tool_executed() {
    let (_app, admin) = setup().await;
    assert!(all_events(&admin).await.is_empty());
    let res = admin
        .post(
            "/api/v1/tools/listCompartments/execute",
            json!({"args": {}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let ran: Value = res.json().await.unwrap();

    let events = all_events(&admin).await;
    assert_eq!(kinds(&events), vec!["tool.executed"], "{events:?}");
    let p = &events[0]["payload"];
    assert_eq!(p["tool"], "listCompartments");
    assert_eq!(p["status"], "success");
    assert_eq!(p["risk"], "read");
    assert_eq!(p["cloud"], "emulator");
    assert_eq!(p["executionId"], ran["executionId"]);
    assert_eq!(p["principal"], format!("user:{}", admin.user_id()));
    assert!(p["approvalId"].is_null(), "{p}");
    assert!(p["durationMs"].as_i64().unwrap() >= 0, "{p}");
    assert!(p.get("error").is_none(), "{p}");
}

#[tokio::test]
async fn a_failing_tool_emits_status_error() {
    let (_app, admin) = setup().await;
    let missing = "ocid1.instance.oc1.iad.doesnotexist0000000000000000000000000000000000000000";
    let (status, body) = call(
        &admin,
        json!({"toolName": "getInstance", "args": {"instanceId": missing}}),
    )
    .await;
    assert!(status >= 400, "{status} {body}");

    let events = all_events(&admin).await;
    assert_eq!(kinds(&events), vec!["tool.executed"], "{events:?}");
    let p = &events[0]["payload"];
    assert_eq!(p["tool"], "getInstance");
    assert_eq!(p["status"], "error");
    assert_eq!(p["args"]["instanceId"], missing);
    assert!(!p["error"].as_str().unwrap().is_empty(), "{p}");
}

#[tokio::test]
async fn approvals_emit_requested_once_then_decided_then_executed() {
    let (app, admin) = setup().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let instance = running_instance(&admin).await;
    let before = all_events(&admin).await.len();

    let req = json!({"toolName": "stopInstance", "args": {"instanceId": instance}});
    let (status, body) = call(&op, req.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("APPROVAL_REQUIRED"))
    );
    let approval = body["approvalId"].as_str().unwrap().to_string();
    // Asked again: the pending approval is reused, and no second event is emitted.
    let (_, again) = call(&op, req.clone()).await;
    assert_eq!(again["approvalId"], approval.as_str());
    assert_eq!(decide(&admin, &approval, true).await.0, 200);
    let (status, ran) = call(&op, req).await;
    assert_eq!(status, 200, "{ran}");

    let events = all_events(&admin).await;
    let new = &events[before..];
    assert_eq!(
        kinds(new),
        vec!["approval.requested", "approval.decided", "tool.executed"],
        "{new:?}"
    );
    let requested = &new[0]["payload"];
    assert_eq!(requested["approvalId"], approval.as_str());
    assert_eq!(requested["tool"], "stopInstance");
    assert_eq!(requested["requester"], format!("user:{}", op.user_id()));
    assert_eq!(requested["risk"], "confirm");
    assert_eq!(requested["args"]["instanceId"], instance.as_str());
    assert!(requested["expiresAt"].as_i64().unwrap() > 0, "{requested}");

    let decided = &new[1]["payload"];
    assert_eq!(decided["approvalId"], approval.as_str());
    assert_eq!(decided["tool"], "stopInstance");
    assert_eq!(decided["decision"], "approved");
    assert_eq!(decided["decidedBy"], format!("user:{}", admin.user_id()));
    assert_eq!(decided["reason"], "checked");

    let executed = &new[2]["payload"];
    assert_eq!(executed["tool"], "stopInstance");
    assert_eq!(executed["status"], "success");
    assert_eq!(executed["risk"], "confirm");
    assert_eq!(executed["approvalId"], approval.as_str());
    assert_eq!(executed["principal"], format!("user:{}", op.user_id()));

    // A rejection says so.
    let (_, body) = call(
        &op,
        json!({"toolName": "rebootInstance", "args": {"instanceId": instance}}),
    )
    .await;
    let rejected = body["approvalId"].as_str().unwrap().to_string();
    assert_eq!(decide(&admin, &rejected, false).await.0, 200);
    let events = all_events(&admin).await;
    let last = events.last().unwrap();
    assert_eq!(last["kind"], "approval.decided");
    assert_eq!(last["payload"]["approvalId"], rejected.as_str());
    assert_eq!(last["payload"]["decision"], "rejected");
}

#[tokio::test]
async fn secret_arguments_never_reach_an_event() {
    let (app, admin) = setup().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let instance = running_instance(&admin).await;
    let secret = "TOPSECRET-e4b1c9d2";
    let req = json!({"toolName": "runInstanceCommand", "args": {"instanceId": instance, "script": format!("export API_TOKEN={secret}\nuname -a")}});
    let (status, body) = call(&op, req.clone()).await;
    assert_eq!(status, 403, "{body}");
    let approval = body["approvalId"].as_str().unwrap().to_string();
    assert_eq!(decide(&admin, &approval, true).await.0, 200);
    let (status, ran) = call(&op, req).await;
    assert_eq!(status, 200, "{ran}");

    let events = all_events(&admin).await;
    let command_events: Vec<&Value> = events
        .iter()
        .filter(|e| e["payload"]["tool"] == "runInstanceCommand" && e["kind"] != "approval.decided")
        .collect();
    assert_eq!(
        command_events.len(),
        2,
        "requested and executed: {events:?}"
    );
    for e in command_events {
        assert_eq!(e["payload"]["args"]["script"], "[REDACTED]", "{e}");
        assert_eq!(e["payload"]["args"]["instanceId"], instance.as_str());
    }
    let raw = admin
        .get("/api/v1/events?limit=1000")
        .await
        .text()
        .await
        .unwrap();
    assert!(raw.contains("[REDACTED]"), "{raw}");
    assert!(!raw.contains(secret), "the secret leaked into an event");
}

#[tokio::test]
async fn another_organisations_events_are_not_visible() {
    let (app, admin) = setup().await;
    first_compartment(&admin).await;
    let ours = all_events(&admin).await;
    assert_eq!(ours.len(), 1);

    let res = admin
        .post("/api/admin/orgs", json!({"name": "Other", "slug": "other"}))
        .await;
    assert_eq!(res.status(), 201);
    // A new organisation acts in no compartment until a platform admin assigns some.
    let other_id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .assign_compartments(&other_id, &[&app.tenancy()])
        .await;
    assert_eq!(
        admin
            .post(
                "/api/auth/organization/set-active",
                json!({"organizationSlug": "other"})
            )
            .await
            .status(),
        200
    );
    let other = app.member(&admin, "boss@other.test", "admin").await;
    assert!(
        all_events(&other).await.is_empty(),
        "acme's events are not other's"
    );
    // Also not by naming an earlier cursor.
    let page: Value = other
        .get("/api/v1/events?after=0&limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["events"], json!([]));
    assert!(page["next"].is_null());

    // other's own run shows up for other only.
    first_compartment(&other).await;
    let theirs = all_events(&other).await;
    assert_eq!(kinds(&theirs), vec!["tool.executed"]);
    assert_eq!(
        theirs[0]["payload"]["principal"],
        format!("user:{}", other.user_id())
    );
    assert!(theirs[0]["id"].as_i64() > ours[0]["id"].as_i64());
    // The admin, back in acme, still sees only acme's event.
    assert_eq!(
        admin
            .post(
                "/api/auth/organization/set-active",
                json!({"organizationSlug": "acme"})
            )
            .await
            .status(),
        200
    );
    let again = all_events(&admin).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["id"], ours[0]["id"]);
}

#[tokio::test]
async fn bad_cursor_or_limit_is_400_naming_it_and_viewers_are_403() {
    let (app, admin) = setup().await;
    for (query, field) in [
        ("after=abc", "after"),
        ("after=-1", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
    ] {
        let res = admin.get(&format!("/api/v1/events?{query}")).await;
        assert_eq!(res.status(), 400, "{query}");
        let b: Value = res.json().await.unwrap();
        assert_eq!(b["code"], "VALIDATION_ERROR", "{query}");
        assert!(
            b["error"].as_str().unwrap().contains(field),
            "{query}: {b} should name {field}"
        );
    }
    assert_eq!(app.get("/api/v1/events").await.status(), 401);
    let viewer = app.member(&admin, "v@acme.test", "viewer").await;
    assert_eq!(viewer.get("/api/v1/events").await.status(), 403);
    let op = app.member(&admin, "op@acme.test", "operator").await;
    assert_eq!(
        op.get("/api/v1/events").await.status(),
        403,
        "events mirror the audit log: admin:audit"
    );
}

#[tokio::test]
async fn an_outbox_the_database_refuses_does_not_fail_the_tool() {
    let (app, admin) = setup().await;
    app.sql("ALTER TABLE events RENAME TO events_away").await;
    let (status, body) = call(&admin, json!({"toolName": "listCompartments", "args": {}})).await;
    assert_eq!(
        status, 200,
        "the tool ran; a lost event must not turn it into an error: {body}"
    );
    let activity: Value = admin
        .get("/api/activity?tool=listCompartments")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        activity["total"], 1,
        "the run is recorded (started before it ran)"
    );
    // The outcome and its event are written together or not at all: still running.
    assert_eq!(activity["items"][0]["status"], "running", "{activity}");
    let logs = portal_testkit::captured_logs();
    assert!(
        logs.contains("execution outcome could not be written"),
        "the failure is logged"
    );

    app.sql("ALTER TABLE events_away RENAME TO events").await;
    assert!(all_events(&admin).await.is_empty());
    // Nothing is lost for good: the finishing sweep records the run and its event.
    let ctx = app.state.app.ctx(None, None);
    assert_eq!(
        portal_core::service::executions::finish_stale(&ctx, 0)
            .await
            .unwrap(),
        1
    );
    let events = all_events(&admin).await;
    assert_eq!(kinds(&events), vec!["tool.executed"]);
    assert_eq!(events[0]["payload"]["status"], "unknown");
    first_compartment(&admin).await;
    assert_eq!(
        kinds(&all_events(&admin).await),
        vec!["tool.executed", "tool.executed"]
    );
}

#[tokio::test]
async fn member_and_api_key_changes_reach_the_outbox_without_secrets() {
    let (app, admin) = setup().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let path = format!("/api/org/members/{}", op.user_id());
    assert_eq!(
        admin.patch(&path, json!({"role": "viewer"})).await.status(),
        200
    );
    let (secret, key_id) = admin.create_key("ci", &["tools:read"]).await;
    assert_eq!(
        admin
            .delete(&format!("/api/api-keys/{key_id}"))
            .await
            .status(),
        204
    );
    assert_eq!(admin.delete(&path).await.status(), 204);
    // A refused change (the key is gone already) is no news.
    assert_eq!(
        admin
            .delete(&format!("/api/api-keys/{key_id}"))
            .await
            .status(),
        404
    );

    let events = all_events(&admin).await;
    assert_eq!(
        kinds(&events),
        vec![
            "member.role_changed",
            "api_key.created",
            "api_key.revoked",
            "member.removed"
        ]
    );
    let actor = format!("user:{}", admin.user_id());
    assert_eq!(events[0]["payload"]["userId"], op.user_id());
    assert_eq!(
        (&events[0]["payload"]["from"], &events[0]["payload"]["to"]),
        (&json!("operator"), &json!("viewer"))
    );
    assert_eq!(events[1]["payload"]["keyId"], key_id);
    assert_eq!(events[1]["payload"]["permissions"], json!(["tools:read"]));
    assert_eq!(events[2]["payload"]["target"], format!("key:{key_id}"));
    assert_eq!(events[3]["payload"]["userId"], op.user_id());
    assert!(events
        .iter()
        .all(|e| e["payload"]["actor"] == actor.as_str()));
    let text = serde_json::to_string(&events).unwrap();
    assert!(
        !text.contains(&secret),
        "the key's secret never reaches an event"
    );

    // Each event has its audit entry beside it, in the same order.
    let audit: Value = admin
        .get("/api/audit?limit=100")
        .await
        .json()
        .await
        .unwrap();
    let mut actions: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .filter(|a| a.starts_with("member.") || a.starts_with("api_key."))
        .collect();
    actions.reverse();
    assert_eq!(
        actions,
        vec![
            "member.invited",
            "member.joined",
            "member.role_changed",
            "api_key.created",
            "api_key.revoked",
            "member.removed"
        ]
    );
}
