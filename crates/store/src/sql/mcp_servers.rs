//! Remote MCP servers of an organisation: statements, row decoder and
//! repository (every statement names the organisation).

use std::collections::BTreeMap;

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::mcp::{Health, McpServer, McpServerRepo, RemoteTool};
use portal_core::store::StoreResult;
use portal_core::tools::Risk;
use portal_core::StoreError;

use super::{journal, Db, Exec, Row, Sql, SqlStore};
use crate::args;

macro_rules! cols {
    () => {
        "id, org_id, name, url, credentials_sealed, enabled, health, last_error, \
         checked_at, tools, risks, created_at, updated_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO mcp_servers (",
    cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    cols!(),
    " FROM mcp_servers WHERE org_id = $1 ORDER BY created_at, id"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    cols!(),
    " FROM mcp_servers WHERE org_id = $1 AND id = $2"
));
static UPDATE: Sql = Sql::new(
    "UPDATE mcp_servers SET name = $3, url = $4, credentials_sealed = $5, enabled = $6, \
     health = $7, last_error = $8, checked_at = $9, tools = $10, risks = $11, updated_at = $13 \
     WHERE id = $1 AND org_id = $2 AND created_at = $12",
);
static DELETE: Sql = Sql::new("DELETE FROM mcp_servers WHERE org_id = $1 AND id = $2");

fn other(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("MCP server {what}: {e}"))
}

fn decode(r: &dyn Row) -> StoreResult<McpServer> {
    let health = r.text(6)?;
    let tools: Vec<RemoteTool> =
        serde_json::from_str(&r.text(9)?).map_err(|e| other("tools", e))?;
    let risks: BTreeMap<String, String> =
        serde_json::from_str(&r.text(10)?).map_err(|e| other("risks", e))?;
    let risks = risks
        .into_iter()
        .map(|(k, v)| match Risk::parse(&v) {
            Some(r) => Ok((k, r)),
            None => Err(other("risk", &v)),
        })
        .collect::<StoreResult<_>>()?;
    Ok(McpServer {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        name: r.text(2)?,
        url: r.text(3)?,
        transport: portal_core::mcp::Transport::StreamableHttp,
        credentials_sealed: r.opt_text(4)?,
        enabled: r.flag(5)?,
        health: Health::parse(&health).ok_or_else(|| other("health", &health))?,
        last_error: r.opt_text(7)?,
        checked_at: r.opt_int(8)?,
        tools,
        risks,
        created_at: r.int(11)?,
        updated_at: r.int(12)?,
    })
}

async fn write<E: Exec>(c: &mut E, sql: &Sql, s: &McpServer) -> StoreResult<u64> {
    let tools = serde_json::to_string(&s.tools).map_err(|e| other("tools", e))?;
    let risks: BTreeMap<&str, &str> = s
        .risks
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let risks = serde_json::to_string(&risks).map_err(|e| other("risks", e))?;
    c.execute(
        sql,
        &args![
            s.id,
            s.org_id,
            s.name,
            s.url,
            s.credentials_sealed,
            s.enabled,
            s.health.as_str(),
            s.last_error,
            s.checked_at,
            tools,
            risks,
            s.created_at,
            s.updated_at
        ],
    )
    .await
}

#[async_trait]
impl<B: Db> McpServerRepo for SqlStore<B> {
    async fn create_mcp_server(&self, s: &McpServer, j: &Journal<'_>) -> StoreResult<()> {
        let mut c = self.0.begin().await?;
        write(&mut c, &INSERT, s).await?;
        journal::write(&mut c, j).await?;
        c.commit().await
    }

    async fn list_mcp_servers(
        &self,
        org_id: &portal_core::ids::OrgId,
    ) -> StoreResult<Vec<McpServer>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![org_id], decode).await
    }

    async fn get_mcp_server(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<McpServer>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![org_id, id], decode).await
    }

    async fn update_mcp_server(&self, s: &McpServer, j: &Journal<'_>) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = write(&mut c, &UPDATE, s).await?;
        journal::commit_touched(c, n, j).await
    }

    async fn delete_mcp_server(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = c.execute(&DELETE, &args![org_id, id]).await?;
        journal::commit_touched(c, n, j).await
    }
}
