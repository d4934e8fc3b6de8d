//! The storage contract every backend (SQLite, PostgreSQL) implements.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::audit::{AuditHead, AuditRecord, NewAuditEntry};
use crate::chat_control::ChatControl;
use crate::crypto::Keys;
use crate::jobs::JobRepo;
use crate::model::*;
use crate::rbac::Role;

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
    /// A uniqueness or foreign-key constraint refused the write.
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

/// The storage contract. Every repository method that reads organisation data
/// takes the organisation id (rule 3 of ARCHITECTURE.md), so another tenant's
/// rows are simply not found. The job queue ([`JobRepo`]) is part of it.
#[async_trait]
pub trait Store: JobRepo + ChatControl + Send + Sync + 'static {
    /// Which engine this is.
    fn backend(&self) -> Backend;

    /// The shared availability flag maintained by the backend's monitor.
    fn availability(&self) -> &Availability;

    /// Round-trips a trivial query; returns how long it took.
    async fn ping(&self) -> Result<Duration, StoreError>;

    /// Current pool occupancy.
    fn pool_stats(&self) -> PoolStats;

    /// The highest migration version applied.
    async fn schema_version(&self) -> Result<i64, StoreError>;

    // ---- users and organisations

    /// Creates a user; `Conflict` when the email is taken.
    async fn create_user(&self, user: NewUser, now: i64) -> StoreResult<User>;
    /// A user and their password hash, by (normalised) email.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>>;
    /// A user by id.
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>>;
    /// The user's password hash.
    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>>;
    /// Replaces the user's password hash.
    async fn set_password(&self, user_id: &str, hash: &str, now: i64) -> StoreResult<()>;
    /// Sets or clears the platform admin flag.
    async fn set_platform_admin(&self, user_id: &str, on: bool, now: i64) -> StoreResult<()>;
    /// Creates an organisation; `Conflict` when the slug is taken.
    async fn create_org(&self, id: &str, slug: &str, name: &str, now: i64) -> StoreResult<Org>;
    /// An organisation by slug.
    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>>;
    /// An organisation by id.
    async fn org_by_id(&self, id: &str) -> StoreResult<Option<Org>>;
    /// Every organisation (platform admins).
    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;
    /// Sets the organisation's compartment policy (empty: no restriction).
    async fn set_org_compartments(&self, org_id: &str, allowed: &[String]) -> StoreResult<()>;
    /// Turns four-eyes approval of `danger` tools on or off.
    async fn set_org_four_eyes(&self, org_id: &str, on: bool) -> StoreResult<()>;

    // ---- membership

    /// Adds a member; `Conflict` when already a member.
    async fn add_member(
        &self,
        org_id: &str,
        user_id: &str,
        role: Role,
        now: i64,
    ) -> StoreResult<()>;
    /// Changes a member's role; `NotFound` when not a member; `Conflict` when it
    /// would leave the organisation without an admin.
    async fn set_member_role(&self, org_id: &str, user_id: &str, role: Role) -> StoreResult<()>;
    /// Removes a member; `NotFound` when not a member; `Conflict` for the last admin.
    async fn remove_member(&self, org_id: &str, user_id: &str) -> StoreResult<()>;
    /// The user's role in the organisation.
    async fn member_role(&self, org_id: &str, user_id: &str) -> StoreResult<Option<Role>>;
    /// The organisation's members.
    async fn list_members(&self, org_id: &str) -> StoreResult<Vec<Member>>;
    /// The user's organisations, most recently used first.
    async fn user_orgs(&self, user_id: &str) -> StoreResult<Vec<(Org, Role)>>;
    /// Records that the user worked in the organisation now.
    async fn touch_membership(&self, org_id: &str, user_id: &str, now: i64) -> StoreResult<()>;
    /// Stores a pending invitation; first marks the pair's lapsed pending ones
    /// expired. `Conflict` when one is still pending.
    async fn create_invitation(&self, inv: &Invitation) -> StoreResult<()>;
    /// The user's pending, unexpired invitations, with their organisations, newest first.
    async fn user_invitations(
        &self,
        user_id: &str,
        now: i64,
    ) -> StoreResult<Vec<(Invitation, Org)>>;
    /// Accepts or declines the user's pending, unexpired invitation; accepting
    /// adds the membership (never used yet: `last_active_at` NULL) in the same
    /// transaction. `NotFound` when there is no such invitation for this user.
    async fn decide_invitation(
        &self,
        id: &str,
        user_id: &str,
        accept: bool,
        now: i64,
    ) -> StoreResult<Invitation>;
    /// True once any organisation admin or platform admin exists.
    async fn admin_exists(&self) -> StoreResult<bool>;
    /// First-run setup in one transaction: re-checks that no admin exists
    /// (`Conflict` otherwise), creates the user (platform admin) and the
    /// organisation, and makes the user its admin.
    async fn bootstrap_admin(
        &self,
        user: NewUser,
        org_id: &str,
        slug: &str,
        org_name: &str,
        now: i64,
    ) -> StoreResult<(User, Org)>;

    // ---- browser sessions

    /// Stores a new session.
    async fn create_auth_session(&self, s: NewAuthSession) -> StoreResult<()>;
    /// A live or dead session by token hash (the caller checks expiry and revocation).
    async fn auth_session_by_hash(&self, token_hash: &str) -> StoreResult<Option<AuthSession>>;
    /// Moves the expiry.
    async fn extend_auth_session(&self, id: &str, expires_at: i64, now: i64) -> StoreResult<()>;
    /// Revokes one session.
    async fn revoke_auth_session(&self, id: &str, now: i64) -> StoreResult<()>;
    /// Revokes all the user's sessions except `keep`.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
    /// True while the session exists, is not revoked and has not expired.
    async fn auth_session_active(&self, id: &str, now: i64) -> StoreResult<bool>;
    /// Switches the session's active organisation.
    async fn set_session_org(&self, id: &str, org_id: &str) -> StoreResult<()>;

    // ---- API keys

    /// Stores a key; `Conflict` when the name is taken in the organisation.
    async fn create_api_key(&self, k: NewApiKey) -> StoreResult<ApiKey>;
    /// The organisation's keys (revoked ones included, marked).
    async fn list_api_keys(&self, org_id: &str) -> StoreResult<Vec<ApiKey>>;
    /// A key by the hash of its secret.
    async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;
    /// Revokes a key by id within the organisation; false when there is no such live key.
    async fn revoke_api_key(&self, org_id: &str, id: &str, now: i64) -> StoreResult<bool>;
    /// Revokes a key by name within the organisation; false when there is no such live key.
    async fn revoke_api_key_by_name(&self, org_id: &str, name: &str, now: i64)
        -> StoreResult<bool>;
    /// Revokes every live key acting as the user, in every organisation; the number revoked.
    async fn revoke_user_api_keys(&self, user_id: &str, now: i64) -> StoreResult<u64>;
    /// Writes `last_used_at` for a batch of keys.
    async fn touch_api_keys(&self, used: &[(String, i64)]) -> StoreResult<()>;

    // ---- chat sessions

    /// Creates a chat session.
    async fn create_chat_session(&self, s: &ChatSession) -> StoreResult<()>;
    /// The principal's sessions in the organisation, newest first.
    async fn list_chat_sessions(
        &self,
        org_id: &str,
        principal_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<ChatSession>>;
    /// One of the principal's sessions.
    async fn get_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
    ) -> StoreResult<Option<ChatSession>>;
    /// Renames a session; false when not found.
    async fn rename_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Deletes a session and its messages; false when not found.
    async fn delete_chat_session(
        &self,
        org_id: &str,
        principal_id: &str,
        id: &str,
    ) -> StoreResult<bool>;

    // ---- chat messages, turns and events (tenancy: every read names the org)

    /// Appends messages to a session, assigning each the next `seq` (the given `seq`
    /// is ignored), and bumps the session's `updated_at`. Returns them as stored.
    /// `NotFound` when the session is not in the organisation.
    async fn append_chat_messages(
        &self,
        org_id: &str,
        session_id: &str,
        messages: &[ChatMessage],
        now: i64,
    ) -> StoreResult<Vec<ChatMessage>>;
    /// A session's messages with `seq > after`, oldest first, at most `limit`.
    async fn list_chat_messages(
        &self,
        org_id: &str,
        session_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>>;
    /// Sets a session's title when it has none; false when it already had one.
    async fn set_chat_title_if_unset(
        &self,
        org_id: &str,
        session_id: &str,
        title: &str,
        now: i64,
    ) -> StoreResult<bool>;

    /// Stores a new turn. `Conflict` when the session already has an unfinished turn
    /// (`running`, `awaiting_approval` or `resumable`): one turn at a time per session.
    /// `NotFound` when the session is not in the turn's organisation. Queues
    /// the turn's job, due when the lease ends (a takeover if it lapses).
    async fn create_chat_turn(&self, t: &ChatTurn) -> StoreResult<()>;
    /// One turn of the organisation.
    async fn get_chat_turn(&self, org_id: &str, id: &str) -> StoreResult<Option<ChatTurn>>;
    /// Saves a turn's status, approval and state, only while `owner` holds its lease
    /// (fencing a replica whose lease lapsed); false otherwise. Renews the lease to
    /// `lease_until`; `done`/`failed` release it. In the same transaction a
    /// waiting job follows the lease (`running`) or is settled (any other status).
    async fn save_chat_turn(
        &self,
        t: &ChatTurn,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Marks the turn waiting for this approval `resumable` (the approval was decided)
    /// and releases its lease, and queues its job due now (in one transaction),
    /// so it runs again once a runner claims that; returns it, or `None` when no
    /// turn waits for it.
    async fn wake_chat_turn(
        &self,
        org_id: &str,
        approval_id: &str,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>>;
    /// Ends the session's turn that waits for an approval (the user moved on):
    /// sets it `failed` and returns it, or `None` when no turn of the session waits.
    /// Atomic against [`Store::wake_chat_turn`]: a decided approval wins or loses whole.
    async fn supersede_chat_turn(
        &self,
        org_id: &str,
        session_id: &str,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>>;
    /// Takes a turn to run for the holder of its job (see
    /// [`crate::jobs::chat_turn`]): a `running` or `resumable` turn becomes
    /// `running` under `owner`'s lease until `lease_until`, whoever held it
    /// before (that holder's writes are fenced from now on). `None` when the
    /// turn is not there, waits for an approval, or has ended.
    async fn take_chat_turn(
        &self,
        org_id: &str,
        turn_id: &str,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<ChatTurn>>;

    /// Stores stream events (ids chosen by the turn's single runner) and wakes followers.
    async fn append_chat_events(&self, events: &[ChatEvent]) -> StoreResult<()>;
    /// A session's events with `seq > after`, oldest first, at most `limit`.
    async fn list_chat_events(
        &self,
        org_id: &str,
        session_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatEvent>>;
    /// The session's highest event id (0 when none).
    async fn last_chat_event(&self, session_id: &str) -> StoreResult<i64>;
    /// Returns when events after `after` may exist for the session, or after `timeout`.
    /// PostgreSQL wakes on LISTEN/NOTIFY (any replica's writes); SQLite polls.
    async fn wait_chat_events(
        &self,
        session_id: &str,
        after: i64,
        timeout: std::time::Duration,
    ) -> StoreResult<()>;

    // ---- activity

    /// Records a tool execution (the gateway records it `running` before the run).
    async fn record_activity(&self, a: &Activity) -> StoreResult<()>;
    /// Finishes a `running` execution: its outcome (status, error, duration)
    /// and the outbox event announcing it, in one transaction. False, and no
    /// event, when the record is not `running` any more (already finished, by
    /// an earlier attempt whose answer was lost or by the sweep).
    async fn finish_execution(
        &self,
        a: &Activity,
        event_kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Executions across organisations still `running` that started before
    /// `before`, oldest first, at most `limit` (the finishing sweep).
    async fn stale_executions(&self, before: i64, limit: i64) -> StoreResult<Vec<Activity>>;
    /// The organisation's tool executions, newest first.
    async fn list_activity(&self, org_id: &str, f: &ActivityFilter) -> StoreResult<Page<Activity>>;

    // ---- approvals

    /// The newest pending or approved, unexpired approval for this exact binding.
    async fn open_approval(
        &self,
        org_id: &str,
        requester: &str,
        tool: &str,
        args_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Approval>>;
    /// Stores a pending approval (marking stale pending ones of the same binding
    /// expired); when another identical request won the race, returns that one.
    async fn create_approval(&self, a: &Approval, now: i64) -> StoreResult<Approval>;
    /// An approval of the organisation.
    async fn get_approval(&self, org_id: &str, id: &str) -> StoreResult<Option<Approval>>;
    /// The newest approval the requester asked for under `tool_call_id`.
    async fn approval_by_tool_call(
        &self,
        org_id: &str,
        requester: &str,
        tool_call_id: &str,
    ) -> StoreResult<Option<Approval>>;
    /// Records a decision on a pending, unexpired approval; false otherwise.
    async fn decide_approval(
        &self,
        org_id: &str,
        id: &str,
        approved: bool,
        by: &str,
        reason: Option<&str>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Spends an approved, unexpired approval of `requester` exactly once; false otherwise.
    async fn consume_approval(
        &self,
        org_id: &str,
        id: &str,
        requester: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// The organisation's pending, unexpired approvals, newest first, one page
    /// (`total` counts them all, so nothing is silently cut off).
    async fn list_pending_approvals(
        &self,
        org_id: &str,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<Approval>>;
    /// How many pending, unexpired approvals this requester has in the organisation.
    async fn count_pending_approvals_of(
        &self,
        org_id: &str,
        requester: &str,
        now: i64,
    ) -> StoreResult<i64>;
    /// Pending, unexpired approvals across the instance (a gauge).
    async fn count_pending_approvals(&self, now: i64) -> StoreResult<i64>;

    // ---- events (webhook outbox)

    /// Appends an event and returns its id. Ids are global, never reused, and
    /// increase in the order appends become visible, so a poller that has seen
    /// id `n` never later finds a new event below `n`.
    async fn append_event(
        &self,
        org_id: &str,
        kind: &str,
        payload_json: &str,
        now: i64,
    ) -> StoreResult<i64>;
    /// The organisation's events with `id > after_id`, oldest first, at most `limit`.
    async fn list_events(&self, org_id: &str, after_id: i64, limit: i64)
        -> StoreResult<Vec<Event>>;
    /// Events not delivered yet, across organisations, oldest first, at most
    /// `limit` (the dispatcher's queue).
    async fn undelivered_events(&self, limit: i64) -> StoreResult<Vec<Event>>;
    /// Stamps these events delivered at `now`; returns how many were still
    /// undelivered (already delivered or unknown ids are left alone).
    async fn mark_events_delivered(&self, ids: &[i64], now: i64) -> StoreResult<u64>;

    // ---- audit ledger

    /// Appends to the entry's chain atomically (never forking it under
    /// concurrency) and moves the chain's head checkpoint.
    async fn append_audit(&self, keys: &Keys, entry: &NewAuditEntry) -> StoreResult<AuditRecord>;
    /// The chain's records, newest first, filtered.
    async fn list_audit(&self, chain: &str, f: &AuditFilter) -> StoreResult<Page<AuditRecord>>;
    /// Up to `limit` records of the chain with `seq > after`, in sequence order (for verification).
    async fn audit_records_after(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// The chain's head checkpoint.
    async fn audit_head(&self, chain: &str) -> StoreResult<Option<AuditHead>>;
}
