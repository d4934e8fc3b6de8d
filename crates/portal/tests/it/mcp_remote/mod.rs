//! A real MCP server for the client tests: the official Rust SDK's server
//! over Streamable HTTP on a loopback port, with a read-like tool (`lookup`)
//! and a changing one (`write_note`), recording every call it runs and the
//! `Authorization` header of every request it receives.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Map, Value};

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    /// `(tool, arguments)` of every call it ran.
    pub calls: Vec<(String, Value)>,
    /// The `Authorization` header of every request (`""` when absent).
    pub auth: Vec<String>,
    /// The `X-Tenant` header of every request (`""` when absent).
    pub tenant: Vec<String>,
    /// Extra tools it lists (`(count, description length)`): a server that
    /// lists more than a portal should keep.
    pub extra: (usize, usize),
}

#[derive(Clone)]
struct Handler(Arc<Mutex<Seen>>);

fn schema(v: Value) -> Arc<Map<String, Value>> {
    match v {
        Value::Object(o) => Arc::new(o),
        _ => Arc::new(Map::new()),
    }
}

impl ServerHandler for Handler {
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
            "Looks a word up in the glossary",
            schema(json!({"type": "object", "required": ["word"],
                          "properties": {"word": {"type": "string", "description": "The word"}}})),
        )
        .with_annotations(ToolAnnotations::new().read_only(true));
        let write = Tool::new(
            "write_note",
            "Writes a note",
            schema(json!({"type": "object", "required": ["text"],
                          "properties": {"text": {"type": "string"},
                                         "pinned": {"type": "boolean"}}})),
        );
        let (extra, len) = self.0.lock().map(|s| s.extra).unwrap_or_default();
        let mut tools = vec![lookup, write];
        tools.extend((0..extra).map(|i| {
            Tool::new(
                format!("extra_{i}"),
                "d".repeat(len),
                schema(json!({"type": "object"})),
            )
        }));
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = Value::Object(request.arguments.clone().unwrap_or_default());
        if let Ok(mut s) = self.0.lock() {
            s.calls.push((request.name.to_string(), args.clone()));
        }
        let result = match request.name.as_ref() {
            "lookup" => {
                let word = args["word"].as_str().unwrap_or_default().to_string();
                if word == "missing" {
                    CallToolResult::error(vec![ContentBlock::text("no entry for missing")])
                } else {
                    CallToolResult::success(vec![ContentBlock::text(format!("{word}: a word"))])
                }
            }
            "write_note" => CallToolResult::structured(json!({"written": args["text"]})),
            other => return Err(McpError::invalid_params(format!("no tool {other}"), None)),
        };
        Ok(result.into())
    }
}

/// A running server: its endpoint and what it saw.
pub struct RemoteServer {
    /// `http://127.0.0.1:<port>/mcp`.
    pub url: String,
    /// What it saw.
    pub seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl RemoteServer {
    /// Starts one on a free loopback port.
    pub async fn start() -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let handler = Handler(seen.clone());
        let config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None);
        let service = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        let record = seen.clone();
        let app = axum::Router::new()
            .route_service("/mcp", service)
            .layer(from_fn(move |req: Request, next: Next| {
                let record = record.clone();
                async move {
                    let (auth, tenant) = {
                        let header = |n: &str| {
                            req.headers()
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string()
                        };
                        (header("authorization"), header("x-tenant"))
                    };
                    if let Ok(mut s) = record.lock() {
                        s.auth.push(auth);
                        s.tenant.push(tenant);
                    }
                    let res: Response = next.run(req).await;
                    res
                }
            }));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/mcp"),
            seen,
            task,
        }
    }

    /// The calls it ran.
    pub fn calls(&self) -> Vec<(String, Value)> {
        self.seen
            .lock()
            .map(|s| s.calls.clone())
            .unwrap_or_default()
    }

    /// From now on it also lists `count` tools described in `len` characters.
    pub fn list_extra(&self, count: usize, len: usize) {
        if let Ok(mut s) = self.seen.lock() {
            s.extra = (count, len);
        }
    }

    /// Stops it: the port refuses connections from now on.
    pub fn stop(&self) {
        self.task.abort();
    }
}
