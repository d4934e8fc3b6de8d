//! An organisation's catalogue: the cloud tools and the tools of its remote
//! MCP servers, as one [`ToolRunner`] for the gateway. Remote tools act on no
//! compartment (the compartment policy lets them through); their risk is the
//! admin's choice; a disconnected or failing server's tools are not listed
//! and a call to one is refused before any approval is asked for.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use portal_core::crypto::Keys;
use portal_core::mcp::{remote_spec, McpServer, Transport};
use portal_core::service::mcp_servers::credentials;
use portal_core::service::tools::{Scope, ToolError, ToolRunner};
use portal_core::tools::ToolSpec;
use serde_json::{Map, Value};

use super::client::McpClient;
use super::stdio::StdioHub;

/// A remote tool: its spec and where it lives.
struct Remote {
    spec: &'static ToolSpec,
    server: usize,
    tool: String,
}

/// The cloud catalogue joined by an organisation's remote tools.
pub struct OrgTools {
    base: Arc<dyn ToolRunner>,
    servers: Arc<Vec<McpServer>>,
    remote: HashMap<&'static str, Remote>,
    client: McpClient,
    stdio: Arc<StdioHub>,
    org: Option<portal_core::model::Org>,
    keys: Keys,
}

impl OrgTools {
    /// The catalogue of `base` and the tools of `servers` (HTTP ones through
    /// `client`, the organisation `org`'s stdio ones through `stdio`).
    pub fn new(
        base: Arc<dyn ToolRunner>,
        servers: Arc<Vec<McpServer>>,
        client: McpClient,
        stdio: Arc<StdioHub>,
        org: Option<portal_core::model::Org>,
        keys: Keys,
    ) -> Self {
        let mut remote = HashMap::new();
        for (i, s) in servers.iter().enumerate() {
            for t in &s.tools {
                if let Some(spec) = remote_spec(&s.name, t, s.risk_of(&t.name)) {
                    remote.insert(
                        spec.name,
                        Remote {
                            spec,
                            server: i,
                            tool: t.name.clone(),
                        },
                    );
                }
            }
        }
        Self {
            base,
            servers,
            remote,
            client,
            stdio,
            org,
            keys,
        }
    }

    fn server_of(&self, name: &str) -> Option<(&Remote, &McpServer)> {
        let r = self.remote.get(name)?;
        Some((r, self.servers.get(r.server)?))
    }
}

#[async_trait]
impl ToolRunner for OrgTools {
    fn specs(&self) -> Cow<'static, [ToolSpec]> {
        if self.remote.is_empty() {
            return self.base.specs();
        }
        let mut all = self.base.specs().into_owned();
        // Listed in the servers' order, each server's tools as it listed them.
        for s in self.servers.iter().filter(|s| s.available()) {
            for t in &s.tools {
                let name = format!("{}{}{}", s.name, portal_core::mcp::SEPARATOR, t.name);
                if let Some(r) = self.remote.get(name.as_str()) {
                    all.push(*r.spec);
                }
            }
        }
        Cow::Owned(all)
    }

    fn spec(&self, name: &str) -> Option<&'static ToolSpec> {
        match self.remote.get(name) {
            Some(r) => Some(r.spec),
            None => self.base.spec(name),
        }
    }

    fn cloud(&self) -> &'static str {
        self.base.cloud()
    }

    fn cloud_of(&self, name: &str) -> &'static str {
        if self.remote.contains_key(name) {
            portal_core::mcp::CATEGORY
        } else {
            self.base.cloud_of(name)
        }
    }

    fn unavailable(&self, name: &str) -> Option<String> {
        match self.server_of(name) {
            Some((_, s)) => s.unavailable_because(),
            None => self.base.unavailable(name),
        }
    }

    async fn run(&self, name: &str, args: &Map<String, Value>) -> Result<Value, ToolError> {
        let Some((r, s)) = self.server_of(name) else {
            return self.base.run(name, args).await;
        };
        if let Some(why) = s.unavailable_because() {
            return Err(ToolError::Cloud(why));
        }
        match (s.transport, &self.org) {
            (Transport::StreamableHttp, _) => {
                let creds = credentials(&self.keys, s).unwrap_or_default();
                self.client.call(&s.url, &creds, &r.tool, args).await
            }
            (Transport::Stdio, Some(org)) => {
                let reads = r.spec.idempotent;
                self.stdio.call(org, &s.name, &r.tool, args, reads).await
            }
            (Transport::Stdio, None) => Err(ToolError::Cloud(format!(
                "MCP server {} belongs to no organisation of the caller",
                s.name
            ))),
        }
    }

    async fn run_within(
        &self,
        name: &str,
        args: &Map<String, Value>,
        allowed: &[String],
    ) -> Result<Value, ToolError> {
        if self.remote.contains_key(name) {
            return self.run(name, args).await;
        }
        self.base.run_within(name, args, allowed).await
    }

    async fn scope(&self, name: &str, args: &Map<String, Value>) -> Result<Scope, ToolError> {
        if self.remote.contains_key(name) {
            // A remote tool acts on no compartment of the tenancy.
            return Ok(Scope::Unbound);
        }
        self.base.scope(name, args).await
    }

    fn check(&self, name: &str, args: &Map<String, Value>) -> Result<(), String> {
        if self.remote.contains_key(name) {
            return Ok(());
        }
        self.base.check(name, args)
    }

    fn four_eyes(&self, name: &str, args: &Map<String, Value>) -> bool {
        !self.remote.contains_key(name) && self.base.four_eyes(name, args)
    }
}
