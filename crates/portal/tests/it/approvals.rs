//! Approvals: tools that change the cloud run only with an approval bound to
//! the organisation, the requester, the tool and the exact arguments —
//! single-use, expiring, four-eyes for danger — from any entry point.

use portal_testkit::{with_operator as setup, Client, TestApp};
use serde_json::{json, Value};

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

#[tokio::test]
async fn approve_then_run_exactly_once() {
    let (app, admin, op, instance) = setup().await;
    let req = json!({"toolCallId": "call-1", "toolName": "stopInstance", "args": {"instanceId": instance}});
    let (status, body) = call(&op, req.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "APPROVAL_REQUIRED");
    assert_eq!(body["toolCallId"], "call-1");
    let approval = body["approvalId"].as_str().unwrap().to_string();
    assert_eq!(
        body["approveUrl"],
        format!(
            "{}/approvals/{approval}",
            app.state.settings.http.public_url
        )
    );

    // Asking again reuses the pending approval.
    let (_, again) = call(&op, req.clone()).await;
    assert_eq!(again["approvalId"], approval.as_str());
    let pending: Value = admin.get("/api/tools/approve").await.json().await.unwrap();
    let list = pending["approvals"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["args"]["instanceId"], instance.as_str());
    assert_eq!(list[0]["requester"], format!("user:{}", op.user_id()));
    // The binding MAC is never published (M5): a hash over secret arguments is a guessing oracle.
    assert!(list[0].get("argsHash").is_none(), "{pending}");
    let metrics = app.get("/api/metrics").await.text().await.unwrap();
    assert!(metrics.contains("approvals_pending 1"), "{metrics}");

    // The nothing ran yet: still RUNNING.
    let (_, inst) = call(
        &admin,
        json!({"toolName": "getInstance", "args": {"instanceId": instance}}),
    )
    .await;
    assert_eq!(inst["result"]["lifecycleState"], "RUNNING");

    let (status, decided) = decide(&admin, &approval, true).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "approved");
    assert_eq!(
        decide(&admin, &approval, false).await.0,
        409,
        "decided once"
    );

    // The same call runs once: the instance is stopping.
    let (status, ran) = call(&op, req.clone()).await;
    assert_eq!(status, 200, "{ran}");
    assert!(
        matches!(
            ran["result"]["lifecycleState"].as_str(),
            Some("STOPPING" | "STOPPED")
        ),
        "{ran}"
    );
    // Replaying it is refused: the approval is spent.
    let (status, replay) = call(&op, req).await;
    assert_eq!(status, 409, "{replay}");
    let activity: Value = admin
        .get("/api/activity?tool=stopInstance")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(activity["total"], 1, "ran exactly once");
    assert_eq!(activity["items"][0]["approvalId"], approval.as_str());
    let audit: Value = admin
        .get("/api/audit?action=approval.*")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["approval.approved", "approval.requested"]);
}

#[tokio::test]
async fn rejection_changed_args_other_requesters_and_other_orgs() {
    let (app, admin, op, instance) = setup().await;
    let (_, body) = call(
        &op,
        json!({"toolName": "rebootInstance", "args": {"instanceId": instance}}),
    )
    .await;
    let approval = body["approvalId"].as_str().unwrap().to_string();
    let (status, _) = decide(&admin, &approval, true).await;
    assert_eq!(status, 200);
    // Different arguments with this approval: refused.
    let other = json!({"toolName": "rebootInstance", "approvalId": approval, "args": {"instanceId": "ocid1.instance.oc1.iad.someotherone"}});
    assert_eq!(call(&op, other).await.0, 409);
    // Another principal cannot spend it.
    let op2 = app.member(&admin, "op2@acme.test", "operator").await;
    let theirs = json!({"toolName": "rebootInstance", "approvalId": approval, "args": {"instanceId": instance}});
    assert_eq!(call(&op2, theirs.clone()).await.0, 403);
    // The requester can.
    let (status, _) = call(&op, theirs).await;
    assert_eq!(status, 200);

    // A rejection says so.
    let (_, body) = call(
        &op,
        json!({"toolName": "stopInstance", "toolCallId": "c9", "args": {"instanceId": instance}}),
    )
    .await;
    let rejected = body["approvalId"].as_str().unwrap().to_string();
    assert_eq!(decide(&admin, &rejected, false).await.0, 200);
    let (status, body) = call(
        &op,
        json!({"toolName": "stopInstance", "toolCallId": "c9", "args": {"instanceId": instance}}),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body["error"].as_str().unwrap().contains("rejected"),
        "{body}"
    );

    // Another organisation's approval is not found.
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
    let (status, _) = decide(&admin, &approval, true).await;
    assert_eq!(status, 404);
    let (status, _) = call(&admin, json!({"toolName": "rebootInstance", "approvalId": approval, "args": {"instanceId": instance}})).await;
    assert_eq!(status, 404);
    // Viewers cannot approve.
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
    let viewer = app.member(&admin, "v@acme.test", "viewer").await;
    assert_eq!(viewer.get("/api/tools/approve").await.status(), 403);
}

