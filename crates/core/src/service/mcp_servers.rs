//! Remote MCP servers of an organisation (`admin:all`; audited on the
//! organisation's chain; credentials sealed, never returned): add, change,
//! remove, record what a connection found, and choose each tool's risk.
//! Only Streamable HTTP servers are accepted here (stdio ones would run a
//! command on the portal's host).

use std::collections::BTreeMap;

use serde_json::json;

use super::auth::uuid_v4;
use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::kinds::AuditAction;
use crate::mcp::{Credentials, Health, McpServer, RemoteTool, Transport, MAX_NAME};
use crate::outbound::OutboundPolicy;
use crate::rbac::Permission;
use crate::tools::Risk;
use crate::validate::text;
use crate::Secret;

/// Longest connection error kept.
const MAX_ERROR: usize = 500;
/// Most extra headers.
const MAX_HEADERS: usize = 20;
/// Most tools kept from one server.
pub const MAX_TOOLS: usize = 200;
/// Headers the transport sets itself (or `bearer` says).
const RESERVED: &[&str] = &[
    "authorization",
    "host",
    "content-type",
    "content-length",
    "accept",
    "connection",
    "transfer-encoding",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
];

/// A server's editable fields (absent: unchanged, or the default on create).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// Its slug (the prefix of its tools' names).
    pub name: Option<String>,
    /// The Streamable HTTP endpoint.
    pub url: Option<String>,
    /// Bearer token (`Some(None)`: remove it).
    pub bearer: Option<Option<Secret<String>>>,
    /// Extra headers, replacing those stored (`Some(empty)`: remove them).
    pub headers: Option<BTreeMap<String, Secret<String>>>,
    /// Connected (its tools offered).
    pub enabled: Option<bool>,
}

fn gone() -> CoreError {
    CoreError::NotFound("MCP server not found".into())
}

fn bad(m: impl Into<String>) -> CoreError {
    CoreError::Validation(m.into())
}

fn taken() -> CoreError {
    CoreError::Conflict("name: another MCP server of this organization has this name".into())
}

/// A server name: a slug without `_` (so `__` splits a tool name once).
fn name(v: &str) -> CoreResult<String> {
    let v = v.trim();
    if crate::mcp::valid_name(v) {
        Ok(v.to_string())
    } else {
        Err(bad(format!(
            "name: must be 1-{MAX_NAME} characters of a-z, 0-9 and '-', not starting or ending with '-'"
        )))
    }
}

fn url(policy: &OutboundPolicy, v: &str) -> CoreResult<String> {
    let v = text("url", v, 2000)?;
    policy.check_url(&v).map_err(|e| bad(format!("url: {e}")))?;
    Ok(v)
}

fn header(k: &str, v: &str) -> CoreResult<(String, String)> {
    let k = k.trim();
    if k.is_empty() || k.len() > 100 || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(bad(format!(
            "headers: {k:?} is not a header name (letters, digits and '-')"
        )));
    }
    if RESERVED.contains(&k.to_ascii_lowercase().as_str()) {
        return Err(bad(format!(
            "headers: {k} is set by the portal (use bearer for Authorization)"
        )));
    }
    let v = text(&format!("headers/{k}"), v, 4000)?;
    Ok((k.to_string(), v))
}

/// Opens a server's credentials (`None`: none stored, or they do not open).
pub fn credentials(keys: &crate::crypto::Keys, s: &McpServer) -> Option<Credentials> {
    let sealed = s.credentials_sealed.as_deref()?;
    let plain = keys.open(&McpServer::seal_context(&s.id), sealed)?;
    serde_json::from_slice(&plain).ok()
}

