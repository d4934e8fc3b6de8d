//! MCP servers spoken to over stdio, from the configuration file only
//! (`PORTAL_MCP_STDIO_FILE`), through the real router: the portal starts a
//! real MCP server (the official Rust SDK's, over stdio) as its child; its
//! tools join the catalogue as `<server>__<tool>` and run through the
//! gateway (a `read` tool at once, a `confirm` one only after approval); the
//! calls move the Prometheus counters; the API and the page show it
//! read-only and refuse to change it; another organisation sees nothing; a
//! child that dies is started again; shutdown stops it.
//!
//! This file has its own `main` (no libtest harness, which would write to
//! stdout): started with `PORTAL_TEST_MCP_STDIO=serve` the test binary is
//! the stdio server itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use portal_testkit::{Client, TestApp};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Map, Value};

const PATH: &str = "/api/admin/mcp-servers";
const SERVE: &str = "PORTAL_TEST_MCP_STDIO";
const LOG: &str = "PORTAL_TEST_MCP_STDIO_LOG";
const PID: &str = "PORTAL_TEST_MCP_STDIO_PID";
/// Must not reach the child (the portal passes on none of its own variables).
const LEAK: &str = "PORTAL_TEST_MCP_STDIO_LEAK";

// ---------------------------------------------------------------- the server

#[derive(Clone)]
struct Fixture {
    log: PathBuf,
}

fn schema(v: Value) -> Arc<Map<String, Value>> {
    match v {
        Value::Object(o) => Arc::new(o),
        _ => Arc::new(Map::new()),
    }
}

impl ServerHandler for Fixture {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let lookup = Tool::new(
            "lookup",
            "Looks a word up",
            schema(json!({"type": "object", "required": ["word"],
                          "properties": {"word": {"type": "string"}}})),
        )
        .with_annotations(ToolAnnotations::new().read_only(true));
        let write = Tool::new(
            "write_note",
            "Writes a note",
            schema(json!({"type": "object", "required": ["text"],
                          "properties": {"text": {"type": "string"}}})),
        );
        Ok(ListToolsResult::with_all_items(vec![lookup, write]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = Value::Object(request.arguments.clone().unwrap_or_default());
        let line = json!({"tool": request.name.as_ref(), "args": args,
                          "leak": std::env::var(LEAK).ok()});
        let mut old = std::fs::read_to_string(&self.log).unwrap_or_default();
        old.push_str(&format!("{line}\n"));
        let _ = std::fs::write(&self.log, old);
        let result = match request.name.as_ref() {
            "lookup" => CallToolResult::success(vec![ContentBlock::text(format!(
                "{}: a word",
                args["word"].as_str().unwrap_or_default()
            ))]),
            "write_note" => CallToolResult::structured(json!({"written": args["text"]})),
            other => return Err(McpError::invalid_params(format!("no tool {other}"), None)),
        };
        Ok(result.into())
    }
}

fn serve() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        if let Ok(p) = std::env::var(PID) {
            std::fs::write(p, std::process::id().to_string()).unwrap();
        }
        let log = PathBuf::from(std::env::var(LOG).unwrap());
        let running = Fixture { log }
            .serve(rmcp::transport::stdio())
            .await
            .unwrap();
        let _ = running.waiting().await;
    });
}

// ------------------------------------------------------------------ helpers

struct Files {
    _dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
    pid: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let log = dir.path().join("calls.log");
    let pid = dir.path().join("pid");
    let config = dir.path().join("stdio.toml");
    let env = |pid: &Path| {
        format!(
            "{{ {SERVE} = \"serve\", {LOG} = {:?}, {PID} = {:?} }}",
            log.display().to_string(),
            pid.display().to_string()
        )
    };
    let text = format!(
        "[[server]]\nname = \"notes\"\norg = \"acme\"\ncommand = {exe:?}\nargs = [\"--stdio\"]\n\
         env = {}\nrisks = {{ lookup = \"read\" }}\n\n\
         [[server]]\nname = \"elsewhere\"\norg = \"other-org\"\ncommand = {exe:?}\nenv = {}\n",
        env(&pid),
        env(&dir.path().join("pid-elsewhere")),
        exe = exe.display().to_string(),
    );
    std::fs::write(&config, text).unwrap();
    Files {
        _dir: dir,
        config,
        log,
        pid,
    }
}