#[tokio::test]
async fn danger_needs_a_second_person_and_tools_danger() {
    let (app, admin, op, instance) = setup().await;
    // Operators cannot even request danger tools.
    let req = json!({"toolName": "terminateInstance", "args": {"instanceId": instance}});
    assert_eq!(call(&op, req.clone()).await.0, 403);
    let (status, body) = call(&admin, req.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("APPROVAL_REQUIRED"))
    );
    let approval = body["approvalId"].as_str().unwrap().to_string();
    // Self-approval refused (four-eyes); an operator lacks tools:danger.
    let (status, body) = decide(&admin, &approval, true).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("Four-eyes"));
    assert_eq!(decide(&op, &approval, true).await.0, 403);
    // A second admin approves; the requester runs it.
    let admin2 = app.member(&admin, "admin2@acme.test", "admin").await;
    assert_eq!(decide(&admin2, &approval, true).await.0, 200);
    let (status, ran) = call(&admin, req).await;
    assert_eq!(status, 200, "{ran}");
    assert!(
        matches!(
            ran["result"]["lifecycleState"].as_str(),
            Some("TERMINATING" | "TERMINATED")
        ),
        "{ran}"
    );
}

#[tokio::test]
async fn approvals_expire_and_survive_a_restart() {
    let (app, admin, op, instance) = setup().await;
    let req = json!({"toolName": "stopInstance", "args": {"instanceId": instance}});
    let (_, body) = call(&op, req.clone()).await;
    let first = body["approvalId"].as_str().unwrap().to_string();
    app.sql(&format!(
        "UPDATE approvals SET expires_at = 1 WHERE id = '{first}'"
    ))
    .await;
    assert_eq!(
        decide(&admin, &first, true).await.0,
        409,
        "expired: no longer pending"
    );
    let (_, body) = call(&op, req.clone()).await;
    let second = body["approvalId"].as_str().unwrap().to_string();
    assert_ne!(first, second, "a fresh approval replaces the expired one");
    assert_eq!(decide(&admin, &second, true).await.0, 200);

    // A second replica (a restart, or another node) honours it from the database.
    let b = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .same_database_as(&app)
        .spawn()
        .await;
    let op_b = b.sign_in("op@acme.test", portal_testkit::PASSWORD).await;
    // Replica B has its own emulator (its own data dir); the approval is what is shared.
    let (status, body) = call(
        &op_b,
        json!({"toolName": "stopInstance", "approvalId": second, "args": {"instanceId": instance}}),
    )
    .await;
    assert_ne!(status, 403, "{body}");
    assert_ne!(status, 409, "{body}");
    let (status, _) = call(&op, req).await;
    assert_eq!(
        status, 403,
        "spent on the other replica: a new approval is needed here"
    );
}

