//! Regression tests for the compartment policy bypass (security review H1): a
//! call's scope is what it does — the compartment it runs in (the tenancy's
//! root when `compartmentId` is absent) always counts, free text never does,
//! and `createPolicy` statements must stay inside the policy's own subtree.
//! The attack is replayed through REST, MCP and chat. Also: dot segments in
//! path parameters (L6) and invisible format characters in text (L15).

use portal_testkit::{compartment_id as compartment, run_tool as run};
use portal_testkit::{Client, TestApp};
use rmcp::model::CallToolRequestParams;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::{json, Value};

const ROOT_GRANT: &str = "Allow group Everyone to manage all-resources in tenancy";

struct World {
    app: TestApp,
    admin: Client,
    op: Client,
    tenancy: String,
    production: String,
    prod_apps: String,
    development: String,
}

/// Acme restricted to Production (and prod-apps under it); `op` an operator.
async fn world() -> World {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let tenancy = admin.tenancy().await;
    let production = compartment(&admin, "Production").await;
    let prod_apps = compartment(&admin, "prod-apps").await;
    let development = compartment(&admin, "Development").await;
    let org = admin.who["activeOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin.assign_compartments(&org, &[&production]).await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    World {
        app,
        admin,
        op,
        tenancy,
        production,
        prod_apps,
        development,
    }
}

