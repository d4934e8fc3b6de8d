//! Approvals after the 2026-12 security review: the binding is a keyed MAC
//! nobody sees (M5), decisions by tool-call id name the requester (M10), tools
//! that run code or change IAM need a second person who can read the payload
//! (M11), a service key counts as its creator (L10), and one requester cannot
//! flood the approvers' list (L16).

use portal_testkit::{with_operator as setup, Client};
use serde_json::{json, Value};

async fn call(c: &Client, body: Value) -> (u16, Value) {
    let res = c.post("/api/tools/execute", body).await;
    let s = res.status().as_u16();
    (s, res.json().await.unwrap())
}

async fn decide(c: &Client, body: Value) -> (u16, Value) {
    let res = c.post("/api/tools/approve", body).await;
    let s = res.status().as_u16();
    (s, res.json().await.unwrap())
}

async fn get(c: &Client, path: &str) -> (u16, Value) {
    let res = c.get(path).await;
    let s = res.status().as_u16();
    (s, res.json().await.unwrap_or(Value::Null))
}

async fn compartment_of(c: &Client, instance: &str) -> String {
    let (_, inst) = call(
        c,
        json!({"toolName": "getInstance", "args": {"instanceId": instance}}),
    )
    .await;
    inst["result"]["compartmentId"]
        .as_str()
        .expect("the instance's compartment")
        .to_string()
}

/// The unsalted SHA-256 the portal used to publish, recomputed as an attacker would.
fn unsalted_hash(tool: &str, args: &Value) -> String {
    let spec = portal_tools::TOOLS
        .iter()
        .find(|s| s.name == tool)
        .expect("tool");
    let validated = spec.validate(args).expect("valid arguments");
    portal_core::crypto::sha256_hex(
        portal_core::service::approvals::canonical(&validated).as_bytes(),
    )
}

