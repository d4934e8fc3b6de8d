//! Remote MCP servers, composed: the core's rules and storage, the SDK's
//! client over the guarded HTTP client, and each organisation's catalogue
//! (the cloud tools and its servers' tools) for the gateway. This replica
//! forgets an organisation's rows when it changes one (the others refresh
//! within `portal_core::ai_providers::REFRESH`).

mod catalogue;
mod client;
mod stdio;

use std::sync::{Arc, OnceLock};

use portal_core::identity::Principal;
use portal_core::mcp::{McpServer, ServerCache};
use portal_core::rbac::Permission;
use portal_core::service::mcp_servers::{self as svc, Fields};
use portal_core::service::tools::ToolRunner;
use portal_core::service::Ctx;
use portal_core::{CoreError, CoreResult};
use portal_webhooks::{GuardedClient, SystemLookup};

pub use catalogue::OrgTools;
pub use client::McpClient;
pub use stdio::StdioHub;

use crate::{App, Inner};

/// Each principal's catalogue for the chat engine, which the app owns (a
/// weak handle, so the engine does not keep the app alive).
pub(crate) struct ChatCatalogues(pub(crate) std::sync::Weak<Inner>);

#[async_trait::async_trait]
impl portal_core::service::tools::Catalogues for ChatCatalogues {
    async fn for_principal(&self, p: &Principal) -> Option<Arc<dyn ToolRunner>> {
        let app = App(self.0.upgrade()?);
        app.org_tools(p).await
    }
}

/// This replica's MCP client side.
#[derive(Default)]
pub struct McpHub {
    servers: ServerCache,
    client: OnceLock<McpClient>,
    stdio: Arc<StdioHub>,
}

impl McpHub {
    /// The hub of the stdio servers `configured` (started by the workers).
    pub fn new(configured: &[portal_core::config::StdioServer]) -> Self {
        Self {
            stdio: Arc::new(StdioHub::new(configured)),
            ..Self::default()
        }
    }
}

/// Why a stdio server cannot be changed here.
fn configured_in_file(s: &McpServer) -> CoreError {
    CoreError::Conflict(format!(
        "MCP server {} is a stdio server from the configuration file (PORTAL_MCP_STDIO_FILE): change it there",
        s.name
    ))
}

fn is_stdio(id: &str) -> bool {
    id.starts_with(portal_core::mcp::STDIO_ID_PREFIX)
}

impl App {
    fn mcp_client(&self) -> CoreResult<McpClient> {
        if let Some(c) = self.mcp.client.get() {
            return Ok(c.clone());
        }
        let s = &self.settings;
        // Only the connect is bounded here: the gateway bounds a call, and
        // listing has its own limit.
        let guarded = GuardedClient::streaming(
            s.outbound.policy(),
            s.outbound.timeout,
            Arc::new(SystemLookup),
        )
        .map_err(CoreError::Internal)?;
        Ok(self
            .mcp
            .client
            .get_or_init(|| McpClient::new(&guarded))
            .clone())
    }

