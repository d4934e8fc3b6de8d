//! Remote MCP servers through the real router, against a real MCP server
//! (the official Rust SDK's, over Streamable HTTP on loopback): connecting
//! lists its tools as `<server>__<tool>` in the organisation's catalogue;
//! calls go through the gateway (default risk `confirm`: an approval bound to
//! the exact request, then exactly that request runs; a risk override;
//! viewers refused); credentials are sealed at rest and sent as the
//! `Authorization` header; another organisation sees nothing; a server that
//! stops answers is marked failed and its tools refused with a 502; the
//! outbound guard refuses addresses the portal never calls.

use crate::mcp_remote;

use mcp_remote::RemoteServer;
use portal_fake_llm::{FakeLlm, Protocol, Turn};
use portal_testkit::sse::{read_sse, text_of};
use portal_testkit::web::{csrf_of, page};
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

const PATH: &str = "/api/admin/mcp-servers";
const BEARER: &str = "mcp-bearer-4f1c9a7e2d0b";

async fn app() -> TestApp {
    TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_OUTBOUND_ALLOW", "127.0.0.1")
        .env("PORTAL_OUTBOUND_ALLOW_HTTP", "true")
        .spawn()
        .await
}

async fn send(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn connect(admin: &Client, name: &str, url: &str) -> Value {
    let (status, body) = send(
        admin
            .post(
                PATH,
                json!({"name": name, "url": url, "bearer": BEARER,
                       "headers": {"X-Tenant": "acme"}}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn catalogue(c: &Client) -> Vec<Value> {
    let v: Value = c.get("/api/v1/tools").await.json().await.unwrap();
    v["tools"].as_array().unwrap().clone()
}

fn names(tools: &[Value]) -> Vec<String> {
    tools
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter(|n| n.contains("__"))
        .map(str::to_string)
        .collect()
}

async fn execute(c: &Client, body: Value) -> (u16, Value) {
    send(c.post("/api/tools/execute", body).await).await
}

#[tokio::test]
async fn tools_join_the_catalogue_and_run_through_the_gateway() {
    let remote = RemoteServer::start().await;
    let app = app().await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let viewer = app.member(&admin, "v@acme.test", "viewer").await;

    let s = connect(&admin, "glossary", &remote.url).await;
    assert_eq!(s["health"], "ok", "{s}");
    assert_eq!(s["hasCredentials"], true);
    assert!(!s.to_string().contains(BEARER), "{s}");
    let tools = s["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2, "{s}");
    assert_eq!(tools[0]["catalogueName"], "glossary__lookup");
    assert!(tools.iter().all(|t| t["risk"] == "confirm"), "{s}");
    let id = s["id"].as_str().unwrap().to_string();

    // The catalogue, for everyone in the organisation, names them namespaced.
    let cat = catalogue(&op).await;
    assert_eq!(names(&cat), ["glossary__lookup", "glossary__write_note"]);
    let lookup = cat
        .iter()
        .find(|t| t["name"] == "glossary__lookup")
        .unwrap();
    assert_eq!(lookup["category"], "mcp");
    assert_eq!(lookup["risk"], "confirm");
    assert_eq!(lookup["inputSchema"]["required"], json!(["word"]));
    assert_eq!(lookup["canRun"], true);
    let one: Value = op
        .get("/api/v1/tools/glossary__write_note")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["risk"], "confirm", "{one}");

    // Default risk confirm: an approval bound to this exact request.
    let req = json!({"toolCallId": "c1", "toolName": "glossary__write_note",
                     "args": {"text": "hello", "pinned": true}});
    let (status, body) = execute(&op, req.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "APPROVAL_REQUIRED");
    assert!(remote.calls().is_empty(), "nothing ran before approval");
    let approval = body["approvalId"].as_str().unwrap().to_string();
    let (status, body) = send(
        admin
            .post(
                "/api/tools/approve",
                json!({"approvalId": approval, "approved": true, "reason": "ok"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Other arguments do not spend it.
    let mut other = req.clone();
    other["args"]["text"] = json!("something else");
    other["approvalId"] = json!(approval);
    let (status, body) = execute(&op, other).await;
    assert!(status == 403 || status == 409, "{status} {body}");
    assert!(remote.calls().is_empty(), "{:?}", remote.calls());
    // The approved request runs, once.
    let mut approved = req.clone();
    approved["approvalId"] = json!(approval);
    let (status, ran) = execute(&op, approved.clone()).await;
    assert_eq!(status, 200, "{ran}");
    assert_eq!(
        ran["result"]["structuredContent"]["written"], "hello",
        "{ran}"
    );
    assert_eq!(
        remote.calls(),
        vec![(
            "write_note".to_string(),
            json!({"text": "hello", "pinned": true})
        )]
    );
    let (status, replay) = execute(&op, approved).await;
    assert_eq!(status, 409, "spent: {replay}");
    assert_eq!(remote.calls().len(), 1);

    // Credentials went as headers, on every request, and are sealed at rest.
    {
        let seen = remote.seen.lock().unwrap();
        assert!(!seen.auth.is_empty());
        assert!(
            seen.auth.iter().all(|a| a == &format!("Bearer {BEARER}")),
            "{:?}",
            seen.auth
        );
        assert!(seen.tenant.iter().all(|t| t == "acme"), "{:?}", seen.tenant);
    }
    let rows = app
        .query_strings("SELECT credentials_sealed FROM mcp_servers")
        .await;
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].starts_with("v1:") && !rows[0].contains(BEARER) && !rows[0].contains("acme"),
        "{rows:?}"
    );
    assert!(app.tables_containing(BEARER).await.is_empty());

    // Bad arguments are the gateway's 400, before anything runs.
    let (status, body) = execute(
        &op,
        json!({"toolName": "glossary__lookup", "args": {"word": 3}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("word"), "{body}");
    let (status, _) = execute(
        &op,
        json!({"toolName": "glossary__lookup", "args": {"nope": "x"}}),
    )
    .await;
    assert_eq!(status, 400);

    // The admin lowers lookup to read: it runs at once.
    let (status, body) = send(
        admin
            .put(
                &format!("{PATH}/{id}/tools/lookup/risk"),
                json!({"risk": "read"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tools"][0]["risk"], "read");
    let (status, ran) = execute(
        &op,
        json!({"toolName": "glossary__lookup", "args": {"word": "vcn"}}),
    )
    .await;
    assert_eq!(status, 200, "{ran}");
    assert_eq!(ran["result"]["content"], json!(["vcn: a word"]), "{ran}");
    // A tool's own error is the cloud-style 502 with its message.
    let (status, err) = execute(
        &op,
        json!({"toolName": "glossary__lookup", "args": {"word": "missing"}}),
    )
    .await;
    assert_eq!(status, 502, "{err}");
    assert!(err["error"].as_str().unwrap().contains("no entry"), "{err}");

    // Viewers see the tools but may not run them.
    let cat = catalogue(&viewer).await;
    assert!(cat
        .iter()
        .filter(|t| t["category"] == "mcp")
        .all(|t| t["canRun"] == false));
    let (status, body) = execute(
        &viewer,
        json!({"toolName": "glossary__lookup", "args": {"word": "x"}}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(remote.calls().len(), 3, "{:?}", remote.calls());

    // Activity and audit record remote calls like any other tool.
    let activity: Value = admin
        .get("/api/activity?tool=glossary__write_note")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(activity["total"], 1, "{activity}");
    assert_eq!(activity["items"][0]["approvalId"], approval.as_str());
    let audit: Value = admin
        .get("/api/audit?action=mcp_server.*")
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
    assert_eq!(
        actions,
        [
            "mcp_server.tool_risk_set",
            "mcp_server.refreshed",
            "mcp_server.created"
        ]
    );
    assert!(!audit.to_string().contains(BEARER));
    // Per-tool call metrics.
    let metrics = app.get("/api/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("tool_executions_total{status=\"success\",tool=\"glossary__lookup\"} 1"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("glossary"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // The portal's own MCP endpoint lists them too (for a key that may run them).
    let (key, _) = admin
        .create_key("mcp", &["tools:read", "tools:execute"])
        .await;
    let mcp = app.with_key(&key);
    let listed = send(
        mcp.request(reqwest::Method::POST, "/api/mcp")
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        listed.1.to_string().contains("glossary__lookup"),
        "{listed:?}"
    );

    // Disconnect: its tools leave the catalogue and are refused.
    let (status, body) = send(
        admin
            .patch(&format!("{PATH}/{id}"), json!({"enabled": false}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(names(&catalogue(&op).await).is_empty());
    let (status, body) = execute(
        &op,
        json!({"toolName": "glossary__lookup", "args": {"word": "x"}}),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("disconnected"),
        "{body}"
    );
    // Reconnect, then delete.
    let (status, body) = send(
        admin
            .patch(&format!("{PATH}/{id}"), json!({"enabled": true}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["health"].clone()),
        (200, json!("ok")),
        "{body}"
    );
    assert_eq!(names(&catalogue(&op).await).len(), 2);
    assert_eq!(admin.delete(&format!("{PATH}/{id}")).await.status(), 204);
    assert!(names(&catalogue(&op).await).is_empty());
    assert_eq!(admin.get(&format!("{PATH}/{id}")).await.status(), 404);
}

#[tokio::test]
async fn a_failing_server_is_marked_and_its_tools_refused() {
    let remote = RemoteServer::start().await;
    let app = app().await;
    let admin = app.admin().await;
    let s = connect(&admin, "notes", &remote.url).await;
    let id = s["id"].as_str().unwrap().to_string();
    let (status, _) = send(
        admin
            .put(
                &format!("{PATH}/{id}/tools/lookup/risk"),
                json!({"risk": "read"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200);

    remote.stop();
    let (status, body) = send(admin.post(&format!("{PATH}/{id}/refresh"), json!({})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["health"], "failed", "{body}");
    assert!(
        body["lastError"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert_eq!(
        body["tools"].as_array().unwrap().len(),
        2,
        "the last snapshot stays"
    );
    assert!(names(&catalogue(&admin).await).is_empty());
    let (status, err) = execute(
        &admin,
        json!({"toolName": "notes__lookup", "args": {"word": "x"}}),
    )
    .await;
    assert_eq!(status, 502, "{err}");
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("notes is unavailable"),
        "{err}"
    );

    // A server never reachable is stored as failed, with no tools.
    let (status, body) = send(
        admin
            .post(
                PATH,
                json!({"name": "dead", "url": "http://127.0.0.1:9/mcp"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["health"], "failed");
    assert!(
        body["lastError"]
            .as_str()
            .unwrap()
            .starts_with("could not connect"),
        "{body}"
    );
    assert_eq!(body["hasCredentials"], false);
    let (status, _) = execute(&admin, json!({"toolName": "dead__anything", "args": {}})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_server_that_lists_too_much_is_refused_and_descriptions_are_cut() {
    let remote = RemoteServer::start().await;
    let app = app().await;
    let admin = app.admin().await;
    // Long descriptions are kept cut to 2,000 characters.
    remote.list_extra(3, 5_000);
    let s = connect(&admin, "wide", &remote.url).await;
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!(s["health"], "ok", "{s}");
    let tools = s["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 5, "{s}");
    let extra = tools.iter().find(|t| t["name"] == "extra_0").unwrap();
    assert_eq!(
        extra["description"].as_str().unwrap().chars().count(),
        2_000,
        "{extra}"
    );
    // More tools than the portal keeps: the refresh fails, the last
    // snapshot stays, and nothing of the new listing joins the catalogue.
    remote.list_extra(300, 10);
    let (status, body) = send(admin.post(&format!("{PATH}/{id}/refresh"), json!({})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["health"], "failed", "{body}");
    assert!(
        body["lastError"]
            .as_str()
            .unwrap()
            .contains("at most 256 are taken"),
        "{body}"
    );
    assert_eq!(body["tools"].as_array().unwrap().len(), 5, "{body}");
    assert!(!names(&catalogue(&admin).await)
        .iter()
        .any(|n| n.starts_with("wide__extra_299")));
}

#[tokio::test]
async fn input_is_judged_and_organisations_are_apart() {
    let remote = RemoteServer::start().await;
    let app = app().await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;

    for (body, field) in [
        (json!({"url": remote.url}), "name"),
        (json!({"name": "x"}), "url"),
        (json!({"name": "Bad_Name", "url": remote.url}), "name"),
        (
            json!({"name": "meta", "url": "http://169.254.169.254/mcp"}),
            "url",
        ),
        (json!({"name": "lan", "url": "http://10.0.0.8/mcp"}), "url"),
        (json!({"name": "ftp", "url": "ftp://127.0.0.1/mcp"}), "url"),
        (
            json!({"name": "h", "url": remote.url, "headers": {"Authorization": "x"}}),
            "headers",
        ),
        (
            json!({"name": "io", "transport": "stdio", "url": remote.url}),
            "transport",
        ),
    ] {
        let (status, res) = send(admin.post(PATH, body.clone()).await).await;
        assert_eq!(status, 400, "{body}: {res}");
        assert!(
            res["error"].as_str().unwrap().starts_with(field),
            "{body}: {res}"
        );
    }
    let (status, _) = send(
        admin
            .post(
                PATH,
                json!({"name": "s", "url": remote.url, "command": "sh"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 400, "stdio fields are unknown to the API");
    assert!(
        admin.get(PATH).await.json::<Value>().await.unwrap()["servers"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let s = connect(&admin, "glossary", &remote.url).await;
    let id = s["id"].as_str().unwrap().to_string();
    let (status, _) = send(
        admin
            .post(PATH, json!({"name": "glossary", "url": remote.url}))
            .await,
    )
    .await;
    assert_eq!(status, 409);
    let risk = |tool: &str| format!("{PATH}/{id}/tools/{tool}/risk");
    let res = admin.put(&risk("lookup"), json!({"risk": "loud"})).await;
    assert_eq!(res.status(), 400);
    let res = admin.put(&risk("nothing"), json!({"risk": "read"})).await;
    assert_eq!(res.status(), 404);
    // Only admins manage servers.
    assert_eq!(op.get(PATH).await.status(), 403);
    assert_eq!(
        op.post(PATH, json!({"name": "x", "url": remote.url}))
            .await
            .status(),
        403
    );

    // Another organisation sees none of it.
    admin.create_org("Other", "other").await;
    admin.set_active("other").await;
    let list: Value = admin.get(PATH).await.json().await.unwrap();
    assert_eq!(list["servers"], json!([]), "{list}");
    assert_eq!(admin.get(&format!("{PATH}/{id}")).await.status(), 404);
    assert_eq!(
        admin
            .post(&format!("{PATH}/{id}/refresh"), json!({}))
            .await
            .status(),
        404
    );
    assert_eq!(admin.delete(&format!("{PATH}/{id}")).await.status(), 404);
    assert!(names(&catalogue(&admin).await).is_empty());
    let (status, _) = execute(
        &admin,
        json!({"toolName": "glossary__lookup", "args": {"word": "x"}}),
    )
    .await;
    assert_eq!(status, 404);
    // The same name is free there.
    connect(&admin, "glossary", &remote.url).await;
    admin.set_active("acme").await;
    assert_eq!(names(&catalogue(&op).await).len(), 2);
}

#[tokio::test]
async fn the_chat_agent_is_offered_and_runs_remote_tools() {
    let remote = RemoteServer::start().await;
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    fake.push(
        Turn::tool_call("glossary__lookup", [r#"{"word":"#, r#""subnet"}"#]).call_id("call-1"),
    );
    fake.push(Turn::text(["A subnet is ", "a word."]));
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_OUTBOUND_ALLOW", "127.0.0.1")
        .env("PORTAL_OUTBOUND_ALLOW_HTTP", "true")
        .model("openai", &fake.base_url())
        .spawn()
        .await;
    let admin = app.admin().await;
    let s = connect(&admin, "glossary", &remote.url).await;
    let id = s["id"].as_str().unwrap();
    let res = admin
        .put(
            &format!("{PATH}/{id}/tools/lookup/risk"),
            json!({"risk": "read"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let evs = read_sse(
        admin
            .post("/api/chat", json!({"message": "what is a subnet?"}))
            .await,
    )
    .await;
    assert_eq!(text_of(&evs), "A subnet is a word.");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    let offered = reqs[0].body["tools"].to_string();
    assert!(offered.contains("glossary__lookup") && offered.contains("glossary__write_note"));
    assert!(offered.contains("listInstances"), "the cloud tools stay");
    assert_eq!(
        remote.calls(),
        vec![("lookup".to_string(), json!({"word": "subnet"}))]
    );
    let back = reqs[1].body["messages"].to_string();
    assert!(back.contains("subnet: a word"), "{back}");
}

#[tokio::test]
async fn the_admin_page_connects_sets_risks_and_disconnects() {
    let remote = RemoteServer::start().await;
    let app = app().await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    assert_eq!(op.page("/admin/mcp-servers").await.0, 403);
    let res = admin.get("/admin/mcp-servers").await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let body = res.text().await.unwrap();
    assert!(body.contains("No MCP server is connected"), "{body}");
    assert!(!body.contains("<script>"), "no inline script");
    let token = csrf_of(&body);

    // Without the form token: refused; a bad field is shown on the form.
    let (s, _) = page(
        admin
            .post_form("/admin/mcp-servers", &[("name", "x")])
            .await,
    )
    .await;
    assert_eq!(s, 403);
    let bad = [
        ("csrf", token.as_str()),
        ("name", "meta"),
        ("url", "http://169.254.169.254/mcp"),
    ];
    let (s, body) = page(admin.post_form("/admin/mcp-servers", &bad).await).await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body.contains("link-local") || body.contains("url"),
        "{body}"
    );

    let add = [
        ("csrf", token.as_str()),
        ("name", "glossary"),
        ("url", remote.url.as_str()),
        ("bearer", BEARER),
        ("headers", "X-Tenant: acme"),
    ];
    let (s, body) = page(admin.post_form("/admin/mcp-servers", &add).await).await;
    assert_eq!(s, 201, "{body}");
    assert!(body.contains("glossary is connected: 2 tool(s)"), "{body}");
    assert!(body.contains("glossary__lookup") && !body.contains(BEARER));
    let id = admin.get(PATH).await.json::<Value>().await.unwrap()["servers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let res = admin
        .post_form(
            &format!("/admin/mcp-servers/{id}/risk"),
            &[("csrf", &token), ("tool", "lookup"), ("risk", "read")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, ran) = execute(
        &op,
        json!({"toolName": "glossary__lookup", "args": {"word": "vcn"}}),
    )
    .await;
    assert_eq!(status, 200, "{ran}");
    assert_eq!(
        remote
            .seen
            .lock()
            .unwrap()
            .tenant
            .last()
            .map(String::as_str),
        Some("acme")
    );

    let res = admin
        .post_form(
            &format!("/admin/mcp-servers/{id}/enabled"),
            &[("csrf", &token), ("enabled", "false")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, body) = admin.page("/admin/mcp-servers").await;
    assert!(
        body.contains("disconnected") && body.contains("Connect"),
        "{body}"
    );
    assert!(names(&catalogue(&op).await).is_empty());
    let res = admin
        .post_form(
            &format!("/admin/mcp-servers/{id}/delete"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(admin.get(&format!("{PATH}/{id}")).await.status(), 404);
}

#[tokio::test]
async fn the_admin_page_edits_a_server_and_never_shows_its_credentials() {
    let remote = RemoteServer::start().await;
    let app = app().await;
    let admin = app.admin().await;
    let (_, body) = admin.page("/admin/mcp-servers").await;
    let token = csrf_of(&body);
    // Added with a wrong URL: failing.
    let wrong = remote.url.replace("/mcp", "/nope");
    let add = [
        ("csrf", token.as_str()),
        ("name", "glossary"),
        ("url", wrong.as_str()),
        ("bearer", "wrong-bearer-1234"),
    ];
    let (s, body) = page(admin.post_form("/admin/mcp-servers", &add).await).await;
    assert_eq!(s, 201, "{body}");
    assert!(body.contains("failing"), "{body}");
    let id = admin.get(PATH).await.json::<Value>().await.unwrap()["servers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let edit = format!("/admin/mcp-servers/{id}/edit");

    // Without the form token: refused.
    let (s, _) = page(
        admin
            .post_form(&edit, &[("url", remote.url.as_str())])
            .await,
    )
    .await;
    assert_eq!(s, 403);
    // A refused URL is said on the page; nothing changes.
    let (s, body) = page(
        admin
            .post_form(
                &edit,
                &[("csrf", &token), ("url", "http://169.254.169.254/mcp")],
            )
            .await,
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("url:"), "{body}");
    let (_, one) = send(admin.get(&format!("{PATH}/{id}")).await).await;
    assert_eq!(one["url"], json!(wrong));

    // The right URL and bearer: connected at once; the bearer is never echoed.
    let fix = [
        ("csrf", token.as_str()),
        ("url", remote.url.as_str()),
        ("bearer", BEARER),
        ("headers", "X-Tenant: acme"),
    ];
    let (s, body) = page(admin.post_form(&edit, &fix).await).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("glossary is connected: 2 tool(s)"), "{body}");
    assert!(!body.contains(BEARER) && !body.contains("wrong-bearer-1234"));
    assert!(
        body.contains(&format!("value=\"{}\"", remote.url)),
        "the URL is prefilled"
    );

    // A blank bearer and headers keep the sealed ones.
    let (s, body) = page(
        admin
            .post_form(
                &edit,
                &[
                    ("csrf", &token),
                    ("url", remote.url.as_str()),
                    ("bearer", ""),
                    ("headers", ""),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let before = remote.seen.lock().unwrap().auth.len();
    let (status, _) = send(admin.post(&format!("{PATH}/{id}/refresh"), json!({})).await).await;
    assert_eq!(status, 200);
    let seen = remote.seen.lock().unwrap();
    assert!(seen.auth.len() > before);
    assert!(
        seen.auth[before..]
            .iter()
            .all(|a| a == &format!("Bearer {BEARER}")),
        "{:?}",
        seen.auth
    );
    assert!(seen.tenant[before..].iter().all(|t| t == "acme"));
}
