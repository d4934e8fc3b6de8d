//! Remote MCP servers of the caller's organisation (`admin:all`): list, add
//! (it is connected at once), get, change, delete (disconnect: `enabled:
//! false`), refresh (connect again and list its tools) and each tool's risk.
//! Credentials are write-only: views say `hasCredentials`. Only Streamable
//! HTTP servers are accepted; stdio servers never come from the API.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use portal_core::mcp::{remote_spec, McpServer, Transport};
use portal_core::service::mcp_servers::Fields;
use portal_core::{CoreError, Secret};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::no_content;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::views::ts;

/// One tool of a server.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct McpToolView {
    /// Its name on the server.
    pub name: String,
    /// Its name in the catalogue (`<server>__<tool>`; `null`: not offered,
    /// its name has characters model APIs refuse).
    pub catalogue_name: Option<String>,
    /// What it does.
    pub description: String,
    /// `read`, `confirm` (the default) or `danger`.
    #[schema(example = "confirm")]
    pub risk: String,
    /// The server says it only reads (a hint; the risk decides).
    pub read_only_hint: bool,
}

/// A remote MCP server (never its credentials).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct McpServerView {
    /// Id.
    pub id: String,
    /// Its slug, the prefix of its tools' names.
    pub name: String,
    /// The Streamable HTTP endpoint (stdio: the command line).
    pub url: String,
    /// `streamable-http` (managed here) or `stdio` (from the configuration
    /// file: shown, never changed through the API).
    #[schema(example = "streamable-http")]
    pub transport: String,
    /// True for stdio servers: the configuration file is their only source.
    pub read_only: bool,
    /// Whether a bearer token or headers are stored (never returned).
    pub has_credentials: bool,
    /// Connected: its tools are offered while healthy.
    pub enabled: bool,
    /// `unknown`, `ok` or `failed` (failed: its tools are unavailable).
    #[schema(example = "ok")]
    pub health: String,
    /// Why the last connection failed.
    pub last_error: Option<String>,
    /// When it was last connected.
    pub checked_at: Option<String>,
    /// Its tools as last listed.
    pub tools: Vec<McpToolView>,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<&McpServer> for McpServerView {
    fn from(s: &McpServer) -> Self {
        let tools = s
            .tools
            .iter()
            .map(|t| {
                let risk = s.risk_of(&t.name);
                McpToolView {
                    name: t.name.clone(),
                    catalogue_name: remote_spec(&s.name, t, risk).map(|x| x.name.to_string()),
                    description: t.description.clone(),
                    risk: risk.as_str().into(),
                    read_only_hint: t.read_only_hint,
                }
            })
            .collect();
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            url: s.url.clone(),
            transport: s.transport.as_str().into(),
            read_only: s.transport == Transport::Stdio,
            has_credentials: s.credentials_sealed.is_some(),
            enabled: s.enabled,
            health: s.health.as_str().into(),
            last_error: s.last_error.clone(),
            checked_at: s.checked_at.map(ts),
            tools,
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
        }
    }
}

/// The organisation's servers.
#[derive(Serialize, ToSchema)]
pub struct McpServerList {
    /// Oldest first.
    pub servers: Vec<McpServerView>,
}

/// A server's fields. On create `name` and `url` are required; on update
/// absent fields stay. An empty `bearer` removes it; `headers` replaces them.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpServerBody {
    /// Slug: 1-30 of a-z, 0-9 and '-' (unique in the organisation).
    #[schema(max_length = 30)]
    pub name: Option<String>,
    /// Only `streamable-http` (stdio servers come only from the configuration file).
    #[schema(example = "streamable-http")]
    pub transport: Option<String>,
    /// The Streamable HTTP endpoint (`https://`; plain `http` and private
    /// addresses only where `PORTAL_OUTBOUND_*` allows them).
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    /// Sent as `Authorization: Bearer …`; write-only.
    #[schema(max_length = 4000)]
    pub bearer: Option<String>,
    /// Further headers sent with every request; write-only.
    pub headers: Option<BTreeMap<String, String>>,
    /// Connected (default true); false disconnects it.
    pub enabled: Option<bool>,
}

impl TryFrom<McpServerBody> for Fields {
    type Error = ApiError;

    fn try_from(b: McpServerBody) -> Result<Self, ApiError> {
        match b.transport.as_deref().map(str::trim) {
            None | Some("streamable-http") => {}
            Some("stdio") => {
                return Err(CoreError::Validation(
                    "transport: stdio servers come only from the configuration file".into(),
                )
                .into())
            }
            Some(_) => {
                return Err(
                    CoreError::Validation("transport: must be streamable-http".into()).into(),
                )
            }
        }
        Ok(Fields {
            name: b.name,
            url: b.url,
            bearer: b
                .bearer
                .map(|k| (!k.trim().is_empty()).then(|| Secret::new(k))),
            headers: b
                .headers
                .map(|h| h.into_iter().map(|(k, v)| (k, Secret::new(v))).collect()),
            enabled: b.enabled,
        })
    }
}