/// Applies `f` to `s`; connection changes make it untested (refresh again).
fn apply(ctx: &Ctx<'_>, policy: &OutboundPolicy, s: &mut McpServer, f: Fields) -> CoreResult<()> {
    let before = (s.url.clone(), s.credentials_sealed.clone());
    if let Some(v) = f.name {
        s.name = name(&v)?;
    }
    if let Some(v) = f.url {
        s.url = url(policy, &v)?;
    }
    if f.bearer.is_some() || f.headers.is_some() {
        let mut c = credentials(ctx.keys, s).unwrap_or_default();
        if let Some(b) = f.bearer {
            c.bearer = match b {
                Some(b) => Some(text("bearer", b.expose(), 4000)?),
                None => None,
            };
        }
        if let Some(h) = f.headers {
            if h.len() > MAX_HEADERS {
                return Err(bad(format!("headers: at most {MAX_HEADERS}")));
            }
            c.headers = h
                .iter()
                .map(|(k, v)| header(k, v.expose()))
                .collect::<CoreResult<_>>()?;
        }
        s.credentials_sealed = if c == Credentials::default() {
            None
        } else {
            let plain = serde_json::to_vec(&c).map_err(|e| CoreError::Internal(e.to_string()))?;
            Some(ctx.keys.seal(&McpServer::seal_context(&s.id), &plain))
        };
    }
    if let Some(v) = f.enabled {
        s.enabled = v;
    }
    if (s.url.clone(), s.credentials_sealed.clone()) != before {
        s.health = Health::Unknown;
        s.last_error = None;
    }
    Ok(())
}

fn journal<'a>(
    ctx: &Ctx<'a>,
    actor: &Principal,
    s: &McpServer,
    action: AuditAction,
    extra: serde_json::Value,
) -> crate::journal::Journal<'a> {
    let mut j = ctx.journal();
    j.audit(
        Some(&s.org_id),
        &actor.actor(),
        action,
        Some(&format!("mcp-server:{}", s.id)),
        "success",
        json!({"name": s.name, "url": s.url, "hasCredentials": s.credentials_sealed.is_some(),
               "enabled": s.enabled, "health": s.health.as_str(), "tools": s.tools.len(),
               "change": extra}),
    );
    j
}

fn org(actor: &Principal) -> CoreResult<&crate::ids::OrgId> {
    actor.require(Permission::AdminAll)?;
    Ok(&actor.org()?.id)
}

/// Adds a server to the caller's organisation (name and url required); it is
/// untested until connected.
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Principal,
    policy: &OutboundPolicy,
    f: Fields,
) -> CoreResult<McpServer> {
    let org_id = org(actor)?;
    for (given, field) in [(f.name.is_some(), "name"), (f.url.is_some(), "url")] {
        if !given {
            return Err(bad(format!("{field}: is required")));
        }
    }
    let mut s = McpServer {
        id: uuid_v4(),
        org_id: org_id.clone(),
        name: String::new(),
        url: String::new(),
        transport: Transport::StreamableHttp,
        credentials_sealed: None,
        enabled: true,
        health: Health::Unknown,
        last_error: None,
        checked_at: None,
        tools: Vec::new(),
        risks: BTreeMap::new(),
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    apply(ctx, policy, &mut s, f)?;
    let j = journal(ctx, actor, &s, AuditAction::McpServerCreated, json!(null));
    ctx.store
        .create_mcp_server(&s, &j)
        .await
        .map_err(|e| match e {
            crate::StoreError::Conflict(_) => taken(),
            e => e.into(),
        })?;
    Ok(s)
}

/// The organisation's servers.
pub async fn list(ctx: &Ctx<'_>, actor: &Principal) -> CoreResult<Vec<McpServer>> {
    let org_id = org(actor)?;
    Ok(ctx.store.list_mcp_servers(org_id).await?)
}

/// One server of the organisation (another organisation's is not found).
pub async fn get(ctx: &Ctx<'_>, actor: &Principal, id: &str) -> CoreResult<McpServer> {
    let org_id = org(actor)?;
    ctx.store.get_mcp_server(org_id, id).await?.ok_or_else(gone)
}

async fn write(
    ctx: &Ctx<'_>,
    actor: &Principal,
    s: &McpServer,
    action: AuditAction,
    extra: serde_json::Value,
) -> CoreResult<()> {
    let j = journal(ctx, actor, s, action, extra);
    match ctx.store.update_mcp_server(s, &j).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(gone()),
        Err(crate::StoreError::Conflict(_)) => Err(taken()),
        Err(e) => Err(e.into()),
    }
}