#[tokio::test]
async fn v1_route_shares_the_gateway() {
    let (_app, admin, op, instance) = setup().await;
    let res = op
        .post(
            "/api/v1/tools/startInstance/execute",
            json!({"args": {"instanceId": instance}}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "APPROVAL_REQUIRED");
    let approval = body["approvalId"].as_str().unwrap().to_string();
    let req: Value = op
        .get("/api/tools/execute?toolName=terminateInstance")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(req["requiresApproval"], true);
    assert_eq!(req["canRun"], false);
    assert_eq!(
        req["requiredPermissions"],
        json!(["tools:execute", "tools:danger"])
    );
    assert_eq!(decide(&admin, &approval, true).await.0, 200);
    let res = op
        .post(
            "/api/v1/tools/startInstance/execute",
            json!({"args": {"instanceId": instance}, "approvalId": approval}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_admin_can_turn_four_eyes_off_and_it_is_audited() {
    let (_app, admin, op, instance) = setup().await;
    assert_eq!(
        op.request(reqwest::Method::PUT, "/api/org/settings")
            .json(&json!({"fourEyes": false}))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let res = admin
        .request(reqwest::Method::PUT, "/api/org/settings")
        .json(&json!({"fourEyes": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, body) = call(
        &admin,
        json!({"toolName": "terminateInstance", "args": {"instanceId": instance}}),
    )
    .await;
    let approval = body["approvalId"].as_str().unwrap().to_string();
    assert_eq!(
        decide(&admin, &approval, true).await.0,
        200,
        "self-approval allowed with four-eyes off"
    );
    let audit: Value = admin
        .get("/api/audit?action=org.settings_changed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["detail"]["fourEyes"], false);
}

#[tokio::test]
async fn secret_arguments_never_leave_the_executor() {
    let (app, admin, op, instance) = setup().await;
    let secret = "TOPSECRET-7f3a9c1e";
    let req = json!({"toolName": "runInstanceCommand", "toolCallId": "cmd-1", "args": {"instanceId": instance, "script": format!("export API_TOKEN={secret}\nuname -a")}});
    let (status, body) = call(&op, req.clone()).await;
    assert_eq!(status, 403);
    let approval = body["approvalId"].as_str().unwrap().to_string();
    let pending = admin.get("/api/tools/approve").await.text().await.unwrap();
    assert!(pending.contains("[REDACTED]"), "{pending}");
    let (status, decided) = decide(&admin, &approval, true).await;
    assert_eq!(status, 200);
    let (status, ran) = call(&op, req).await;
    assert_eq!(status, 200, "{ran}");
    let command = ran["result"]["commandId"].as_str().unwrap().to_string();
    let (status, exec) = call(&op, json!({"toolName": "getCommandExecution", "args": {"instanceId": instance, "commandId": command}})).await;
    assert_eq!(status, 200, "{exec}");
    assert!(exec["result"]["lifecycleState"].is_string(), "{exec}");

    let activity = admin.get("/api/activity").await.text().await.unwrap();
    let audit_json = admin
        .get("/api/audit?limit=200")
        .await
        .text()
        .await
        .unwrap();
    let audit_csv = admin
        .get("/api/audit?format=csv")
        .await
        .text()
        .await
        .unwrap();
    let audit_jsonl = admin
        .get("/api/audit?format=jsonl")
        .await
        .text()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let logs = portal_testkit::captured_logs();
    for (place, text) in [
        ("approval answer", body.to_string()),
        ("approvals list", pending),
        ("decision", decided.to_string()),
        ("run result", ran.to_string()),
        ("activity", activity.clone()),
        ("audit", audit_json),
        ("audit csv", audit_csv),
        ("audit jsonl", audit_jsonl),
        ("logs", logs),
    ] {
        assert!(!text.contains(secret), "the secret leaked into the {place}");
    }
    assert!(activity.contains("[REDACTED]"), "{activity}");
    drop(app);
}

async fn approved(requester: &Client, approver: &Client, tool: &str, args: Value) -> (u16, Value) {
    let req = json!({"toolName": tool, "args": args});
    let (status, body) = call(requester, req.clone()).await;
    assert_eq!(status, 403, "{tool} needs an approval: {body}");
    let (status, d) = decide(approver, body["approvalId"].as_str().unwrap(), true).await;
    assert_eq!(status, 200, "{d}");
    call(requester, req).await
}

#[tokio::test]
async fn storage_and_database_changes_run_once_approved() {
    let (app, admin, op, _) = setup().await;
    let admin2 = app.member(&admin, "admin2@acme.test", "admin").await;
    let (_, comps) = call(&admin, json!({"toolName": "listCompartments", "args": {}})).await;
    let compartment = comps["result"]["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, created) = approved(
        &op,
        &admin,
        "createBucket",
        json!({"compartmentId": compartment, "name": "portal-test-bucket"}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let (status, got) = call(
        &op,
        json!({"toolName": "getBucket", "args": {"bucketName": "portal-test-bucket"}}),
    )
    .await;
    assert_eq!(
        (status, got["result"]["storageTier"].as_str()),
        (200, Some("Standard")),
        "{got}"
    );
    // Deleting needs tools:danger and a second person.
    assert_eq!(
        call(
            &op,
            json!({"toolName": "deleteBucket", "args": {"bucketName": "portal-test-bucket"}})
        )
        .await
        .0,
        403
    );
    let (status, deleted) = approved(
        &admin,
        &admin2,
        "deleteBucket",
        json!({"bucketName": "portal-test-bucket"}),
    )
    .await;
    assert_eq!(status, 200, "{deleted}");
    let (status, _) = call(
        &op,
        json!({"toolName": "getBucket", "args": {"bucketName": "portal-test-bucket"}}),
    )
    .await;
    assert_eq!(status, 502, "gone");

    // A volume backup and an Autonomous Database stop/start.
    let mut volume = None;
    let mut adb = None;
    for c in comps["result"]["items"].as_array().unwrap() {
        volume = match volume {
            Some(v) => Some(v),
            None => first_available(&op, "listBlockVolumes", &c["id"]).await,
        };
        adb = match adb {
            Some(d) => Some(d),
            None => first_available(&op, "listAutonomousDatabases", &c["id"]).await,
        };
    }
    let (status, backup) = approved(
        &op,
        &admin,
        "createVolumeBackup",
        json!({"volumeId": volume.expect("an available volume"), "type": "FULL"}),
    )
    .await;
    assert_eq!(status, 200, "{backup}");
    assert!(
        matches!(
            backup["result"]["lifecycleState"].as_str(),
            Some("CREATING" | "AVAILABLE" | "REQUEST_RECEIVED")
        ),
        "{backup}"
    );
    let adb = adb.expect("an available database");
    let (status, stopped) = approved(
        &op,
        &admin,
        "stopAutonomousDatabase",
        json!({"autonomousDatabaseId": adb}),
    )
    .await;
    assert_eq!(status, 200, "{stopped}");
    assert!(
        matches!(
            stopped["result"]["lifecycleState"].as_str(),
            Some("STOPPING" | "STOPPED")
        ),
        "{stopped}"
    );
    // Once STOPPED it starts again, then stops again, each with a fresh approval.
    wait_for_state(
        &op,
        "getAutonomousDatabase",
        "autonomousDatabaseId",
        &adb,
        "STOPPED",
    )
    .await;
    let (status, started) = approved(
        &op,
        &admin,
        "startAutonomousDatabase",
        json!({"autonomousDatabaseId": adb}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    assert!(
        matches!(
            started["result"]["lifecycleState"].as_str(),
            Some("STARTING" | "AVAILABLE")
        ),
        "{started}"
    );
    wait_for_state(
        &op,
        "getAutonomousDatabase",
        "autonomousDatabaseId",
        &adb,
        "AVAILABLE",
    )
    .await;
    let (status, stopped) = approved(
        &op,
        &admin,
        "stopAutonomousDatabase",
        json!({"autonomousDatabaseId": adb}),
    )
    .await;
    assert_eq!(status, 200, "{stopped}");
    // Once STOPPED, terminating it needs tools:danger and a second person.
    wait_for_state(
        &op,
        "getAutonomousDatabase",
        "autonomousDatabaseId",
        &adb,
        "STOPPED",
    )
    .await;
    assert_eq!(call(&op, json!({"toolName": "terminateAutonomousDatabase", "args": {"autonomousDatabaseId": adb}})).await.0, 403);
    let (status, gone) = approved(
        &admin,
        &admin2,
        "terminateAutonomousDatabase",
        json!({"autonomousDatabaseId": adb}),
    )
    .await;
    assert_eq!(status, 200, "{gone}");
    assert!(
        matches!(
            gone["result"]["lifecycleState"].as_str(),
            Some("TERMINATING" | "TERMINATED")
        ),
        "{gone}"
    );
}

#[tokio::test]
async fn volumes_vcns_and_the_console() {
    let (app, admin, op, instance) = setup().await;
    let admin2 = app.member(&admin, "admin2@acme.test", "admin").await;
    let (_, inst) = call(
        &op,
        json!({"toolName": "getInstance", "args": {"instanceId": instance}}),
    )
    .await;
    let compartment = inst["result"]["compartmentId"]
        .as_str()
        .unwrap()
        .to_string();
    let ad = inst["result"]["availabilityDomain"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, console) = call(
        &op,
        json!({"toolName": "getInstanceConsoleHistory", "args": {"instanceId": instance}}),
    )
    .await;
    assert_eq!(status, 200, "{console}");
    assert!(
        console["result"]["output"]
            .as_str()
            .is_some_and(|o| !o.is_empty()),
        "{console}"
    );

    let (status, vol) = approved(&op, &admin, "createBlockVolume", json!({"compartmentId": compartment, "availabilityDomain": ad, "sizeInGBs": 100, "displayName": "data"})).await;
    assert_eq!(status, 200, "{vol}");
    let volume = vol["result"]["id"].as_str().unwrap().to_string();
    // Wait for the volume to become AVAILABLE before attaching it.
    let start = std::time::Instant::now();
    loop {
        let (_, v) = call(
            &op,
            json!({"toolName": "getBlockVolume", "args": {"volumeId": volume}}),
        )
        .await;
        if v["result"]["lifecycleState"] == "AVAILABLE" {
            assert_eq!(v["result"]["sizeInGBs"], 100);
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(15), "{v}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let (status, att) = approved(
        &op,
        &admin,
        "attachBlockVolume",
        json!({"instanceId": instance, "volumeId": volume}),
    )
    .await;
    assert_eq!(status, 200, "{att}");
    assert!(
        matches!(
            att["result"]["lifecycleState"].as_str(),
            Some("ATTACHING" | "ATTACHED")
        ),
        "{att}"
    );

    // CIDRs are validated as such before anything is asked.
    let (status, bad) = call(&op, json!({"toolName": "createVcn", "args": {"compartmentId": compartment, "cidrBlock": "10.0.0.1/16"}})).await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["error"].as_str().unwrap().starts_with("args/cidrBlock"));
    let (status, vcn) = approved(&op, &admin, "createVcn", json!({"compartmentId": compartment, "cidrBlock": "10.77.0.0/16", "displayName": "scratch"})).await;
    assert_eq!(status, 200, "{vcn}");
    let vcn_id = vcn["result"]["id"].as_str().unwrap().to_string();
    let start = std::time::Instant::now();
    loop {
        let (_, v) = call(
            &op,
            json!({"toolName": "getVcn", "args": {"vcnId": vcn_id}}),
        )
        .await;
        if v["result"]["lifecycleState"] == "AVAILABLE" {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(15), "{v}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let (status, gone) = approved(&admin, &admin2, "deleteVcn", json!({"vcnId": vcn_id})).await;
    assert_eq!(status, 200, "{gone}");
    assert!(
        matches!(
            gone["result"]["lifecycleState"].as_str(),
            Some("TERMINATING" | "TERMINATED")
        ),
        "{gone}"
    );
}

/// The first AVAILABLE item a list tool finds in a compartment.
async fn first_available(c: &Client, tool: &str, compartment: &Value) -> Option<String> {
    let (_, listed) = call(
        c,
        json!({"toolName": tool, "args": {"compartmentId": compartment}}),
    )
    .await;
    listed["result"]["items"]
        .as_array()?
        .iter()
        .find(|x| x["lifecycleState"] == "AVAILABLE")
        .and_then(|x| x["id"].as_str().map(str::to_owned))
}

/// Polls a get tool until the resource reaches `state` (the emulator's clock moves it).
async fn wait_for_state(c: &Client, tool: &str, arg: &str, id: &str, state: &str) {
    let start = std::time::Instant::now();
    loop {
        let (_, r) = call(c, json!({"toolName": tool, "args": {arg: id}})).await;
        if r["result"]["lifecycleState"] == state {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "{id} never reached {state}: {r}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_stopped_instance_starts_again_once_approved() {
    let (_app, admin, op, instance) = setup().await;
    let args = json!({"instanceId": instance});
    let (status, stopped) = approved(&op, &admin, "stopInstance", args.clone()).await;
    assert_eq!(status, 200, "{stopped}");
    wait_for_state(&op, "getInstance", "instanceId", &instance, "STOPPED").await;
    let (status, started) = approved(&op, &admin, "startInstance", args).await;
    assert_eq!(status, 200, "{started}");
    assert!(
        matches!(
            started["result"]["lifecycleState"].as_str(),
            Some("STARTING" | "RUNNING")
        ),
        "{started}"
    );
    wait_for_state(&op, "getInstance", "instanceId", &instance, "RUNNING").await;
}
