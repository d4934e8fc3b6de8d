//! The storage contract every backend (SQLite, PostgreSQL) implements: one
//! repository trait per aggregate (a file each below), gathered by [`Store`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod activity;
mod advisor;
mod advisor_schedules;
mod api_keys;
mod approvals;
mod audit;
mod auth_sessions;
mod chat;
mod chat_events;
mod chat_turns;
mod constraint;
mod events;
mod executions;
mod idp;
mod instance;
mod invitations;
mod members;
mod orgs;
mod search;
mod users;
mod webhooks;
mod workflow_runs;
mod workflows;

pub use activity::ActivityRepo;
pub use advisor::AdvisorRepo;
pub use advisor_schedules::AdvisorScheduleRepo;
pub use api_keys::ApiKeyRepo;
pub use approvals::ApprovalRepo;
pub use audit::AuditRepo;
pub use auth_sessions::AuthSessionRepo;
pub use chat::ChatRepo;
pub use chat_events::ChatEventRepo;
pub use chat_turns::ChatTurnRepo;
pub use constraint::Constraint;
pub use events::EventRepo;
pub use executions::ExecutionRepo;
pub use idp::IdpRepo;
pub use instance::StoreInfo;
pub use invitations::InvitationRepo;
pub use members::MemberRepo;
pub use orgs::OrgRepo;
pub use search::SearchRepo;
pub use users::UserRepo;
pub use webhooks::{AttemptWrite, DeliveryFilter, WebhookRepo};
pub use workflow_runs::WorkflowRunRepo;
pub use workflows::WorkflowRepo;

use crate::ai_providers::AiProviderRepo;
use crate::chat_control::ChatControl;
use crate::jobs::JobRepo;
use crate::keyring::KeyringRepo;
use crate::mcp::McpServerRepo;
use crate::portal_settings::PortalSettingsRepo;

/// Which database engine backs the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file: the zero-configuration default.
    Sqlite,
    /// PostgreSQL server: the production database.
    Postgres,
}

impl Backend {
    /// Stable lowercase name, used in health output and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection pool occupancy, exported as gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open and idle.
    pub idle: usize,
    /// Connections checked out by a request.
    pub in_use: usize,
    /// Upper bound of the pool.
    pub max: usize,
}

/// Failures a repository call can report; adapters map them to status codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached right now; callers answer 503 and retry later.
    #[error("database unavailable")]
    Unavailable,
    /// A uniqueness or foreign-key constraint refused the write; the detail is
    /// the [`Constraint`]'s name when it is a named one.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row does not exist (or belongs to another tenant).
    #[error("not found")]
    NotFound,
    /// A migration could not be applied.
    #[error("migration {version} failed: {message}")]
    Migration {
        /// The migration's version number.
        version: i64,
        /// What the database said.
        message: String,
    },
    /// Anything else; logged in full, never shown to clients.
    #[error("database error: {0}")]
    Other(String),
}

/// Shared flag telling whether the database answered its last check.
///
/// A background monitor and failing queries flip it; request handlers read it
/// without I/O to decide between normal and degraded answers.
#[derive(Debug, Clone)]
pub struct Availability(Arc<AtomicBool>);

impl Default for Availability {
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }
}

impl Availability {
    /// True while the database is believed reachable.
    pub fn is_up(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Records the outcome of a check or query; returns true when the state changed.
    pub fn set(&self, up: bool) -> bool {
        self.0.swap(up, Ordering::Relaxed) != up
    }
}

/// Shorthand for repository results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Declares [`Store`] over its parts and implements it for every type that
/// implements them all (the parts are listed once).
macro_rules! store_of {
    ($($part:ident),+ $(,)?) => {
        /// The whole storage contract: every aggregate's repository. Every
        /// method that reads organisation data takes the organisation id (rule
        /// 5 of ARCHITECTURE.md), so another tenant's rows are simply not found.
        ///
        /// Implemented for every type implementing all the parts, so a backend
        /// only implements the per-aggregate traits.
        pub trait Store: $($part +)+ Send + Sync + 'static {}

        impl<T> Store for T where T: $($part +)+ Send + Sync + 'static {}
    };
}

store_of!(
    StoreInfo,
    UserRepo,
    OrgRepo,
    MemberRepo,
    InvitationRepo,
    AuthSessionRepo,
    ApiKeyRepo,
    ChatRepo,
    ChatTurnRepo,
    ChatEventRepo,
    ActivityRepo,
    ExecutionRepo,
    ApprovalRepo,
    EventRepo,
    AuditRepo,
    JobRepo,
    ChatControl,
    SearchRepo,
    WebhookRepo,
    IdpRepo,
    WorkflowRepo,
    WorkflowRunRepo,
    AdvisorRepo,
    AdvisorScheduleRepo,
    KeyringRepo,
    PortalSettingsRepo,
    AiProviderRepo,
    McpServerRepo,
);
