//! Workflow definitions over HTTP: validation naming the node and field,
//! import/export round trip, publish freezing versions, the `/api/workflows`
//! alias, permissions and tenancy; and a run that completes after its
//! approval is granted through a second app instance (the first one gone).

use crate::workflows_support;

use portal_testkit::{with_operator, TestApp};
use serde_json::{json, Value};
use workflows_support::*;

#[tokio::test]
async fn saving_refuses_invalid_definitions_naming_the_node_and_field() {
    let (_app, admin, _op, _i) = with_operator().await;
    let mut bad = check_and_approve("{{ input.compartment }}", "fail", None);
    bad["nodes"][1]["data"]["toolName"] = json!("launchRocket");
    let res = admin.post("/api/v1/workflows", bad.clone()).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(
        msg.contains("node list") && msg.contains("data/toolName"),
        "{msg}"
    );

    bad["nodes"][2]["data"]["expression"] = json!("steps.list.result.count >");
    bad["edges"][4]["target"] = json!("ghost");
    let res = admin.post("/api/v1/workflows/validate", bad).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["valid"], false);
    let issues = v["issues"].as_array().unwrap();
    let has = |node: Option<&str>, field: &str| {
        issues
            .iter()
            .any(|i| i["nodeId"].as_str() == node && i["field"] == field)
    };
    assert!(has(Some("list"), "data/toolName"), "{v:#}");
    assert!(has(Some("any"), "data/expression"), "{v:#}");
    assert!(has(None, "edges/e5/target"), "{v:#}");
    assert!(
        has(Some("out"), "edges"),
        "unreachable once its edge dangles: {v:#}"
    );

    // Arguments that fail the tool's schema, where static.
    let mut bad_arg = check_and_approve("{{ input.compartment }}", "fail", None);
    bad_arg["nodes"][1]["data"]["args"]["limit"] = json!(100000);
    let res = admin.post("/api/v1/workflows", bad_arg).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("node list: data/args/limit"),
        "{body}"
    );

    // A body that is not a definition names the field too.
    let res = admin
        .post(
            "/api/v1/workflows",
            json!({"name": "x", "nodes": [{"id": "a", "type": "warp", "data": {}}]}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let good = admin
        .post(
            "/api/v1/workflows/validate",
            check_and_approve("{{ input.compartment }}", "fail", None),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(good["valid"], true, "{good:#}");
}

#[tokio::test]
async fn export_round_trips_and_publish_freezes_versions() {
    let (_app, admin, op, _i) = with_operator().await;
    let def = check_and_approve("{{ input.compartment }}", "end", Some(30));
    let id = publish(&admin, def.clone()).await;
    let exported: Value = admin
        .get(&format!("/api/v1/workflows/{id}/export"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(exported, def, "export is exactly what was imported");
    // Importing the export gives the same export again.
    let res = admin.post("/api/v1/workflows", exported.clone()).await;
    let again: Value = res.json().await.unwrap();
    let id2 = again["workflow"]["id"].as_str().unwrap();
    let exported2: Value = admin
        .get(&format!("/api/v1/workflows/{id2}/export"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(exported2, exported);

    // Editing the draft does not change the published version; publishing again makes v2.
    let mut edited = def.clone();
    edited["name"] = json!("Renamed");
    let res = admin.put(&format!("/api/v1/workflows/{id}"), edited).await;
    assert_eq!(res.status(), 200);
    let w: Value = res.json().await.unwrap();
    assert_eq!(w["workflow"]["version"], 1);
    assert_eq!(w["workflow"]["name"], "Renamed");
    let res = admin
        .post(&format!("/api/v1/workflows/{id}/publish"), json!({}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["workflow"]["version"], 2);
    let vs: Value = admin
        .get(&format!("/api/v1/workflows/{id}/versions"))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = vs["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["definition"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Renamed", "Check then approve"]);

    // Runs record the version they ran; an older version can be asked for.
    let tenancy = admin.tenancy().await;
    let res = op
        .post(
            &format!("/api/v1/workflows/{id}/run"),
            json!({"input": {"compartment": tenancy}, "version": 1}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["run"]["version"], 1);

    // Input is checked against the input schema, naming the field.
    let res = op
        .post(
            &format!("/api/v1/workflows/{id}/run"),
            json!({"input": {"compartment": 7}}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("input/compartment"),
        "{body}"
    );

    // List, search and filter, also under the reference's path.
    let list: Value = op
        .get("/api/workflows?search=renam&status=published")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["workflows"][0]["id"], id.as_str());
    assert_eq!(list["workflows"][0]["nodeCount"], 6);
    let list: Value = op
        .get("/api/v1/workflows?tag=ops")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    let res = op.get(&format!("/api/workflows/{id}")).await;
    assert_eq!(res.status(), 200);

    // An operator may run but not edit; archived workflows run no more.
    let res = op
        .put(&format!("/api/v1/workflows/{id}"), def.clone())
        .await;
    assert_eq!(res.status(), 403);
    let res = admin
        .post(&format!("/api/v1/workflows/{id}/archive"), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let res = op
        .post(
            &format!("/api/v1/workflows/{id}/run"),
            json!({"input": {"compartment": tenancy}}),
        )
        .await;
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn another_organisation_sees_nothing() {
    let (app, admin, _op, _i) = with_operator().await;
    let id = publish(
        &admin,
        check_and_approve("{{ input.compartment }}", "fail", None),
    )
    .await;
    let res = admin
        .post("/api/admin/orgs", json!({"name": "Other", "slug": "other"}))
        .await;
    assert_eq!(res.status(), 201);
    admin.set_active("other").await;
    for path in [
        format!("/api/v1/workflows/{id}"),
        format!("/api/v1/workflows/{id}/export"),
        format!("/api/v1/workflows/{id}/runs"),
    ] {
        assert_eq!(admin.get(&path).await.status(), 404, "{path}");
    }
    let list: Value = admin.get("/api/v1/workflows").await.json().await.unwrap();
    assert_eq!(list["total"], 0);
    drop(app);
}

#[tokio::test]
async fn a_run_completes_after_its_approval_is_granted_on_a_second_instance() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "50")
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let tenancy = admin.tenancy().await;
    let id = publish(
        &admin,
        check_and_approve("{{ input.compartment }}", "fail", None),
    )
    .await;
    let run_id = start(&op, &id, json!({"compartment": tenancy})).await;
    let parked = wait_for(&op, &run_id, "suspended").await;
    assert_eq!(step(&parked, "list")["status"], "completed");
    assert_eq!(step(&parked, "any")["output"]["result"], true);
    assert_eq!(step(&parked, "none")["status"], "skipped", "{parked:#}");
    assert_eq!(step(&parked, "ok")["status"], "waiting");
    // Parked: no job of the run is queued or running.
    let busy = app
        .query_strings(&format!(
            "SELECT id FROM jobs WHERE id LIKE 'wf-{run_id}-%' AND state IN ('queued', 'running')"
        ))
        .await;
    assert!(busy.is_empty(), "{busy:?}");

    // The first instance goes away; a second one on the same database decides.
    let second = TestApp::builder()
        .same_database_as(&app)
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "50")
        .spawn()
        .await;
    app.shutdown().await.unwrap();
    let approver = second
        .sign_in("admin@acme.test", portal_testkit::PASSWORD)
        .await;
    let res = approver
        .post(
            &format!("/api/v1/workflows/runs/{run_id}/steps/ok/approve"),
            json!({"reason": "looks fine"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let done = wait_for(&approver, &run_id, "completed").await;
    let count = step(&done, "list")["output"]["result"]["count"].clone();
    assert_eq!(done["run"]["output"]["count"], count);
    assert_eq!(
        done["run"]["output"]["approvedBy"],
        format!("user:{}", admin.user_id())
    );
    assert_eq!(step(&done, "out")["status"], "completed");

    // The stream replays every event in order and ends with the run.
    let text = approver
        .get(&format!("/api/v1/workflows/runs/{run_id}/stream"))
        .await
        .text()
        .await
        .unwrap();
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(kinds.first(), Some(&"run.started"), "{text}");
    assert_eq!(kinds.last(), Some(&"run.completed"), "{text}");
    for k in [
        "run.suspended",
        "step.waiting",
        "run.resumed",
        "step.skipped",
    ] {
        assert!(kinds.contains(&k), "{k}: {text}");
    }
    let ids: Vec<i64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|i| i.parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
    // Resuming after event 3 replays only what came after it.
    let rest = approver
        .request(
            reqwest::Method::GET,
            &format!("/api/workflows/runs/{run_id}/stream"),
        )
        .header("Last-Event-ID", "3")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first_id = rest.lines().find_map(|l| l.strip_prefix("id: ")).unwrap();
    assert_eq!(first_id, "4");

    // The outbox announced the run's life.
    let events: Value = approver
        .get("/api/v1/events?after=0&limit=200")
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<String> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["payload"]["runId"] == run_id.as_str())
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "workflow.run.started",
            "workflow.run.suspended",
            "workflow.run.completed"
        ]
    );
}
