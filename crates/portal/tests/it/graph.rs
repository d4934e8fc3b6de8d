//! Graph analytics over HTTP (`/api/graph`) on the embedded emulator: blast
//! radius, exposure paths and orphans of the demo tenancy, each checked
//! against what the read tools themselves report; the usage graph after
//! running tools; `admin:audit`; the organisation boundary; bad queries.

use std::collections::BTreeSet;

use portal_testkit::{compartment_id, run_tool, Client, TestApp};
use serde_json::{json, Value};

async fn setup() -> (TestApp, Client) {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    (app, admin)
}

async fn graph(c: &Client, query: &str) -> (u16, Value) {
    let res = c.get(&format!("/api/graph?{query}")).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn ok_graph(c: &Client, query: &str) -> Value {
    let (status, body) = graph(c, query).await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

/// The items of a read tool (every compartment when no `compartmentId`).
async fn items(c: &Client, tool: &str, args: Value) -> Vec<Value> {
    let (status, body) = run_tool(c, tool, args).await;
    assert_eq!(status, 200, "{tool}: {body}");
    body["result"]["items"].as_array().unwrap().clone()
}

fn ids_of(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// Node ids of `kind` in a graph answer.
fn nodes(g: &Value, kind: &str) -> BTreeSet<String> {
    g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

fn labels(g: &Value, kind: &str) -> BTreeSet<String> {
    g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .map(|n| n["label"].as_str().unwrap().to_string())
        .collect()
}

fn alive(i: &Value) -> bool {
    !matches!(
        i["lifecycleState"].as_str(),
        Some("TERMINATED" | "TERMINATING" | "DETACHED" | "DETACHING")
    )
}

async fn vcn_named(c: &Client, name: &str) -> String {
    let vcns = items(c, "listVcns", json!({})).await;
    vcns.iter()
        .find(|v| v["displayName"] == name)
        .unwrap_or_else(|| panic!("{name} in {vcns:?}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn blast_radius_of_a_vcn_is_its_subnets_vnics_and_instances() {
    let (_app, admin) = setup().await;
    let vcn = vcn_named(&admin, "prod-vcn").await;
    // What depends on the VCN, as the read tools tell it.
    let subnets = ids_of(&items(&admin, "listSubnets", json!({"vcnId": vcn})).await);
    let running: BTreeSet<String> = ids_of(
        &items(&admin, "listInstances", json!({}))
            .await
            .into_iter()
            .filter(alive)
            .collect::<Vec<_>>(),
    );
    let attachments: Vec<Value> = items(&admin, "listVnicAttachments", json!({}))
        .await
        .into_iter()
        .filter(|a| alive(a) && subnets.contains(a["subnetId"].as_str().unwrap_or("")))
        .filter(|a| running.contains(a["instanceId"].as_str().unwrap_or("")))
        .collect();
    let vnics: BTreeSet<String> = attachments
        .iter()
        .map(|a| a["vnicId"].as_str().unwrap().to_string())
        .collect();
    let instances: BTreeSet<String> = attachments
        .iter()
        .map(|a| a["instanceId"].as_str().unwrap().to_string())
        .collect();
    assert!(!subnets.is_empty() && !instances.is_empty());

    let g = ok_graph(&admin, &format!("kind=blast-radius&resource={vcn}")).await;
    assert_eq!(g["kind"], "blast-radius");
    assert_eq!(g["nodes"][0]["id"], vcn.as_str(), "the resource first");
    assert_eq!(nodes(&g, "subnet"), subnets);
    assert_eq!(nodes(&g, "vnic"), vnics);
    assert_eq!(nodes(&g, "instance"), instances);
    assert_eq!(g["summary"]["subnet"], subnets.len());
    assert_eq!(g["summary"]["instance"], instances.len());
    // The other VCN's subnets are not affected, nor is the internet a dependant.
    let dev = vcn_named(&admin, "dev-vcn").await;
    let dev_subnets = ids_of(&items(&admin, "listSubnets", json!({"vcnId": dev})).await);
    assert!(nodes(&g, "subnet").is_disjoint(&dev_subnets));
    assert!(nodes(&g, "internet").is_empty());
    // Every edge joins two nodes of the answer.
    let all: BTreeSet<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    for e in g["edges"].as_array().unwrap() {
        assert!(
            all.contains(e["from"].as_str().unwrap()) && all.contains(e["to"].as_str().unwrap()),
            "{e}"
        );
    }

    // An instance's blast radius: the volumes attached to it.
    let web01 = labels_to_id(&g, "instance", "web-01");
    let attached: BTreeSet<String> = items(
        &admin,
        "listVolumeAttachments",
        json!({"instanceId": web01}),
    )
    .await
    .into_iter()
    .filter(alive)
    .map(|a| a["volumeId"].as_str().unwrap().to_string())
    .collect();
    let gi = ok_graph(&admin, &format!("kind=blast-radius&resource={web01}")).await;
    assert_eq!(nodes(&gi, "volume"), attached);
    assert!(!attached.is_empty());

    let (status, body) = graph(
        &admin,
        "kind=blast-radius&resource=ocid1.vcn.oc1.iad.doesnotexist",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let long = "x".repeat(300);
    let (status, body) = graph(&admin, &format!("kind=blast-radius&resource={long}")).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = graph(&admin, "kind=blast-radius").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("resource"),
        "{body}"
    );
}

fn labels_to_id(g: &Value, kind: &str, label: &str) -> String {
    g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == kind && n["label"] == label)
        .unwrap_or_else(|| panic!("{label} in {g}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn open_to_internet(sl: &Value) -> bool {
    sl["ingressSecurityRules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["source"] == "0.0.0.0/0")
}

#[tokio::test]
async fn exposure_finds_open_paths_to_public_running_instances_only() {
    let (app, admin) = setup().await;
    let g = ok_graph(&admin, "kind=exposure").await;
    let paths = g["paths"].as_array().unwrap();
    assert!(!paths.is_empty(), "{g}");
    let sls: Vec<Value> = items(&admin, "listSecurityLists", json!({})).await;
    for p in paths {
        let p: Vec<&str> = p
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(p.len(), 5, "{p:?}");
        assert_eq!(p[0], "internet");
        // Each step checked against the tools: the rule is open, the VNIC public, the instance running.
        let sl = sls.iter().find(|s| s["id"] == p[1]).unwrap();
        assert!(open_to_internet(sl), "{sl}");
        let (_, vnic) = run_tool(&admin, "getVnic", json!({"vnicId": p[3]})).await;
        assert!(vnic["result"]["publicIp"].is_string(), "{vnic}");
        assert_eq!(vnic["result"]["subnetId"], p[2]);
        let (_, inst) = run_tool(&admin, "getInstance", json!({"instanceId": p[4]})).await;
        assert_eq!(inst["result"]["lifecycleState"], "RUNNING", "{inst}");
    }
    let exposed = labels(&g, "instance");
    assert!(exposed.contains("web-01"), "{exposed:?}");
    // The counter-case: app-server-01's subnet is guarded by a rule open to
    // the internet, but its VNIC has no public IP.
    assert!(!exposed.contains("app-server-01"), "{exposed:?}");
    let private = items(&admin, "listSubnets", json!({}))
        .await
        .into_iter()
        .find(|s| s["displayName"] == "prod-private")
        .unwrap();
    let guarded_open = private["securityListIds"]
        .as_array()
        .unwrap()
        .iter()
        .any(|id| sls.iter().any(|s| s["id"] == *id && open_to_internet(s)));
    assert!(guarded_open, "{private}");
    // A stopped instance is not reachable.
    assert!(!exposed.contains("dev-box"), "{exposed:?}");

    // A clean tenancy: an organisation confined to prod-apps (no network of its own).
    let prod_apps = compartment_id(&admin, "prod-apps").await;
    let clean = admin.create_org("Clean", "clean").await;
    admin.assign_compartments(&clean, &[&prod_apps]).await;
    admin.set_active("clean").await;
    let g = ok_graph(&admin, "kind=exposure").await;
    assert!(g["nodes"].as_array().unwrap().is_empty(), "{g}");
    assert!(g.get("paths").is_none(), "{g}");
    drop(app);
}

#[tokio::test]
async fn orphans_are_the_unattached_volumes_and_unused_networks() {
    let (_app, admin) = setup().await;
    let attached: BTreeSet<String> = items(&admin, "listVolumeAttachments", json!({}))
        .await
        .into_iter()
        .filter(alive)
        .map(|a| a["volumeId"].as_str().unwrap().to_string())
        .collect();
    let volumes = items(&admin, "listBlockVolumes", json!({})).await;
    let unattached: BTreeSet<String> = volumes
        .iter()
        .filter(|v| alive(v) && !attached.contains(v["id"].as_str().unwrap()))
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!unattached.is_empty());
    let g = ok_graph(&admin, "kind=orphans").await;
    assert_eq!(nodes(&g, "volume"), unattached);
    assert!(labels(&g, "volume").contains("dev-scratch"));
    for n in g["nodes"].as_array().unwrap() {
        assert!(n["reason"].is_string(), "{n}");
    }
    // Every subnet of the demo hosts something; none is an orphan.
    assert!(nodes(&g, "subnet").is_empty(), "{g}");
}

#[tokio::test]
async fn usage_graph_shows_who_ran_which_tool_on_what() {
    let (_app, admin) = setup().await;
    let instance = admin.running_instance().await;
    let (status, _) = run_tool(&admin, "getInstance", json!({"instanceId": instance})).await;
    assert_eq!(status, 200);
    run_tool(&admin, "listVcns", json!({})).await;

    let g = ok_graph(&admin, "kind=usage").await;
    assert!(labels(&g, "user").contains("admin@acme.test"), "{g}");
    let user = labels_to_id(&g, "user", "admin@acme.test");
    let edge = |from: &str, to: &str, kind: &str| {
        g["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["from"] == from && e["to"] == to && e["kind"] == kind)
            .cloned()
    };
    let ran = edge(&user, "getInstance", "ran").expect("user ran getInstance");
    assert!(ran["count"].as_i64().unwrap() >= 1, "{ran}");
    let touched =
        edge("getInstance", &instance, "touched").expect("getInstance touched the instance");
    assert!(touched["count"].as_i64().unwrap() >= 1);
    assert!(nodes(&g, "resource").contains(&instance));
    assert!(g["summary"]["executions"].as_i64().unwrap() >= 2);
    assert_eq!(g["summary"]["users"], 1);

    let co = ok_graph(&admin, "kind=tool-cooccurrence").await;
    let pair = co["edges"].as_array().unwrap().iter().any(|e| {
        e["kind"] == "co-occurs"
            && ((e["from"] == "getInstance" && e["to"] == "listVcns")
                || (e["from"] == "listVcns" && e["to"] == "getInstance"))
    });
    assert!(pair, "{co}");
    let (status, body) = graph(&admin, "kind=usage&days=0").await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn graph_needs_admin_audit_and_a_valid_kind() {
    let (app, admin) = setup().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    for kind in ["usage", "exposure", "orphans"] {
        let (status, body) = graph(&op, &format!("kind={kind}")).await;
        assert_eq!(status, 403, "{kind}: {body}");
    }
    let res = app.get("/api/graph?kind=usage").await;
    assert_eq!(res.status(), 401);

    let (status, body) = graph(&admin, "kind=pagerank").await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    for k in [
        "blast-radius",
        "exposure",
        "orphans",
        "usage",
        "tool-cooccurrence",
    ] {
        assert!(error.contains(k), "{error}");
    }
    let (status, _) = graph(&admin, "").await;
    assert_eq!(status, 400);
    let (status, _) = graph(&admin, "kind=usage&colour=red").await;
    assert_eq!(status, 400);
    let (status, _) = graph(&admin, "kind=orphans&resource=ocid1.vcn.oc1..x").await;
    assert_eq!(status, 400);

    // A key holding admin:audit alone reads usage, but not the cloud (that runs read tools).
    let (key, _) = admin.create_key("auditor", &["admin:audit"]).await;
    let auditor = app.with_key(&key);
    let (status, body) = graph(&auditor, "kind=usage").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = graph(&auditor, "kind=orphans").await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn another_organisations_resources_and_usage_never_appear() {
    let (_app, admin) = setup().await;
    let prod_vcn = vcn_named(&admin, "prod-vcn").await;
    let instance = admin.running_instance().await;
    run_tool(&admin, "getInstance", json!({"instanceId": instance})).await;
    let first = ok_graph(&admin, "kind=usage").await;
    assert!(nodes(&first, "resource").contains(&instance));
    let development = compartment_id(&admin, "Development").await;
    let dev_volumes = ids_of(
        &items(
            &admin,
            "listBlockVolumes",
            json!({"compartmentId": development}),
        )
        .await,
    );
    let all_orphans = nodes(&ok_graph(&admin, "kind=orphans").await, "volume");

    let beta = admin.create_org("Beta", "beta").await;
    admin.assign_compartments(&beta, &[&development]).await;
    admin.set_active("beta").await;

    // Production is not Beta's: its VCN is not found, its volumes are not listed.
    let (status, body) = graph(&admin, &format!("kind=blast-radius&resource={prod_vcn}")).await;
    assert_eq!(status, 404, "{body}");
    let orphans = ok_graph(&admin, "kind=orphans").await;
    let beta_orphans = nodes(&orphans, "volume");
    assert_eq!(
        beta_orphans,
        all_orphans
            .intersection(&dev_volumes)
            .cloned()
            .collect::<BTreeSet<_>>()
    );
    let exposure = ok_graph(&admin, "kind=exposure").await;
    assert!(
        !labels(&exposure, "instance").contains("web-01"),
        "{exposure}"
    );
    // Beta's usage is its own graph reads, never the first organisation's calls.
    let usage = ok_graph(&admin, "kind=usage").await;
    assert!(!nodes(&usage, "resource").contains(&instance), "{usage}");
    assert!(!nodes(&usage, "tool").contains("getInstance"), "{usage}");
}
