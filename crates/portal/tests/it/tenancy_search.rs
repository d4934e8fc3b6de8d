//! Lists without a compartment search the tenancy: every compartment of the
//! subtree the organisation's compartment policy allows, merged, with a note
//! saying how many were searched (issue 11, item 5). Through the real router
//! over HTTP, on the embedded demo tenancy.

use std::collections::BTreeSet;

use portal_testkit::{compartment_id as compartment, run_tool as run};
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

fn ids(body: &Value) -> BTreeSet<String> {
    body["result"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items in {body}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The union of `tool` listed compartment by compartment.
async fn one_by_one(c: &Client, tool: &str, compartments: &[String]) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for id in compartments {
        let (status, body) = run(c, tool, json!({"compartmentId": id})).await;
        assert_eq!(status, 200, "{tool} in {id}: {body}");
        all.extend(ids(&body));
    }
    all
}

async fn app() -> (TestApp, Client) {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    (app, admin)
}

#[tokio::test]
async fn list_instances_without_a_compartment_finds_the_demo_instances() {
    let (_app, admin) = app().await;
    let tenancy = admin.tenancy().await;
    let (status, comps) = run(&admin, "listCompartments", json!({})).await;
    assert_eq!(status, 200, "{comps}");
    let mut every: Vec<String> = vec![tenancy.clone()];
    every.extend(ids(&comps));
    assert_eq!(
        every.len(),
        5,
        "root, Production, prod-apps, Development, Sandbox"
    );

    let (status, body) = run(&admin, "listInstances", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let found = ids(&body);
    assert!(!found.is_empty(), "the demo instances: {body}");
    assert_eq!(found, one_by_one(&admin, "listInstances", &every).await);
    let result = &body["result"];
    assert_eq!(result["count"], found.len());
    assert_eq!(result["searched"]["compartments"], 5, "{result}");
    let note = result["note"].as_str().unwrap_or_default();
    assert!(note.starts_with("Searched 5 compartments"), "{note}");
    // Each item says where it lives.
    for item in result["items"].as_array().into_iter().flatten() {
        let c = item["compartmentId"].as_str().unwrap_or_default();
        assert!(every.iter().any(|e| e == c), "{item}");
    }

    // The limit holds across the merged result.
    let (status, one) = run(&admin, "listInstances", json!({"limit": 1})).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["result"]["count"], 1);
    assert_eq!(one["result"]["items"].as_array().map(Vec::len), Some(1));
    // Filters still apply in every compartment.
    let (_, running) = run(
        &admin,
        "listInstances",
        json!({"lifecycleState": "RUNNING"}),
    )
    .await;
    for item in running["result"]["items"].as_array().into_iter().flatten() {
        assert_eq!(item["lifecycleState"], "RUNNING", "{item}");
    }

    // A named compartment is searched alone, as before: no note.
    let development = compartment(&admin, "Development").await;
    let (status, dev) = run(
        &admin,
        "listInstances",
        json!({"compartmentId": development}),
    )
    .await;
    assert_eq!(status, 200, "{dev}");
    assert!(dev["result"].get("searched").is_none(), "{dev}");
    assert!(ids(&dev).is_subset(&found));

    // Every list tool that fans out does so with the same shape.
    for tool in portal_tools::FAN_OUT {
        let (status, body) = run(&admin, tool, json!({})).await;
        assert_eq!(status, 200, "{tool}: {body}");
        let r = &body["result"];
        assert_eq!(r["searched"]["compartments"], 5, "{tool}: {r}");
        assert!(r["searched"].get("failed").is_none(), "{tool}: {r}");
        assert_eq!(
            r["items"].as_array().map(Vec::len),
            r["count"].as_u64().map(|n| n as usize),
            "{tool}: {r}"
        );
    }
}

#[tokio::test]
async fn with_a_policy_only_the_allowed_subtree_is_searched() {
    let (_app, admin) = app().await;
    let tenancy = admin.tenancy().await;
    let production = compartment(&admin, "Production").await;
    let prod_apps = compartment(&admin, "prod-apps").await;
    let development = compartment(&admin, "Development").await;
    let sandbox = compartment(&admin, "Sandbox").await;
    let outside = one_by_one(
        &admin,
        "listInstances",
        &[tenancy.clone(), development.clone(), sandbox.clone()],
    )
    .await;
    let inside = one_by_one(
        &admin,
        "listInstances",
        &[production.clone(), prod_apps.clone()],
    )
    .await;
    assert!(!inside.is_empty() && !outside.is_empty());
    let org = admin.who["activeOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin.assign_compartments(&org, &[&production]).await;

    let (status, body) = run(&admin, "listInstances", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), inside, "only Production and prod-apps: {body}");
    let result = &body["result"];
    assert_eq!(result["searched"]["compartments"], 2, "{result}");
    let note = result["note"].as_str().unwrap_or_default();
    assert!(
        note.starts_with("Searched 2 compartments (the compartments assigned to your organisation"),
        "{note}"
    );
    // listCompartments without a compartment lists what the organisation may use.
    let (status, comps) = run(&admin, "listCompartments", json!({})).await;
    assert_eq!(status, 200, "{comps}");
    assert_eq!(
        ids(&comps),
        BTreeSet::from([production.clone(), prod_apps.clone()]),
        "{comps}"
    );
    // ...and with one, the subtree under it.
    let (status, under) = run(
        &admin,
        "listCompartments",
        json!({"compartmentId": production}),
    )
    .await;
    assert_eq!(status, 200, "{under}");
    assert_eq!(ids(&under), BTreeSet::from([prod_apps.clone()]));

    // A resource named outside the subtree is still refused.
    let dev_instance = outside.iter().next().cloned().unwrap_or_default();
    let (status, refused) = run(
        &admin,
        "listVolumeAttachments",
        json!({"instanceId": dev_instance}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");

    // Nested assignments are searched once each.
    admin
        .assign_compartments(&org, &[&prod_apps, &production])
        .await;
    let (status, body) = run(&admin, "listInstances", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["searched"]["compartments"], 2, "{body}");
    assert_eq!(ids(&body), inside);
}
