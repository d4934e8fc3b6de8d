//! The MCP endpoint, driven by the official Rust SDK's client over HTTP:
//! bearer API keys only, the catalogue filtered by what the key may run, and
//! every call through the tool gateway (approvals included).

use portal_testkit::{Client, TestApp};
use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

async fn connect(app: &TestApp, key: &str) -> RunningService<RoleClient, ()> {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/api/mcp", app.url))
        .auth_header(key.to_string());
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    ().serve(transport).await.expect("MCP initialize")
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn call(
    mcp: &RunningService<RoleClient, ()>,
    name: &'static str,
    args: Value,
) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    mcp.call_tool(CallToolRequestParams::new(name).with_arguments(args))
        .await
        .expect("tools/call")
}

fn find<'a>(tools: &'a [Tool], name: &str) -> Option<&'a Tool> {
    tools.iter().find(|t| t.name == name)
}

async fn first_running_instance(mcp: &RunningService<RoleClient, ()>) -> String {
    let comps = call(mcp, "listCompartments", json!({})).await;
    let comps = comps.structured_content.expect("structured result");
    for comp in comps["result"]["items"].as_array().expect("items") {
        let r = call(
            mcp,
            "listInstances",
            json!({"compartmentId": comp["id"], "lifecycleState": "RUNNING"}),
        )
        .await;
        let r = r.structured_content.expect("structured result");
        if let Some(i) = r["result"]["items"].as_array().and_then(|a| a.first()) {
            return i["id"].as_str().expect("id").to_string();
        }
    }
    panic!("no running instance in the demo tenancy");
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
async fn only_bearer_api_keys_get_in() {
    let (app, admin) = app().await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let http = reqwest::Client::new();
    let anonymous = http
        .post(format!("{}/api/mcp", app.url))
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");

    // A browser session is not enough, nor is the key in another header, nor a wrong key.
    let with_session = admin.post("/api/mcp", init.clone()).await;
    assert_eq!(with_session.status(), 401);
    let (key, _) = admin
        .create_key("mcp", &["tools:read", "tools:execute"])
        .await;
    let x_api_key = http
        .post(format!("{}/api/mcp", app.url))
        .header("x-api-key", &key)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(x_api_key.status(), 401);
    let wrong = http
        .post(format!("{}/api/mcp", app.url))
        .bearer_auth(format!("portal_{}", "0".repeat(64)))
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let ok = http
        .post(format!("{}/api/mcp", app.url))
        .bearer_auth(&key)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(
        body["result"]["serverInfo"]["name"],
        "oci-self-service-portal"
    );
}

#[tokio::test]
async fn lists_what_the_key_may_run_with_hints() {
    let (app, admin) = app().await;
    let (operate, _) = admin
        .create_key("operate", &["tools:read", "tools:execute"])
        .await;
    let mcp = connect(&app, &operate).await;
    let tools = mcp.list_all_tools().await.expect("tools/list");
    let catalogue: Value = admin.get("/api/v1/tools").await.json().await.unwrap();
    let non_danger = catalogue["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["risk"] != "danger")
        .count();
    assert_eq!(tools.len(), non_danger, "every tool but the danger ones");

    let list = find(&tools, "listInstances").expect("listInstances");
    let hints = list.annotations.as_ref().expect("annotations");
    assert_eq!(hints.read_only_hint, Some(true));
    assert_eq!(list.input_schema["type"], "object");
    assert!(list.input_schema["properties"]["compartmentId"].is_object());
    let stop = find(&tools, "stopInstance").expect("stopInstance");
    let hints = stop.annotations.as_ref().expect("annotations");
    assert_eq!(hints.read_only_hint, Some(false));
    // Stopping interrupts what runs: not additive, so destructive (issue 11).
    assert_eq!(hints.destructive_hint, Some(true));
    assert!(find(&tools, "terminateInstance").is_none());
    mcp.cancel().await.ok();

    let (danger, _) = admin
        .create_key("danger", &["tools:read", "tools:execute", "tools:danger"])
        .await;
    let mcp = connect(&app, &danger).await;
    let tools = mcp.list_all_tools().await.expect("tools/list");
    let term = find(&tools, "terminateInstance").expect("terminateInstance with tools:danger");
    let hints = term.annotations.as_ref().expect("annotations");
    assert_eq!(hints.destructive_hint, Some(true));
    mcp.cancel().await.ok();

    // A key that may read the catalogue but run nothing sees no tools to call.
    let (read, _) = admin.create_key("read", &["tools:read"]).await;
    let mcp = connect(&app, &read).await;
    assert!(mcp.list_all_tools().await.expect("tools/list").is_empty());
    let refused = call(&mcp, "listCompartments", json!({})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("FORBIDDEN"), "{}", text(&refused));
    mcp.cancel().await.ok();
}

#[tokio::test]
async fn calls_go_through_the_gateway_with_approvals() {
    let (app, admin) = app().await;
    let (key, _) = admin
        .create_key("agent", &["tools:read", "tools:execute"])
        .await;
    let mcp = connect(&app, &key).await;

    // A read tool runs at once and says which cloud answered.
    let listed = call(&mcp, "listCompartments", json!({})).await;
    assert_eq!(listed.is_error, Some(false), "{}", text(&listed));
    let body = listed.structured_content.clone().expect("structured");
    assert_eq!(body["cloud"], "emulator");
    assert!(!body["result"]["items"].as_array().unwrap().is_empty());

    // Bad arguments are a tool error naming the field, not a crash.
    let bad = call(&mcp, "getInstance", json!({"instanceId": "not-an-ocid"})).await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("instanceId"), "{}", text(&bad));
    // An unknown tool is a protocol error.
    let unknown = mcp
        .call_tool(CallToolRequestParams::new("noSuchTool"))
        .await;
    assert!(unknown.is_err());

    // A tool that changes the cloud needs an approval: the error names it.
    let instance = first_running_instance(&mcp).await;
    let args = json!({"instanceId": instance});
    let first = call(&mcp, "stopInstance", args.clone()).await;
    assert_eq!(first.is_error, Some(true));
    let detail = first.structured_content.clone().expect("structured");
    assert_eq!(detail["code"], "APPROVAL_REQUIRED");
    let approval = detail["approvalId"].as_str().unwrap().to_string();
    let approve_url = format!(
        "{}/approvals/{approval}",
        app.state.settings.http.public_url
    );
    assert_eq!(detail["approveUrl"], approve_url.as_str());
    assert!(text(&first).contains(&approval) && text(&first).contains(&approve_url));

    // Asking again reuses the same pending approval.
    let again = call(&mcp, "stopInstance", args.clone()).await;
    assert_eq!(
        again.structured_content.unwrap()["approvalId"],
        approval.as_str()
    );

    let decided = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true}),
        )
        .await;
    let decided_status = decided.status();
    let decided_body: Value = decided.json().await.unwrap();
    assert_eq!(decided_status, 200, "{decided_body}");
    assert_eq!(decided_body["status"], "approved", "{decided_body}");

    // The same call now runs, once.
    let ran = call(&mcp, "stopInstance", args.clone()).await;
    assert_eq!(ran.is_error, Some(false), "{}", text(&ran));
    let state = ran.structured_content.unwrap()["result"]["lifecycleState"].clone();
    assert!(
        matches!(state.as_str(), Some("STOPPING" | "STOPPED")),
        "{state}"
    );
    // Repeating it does not run it again: the spent approval is gone, so it is a new request.
    let replay = call(&mcp, "stopInstance", args).await;
    assert_eq!(replay.is_error, Some(true));
    let replay = replay.structured_content.unwrap();
    assert_eq!(replay["code"], "APPROVAL_REQUIRED");
    assert_ne!(replay["approvalId"], approval.as_str());

    // Both calls are in the activity feed, as the key's principal.
    let activity: Value = admin
        .get("/api/activity?tool=stopInstance")
        .await
        .json()
        .await
        .unwrap();
    let items = activity["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "ran exactly once: {activity}");
    assert_eq!(items[0]["status"], "success", "{activity}");
    assert_eq!(items[0]["approvalId"], approval.as_str(), "{activity}");
    mcp.cancel().await.ok();

    let metrics = app.get("/api/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("route=\"/api/mcp\""),
        "MCP requests are labelled by route"
    );
}

