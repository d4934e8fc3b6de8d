//! MCP servers the portal runs itself, as child processes spoken to over
//! stdio (the official Rust SDK's child-process transport). They come only
//! from the configuration file (`portal_core::config::McpSettings`), never
//! from the API, and live in memory: each replica runs its own children.
//!
//! A child is started at start-up, started again on the next call after it
//! died (or on a refresh), and stopped at shutdown. Its environment is only
//! `PATH`, `HOME`, `LANG` and what the file gives it: the portal's own (its
//! secret key, its database URL) is never passed on.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use portal_core::config::StdioServer;
use portal_core::mcp::{Health, McpServer, RemoteTool, Transport, STDIO_ID_PREFIX};
use portal_core::model::Org;
use portal_core::service::tools::ToolError;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RunningService, ServiceError};
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::client::{chain, listing, outcome_of, LIST_TIMEOUT};

/// The portal's variables a child inherits (everything else is the file's).
const INHERITED: &[&str] = &["PATH", "HOME", "LANG"];
/// Longest connection error kept.
const MAX_ERROR: usize = 500;

/// What this replica last found of one child.
#[derive(Clone)]
struct Status {
    health: Health,
    last_error: Option<String>,
    checked_at: Option<i64>,
    tools: Vec<RemoteTool>,
}

/// One configured server and its running child, if any.
struct Child {
    config: StdioServer,
    session: Mutex<Option<RunningService<RoleClient, ()>>>,
    status: RwLock<Status>,
    /// When this replica started (its servers' creation time in views).
    since: i64,
    /// The hub's shutdown flag.
    stopped: Arc<AtomicBool>,
}

/// The configured stdio servers of this replica.
#[derive(Default)]
pub struct StdioHub {
    children: Vec<Arc<Child>>,
    /// Set at shutdown: no child is started again.
    stopped: Arc<AtomicBool>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Child {
    /// The view every other part of the portal reads (risks from the file).
    fn server(&self, org: &Org) -> McpServer {
        let st = self
            .status
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|e| e.into_inner().clone());
        let c = &self.config;
        let url = std::iter::once(c.command.as_str())
            .chain(c.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        McpServer {
            id: format!("{STDIO_ID_PREFIX}{}", c.name),
            org_id: org.id.clone(),
            name: c.name.clone(),
            url,
            transport: Transport::Stdio,
            credentials_sealed: None,
            enabled: true,
            health: st.health,
            last_error: st.last_error,
            checked_at: st.checked_at,
            tools: st.tools,
            risks: c.risks.clone(),
            created_at: self.since,
            updated_at: self.since,
        }
    }

    fn record(&self, outcome: Result<Option<Vec<RemoteTool>>, String>) {
        let mut st = self.status.write().unwrap_or_else(|e| e.into_inner());
        st.checked_at = Some(now_ms());
        match outcome {
            Ok(tools) => {
                st.health = Health::Ok;
                st.last_error = None;
                if let Some(t) = tools {
                    st.tools = t;
                }
            }
            Err(e) => {
                tracing::warn!(server = %self.config.name, error = %e, "stdio MCP server failed");
                st.health = Health::Failed;
                st.last_error = Some(e.chars().take(MAX_ERROR).collect());
            }
        }
    }

    fn spawn(&self) -> Result<TokioChildProcess, String> {
        let c = &self.config;
        let mut cmd = tokio::process::Command::new(&c.command);
        cmd.args(&c.args).env_clear().kill_on_drop(true);
        for k in INHERITED {
            if let Ok(v) = std::env::var(k) {
                cmd.env(k, v);
            }
        }
        for (k, v) in &c.env {
            cmd.env(k, v.expose());
        }
        let (child, _) = TokioChildProcess::builder(cmd)
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", c.command))?;
        Ok(child)
    }

    /// Starts the child (stopping any earlier one) and lists its tools.
    async fn restart(&self) {
        let mut held = self.session.lock().await;
        if let Some(old) = held.take() {
            let _ = old.cancel().await;
        }
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        let work = async {
            let session = ()
                .serve(self.spawn()?)
                .await
                .map_err(|e| format!("could not connect: {}", chain(&e)))?;
            let listed = session.peer().list_all_tools().await;
            match listed {
                Ok(tools) => Ok((session, listing(tools)?)),
                Err(e) => {
                    let _ = session.cancel().await;
                    Err(format!("tools/list failed: {}", chain(&e)))
                }
            }
        };
        let outcome = match tokio::time::timeout(LIST_TIMEOUT, work).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", LIST_TIMEOUT.as_secs())),
        };
        match outcome {
            Ok((session, tools)) => {
                *held = Some(session);
                self.record(Ok(Some(tools)));
            }
            Err(e) => self.record(Err(e)),
        }
    }