/// Changes a server; absent fields stay.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Principal,
    policy: &OutboundPolicy,
    id: &str,
    f: Fields,
) -> CoreResult<McpServer> {
    let mut s = get(ctx, actor, id).await?;
    apply(ctx, policy, &mut s, f)?;
    s.updated_at = ctx.now;
    write(ctx, actor, &s, AuditAction::McpServerUpdated, json!(null)).await?;
    Ok(s)
}

/// Removes a server: its tools leave the catalogue.
pub async fn delete(ctx: &Ctx<'_>, actor: &Principal, id: &str) -> CoreResult<McpServer> {
    let s = get(ctx, actor, id).await?;
    let j = journal(ctx, actor, &s, AuditAction::McpServerDeleted, json!(null));
    if !ctx.store.delete_mcp_server(&s.org_id, id, &j).await? {
        return Err(gone());
    }
    Ok(s)
}

/// Records what connecting to `s` found (`Err`: why it failed): the tools
/// listed become its snapshot; a failure marks it failed (its tools
/// unavailable) and keeps the last snapshot for the admin to see.
pub async fn record_refresh(
    ctx: &Ctx<'_>,
    actor: &Principal,
    mut s: McpServer,
    outcome: Result<Vec<RemoteTool>, String>,
) -> CoreResult<McpServer> {
    org(actor)?;
    match outcome {
        Ok(mut tools) => {
            tools.truncate(MAX_TOOLS);
            s.tools = tools;
            s.health = Health::Ok;
            s.last_error = None;
        }
        Err(e) => {
            s.health = Health::Failed;
            s.last_error = Some(e.chars().take(MAX_ERROR).collect());
        }
    }
    s.checked_at = Some(ctx.now);
    write(ctx, actor, &s, AuditAction::McpServerRefreshed, json!(null)).await?;
    Ok(s)
}

/// Sets the risk of one of the server's listed tools.
pub async fn set_risk(
    ctx: &Ctx<'_>,
    actor: &Principal,
    id: &str,
    tool: &str,
    risk: &str,
) -> CoreResult<McpServer> {
    let risk =
        Risk::parse(risk.trim()).ok_or_else(|| bad("risk: must be read, confirm or danger"))?;
    let mut s = get(ctx, actor, id).await?;
    if !s.tools.iter().any(|t| t.name == tool) {
        return Err(CoreError::NotFound(format!(
            "MCP server {} lists no tool {tool:?}",
            s.name
        )));
    }
    s.risks.insert(tool.to_string(), risk);
    s.updated_at = ctx.now;
    let change = json!({"tool": tool, "risk": risk.as_str()});
    write(ctx, actor, &s, AuditAction::McpServerToolRiskSet, change).await?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_headers_and_urls_are_judged() {
        assert_eq!(name(" files ").unwrap(), "files");
        for refused in ["", "Files", "a_b", "-a", "a-", &"x".repeat(31)] {
            assert!(name(refused).is_err(), "{refused:?}");
        }
        assert!(header("X-Api-Key", "k").is_ok());
        for (k, v) in [
            ("Authorization", "x"),
            ("mcp-session-id", "x"),
            ("bad name", "x"),
            ("X-A", "a\nb"),
        ] {
            assert!(header(k, v).is_err(), "{k}");
        }
        let strict = OutboundPolicy::default();
        assert!(url(&strict, "https://mcp.example.com/mcp").is_ok());
        for refused in [
            "http://mcp.example.com/",
            "https://127.0.0.1/mcp",
            "https://169.254.169.254/",
            "nope",
        ] {
            assert!(
                matches!(url(&strict, refused), Err(CoreError::Validation(m)) if m.starts_with("url")),
                "{refused}"
            );
        }
    }
}