#[tokio::test]
async fn annotations_come_from_the_spec_for_every_tool() {
    let (app, admin) = app().await;
    let (key, _) = admin
        .create_key("all", &["tools:read", "tools:execute", "tools:danger"])
        .await;
    let mcp = connect(&app, &key).await;
    let tools = mcp.list_all_tools().await.expect("tools/list");
    let catalogue: Value = admin.get("/api/v1/tools").await.json().await.unwrap();
    let risk_of = |name: &str| {
        catalogue["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["risk"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert!(tools.len() >= 80, "{} tools", tools.len());
    for t in &tools {
        let title = t.title.as_deref().unwrap_or_default();
        assert!(!title.trim().is_empty(), "{} has a title", t.name);
        let hints = t.annotations.as_ref().expect("annotations");
        assert_eq!(hints.title.as_deref(), Some(title), "{}", t.name);
        assert!(hints.idempotent_hint.is_some(), "{} idempotentHint", t.name);
        let risk = risk_of(&t.name);
        assert_eq!(hints.read_only_hint, Some(risk == "read"), "{}", t.name);
        if risk == "danger" {
            assert_eq!(hints.destructive_hint, Some(true), "{} is danger", t.name);
        }
    }
    for name in [
        "rebootInstance",
        "terminateInstance",
        "deleteVcn",
        "deleteBucket",
    ] {
        let t = find(&tools, name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            t.annotations.as_ref().unwrap().destructive_hint,
            Some(true),
            "{name}"
        );
    }
    for name in ["createBucket", "startInstance", "launchInstance"] {
        let t = find(&tools, name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            t.annotations.as_ref().unwrap().destructive_hint,
            Some(false),
            "{name}"
        );
    }
    let list = find(&tools, "listInstances").unwrap();
    assert_eq!(list.title.as_deref(), Some("List instances"));
    assert_eq!(
        list.annotations.as_ref().unwrap().idempotent_hint,
        Some(true)
    );
    mcp.cancel().await.ok();
}

#[tokio::test]
async fn json_rpc_errors_have_their_codes_and_browsers_need_our_origin() {
    let (app, admin) = app().await;
    let (key, _) = admin
        .create_key("rpc", &["tools:read", "tools:execute"])
        .await;
    let http = reqwest::Client::new();
    let send = |body: &'static str, origin: Option<String>, accept: bool| {
        let mut r = http
            .post(format!("{}/api/mcp", app.url))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body);
        if accept {
            r = r.header("accept", "application/json, text/event-stream");
        }
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        async move {
            let res = r.send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };
    let list = r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#;
    for (body, status, code) in [
        ("{bad", 400, -32700),
        ("[]", 400, -32600),
        (r#"{"x":1}"#, 400, -32600),
        (
            r#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#,
            400,
            -32600,
        ),
        (r#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#, 200, -32601),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"nam":"x"}}"#,
            200,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":5}"#,
            200,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"noSuchTool"}}"#,
            200,
            -32602,
        ),
    ] {
        let (s, b) = send(body, None, true).await;
        assert_eq!(s, status, "{body}: {b}");
        assert_eq!(b["jsonrpc"], "2.0", "{body}: {b}");
        assert_eq!(b["error"]["code"], code, "{body}: {b}");
    }
    // A foreign browser origin is refused; ours and a missing one are fine.
    let (s, b) = send(list, Some("https://evil.example".into()), true).await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["code"], -32600);
    let (s, _) = send(list, Some("null".into()), true).await;
    assert_eq!(s, 403);
    let ours = app.state.settings.http.public_url.clone();
    let (s, b) = send(list, Some(ours), true).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["result"]["tools"].is_array());
    let (s, b) = send(list, None, true).await;
    assert_eq!(s, 200);
    assert_eq!(b["id"], 7);
    // No Accept at all reads as accepting both, as HTTP says.
    let (s, b) = send(list, None, false).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["result"]["tools"].is_array());
}