    /// The running child's peer, starting it again when it has stopped.
    async fn peer(&self) -> Option<Peer<RoleClient>> {
        {
            let held = self.session.lock().await;
            if let Some(s) = held
                .as_ref()
                .filter(|s| !s.is_closed() && !s.peer().is_transport_closed())
            {
                return Some(s.peer().clone());
            }
        }
        self.restart().await;
        let held = self.session.lock().await;
        held.as_ref().map(|s| s.peer().clone())
    }

    /// Calls `tool`. A child found dead is started again; the call is sent
    /// again only when the tool says it only reads (`retry`), since a child
    /// that died mid-call may have done part of it.
    async fn call(
        &self,
        tool: &str,
        args: &Map<String, Value>,
        retry: bool,
    ) -> Result<Value, ToolError> {
        let mut again = retry;
        loop {
            let Some(peer) = self.peer().await else {
                let why = self
                    .status
                    .read()
                    .ok()
                    .and_then(|s| s.last_error.clone())
                    .unwrap_or_else(|| "it is not running".into());
                return Err(ToolError::Cloud(format!(
                    "MCP server {} is unavailable: {why}",
                    self.config.name
                )));
            };
            let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.clone());
            match peer.call_tool(params).await {
                Ok(result) => {
                    self.record(Ok(None));
                    return outcome_of(tool, result);
                }
                Err(e) => {
                    let closed = matches!(
                        e,
                        ServiceError::TransportClosed | ServiceError::TransportSend(_)
                    ) || peer.is_transport_closed();
                    let message = format!("tools/call failed: {}", chain(&e));
                    if closed {
                        // Dropped here, started again on the next use.
                        if let Some(old) = self.session.lock().await.take() {
                            let _ = old.cancel().await;
                        }
                        if std::mem::take(&mut again) {
                            continue;
                        }
                    }
                    self.record(Err(message.clone()));
                    return Err(ToolError::Cloud(message));
                }
            }
        }
    }
}

impl StdioHub {
    /// The servers the configuration lists (none started yet).
    pub fn new(configured: &[StdioServer]) -> Self {
        let since = now_ms();
        let stopped = Arc::new(AtomicBool::new(false));
        let children = configured
            .iter()
            .map(|c| {
                Arc::new(Child {
                    config: c.clone(),
                    session: Mutex::new(None),
                    status: RwLock::new(Status {
                        health: Health::Unknown,
                        last_error: None,
                        checked_at: None,
                        tools: Vec::new(),
                    }),
                    since,
                    stopped: stopped.clone(),
                })
            })
            .collect();
        Self { children, stopped }
    }

    fn of<'a>(&'a self, org: &'a Org) -> impl Iterator<Item = &'a Arc<Child>> + 'a {
        self.children
            .iter()
            .filter(move |c| c.config.org == org.slug || c.config.org == org.id.as_str())
    }

    /// Whether any server is configured.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// The organisation's stdio servers as they stand.
    pub fn servers(&self, org: &Org) -> Vec<McpServer> {
        self.of(org).map(|c| c.server(org)).collect()
    }

    /// One of the organisation's stdio servers by id.
    pub fn server(&self, org: &Org, id: &str) -> Option<McpServer> {
        self.of(org)
            .find(|c| id.strip_prefix(STDIO_ID_PREFIX) == Some(c.config.name.as_str()))
            .map(|c| c.server(org))
    }

    /// Starts the organisation's server `name` again and lists its tools.
    pub async fn refresh(&self, org: &Org, name: &str) -> Option<McpServer> {
        let child = self.of(org).find(|c| c.config.name == name)?.clone();
        child.restart().await;
        Some(child.server(org))
    }

    /// Calls `tool` on the organisation's server `name` (`reads`: the tool
    /// says it only reads, so a call lost with a dead child is sent again).
    pub async fn call(
        &self,
        org: &Org,
        name: &str,
        tool: &str,
        args: &Map<String, Value>,
        reads: bool,
    ) -> Result<Value, ToolError> {
        match self.of(org).find(|c| c.config.name == name) {
            Some(c) => c.clone().call(tool, args, reads).await,
            None => Err(ToolError::Cloud(format!("no MCP server {name}"))),
        }
    }

    /// Starts every child and lists its tools.
    pub async fn start_all(&self) {
        let mut starts = tokio::task::JoinSet::new();
        for c in &self.children {
            let c = c.clone();
            starts.spawn(async move { c.restart().await });
        }
        while starts.join_next().await.is_some() {}
    }

    /// Stops every child (closes its stdin, then signals, then kills).
    pub async fn stop_all(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for c in &self.children {
            if let Some(s) = c.session.lock().await.take() {
                let _ = s.cancel().await;
            }
            let mut st = c.status.write().unwrap_or_else(|e| e.into_inner());
            st.health = Health::Unknown;
        }
    }
}
