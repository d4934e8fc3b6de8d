//! The MCP endpoint (`/api/mcp`): the tool catalogue for MCP clients over
//! Streamable HTTP, stateless so any replica answers any request.
//!
//! Authentication is a bearer API key, checked by the shared pipeline before
//! the MCP service sees the request; every call runs through the core tool
//! gateway as the key's principal, so approvals apply here as everywhere.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use portal_core::identity::Principal;
use portal_core::rbac::AuthMethod;
use portal_core::service::tools as gateway;
use portal_core::tools::{Effect, ToolSpec};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::middleware::caller::{AuthState, Caller};
use crate::routes::tools::{absolute, runner, TOOL_TIMEOUT};
use crate::state::AppState;

/// Where the endpoint is mounted.
pub const PATH: &str = "/api/mcp";

/// The MCP routes, with their own authentication guard.
pub fn router(state: &AppState) -> Router<AppState> {
    let handler_state = state.clone();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(state.settings.limits.body_limit_bytes)
        // Host checks guard unauthenticated local servers against DNS rebinding; this
        // endpoint needs a bearer key, which a rebinding page cannot attach.
        .disable_allowed_hosts();
    let service = StreamableHttpService::new(
        move || {
            Ok(Mcp {
                state: handler_state.clone(),
            })
        },
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(PATH, service)
        .layer(from_fn_with_state(state.clone(), super::mcp_wire::layer))
        .layer(from_fn_with_state(state.clone(), guard))
}

/// Adds the endpoint to the OpenAPI document (it speaks JSON-RPC, so it has no
/// handler annotation of its own).
pub fn document(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, ResponseBuilder};
    let json = || {
        ContentBuilder::new()
            .schema(Some(
                ObjectBuilder::new().description(Some("A JSON-RPC 2.0 message")),
            ))
            .build()
    };
    let op = OperationBuilder::new()
        .tag("mcp")
        .operation_id(Some("callMcp"))
        .summary(Some("Model Context Protocol (Streamable HTTP, stateless)"))
        .description(Some(
            "initialize, tools/list (the tools the key may run, with readOnlyHint and \
             destructiveHint) and tools/call (through the tool gateway; a call needing approval \
             is a tool error naming approvalId and approveUrl). Bearer API keys only.",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", json())
                .required(Some(utoipa::openapi::Required::True))
                .build(),
        ))
        .response(
            "200",
            ResponseBuilder::new()
                .description("JSON-RPC response")
                .content("application/json", json())
                .build(),
        )
        .response(
            "400",
            ResponseBuilder::new()
                .description("JSON-RPC parse error (-32700) or invalid request (-32600)")
                .content("application/json", json())
                .build(),
        )
        .response(
            "401",
            ResponseBuilder::new()
                .description("AUTH_REQUIRED: no bearer API key (WWW-Authenticate: Bearer)")
                .build(),
        )
        .response(
            "403",
            ResponseBuilder::new()
                .description("A browser Origin that is neither the portal's nor in PORTAL_CORS_ORIGINS (JSON-RPC error)")
                .content("application/json", json())
                .build(),
        )
        .response(
            "406",
            ResponseBuilder::new()
                .description("An Accept header that allows neither application/json nor text/event-stream (absent Accept or */* is fine)")
                .build(),
        )
        .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
        .build();
    doc.paths
        .paths
        .insert(PATH.to_string(), PathItem::new(HttpMethod::Post, op));
}

/// Lets only bearer API keys through; anything else is 401 with `WWW-Authenticate: Bearer`.
async fn guard(State(_): State<AppState>, req: Request, next: Next) -> Response {
    let caller = req.extensions().get::<Caller>();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    match caller {
        Some(c) if c.auth == AuthState::Unavailable => {
            ApiError::DatabaseUnavailable.into_response()
        }
        Some(Caller {
            principal: Some(p), ..
        }) if bearer && p.method == AuthMethod::ApiKey => next.run(req).await,
        _ => {
            let mut res = ApiError::AuthRequired.into_response();
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"portal-mcp\""),
            );
            res
        }
    }
}