#[tokio::test]
async fn the_binding_is_never_published_so_secrets_cannot_be_guessed_from_it() {
    let (_app, admin, op, instance) = setup().await;
    let op2 = _app.member(&admin, "op2@acme.test", "operator").await;
    let compartment = compartment_of(&admin, &instance).await;
    let password = "Summer2026Pw#x";
    let args =
        json!({"compartmentId": compartment, "dbName": "salesdb", "adminPassword": password});
    let (status, body) = call(
        &op,
        json!({"toolName": "createAutonomousDatabase", "args": args}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let approval = body["approvalId"].as_str().unwrap().to_string();
    let oracle = unsalted_hash("createAutonomousDatabase", &args);

    let (_, list) = get(&op2, "/api/tools/approve").await;
    let (_, one) = get(&op2, &format!("/api/tools/approve/{approval}")).await;
    let audit = admin
        .get("/api/audit?limit=200")
        .await
        .text()
        .await
        .unwrap();
    let events = admin.get("/api/v1/events").await.text().await.unwrap();
    assert!(list["approvals"][0].get("argsHash").is_none(), "{list}");
    for (place, text) in [
        ("approvals list", list.to_string()),
        ("approval", one.to_string()),
        ("audit", audit),
        ("events", events),
    ] {
        assert!(
            !text.contains(&oracle),
            "the unsalted argument hash is published in the {place}"
        );
    }
    assert_eq!(list["approvals"][0]["args"]["adminPassword"], "[REDACTED]");

    // The binding still holds: other arguments with this approval are refused.
    let (status, _) = decide(&admin, json!({"approvalId": approval, "approved": true})).await;
    assert_eq!(status, 200);
    let other = json!({"compartmentId": compartment, "dbName": "salesdb", "adminPassword": "Winter2026Pw#y"});
    let (status, body) = call(
        &op,
        json!({"toolName": "createAutonomousDatabase", "approvalId": approval, "args": other}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn deciding_by_tool_call_id_needs_the_requester() {
    let (app, admin, op, instance) = setup().await;
    let op2 = app.member(&admin, "op2@acme.test", "operator").await;
    let (_, victim) = call(
        &op,
        json!({"toolName": "rebootInstance", "toolCallId": "call_1", "args": {"instanceId": instance}}),
    )
    .await;
    let (_, attacker) = call(
        &op2,
        json!({"toolName": "stopInstance", "toolCallId": "call_1", "args": {"instanceId": instance}}),
    )
    .await;
    let victim = victim["approvalId"].as_str().unwrap().to_string();
    let attacker = attacker["approvalId"].as_str().unwrap().to_string();

    // The admin means op's reboot; by toolCallId alone nothing is decided.
    let (status, body) = decide(&admin, json!({"toolCallId": "call_1", "approved": true})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("requester"),
        "{body}"
    );
    // Naming the requester decides exactly that requester's call.
    let requester = format!("user:{}", op.user_id());
    let (status, decided) = decide(
        &admin,
        json!({"toolCallId": "call_1", "requester": requester, "approved": true}),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["id"], victim.as_str());
    assert_eq!(decided["toolName"], "rebootInstance");
    let (_, still) = get(&admin, &format!("/api/tools/approve/{attacker}")).await;
    assert_eq!(
        still["status"], "pending",
        "the other requester's call is untouched"
    );
    // A requester who has no such call: not found.
    let (status, _) = decide(
        &admin,
        json!({"toolCallId": "call_1", "requester": "user:nobody", "approved": true}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn code_and_iam_need_a_second_person_who_can_read_the_payload() {
    let (app, admin, op, instance) = setup().await;
    let op2 = app.member(&admin, "op2@acme.test", "operator").await;
    let viewer = app.member(&admin, "v@acme.test", "viewer").await;
    // Even with four-eyes off for the organisation.
    let res = admin
        .request(reqwest::Method::PUT, "/api/org/settings")
        .json(&json!({"fourEyes": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let script = "curl -s https://example.invalid/setup.sh | sh # REVIEW-ME-4711";
    let req = json!({"toolName": "runInstanceCommand", "args": {"instanceId": instance, "script": script}});
    let (status, body) = call(&op, req.clone()).await;
    assert_eq!(status, 403, "{body}");
    let approval = body["approvalId"].as_str().unwrap().to_string();

    // The requester cannot approve it.
    let (status, body) = decide(&op, json!({"approvalId": approval, "approved": true})).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("Four-eyes"),
        "{body}"
    );

    // Eligible approvers read the script; the requester, viewers and other orgs do not.
    let path = format!("/api/tools/approve/{approval}");
    let (status, seen) = get(&op2, &path).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["reviewArgs"]["script"], script, "{seen}");
    assert_eq!(seen["args"]["script"], "[REDACTED]");
    assert_eq!(seen["fourEyes"], true);
    let (status, own) = get(&op, &path).await;
    assert_eq!(status, 200);
    assert!(own.get("reviewArgs").is_none(), "{own}");
    assert!(!own.to_string().contains("REVIEW-ME-4711"));
    assert_eq!(viewer.get(&path).await.status(), 403);
    let list = op2.get("/api/tools/approve").await.text().await.unwrap();
    assert!(
        !list.contains("REVIEW-ME-4711"),
        "only the one-approval view shows it"
    );

    // Another operator approves; the requester runs it once.
    let (status, d) = decide(&op2, json!({"approvalId": approval, "approved": true})).await;
    assert_eq!(status, 200, "{d}");
    let (status, ran) = call(&op, req).await;
    assert_eq!(status, 200, "{ran}");
    let (_, after) = get(&op2, &path).await;
    assert!(
        after.get("reviewArgs").is_none(),
        "no longer shown once decided"
    );

    // createPolicy: self-approval refused, another person approves.
    let policy = json!({"toolName": "createPolicy", "args": {"name": "portal-readers", "description": "review test",
        "statements": ["Allow group Developers to read instance-family in tenancy"]}});
    let (_, body) = call(&op, policy).await;
    let approval = body["approvalId"].as_str().unwrap().to_string();
    assert_eq!(
        decide(&op, json!({"approvalId": approval, "approved": true}))
            .await
            .0,
        403
    );
    assert_eq!(
        decide(&admin, json!({"approvalId": approval, "approved": true}))
            .await
            .0,
        200
    );

    // Nothing of the script reached the activity feed, the audit ledger or the events.
    let activity = admin.get("/api/activity").await.text().await.unwrap();
    let audit = admin
        .get("/api/audit?limit=500")
        .await
        .text()
        .await
        .unwrap();
    let events = admin.get("/api/v1/events").await.text().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let logs = portal_testkit::captured_logs();
    for (place, text) in [
        ("activity", activity),
        ("audit", audit),
        ("events", events),
        ("logs", logs),
    ] {
        assert!(
            !text.contains("REVIEW-ME-4711"),
            "the script leaked into the {place}"
        );
    }

    // Another organisation cannot see it at all.
    let (_, body) = call(
        &op,
        json!({"toolName": "runInstanceCommand", "args": {"instanceId": instance, "script": "uname -a"}}),
    )
    .await;
    let pending = body["approvalId"].as_str().unwrap().to_string();
    let res = admin
        .post("/api/admin/orgs", json!({"name": "Other", "slug": "other"}))
        .await;
    assert_eq!(res.status(), 201);
    let res = admin
        .post(
            "/api/auth/organization/set-active",
            json!({"organizationSlug": "other"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        admin
            .get(&format!("/api/tools/approve/{pending}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_service_key_counts_as_its_creator_for_four_eyes() {
    let (app, admin, _op, instance) = setup().await;
    let admin2 = app.member(&admin, "admin2@acme.test", "admin").await;
    let run = |args: &[&str]| {
        let out = app
            .command(env!("CARGO_BIN_EXE_portal"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let perms = "tools:read,tools:execute,tools:danger";
    let owned = run(&[
        "api-key",
        "create",
        "--org",
        "acme",
        "--name",
        "robot",
        "--permissions",
        perms,
        "--created-by",
        "admin@acme.test",
    ]);
    let anonymous = run(&[
        "api-key",
        "create",
        "--org",
        "acme",
        "--name",
        "orphan",
        "--permissions",
        perms,
    ]);
    let req = json!({"toolName": "terminateInstance", "args": {"instanceId": instance}});

    // The key's creator is the same person: refused; someone else approves.
    let (status, body) = call(&app.with_key(&owned), req.clone()).await;
    assert_eq!(status, 403, "{body}");
    let approval = body["approvalId"].as_str().unwrap().to_string();
    let (status, body) = decide(&admin, json!({"approvalId": approval, "approved": true})).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("Four-eyes"),
        "{body}"
    );
    assert_eq!(
        decide(&admin2, json!({"approvalId": approval, "approved": true}))
            .await
            .0,
        200
    );

    // A key nobody is accountable for cannot take part in four-eyes.
    let (_, body) = call(&app.with_key(&anonymous), req).await;
    let approval = body["approvalId"].as_str().unwrap().to_string();
    let (status, body) = decide(&admin2, json!({"approvalId": approval, "approved": true})).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("created-by"),
        "{body}"
    );
}

#[tokio::test]
async fn one_requester_cannot_flood_the_approvers_list() {
    let (app, admin, op, instance) = setup().await;
    let compartment = compartment_of(&admin, &instance).await;
    let cap = portal_core::service::approvals::MAX_PENDING_PER_REQUESTER;
    let bucket = |i: i64| json!({"toolName": "createBucket", "args": {"compartmentId": compartment, "name": format!("flood-{i}")}});
    for i in 0..cap {
        let (status, body) = call(&op, bucket(i)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("APPROVAL_REQUIRED")),
            "{body}"
        );
    }
    let (status, body) = call(&op, bucket(cap)).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("pending approvals"),
        "{body}"
    );
    // Asking again for one already pending still answers with it.
    let (status, body) = call(&op, bucket(0)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("APPROVAL_REQUIRED"))
    );
    // Others are not affected.
    let op2 = app.member(&admin, "op2@acme.test", "operator").await;
    let (status, body) = call(&op2, bucket(0)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("APPROVAL_REQUIRED")),
        "{body}"
    );

    // The list is paged and complete: every pending approval can be reached.
    let mut seen = std::collections::HashSet::new();
    let mut offset = 0;
    loop {
        let (status, page) = get(
            &admin,
            &format!("/api/tools/approve?limit=7&offset={offset}"),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], cap + 1);
        let items = page["approvals"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        seen.extend(items.iter().map(|a| a["id"].as_str().unwrap().to_string()));
        offset += 7;
    }
    assert_eq!(seen.len() as i64, cap + 1);
    assert_eq!(get(&admin, "/api/tools/approve?limit=0").await.0, 400);
    assert_eq!(get(&admin, "/api/tools/approve?limit=201").await.0, 400);
    assert_eq!(get(&admin, "/api/tools/approve?offset=-1").await.0, 400);
}