fn calls(f: &Files) -> Vec<Value> {
    std::fs::read_to_string(&f.log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn pid(f: &Files) -> u32 {
    std::fs::read_to_string(&f.pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Running (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.contains(") Z "),
        Err(_) => false,
    }
}

async fn send(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn execute(c: &Client, body: Value) -> (u16, Value) {
    send(c.post("/api/tools/execute", body).await).await
}

/// The organisation's servers once the stdio one has been started.
async fn wait_ok(admin: &Client) -> Value {
    for _ in 0..200 {
        let (status, body) = send(admin.get(&format!("{PATH}/stdio-notes")).await).await;
        assert_eq!(status, 200, "{body}");
        if body["health"] == "ok" {
            return body;
        }
        assert_ne!(body["health"], "failed", "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the stdio server never came up");
}

// -------------------------------------------------------------------- tests

async fn tools_run_through_the_gateway_and_the_api_shows_them_read_only() {
    let f = files();
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_MCP_STDIO_FILE", f.config.display().to_string())
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;

    let s = wait_ok(&admin).await;
    assert_eq!(s["transport"], "stdio", "{s}");
    assert_eq!(s["readOnly"], true);
    assert!(s["url"].as_str().unwrap().ends_with(" --stdio"), "{s}");
    let risks: Vec<(Value, Value)> = s["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["catalogueName"].clone(), t["risk"].clone()))
        .collect();
    assert_eq!(
        risks,
        [
            (json!("notes__lookup"), json!("read")),
            (json!("notes__write_note"), json!("confirm"))
        ]
    );
    let (_, list) = send(admin.get(PATH).await).await;
    let listed: Vec<&str> = list["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ["notes"],
        "another organisation's server is not listed"
    );
    let (status, _) = send(admin.get(&format!("{PATH}/stdio-elsewhere")).await).await;
    assert_eq!(status, 404);

    // The catalogue names them; a read tool runs at once, in the child.
    let cat: Value = op.get("/api/v1/tools").await.json().await.unwrap();
    let names: Vec<&str> = cat["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter(|n| n.starts_with("notes__"))
        .collect();
    assert_eq!(names, ["notes__lookup", "notes__write_note"]);
    let (status, ran) = execute(
        &op,
        json!({"toolName": "notes__lookup", "args": {"word": "mcp"}}),
    )
    .await;
    assert_eq!(status, 200, "{ran}");
    assert_eq!(ran["result"]["content"], json!(["mcp: a word"]), "{ran}");
    let seen = calls(&f);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["args"], json!({"word": "mcp"}));
    assert_eq!(
        seen[0]["leak"],
        Value::Null,
        "the portal's env reached the child"
    );

    // A confirm tool asks for an approval; nothing runs before it.
    let req = json!({"toolName": "notes__write_note", "args": {"text": "hello"}});
    let (status, body) = execute(&op, req.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "APPROVAL_REQUIRED");
    assert_eq!(calls(&f).len(), 1);
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
    let mut approved = req.clone();
    approved["approvalId"] = json!(approval);
    let (status, ran) = execute(&op, approved).await;
    assert_eq!(status, 200, "{ran}");
    assert_eq!(ran["result"]["structuredContent"]["written"], "hello");
    assert_eq!(calls(&f)[1]["tool"], "write_note");

    // Per-tool call metrics, in a real scrape.
    let metrics = app.get("/api/metrics").await.text().await.unwrap();
    for line in [
        "tool_executions_total{status=\"success\",tool=\"notes__lookup\"} 1",
        "tool_executions_total{status=\"success\",tool=\"notes__write_note\"} 1",
        "tool_duration_seconds_count{tool=\"notes__lookup\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in the scrape");
    }

    // The API never creates or changes a stdio server.
    let one = format!("{PATH}/stdio-notes");
    let refused = [
        admin
            .post(PATH, json!({"name": "sh", "transport": "stdio"}))
            .await,
        admin
            .post(PATH, json!({"name": "sh", "command": "/bin/sh"}))
            .await,
        admin.patch(&one, json!({"enabled": false})).await,
        admin.delete(&one).await,
        admin
            .put(
                &format!("{one}/tools/write_note/risk"),
                json!({"risk": "read"}),
            )
            .await,
    ];
    let mut codes = Vec::new();
    for r in refused {
        let (status, body) = send(r).await;
        assert!(body["error"].is_string(), "{body}");
        codes.push(status);
    }
    assert_eq!(codes, [400, 400, 409, 409, 409]);
    let (status, _) = send(op.get(&one).await).await;
    assert_eq!(status, 403, "an operator does not see the admin view");
    assert_eq!(wait_ok(&admin).await["tools"][1]["risk"], "confirm");

    // The page shows it read-only (no risk form, no delete).
    let page = admin.get("/admin/mcp-servers").await.text().await.unwrap();
    assert!(
        page.contains("from the configuration file (read-only)"),
        "{page}"
    );
    assert!(!page.contains("/admin/mcp-servers/stdio-notes/risk"));
    assert!(!page.contains("/admin/mcp-servers/stdio-notes/delete"));

    // A child that dies is started again on the next call.
    let first = pid(&f);
    assert!(alive(first));
    std::process::Command::new("kill")
        .args(["-9", &first.to_string()])
        .status()
        .unwrap();
    for _ in 0..100 {
        if !alive(first) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, ran) = execute(
        &op,
        json!({"toolName": "notes__lookup", "args": {"word": "again"}}),
    )
    .await;
    assert_eq!(status, 200, "{ran}");
    let second = pid(&f);
    assert_ne!(first, second);

    // A refresh restarts it too; shutdown stops it.
    let (status, body) = send(admin.post(&format!("{one}/refresh"), json!({})).await).await;
    assert_eq!((status, &body["health"]), (200, &json!("ok")), "{body}");
    let third = pid(&f);
    assert_ne!(second, third);
    assert!(alive(third));
    // The app itself stays alive (held here): shutdown, not a drop, stops it.
    let held = app.state.clone();
    app.shutdown().await.unwrap();
    assert!(!alive(third), "the child outlived the portal's shutdown");
    drop(held);
}

async fn a_bad_stdio_file_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stdio.toml");
    for text in [
        "[[server]]\nname = \"Bad_Name\"\norg = \"acme\"\ncommand = \"x\"\n",
        "[[server]]\nname = \"a\"\norg = \"acme\"\ncommand = \"x\"\nrisks = { t = \"yolo\" }\n",
        "[[server]]\nname = \"a\"\norg = \"acme\"\n",
        "[[server]]\nname = \"a\"\norg = \"o\"\ncommand = \"x\"\n[[server]]\nname = \"a\"\norg = \"o\"\ncommand = \"y\"\n",
    ] {
        std::fs::write(&file, text).unwrap();
        let env = [(
            "PORTAL_MCP_STDIO_FILE".to_string(),
            file.display().to_string(),
        )];
        let e = portal_core::config::Settings::load(None, env)
            .err()
            .unwrap_or_else(|| panic!("accepted {text}"));
        assert!(
            e.to_string().starts_with("PORTAL_MCP_STDIO_FILE: "),
            "{e}"
        );
    }
}

fn main() {
    if std::env::var(SERVE).as_deref() == Ok("serve") {
        return serve();
    }
    // Before any thread: the portal's own environment, which its children must not see.
    std::env::set_var(LEAK, "the portal's own environment");
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!("running 2 tests");
    rt.block_on(a_bad_stdio_file_stops_start_up_naming_the_setting());
    println!("test a_bad_stdio_file_stops_start_up_naming_the_setting ... ok");
    rt.block_on(tools_run_through_the_gateway_and_the_api_shows_them_read_only());
    println!("test tools_run_through_the_gateway_and_the_api_shows_them_read_only ... ok");
    // Reached only when neither panicked; `.ci/run`'s closing count reads this line.
    println!("2 passed, 0 failed");
}