    /// The catalogue `p` runs tools from: the cloud's, joined by the tools of
    /// its organisation's MCP servers; `None` when no cloud is configured.
    pub async fn org_tools(&self, p: &Principal) -> Option<Arc<dyn ToolRunner>> {
        let base = self.cloud.get()?.tools.clone();
        let Some(org) = &p.org else {
            return Some(base);
        };
        let mut servers = self.mcp.servers.get(self.store.as_ref(), &org.id).await;
        let stdio = self.mcp.stdio.servers(org);
        if servers.is_empty() && stdio.is_empty() {
            return Some(base);
        }
        if !stdio.is_empty() {
            let mut all = servers.as_ref().clone();
            // A stored server of the same name keeps its tools' names.
            all.extend(
                stdio
                    .into_iter()
                    .filter(|s| !servers.iter().any(|h| h.name == s.name)),
            );
            servers = Arc::new(all);
        }
        let client = match self.mcp_client() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "MCP client unavailable");
                return Some(base);
            }
        };
        Some(Arc::new(OrgTools::new(
            base,
            servers,
            client,
            self.mcp.stdio.clone(),
            Some(org.clone()),
            self.keys.clone(),
        )))
    }

    fn mcp_changed(&self, s: &McpServer) {
        self.mcp.servers.forget(&s.org_id);
    }

    /// Connects to a server now and records what it found: its tools (a
    /// success) or why it failed (its tools become unavailable).
    pub async fn refresh_mcp_server(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        id: &str,
    ) -> CoreResult<McpServer> {
        if is_stdio(id) {
            let s = self.stdio_mcp_server(p, id)?;
            let org = p.org()?;
            return self.mcp.stdio.refresh(org, &s.name).await.ok_or_else(gone);
        }
        let s = svc::get(ctx, p, id).await?;
        let creds = svc::credentials(ctx.keys, &s).unwrap_or_default();
        let outcome = self.mcp_client()?.list_tools(&s.url, &creds).await;
        if let Err(e) = &outcome {
            tracing::info!(server = %s.name, error = %e, "MCP server refresh failed");
        }
        let s = svc::record_refresh(ctx, p, s, outcome).await?;
        self.mcp_changed(&s);
        Ok(s)
    }

    /// Adds a server to the caller's organisation and connects to it.
    pub async fn create_mcp_server(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        f: Fields,
    ) -> CoreResult<McpServer> {
        let s = svc::create(ctx, p, &self.settings.outbound.policy(), f).await?;
        self.mcp_changed(&s);
        self.refresh_mcp_server(ctx, p, &s.id).await
    }

    /// Changes a server; one whose connection changed (or that is connected
    /// again) is connected at once.
    pub async fn update_mcp_server(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        id: &str,
        f: Fields,
    ) -> CoreResult<McpServer> {
        if is_stdio(id) {
            return Err(configured_in_file(&self.stdio_mcp_server(p, id)?));
        }
        let s = svc::update(ctx, p, &self.settings.outbound.policy(), id, f).await?;
        self.mcp_changed(&s);
        if s.enabled && !s.available() {
            return self.refresh_mcp_server(ctx, p, id).await;
        }
        Ok(s)
    }

    /// Removes a server: its tools leave the catalogue.
    pub async fn delete_mcp_server(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        id: &str,
    ) -> CoreResult<McpServer> {
        if is_stdio(id) {
            return Err(configured_in_file(&self.stdio_mcp_server(p, id)?));
        }
        let s = svc::delete(ctx, p, id).await?;
        self.mcp_changed(&s);
        Ok(s)
    }

    /// Sets the risk of one of a server's tools.
    pub async fn set_mcp_tool_risk(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        id: &str,
        tool: &str,
        risk: &str,
    ) -> CoreResult<McpServer> {
        if is_stdio(id) {
            return Err(configured_in_file(&self.stdio_mcp_server(p, id)?));
        }
        let s = svc::set_risk(ctx, p, id, tool, risk).await?;
        self.mcp_changed(&s);
        Ok(s)
    }

    /// The organisation's servers: those stored (oldest first), then the
    /// stdio ones of the configuration file.
    pub async fn list_mcp_servers(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
    ) -> CoreResult<Vec<McpServer>> {
        let mut all = svc::list(ctx, p).await?;
        all.extend(self.mcp.stdio.servers(p.org()?));
        Ok(all)
    }

    /// One server of the organisation, stored or from the configuration file.
    pub async fn get_mcp_server(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        id: &str,
    ) -> CoreResult<McpServer> {
        if is_stdio(id) {
            return self.stdio_mcp_server(p, id);
        }
        svc::get(ctx, p, id).await
    }

    fn stdio_mcp_server(&self, p: &Principal, id: &str) -> CoreResult<McpServer> {
        p.require(Permission::AdminAll)?;
        self.mcp.stdio.server(p.org()?, id).ok_or_else(gone)
    }

    /// Stops the stdio servers' children (at shutdown, after the drain).
    pub async fn stop_stdio_servers(&self) {
        self.mcp.stdio.stop_all().await;
    }

    /// Starts the configured stdio servers and stops them at shutdown.
    pub(crate) fn spawn_stdio_servers(&self) {
        let hub = self.mcp.stdio.clone();
        if hub.is_empty() {
            return;
        }
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            hub.start_all().await;
            shutdown.cancelled().await;
            hub.stop_all().await;
        });
    }
}

fn gone() -> CoreError {
    CoreError::NotFound("MCP server not found".into())
}
