//! The tenancy snapshot behind graph analytics and approval blast radii:
//! looking at a pending destructive call writes no activity or audit entry
//! and reads the cloud once per snapshot; a tool that changes the cloud
//! shows at once; the caller's permission is checked every time; one
//! organisation never sees another's snapshot.

use portal_oci_emulator::{Emulator, EmulatorConfig};
use portal_testkit::{compartment_id, run_tool, Client, TestApp};
use serde_json::{json, Value};

/// Long enough that only an invalidation can explain a fresh answer.
const LONG_TTL: &str = "60000";

async fn count(app: &TestApp, table: &str) -> i64 {
    let n = app
        .query_strings(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
        .await;
    n[0].parse().unwrap()
}

/// Rows of the audit ledger and of tool executions (activity).
async fn ledger(app: &TestApp) -> (i64, i64) {
    (
        count(app, "audit_log").await,
        count(app, "tool_executions").await,
    )
}

async fn vcn_named(c: &Client, name: &str) -> String {
    let (status, body) = run_tool(c, "listVcns", json!({})).await;
    assert_eq!(status, 200, "{body}");
    body["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["displayName"] == name)
        .unwrap_or_else(|| panic!("{name} in {body}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn graph(c: &Client, query: &str) -> (u16, Value) {
    let res = c.get(&format!("/api/graph?{query}")).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn review(c: &Client, id: &str) -> Value {
    let res = c.get(&format!("/api/tools/approve/{id}")).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn looking_at_a_pending_delete_twice_records_nothing_and_reads_the_cloud_once() {
    // A standalone emulator, so its requests can be counted.
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(EmulatorConfig::new(dir.path())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn({
        let emu = emu.clone();
        let stop = stop.clone();
        async move { emu.serve(listener, stop.cancelled_owned()).await }
    });
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "oci")
        .env(
            "PORTAL_OCI_CONFIG_FILE",
            emu.config_path().display().to_string(),
        )
        .env("PORTAL_OCI_ENDPOINT", &endpoint)
        .env("PORTAL_SNAPSHOT_TTL_MS", LONG_TTL)
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let vcn = vcn_named(&admin, "prod-vcn").await;
    let id = admin.ask_approval("deleteVcn", json!({"vcnId": vcn})).await;

    let before = ledger(&app).await;
    let calls = emu.requests_served();
    let first = review(&op, &id).await;
    let text = first["impact"]["text"].as_str().unwrap().to_string();
    assert!(text.starts_with("deleteVcn: "), "{first}");
    let read = emu.requests_served() - calls;
    assert!(read >= 9, "the first look reads the tenancy ({read} calls)");
    assert_eq!(
        ledger(&app).await,
        before,
        "reading for a blast radius is not recorded"
    );

    // Again, through the API, the inbox and the approval page: nothing new
    // is recorded and the cloud is not asked again.
    let calls = emu.requests_served();
    let again = review(&op, &id).await;
    assert_eq!(again["impact"], first["impact"]);
    for path in ["/approvals".to_string(), format!("/approvals/{id}")] {
        let (status, page) = op.page(&path).await;
        assert_eq!(status, 200, "{path}");
        assert!(page.contains(&text), "{path}: {page}");
    }
    assert_eq!(emu.requests_served(), calls, "served from the snapshot");
    assert_eq!(ledger(&app).await, before);

    // Graph analytics read the same snapshot, unrecorded too, and the reads
    // are not tool usage.
    let (status, orphans) = graph(&admin, "kind=orphans").await;
    assert_eq!(status, 200, "{orphans}");
    assert_eq!(emu.requests_served(), calls);
    assert_eq!(ledger(&app).await, before);
    let (_, usage) = graph(&admin, "kind=usage").await;
    let tools: Vec<&str> = usage["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "tool")
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert!(
        !tools.contains(&"getVnic") && !tools.contains(&"listSubnets"),
        "{tools:?}"
    );
    stop.cancel();
    let _ = server.await;
}

#[tokio::test]
async fn a_change_made_through_the_gateway_shows_in_the_blast_radius_at_once() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_SNAPSHOT_TTL_MS", LONG_TTL)
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let production = compartment_id(&admin, "Production").await;
    let radius = |c: &Client| {
        let q = format!("kind=blast-radius&resource={production}");
        let c = c.clone();
        async move {
            let (status, g) = graph(&c, &q).await;
            assert_eq!(status, 200, "{g}");
            g
        }
    };
    let before = radius(&admin).await;
    let vcns = before["summary"]["vcn"].as_i64().unwrap();

    // createVcn with an approval: the snapshot taken above is forgotten.
    let req = json!({"toolCallId": "c1", "toolName": "createVcn",
        "args": {"compartmentId": production, "cidrBlock": "10.42.0.0/16", "displayName": "snap-vcn"}});
    let res = op.post("/api/tools/execute", req.clone()).await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    let approval = body["approvalId"].as_str().unwrap().to_string();
    // Asking for approval changed nothing, so the snapshot still stands.
    assert_eq!(radius(&admin).await["summary"], before["summary"]);
    let res = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true, "reason": "ok"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = op.post("/api/tools/execute", req).await;
    assert_eq!(res.status(), 200);
    let created: Value = res.json().await.unwrap();
    let new_vcn = created["result"]["id"].as_str().unwrap().to_string();

    let after = radius(&admin).await;
    assert_eq!(after["summary"]["vcn"], vcns + 1, "{after}");
    assert!(
        after["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == new_vcn.as_str()),
        "{after}"
    );
}

#[tokio::test]
async fn the_callers_permission_is_checked_before_the_snapshot_is_served() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_SNAPSHOT_TTL_MS", LONG_TTL)
        .spawn()
        .await;
    let admin = app.admin().await;
    let vcn = vcn_named(&admin, "prod-vcn").await;
    let id = admin.ask_approval("deleteVcn", json!({"vcnId": vcn})).await;
    // The snapshot is warm.
    let (status, _) = graph(&admin, &format!("kind=blast-radius&resource={vcn}")).await;
    assert_eq!(status, 200);

    // admin:audit without tools:execute: usage yes, the tenancy no.
    let (key, _) = admin.create_key("auditor", &["admin:audit"]).await;
    let auditor = app.with_key(&key);
    let (status, body) = graph(&auditor, "kind=usage").await;
    assert_eq!(status, 200, "{body}");
    for q in [
        format!("kind=blast-radius&resource={vcn}"),
        "kind=orphans".into(),
        "kind=exposure".into(),
    ] {
        let (status, body) = graph(&auditor, &q).await;
        assert_eq!(status, 403, "{q}: {body}");
    }
    // A viewer neither reviews the approval nor queries the graph.
    let viewer = app.member(&admin, "v@acme.test", "viewer").await;
    let res = viewer.get(&format!("/api/tools/approve/{id}")).await;
    assert_eq!(res.status(), 403);
    let (status, _) = graph(&viewer, "kind=orphans").await;
    assert_eq!(status, 403);
    let (status, page) = viewer.page("/approvals").await;
    assert!(status == 403 || !page.contains("deleteVcn: "), "{status}");
}

#[tokio::test]
async fn another_organisation_never_gets_this_organisations_snapshot() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_SNAPSHOT_TTL_MS", LONG_TTL)
        .spawn()
        .await;
    let admin = app.admin().await;
    let prod_vcn = vcn_named(&admin, "prod-vcn").await;
    let query = format!("kind=blast-radius&resource={prod_vcn}");
    let (status, acme) = graph(&admin, &query).await;
    assert_eq!(status, 200, "{acme}");

    let development = compartment_id(&admin, "Development").await;
    let production = compartment_id(&admin, "Production").await;
    let beta = admin.create_org("Beta", "beta").await;
    admin.assign_compartments(&beta, &[&development]).await;
    admin.set_active("beta").await;
    let (status, body) = graph(&admin, &query).await;
    assert_eq!(status, 404, "Beta reads its own tenancy: {body}");
    let (_, orphans) = graph(&admin, "kind=orphans").await;
    assert!(
        !orphans.to_string().contains(&production),
        "nothing of Production: {orphans}"
    );

    // Beta's assignment changes: its next answer follows it, not its snapshot.
    admin.assign_compartments(&beta, &[&production]).await;
    let (status, body) = graph(&admin, &query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["summary"], acme["summary"]);
    admin.assign_compartments(&beta, &[&development]).await;
    let (status, _) = graph(&admin, &query).await;
    assert_eq!(status, 404);

    // And the first organisation still has its own.
    admin.set_active("acme").await;
    let (status, again) = graph(&admin, &query).await;
    assert_eq!(status, 200);
    assert_eq!(again["summary"], acme["summary"]);
}
