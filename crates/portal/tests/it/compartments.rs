//! The organisation's compartment policy, applied by the tool gateway to every
//! call before any approval: calls may act only in allowed compartments and
//! their sub-compartments, whether named directly or through a resource.

use portal_testkit::{compartment_id as compartment, run_tool as run};
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

async fn an_instance(c: &Client, compartment: &str) -> String {
    let (status, body) = run(c, "listInstances", json!({"compartmentId": compartment})).await;
    assert_eq!(status, 200, "{body}");
    body["result"]["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an instance in {compartment}: {body}"))
        .to_string()
}

async fn set_policy(c: &Client, allowed: Value) -> (u16, Value) {
    let res = c
        .put(
            "/api/org/settings",
            json!({ "allowedCompartments": allowed }),
        )
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn tools_act_only_in_allowed_compartments_and_their_children() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let production = compartment(&admin, "Production").await;
    let prod_apps = compartment(&admin, "prod-apps").await;
    let development = compartment(&admin, "Development").await;
    let prod_instance = an_instance(&admin, &production).await;
    let apps_instance = an_instance(&admin, &prod_apps).await;
    let dev_instance = an_instance(&admin, &development).await;

    // The embedded demo's first organisation is assigned the whole demo
    // tenancy, explicitly: the tenancy-wide list works.
    let tenancy = admin.tenancy().await;
    let settings: Value = admin.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(settings["allowedCompartments"], json!([tenancy]));
    assert_eq!(run(&admin, "listInstances", json!({})).await.0, 200);

    let (status, body) = set_policy(&admin, json!([production])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["allowedCompartments"], json!([production]));
    assert_eq!(body["fourEyes"], true, "other settings unchanged");

    // Named compartments: the allowed one and its child pass, a sibling does not.
    assert_eq!(
        run(
            &admin,
            "listInstances",
            json!({"compartmentId": production})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        run(&admin, "listInstances", json!({"compartmentId": prod_apps}))
            .await
            .0,
        200
    );
    let (status, refused) = run(
        &admin,
        "listInstances",
        json!({"compartmentId": development}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["code"], "FORBIDDEN");
    assert!(refused["error"].as_str().unwrap().contains(&development));

    // No compartment searches the allowed subtree only (tenancy_search.rs).
    let (status, listed) = run(&admin, "listInstances", json!({})).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["result"]["searched"]["compartments"], 2, "{listed}");
    // A tenancy-wide call that cannot be confined is refused under a policy.
    let (status, refused) = run(&admin, "listImages", json!({})).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]
        .as_str()
        .unwrap()
        .contains("root compartment"));

    // Resources are judged by the compartment they live in.
    assert_eq!(
        run(&admin, "getInstance", json!({"instanceId": prod_instance}))
            .await
            .0,
        200
    );
    assert_eq!(
        run(&admin, "getInstance", json!({"instanceId": apps_instance}))
            .await
            .0,
        200
    );
    assert_eq!(
        run(&admin, "getInstance", json!({"instanceId": dev_instance}))
            .await
            .0,
        403
    );
    let missing = "ocid1.instance.oc1.iad.aaaaaaaadoesnotexist";
    assert_eq!(
        run(&admin, "getInstance", json!({"instanceId": missing}))
            .await
            .0,
        404
    );

    // The policy comes before approvals: no approval is asked for a refused call.
    let (status, _) = run(&admin, "stopInstance", json!({"instanceId": dev_instance})).await;
    assert_eq!(status, 403);
    let pending: Value = admin.get("/api/tools/approve").await.json().await.unwrap();
    assert_eq!(pending["approvals"], json!([]), "{pending}");
    let (status, allowed) = run(&admin, "stopInstance", json!({"instanceId": prod_instance})).await;
    assert_eq!(status, 403);
    assert_eq!(allowed["code"], "APPROVAL_REQUIRED", "{allowed}");

    // Tools that touch no compartment still run.
    assert_eq!(run(&admin, "listRegions", json!({})).await.0, 200);
    assert_eq!(run(&admin, "getOCIFreeTier", json!({})).await.0, 200);

    // Assigning the whole tenancy (its OCID) restores tenancy-wide calls.
    let (status, body) = set_policy(&admin, json!([tenancy])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(run(&admin, "listInstances", json!({})).await.0, 200);
    assert_eq!(
        run(&admin, "getInstance", json!({"instanceId": dev_instance}))
            .await
            .0,
        200
    );

    // The assignments are in the audit ledger.
    let audit: Value = admin
        .get("/api/audit?action=org.compartments_assigned")
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(text.contains(&production), "{audit}");
}

#[tokio::test]
async fn only_platform_admins_assign_a_valid_policy() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let tenancy = admin.tenancy().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let (status, body) = set_policy(&op, json!(["ocid1.compartment.oc1..aaaa"])).await;
    assert_eq!(status, 403, "{body}");
    // An org admin who is not a platform admin cannot lift or change it either.
    let org_admin = app.member(&admin, "boss@acme.test", "admin").await;
    let (status, body) = set_policy(&org_admin, json!([tenancy])).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("platform admin"),
        "{body}"
    );

    let (status, body) = set_policy(&admin, json!(["ocid1.compartment.oc1..aaaa", "nope"])).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("allowedCompartments/1"),
        "{body}"
    );
    let (status, _) = set_policy(&admin, json!(["ocid1.instance.oc1.iad.aaaa"])).await;
    assert_eq!(status, 400, "an instance is not a compartment");
    let too_many: Vec<String> = (0..101)
        .map(|i| format!("ocid1.compartment.oc1..a{i}"))
        .collect();
    assert_eq!(set_policy(&admin, json!(too_many)).await.0, 400);
    let res = admin
        .put(
            "/api/org/settings",
            json!({"allowedCompartments": "ocid1.compartment.oc1..aaaa"}),
        )
        .await;
    assert_eq!(res.status(), 400);

    // Nothing stored by the refused attempts.
    let settings: Value = admin.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(settings["allowedCompartments"], json!([tenancy]));
    // Duplicates collapse.
    let (status, body) = set_policy(
        &admin,
        json!(["ocid1.compartment.oc1..aaaa", "ocid1.compartment.oc1..aaaa"]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["allowedCompartments"],
        json!(["ocid1.compartment.oc1..aaaa"])
    );
}