/// One MCP request's handler: the app state; the principal comes with each request.
#[derive(Clone)]
struct Mcp {
    state: AppState,
}

/// The caller of the HTTP request carrying this MCP request (the guard let only
/// verified bearer keys through).
fn caller(ctx: &RequestContext<RoleServer>) -> Result<(Caller, Arc<Principal>), McpError> {
    let caller = ctx
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
        .cloned()
        .ok_or_else(|| McpError::invalid_request("authentication required", None))?;
    let p = caller
        .principal
        .clone()
        .ok_or_else(|| McpError::invalid_request("authentication required", None))?;
    Ok((caller, p))
}

/// A catalogue entry as MCP describes tools.
fn tool(spec: &ToolSpec) -> Tool {
    let schema = match spec.schema() {
        Value::Object(o) => o,
        _ => serde_json::Map::new(),
    };
    let title = spec.title();
    let read_only = spec.effect == Effect::ReadOnly;
    Tool::new(spec.name, spec.description, Arc::new(schema))
        .with_title(title.clone())
        .with_annotations(
            ToolAnnotations::with_title(title)
                .read_only(read_only)
                .destructive(spec.effect == Effect::Destructive)
                .idempotent(spec.idempotent)
                .open_world(true),
        )
}

fn error_result(message: String, detail: Value) -> CallToolResult {
    let mut r = CallToolResult::error(vec![ContentBlock::text(message)]);
    r.structured_content = Some(detail);
    r
}

impl ServerHandler for Mcp {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info =
            Implementation::new("oci-self-service-portal", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(
            "Tools that change the cloud need an approval: a call answers with an approvalId and \
             approveUrl; once an approver grants it, repeat the same call with the same arguments."
                .into(),
        );
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let (_, p) = caller(&ctx)?;
        let tools = match runner(&self.state, &p).await {
            Ok(r) => r
                .specs()
                .iter()
                .filter(|s| gateway::may_run(&p, s))
                .map(tool)
                .collect(),
            Err(_) => Vec::new(),
        };
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let (c, p) = caller(&ctx)?;
        let tools = runner(&self.state, &p)
            .await
            .map_err(|e| McpError::invalid_request(e.to_string(), None))?;
        if tools.specs().iter().all(|s| s.name != request.name) {
            return Err(McpError::invalid_params(
                format!("unknown tool {:?}", request.name),
                None,
            ));
        }
        let args = Value::Object(request.arguments.unwrap_or_default());
        let ctx = self.state.ctx(&c);
        let req = gateway::Request {
            name: &request.name,
            args: &args,
            tool_call_id: None,
            approval_id: None,
        };
        let outcome = gateway::execute(
            &ctx,
            tools.as_ref(),
            &self.state.metrics,
            &p,
            req,
            TOOL_TIMEOUT,
        )
        .await;
        let result = match outcome {
            Ok(done) => {
                let body = json!({
                    "executionId": done.id,
                    "cloud": done.cloud,
                    "durationMs": done.duration_ms,
                    "result": done.result,
                });
                CallToolResult::structured(body)
            }
            Err(e) => match absolute(&self.state, e.into()) {
                ApiError::ApprovalRequired {
                    approval_id,
                    tool_call_id,
                    approve_url,
                } => error_result(
                    format!(
                        "Approval required: {} changes the cloud. Ask an approver to grant approval \
                         {approval_id} at {approve_url}, then repeat this call with the same arguments.",
                        request.name
                    ),
                    json!({
                        "code": "APPROVAL_REQUIRED",
                        "approvalId": approval_id,
                        "toolCallId": tool_call_id,
                        "approveUrl": approve_url,
                    }),
                ),
                other => {
                    if let ApiError::Internal(detail) = &other {
                        tracing::error!(%detail, tool = %request.name, "MCP tool call failed");
                    }
                    let (code, message) = (other.code(), other.to_string());
                    error_result(
                        format!("{code}: {message}"),
                        json!({ "code": code, "error": message }),
                    )
                }
            },
        };
        Ok(result.into())
    }
}