async fn pending(c: &Client) -> Vec<Value> {
    let body: Value = c.get("/api/tools/approve").await.json().await.unwrap();
    body["approvals"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_allowed_ocid_in_free_text_no_longer_opens_the_tenancy_root_over_rest() {
    let w = world().await;
    // The reviewed attack: `description` holds the allowed compartment, the
    // policy would be created in the root granting everyone everything.
    let (status, body) = run(
        &w.op,
        "createPolicy",
        json!({"name": "pwn", "description": w.production, "statements": [ROOT_GRANT]}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["code"], "FORBIDDEN",
        "refused before any approval: {body}"
    );
    assert!(
        pending(&w.admin).await.is_empty(),
        "no approval was asked for"
    );

    // Any free-text argument, any tool: the tenancy-wide call is refused.
    for (tool, args) in [
        ("searchResources", json!({"query": w.production})),
        ("searchResourcesByName", json!({"text": w.production})),
        ("searchLogs", json!({"query": w.production})),
        (
            "getMetrics",
            json!({"namespace": "oci_computeagent", "query": w.production}),
        ),
        ("listImages", json!({"operatingSystem": w.production})),
    ] {
        let (status, body) = run(&w.op, tool, args).await;
        assert_eq!(status, 403, "{tool}: {body}");
    }
    // A list without a compartment searches only the allowed subtree,
    // whatever its free text says.
    let (status, body) = run(
        &w.op,
        "listContainerImages",
        json!({"repositoryName": w.production}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["searched"]["compartments"], 2, "{body}");
    let (status, body) = run(&w.op, "listInstances", json!({"lifecycleState": "RUNNING"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["searched"]["compartments"], 2, "{body}");
    for item in body["result"]["items"].as_array().into_iter().flatten() {
        let c = item["compartmentId"].as_str().unwrap_or_default();
        assert!(c == w.production || c == w.prod_apps, "{item}");
    }
    // The same calls inside the allowed compartment still work.
    let (status, body) = run(
        &w.op,
        "listImages",
        json!({"compartmentId": w.prod_apps, "operatingSystem": w.production}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn policy_statements_must_stay_inside_the_policy_compartment() {
    let w = world().await;
    let create = |statements: Value, c: &str| json!({"compartmentId": c, "name": "p", "description": "d", "statements": statements});
    // Placed in an allowed compartment, but granting outside it: 400 naming the statement.
    for (i, statements) in [
        json!([ROOT_GRANT]),
        json!([
            "Allow group A to read instances in compartment prod-apps",
            "Allow group A to read instances in compartment Development"
        ]),
        json!([format!(
            "Allow group A to read instances in compartment id {}",
            w.development
        )]),
        json!([format!(
            "Allow group A to read instances in compartment id {}",
            w.tenancy
        )]),
        json!(["Allow group A to read instances in compartment Production:nothere"]),
        json!(["Allow group A to read instances"]),
        json!(["Allow group A to read instances in compartment a b"]),
        json!(["Define tenancy Other as ocid1.tenancy.oc1..aaaa"]),
        json!(["Endorse group A to manage all-resources in any-tenancy"]),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, body) = run(
            &w.op,
            "createPolicy",
            create(statements.clone(), &w.production),
        )
        .await;
        assert_eq!(status, 400, "{i}: {statements}: {body}");
        assert_eq!(body["code"], "VALIDATION_ERROR");
        let at = if i == 1 {
            "args/statements/1"
        } else {
            "args/statements/0"
        };
        assert!(
            body["error"].as_str().unwrap().starts_with(at),
            "{i}: {body}"
        );
    }
    assert!(pending(&w.admin).await.is_empty());

    // Statements inside the policy's subtree pass, in every spelling OCI accepts.
    let ok = json!([
        "Allow group A to read instances in compartment prod-apps",
        "Allow group A to read instances in compartment Production:prod-apps",
        "allow group A to read instances in compartment PRODUCTION",
        format!("Allow group A to read instances in compartment id {} where request.user.name = 'in tenancy'", w.prod_apps),
    ]);
    let args = create(ok, &w.production);
    let (status, body) = run(&w.op, "createPolicy", args.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("APPROVAL_REQUIRED")),
        "{body}"
    );
    let approval = body["approvalId"].as_str().unwrap();
    // createPolicy always needs a second person (M11): an admin approves.
    let res = w
        .admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, body) = run(&w.op, "createPolicy", args).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["compartmentId"], w.production.as_str());

    // The policy compartment itself must be allowed, named or defaulted.
    let (status, _) = run(
        &w.op,
        "createPolicy",
        create(
            json!(["Allow group A to read instances in compartment Development"]),
            &w.development,
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = run(
        &w.op,
        "createPolicy",
        json!({"name": "p", "description": "d", "statements": ["Allow group A to read instances in compartment Production"]}),
    )
    .await;
    assert_eq!(
        status, 403,
        "no compartmentId: the policy would live in the root"
    );
    drop(w.app);
}

#[tokio::test]
async fn the_attack_is_refused_through_mcp() {
    let w = world().await;
    // A key acting as the (confined) org admin.
    let (key, _) = w
        .admin
        .create_key("mcp", &["tools:read", "tools:execute", "tools:approve"])
        .await;
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/api/mcp", w.app.url))
        .auth_header(key);
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    let mcp = ().serve(transport).await.expect("MCP initialize");
    let Value::Object(args) =
        json!({"name": "pwn", "description": w.production, "statements": [ROOT_GRANT]})
    else {
        unreachable!()
    };
    let r = mcp
        .call_tool(CallToolRequestParams::new("createPolicy").with_arguments(args))
        .await
        .expect("tools/call");
    assert_eq!(r.is_error, Some(true));
    let text: String = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    assert!(
        text.contains("whole tenancy") || text.contains("outside"),
        "{text}"
    );
    assert!(
        !text.contains("pproval"),
        "refused before any approval: {text}"
    );
    assert!(pending(&w.admin).await.is_empty());
    // A statement outside the policy's compartment, with the compartment allowed.
    let Value::Object(args) = json!({"compartmentId": w.production, "name": "pwn", "description": "d", "statements": [ROOT_GRANT]})
    else {
        unreachable!()
    };
    let r = mcp
        .call_tool(CallToolRequestParams::new("createPolicy").with_arguments(args))
        .await
        .expect("tools/call");
    assert_eq!(r.is_error, Some(true));
    assert!(pending(&w.admin).await.is_empty());
}

#[tokio::test]
async fn the_attack_is_refused_through_chat() {
    let w = world().await;
    let message = format!(
        "/tool createPolicy {}",
        json!({"name": "pwn", "description": w.production, "statements": [ROOT_GRANT]})
    );
    let res = w.op.post("/api/chat", json!({ "message": message })).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("tool-output-error"), "{text}");
    assert!(!text.contains("data-approval-required"), "{text}");
    assert!(text.contains("whole tenancy"), "{text}");
    assert!(pending(&w.admin).await.is_empty());
}

#[tokio::test]
async fn dot_segments_and_invisible_characters_are_refused_with_400() {
    let w = world().await;
    // L6: `..` became `GET /n/{ns}/`; now 400 before any request.
    for name in ["..", ".", ""] {
        for tool in ["getBucket", "listObjects", "deleteBucket"] {
            let (status, body) = run(&w.admin, tool, json!({ "bucketName": name })).await;
            assert_eq!(status, 400, "{tool} {name:?}: {body}");
            assert!(
                body["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("args/bucketName"),
                "{body}"
            );
        }
    }
    let lb = "ocid1.loadbalancer.oc1.iad.aaaa";
    let (status, body) = run(
        &w.admin,
        "getBackendSetHealth",
        json!({"loadBalancerId": lb, "backendSetName": ".."}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = run(
        &w.admin,
        "getResourceAvailability",
        json!({"serviceName": "..", "limitName": "x"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("args/serviceName"),
        "{body}"
    );

    // L15: text approvers read may not hide what it says.
    let (status, body) = run(
        &w.op,
        "createPolicy",
        json!({"compartmentId": w.production, "name": "p", "description": "read only \u{202E}ylno daer",
               "statements": ["Allow group A to read instances in compartment prod-apps"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("args/description: must not contain invisible"),
        "{body}"
    );
    let (status, body) = run(
        &w.op,
        "createPolicy",
        json!({"compartmentId": w.production, "name": "p", "description": "d",
               "statements": ["Allow group A to read instances in compartment prod-apps\u{2066}"]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("args/statements/0"),
        "{body}"
    );
    assert!(pending(&w.admin).await.is_empty());
}