/// A tool's risk.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpToolRiskBody {
    /// `read` (runs at once), `confirm` (needs an approval) or `danger`
    /// (needs `tools:danger` and an approval).
    #[schema(example = "read")]
    pub risk: String,
}

/// Lists the organisation's MCP servers.
#[utoipa::path(
    get, path = "/api/admin/mcp-servers", operation_id = "listMcpServers", tag = "admin",
    responses(
        (status = 200, description = "Servers", body = McpServerList),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
) -> Result<Json<McpServerList>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let rows = state.app.list_mcp_servers(&ctx, &r.principal).await?;
    Ok(Json(McpServerList {
        servers: rows.iter().map(McpServerView::from).collect(),
    }))
}

/// Adds an MCP server and connects to it: the answer says what the
/// connection found (`health`, `lastError`, `tools`).
#[utoipa::path(
    post, path = "/api/admin/mcp-servers", operation_id = "createMcpServer", tag = "admin",
    request_body = McpServerBody,
    responses(
        (status = 201, description = "Created (and connected, or `health: failed`)", body = McpServerView),
        (status = 400, description = "VALIDATION_ERROR (names the field)", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiJson(b): ApiJson<McpServerBody>,
) -> Result<(StatusCode, Json<McpServerView>), ApiError> {
    let ctx = state.ctx(&r.caller);
    let s = state
        .app
        .create_mcp_server(&ctx, &r.principal, b.try_into()?)
        .await?;
    Ok((StatusCode::CREATED, Json(McpServerView::from(&s))))
}

/// One MCP server.
#[utoipa::path(
    get, path = "/api/admin/mcp-servers/{id}", operation_id = "getMcpServer", tag = "admin",
    params(("id" = String, Path, description = "Server id")),
    responses(
        (status = 200, description = "The server", body = McpServerView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<McpServerView>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let s = state.app.get_mcp_server(&ctx, &r.principal, &id).await?;
    Ok(Json(McpServerView::from(&s)))
}

/// Changes an MCP server; absent fields stay. A changed connection (URL,
/// credentials) or a reconnect is connected at once.
#[utoipa::path(
    patch, path = "/api/admin/mcp-servers/{id}", operation_id = "updateMcpServer", tag = "admin",
    params(("id" = String, Path, description = "Server id")), request_body = McpServerBody,
    responses(
        (status = 200, description = "Updated", body = McpServerView),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
        (status = 409, description = "The name is taken, or a stdio server (from the configuration file)", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<McpServerBody>,
) -> Result<Json<McpServerView>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let s = state
        .app
        .update_mcp_server(&ctx, &r.principal, &id, b.try_into()?)
        .await?;
    Ok(Json(McpServerView::from(&s)))
}

/// Deletes an MCP server: its tools leave the catalogue.
#[utoipa::path(
    delete, path = "/api/admin/mcp-servers/{id}", operation_id = "deleteMcpServer", tag = "admin",
    params(("id" = String, Path, description = "Server id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 409, description = "A stdio server (from the configuration file)", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let ctx = state.ctx(&r.caller);
    state.app.delete_mcp_server(&ctx, &r.principal, &id).await?;
    Ok(no_content())
}

/// Connects to the server again and lists its tools. A failure is a 200
/// with `health: failed` and `lastError` (its tools become unavailable).
#[utoipa::path(
    post, path = "/api/admin/mcp-servers/{id}/refresh", operation_id = "refreshMcpServer", tag = "admin",
    params(("id" = String, Path, description = "Server id")),
    responses(
        (status = 200, description = "What the connection found", body = McpServerView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn refresh(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<McpServerView>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let s = state
        .app
        .refresh_mcp_server(&ctx, &r.principal, &id)
        .await?;
    Ok(Json(McpServerView::from(&s)))
}

/// Sets the risk of one of the server's tools (as last listed).
#[utoipa::path(
    put, path = "/api/admin/mcp-servers/{id}/tools/{tool}/risk", operation_id = "setMcpToolRisk",
    tag = "admin", request_body = McpToolRiskBody,
    params(
        ("id" = String, Path, description = "Server id"),
        ("tool" = String, Path, description = "The tool's name on the server"),
    ),
    responses(
        (status = 200, description = "The server, the risk recorded", body = McpServerView),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (needs admin:all)", body = ErrorBody),
        (status = 409, description = "A stdio server (from the configuration file)", body = ErrorBody),
        (status = 404, description = "No such server, or it lists no such tool", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn set_risk(
    State(state): State<AppState>,
    r: Require<perm::AdminAll>,
    ApiPath((id, tool)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<McpToolRiskBody>,
) -> Result<Json<McpServerView>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let s = state
        .app
        .set_mcp_tool_risk(&ctx, &r.principal, &id, &tool, &b.risk)
        .await?;
    Ok(Json(McpServerView::from(&s)))
}
