//! Core services: every business rule an adapter (HTTP, CLI, MCP) needs, in
//! one place. Each takes a [`Ctx`] (store, keys, client facts) and, where a
//! caller is involved, the calling [`Principal`](crate::identity::Principal).

pub mod activity;
pub mod ai_providers;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod chat;
pub mod compartments;
mod contexts;
pub mod events;
pub mod executions;
pub mod invitations;
pub mod keys;
pub mod mcp_servers;
pub mod members;
pub mod password_policy;
pub mod search;
pub mod setup;
pub mod sso;
pub mod sso_sessions;
pub mod tool_reads;
pub mod tools;
pub mod webhooks;

use crate::crypto::Keys;
use crate::store::Store;

pub use contexts::Contexts;

/// What every service call needs besides its arguments.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The database.
    pub store: &'a dyn Store,
    /// Derived secret keys (audit MACs).
    pub keys: &'a Keys,
    /// The client's address, for audit records.
    pub ip: Option<std::net::IpAddr>,
    /// The client's user agent, for session records.
    pub user_agent: Option<&'a str>,
    /// Now, in epoch milliseconds.
    pub now: i64,
    /// The process's cache of resolved principals, cleared when credentials
    /// or permissions change (`None`: nothing cached, e.g. the CLI).
    pub principals: Option<&'a crate::identity::PrincipalCache>,
    /// The process's tenancy snapshots, forgotten when a tool changes the
    /// cloud (`None`: nothing cached, e.g. the CLI).
    pub tenancy: Option<&'a crate::graph::snapshot::Snapshots>,
}

impl<'a> Ctx<'a> {
    /// An empty journal for a change made in this context: its entries carry
    /// this context's keys, client address and time.
    pub fn journal(&self) -> crate::journal::Journal<'a> {
        crate::journal::Journal::new(self.keys, self.ip, self.now)
    }

    /// The caller's browser session changed (signed out, switched
    /// organisation, created one): its cached principal is resolved afresh.
    pub fn session_changed(&self, p: &crate::identity::Principal) {
        if let (Some(cache), Some(sid)) = (self.principals, p.session_id.as_deref()) {
            cache.forget_session(sid);
        }
    }

    /// Credentials or permissions changed (a role, a key, a membership, a
    /// password, a compartment policy): cached principals are resolved afresh.
    pub fn credentials_changed(&self) {
        if let Some(cache) = self.principals {
            cache.clear();
        }
    }
}
