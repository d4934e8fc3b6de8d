//! Remote MCP servers as data (issue 17 item 5): an organisation's admin
//! connects servers speaking MCP over Streamable HTTP; their tools join the
//! organisation's catalogue as `<server>__<tool>` and run through the same
//! gateway as the cloud tools (permissions and approvals apply, the
//! compartment policy does not: they act on no compartment).
//!
//! Each tool's risk is the admin's choice, `confirm` until they choose, so
//! nothing a remote server does runs without an approval by default. The
//! credentials (a bearer token and extra headers) are sealed with the keyring.
//! Servers spoken to over stdio come only from the configuration file, never
//! from the API (see `crate::config::McpSettings`): they are shown, not
//! stored, and the API refuses to change them.

mod cache;
mod spec;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::journal::Journal;
use crate::store::StoreResult;
use crate::tools::Risk;

pub use cache::ServerCache;
pub use spec::{remote_spec, split_name, SEPARATOR};

/// Category remote tools are filed under (activity, catalogue).
pub const CATEGORY: &str = "mcp";

/// Longest server name (tool names stay within what model APIs accept).
pub const MAX_NAME: usize = 30;

/// Prefix of a stdio server's id (`stdio-<name>`; stored ids are UUIDs).
pub const STDIO_ID_PREFIX: &str = "stdio-";

/// Whether `v` is a server name: a slug without `_` (so `__` splits a tool
/// name once).
pub fn valid_name(v: &str) -> bool {
    (1..=MAX_NAME).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-')
}

/// How the portal speaks to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Streamable HTTP (a row an admin manages through the API).
    StreamableHttp,
    /// A child process's stdin/stdout (from the configuration file only).
    Stdio,
}

impl Transport {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::StreamableHttp => "streamable-http",
            Transport::Stdio => "stdio",
        }
    }
}

/// What the last connection to a server found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not connected since its connection settings last changed.
    Unknown,
    /// Its tools were listed.
    Ok,
    /// It could not be reached or refused: its tools are unavailable.
    Failed,
}

impl Health {
    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Failed => "failed",
        }
    }

    /// The status spelled `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [Health::Unknown, Health::Ok, Health::Failed]
            .into_iter()
            .find(|h| h.as_str() == s)
    }
}

/// A tool as the remote server listed it (the snapshot of the last refresh).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteTool {
    /// Its name on the server.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of its arguments.
    pub input_schema: serde_json::Value,
    /// The server says it only reads (a hint: it does not lower the risk).
    #[serde(default)]
    pub read_only_hint: bool,
}

/// What the portal sends to a server (sealed at rest, never returned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Sent as `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<String>,
    /// Further headers (name → value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// A remote MCP server of one organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct McpServer {
    /// Id (a UUID).
    pub id: String,
    /// The organisation it belongs to.
    pub org_id: crate::ids::OrgId,
    /// Its slug, the prefix of its tools' names (unique in the organisation).
    pub name: String,
    /// The Streamable HTTP endpoint (stdio: the command line).
    pub url: String,
    /// How it is spoken to.
    pub transport: Transport,
    /// [`Credentials`] as JSON, sealed for [`McpServer::seal_context`].
    pub credentials_sealed: Option<String>,
    /// Connected: its tools are offered.
    pub enabled: bool,
    /// What the last connection found.
    pub health: Health,
    /// Why the last connection failed.
    pub last_error: Option<String>,
    /// When it was last connected (epoch ms).
    pub checked_at: Option<i64>,
    /// Its tools as last listed.
    pub tools: Vec<RemoteTool>,
    /// The admin's risk per tool (tools absent here are `confirm`).
    pub risks: BTreeMap<String, Risk>,
    /// Creation time.
    pub created_at: i64,
    /// Last change of its settings.
    pub updated_at: i64,
}

impl McpServer {
    /// The seal context of its credentials (bound to the row).
    pub fn seal_context(id: &str) -> String {
        format!("mcp-credentials:{id}")
    }

    /// The risk of one of its tools: the admin's choice, else `confirm`.
    pub fn risk_of(&self, tool: &str) -> Risk {
        self.risks.get(tool).copied().unwrap_or(Risk::Confirm)
    }

    /// Whether its tools are offered: connected and healthy.
    pub fn available(&self) -> bool {
        self.enabled && self.health == Health::Ok
    }

    /// Why its tools cannot run now (`None`: they can).
    pub fn unavailable_because(&self) -> Option<String> {
        if !self.enabled {
            return Some(format!("MCP server {} is disconnected", self.name));
        }
        match self.health {
            Health::Ok => None,
            Health::Unknown => Some(format!(
                "MCP server {} has not been connected yet; refresh it",
                self.name
            )),
            Health::Failed => Some(format!(
                "MCP server {} is unavailable: {}",
                self.name,
                self.last_error
                    .as_deref()
                    .unwrap_or("the last connection failed")
            )),
        }
    }
}

/// Their storage (organisation data: every call names the organisation).
#[async_trait]
pub trait McpServerRepo: Send + Sync {
    /// Stores a server with its journal (`Conflict` when the name is taken in the org).
    async fn create_mcp_server(&self, s: &McpServer, j: &Journal<'_>) -> StoreResult<()>;
    /// The organisation's servers, oldest first.
    async fn list_mcp_servers(&self, org_id: &crate::ids::OrgId) -> StoreResult<Vec<McpServer>>;
    /// One server of the organisation.
    async fn get_mcp_server(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<McpServer>>;
    /// Writes a server's changeable fields with its journal; false when absent.
    async fn update_mcp_server(&self, s: &McpServer, j: &Journal<'_>) -> StoreResult<bool>;
    /// Deletes a server with its journal; false when absent.
    async fn delete_mcp_server(
        &self,
        org_id: &crate::ids::OrgId,
        id: &str,
        j: &Journal<'_>,
    ) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_round_trips_and_tools_default_to_confirm() {
        for h in [Health::Unknown, Health::Ok, Health::Failed] {
            assert_eq!(Health::parse(h.as_str()), Some(h));
        }
        assert_eq!(Health::parse("up"), None);
        let mut s = McpServer {
            id: "s1".into(),
            org_id: "o1".into(),
            name: "files".into(),
            url: "https://mcp.example.com/mcp".into(),
            transport: Transport::StreamableHttp,
            credentials_sealed: None,
            enabled: true,
            health: Health::Unknown,
            last_error: None,
            checked_at: None,
            tools: Vec::new(),
            risks: BTreeMap::from([("read".to_string(), Risk::Read)]),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(s.risk_of("read"), Risk::Read);
        assert_eq!(s.risk_of("write"), Risk::Confirm);
        assert!(!s.available());
        assert!(s
            .unavailable_because()
            .is_some_and(|m| m.contains("refresh")));
        s.health = Health::Ok;
        assert!(s.available() && s.unavailable_because().is_none());
        s.enabled = false;
        assert!(s
            .unavailable_because()
            .is_some_and(|m| m.contains("disconnected")));
    }
}
