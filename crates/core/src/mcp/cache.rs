//! A replica's copy of each organisation's MCP server rows, refreshed when
//! older than [`crate::ai_providers::REFRESH`] (as the AI providers are), so a
//! change made on another replica reaches this one without a restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use super::{McpServer, McpServerRepo};
use crate::ai_providers::REFRESH;

type Rows = Arc<Vec<McpServer>>;

/// Per organisation: when read, and the rows.
#[derive(Default)]
pub struct ServerCache(RwLock<HashMap<String, (Instant, Rows)>>);

impl ServerCache {
    /// The organisation's servers, at most [`REFRESH`] old. When the database
    /// cannot be read the last copy serves (or none): the cloud tools go on.
    pub async fn get(&self, repo: &dyn McpServerRepo, org_id: &crate::ids::OrgId) -> Rows {
        let held = self
            .0
            .read()
            .ok()
            .and_then(|g| g.get(org_id.as_str()).cloned());
        if let Some((at, rows)) = &held {
            if at.elapsed() < REFRESH {
                return rows.clone();
            }
        }
        match repo.list_mcp_servers(org_id).await {
            Ok(rows) => {
                let rows = Arc::new(rows);
                if let Ok(mut g) = self.0.write() {
                    g.insert(org_id.to_string(), (Instant::now(), rows.clone()));
                }
                rows
            }
            Err(e) => {
                tracing::debug!(error = %e, "MCP servers not refreshed");
                held.map(|(_, rows)| rows).unwrap_or_default()
            }
        }
    }

    /// Drops an organisation's copy (this replica changed a server).
    pub fn forget(&self, org_id: &crate::ids::OrgId) {
        if let Ok(mut g) = self.0.write() {
            g.remove(org_id.as_str());
        }
    }
}
