//! Rows the repositories hand back and take in. Timestamps are Unix epoch
//! milliseconds in storage and in these types (portable across both databases,
//! ordered numerically); adapters format them as RFC 3339.

use crate::rbac::Role;
pub use crate::status::{ApprovalStatus, ExecutionStatus, TurnStatus};
pub use crate::tools::Risk;

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id (UUID).
    pub id: crate::ids::UserId,
    /// Lower-cased email, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Instance-wide administrator (creates organisations); set by the CLI or first-run setup.
    pub platform_admin: bool,
    /// Created with a one-time password: until it is changed, a session may do
    /// nothing but change it.
    pub must_change_password: bool,
    /// Creation time.
    pub created_at: i64,
}

/// Fields for a new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Email (normalised by the caller).
    pub email: String,
    /// Display name.
    pub name: String,
    /// argon2id PHC hash, or `None` for accounts that sign in another way.
    pub password_hash: Option<String>,
    /// Platform admin flag.
    pub platform_admin: bool,
    /// The password is a one-time password the user must replace at first sign-in.
    pub must_change_password: bool,
}

/// An organisation (tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Stable id (UUID).
    pub id: crate::ids::OrgId,
    /// Unique, URL-safe short name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Whether `danger` approvals need a second person.
    pub four_eyes: bool,
    /// Compartments (with their sub-compartments) the organisation's tools may act in,
    /// as a platform admin assigned them: empty means none (deny by default), the
    /// tenancy's OCID means the whole tenancy.
    pub allowed_compartments: Vec<String>,
    /// Whether members may sign in with a password (off only once single
    /// sign-on works for the organisation; platform admins always may).
    pub password_sign_in: bool,
    /// Creation time.
    pub created_at: i64,
}

/// A member as listed to org admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user.
    pub user: User,
    /// Their role in the organisation.
    pub role: Role,
    /// When they joined.
    pub joined_at: i64,
}

/// A stored browser session (the cookie holds the token; the row holds its hash).
#[derive(Debug, Clone)]
pub struct AuthSession {
    /// Session id.
    pub id: String,
    /// The signed-in user.
    pub user: User,
    /// The organisation the session works in.
    pub active_org_id: Option<crate::ids::OrgId>,
    /// Expiry (refreshed on use).
    pub expires_at: i64,
    /// Set when signed out or revoked.
    pub revoked_at: Option<i64>,
}

/// One of a user's live browser sessions, as "my sessions" lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Session id.
    pub id: String,
    /// Signed in at.
    pub created_at: i64,
    /// Last used (the last refresh of its expiry).
    pub last_seen_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// Client address at sign-in.
    pub ip: Option<String>,
    /// Client user agent at sign-in.
    pub user_agent: Option<String>,
}

/// Fields for a new session.
#[derive(Debug, Clone)]
pub struct NewAuthSession {
    /// Session id.
    pub id: String,
    /// SHA-256 (hex) of the cookie token.
    pub token_hash: String,
    /// The user.
    pub user_id: crate::ids::UserId,
    /// Initial active organisation.
    pub active_org_id: Option<crate::ids::OrgId>,
    /// Creation time.
    pub created_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// Client address at sign-in.
    pub ip: Option<String>,
    /// Client user agent at sign-in.
    pub user_agent: Option<String>,
}

/// A stored API key (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Key id.
    pub id: String,
    /// The organisation the key acts in.
    pub org_id: crate::ids::OrgId,
    /// Name, unique within the organisation.
    pub name: String,
    /// First characters after `portal_`, for recognising a key.
    pub prefix: String,
    /// Listed permissions (wire names).
    pub permissions: Vec<String>,
    /// The user the key acts as; `None` for a service principal.
    pub owner_user_id: Option<crate::ids::UserId>,
    /// Who created it (principal id).
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
    /// Optional expiry.
    pub expires_at: Option<i64>,
    /// Set when revoked.
    pub revoked_at: Option<i64>,
    /// Last use (written in batches).
    pub last_used_at: Option<i64>,
}

/// Fields for a new API key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// Key id.
    pub id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// Name.
    pub name: String,
    /// SHA-256 (hex) of the whole key.
    pub key_hash: String,
    /// Display prefix.
    pub prefix: String,
    /// Listed permissions.
    pub permissions: Vec<String>,
    /// Owner, or `None` for a service principal.
    pub owner_user_id: Option<crate::ids::UserId>,
    /// Creator principal id.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
    /// Optional expiry.
    pub expires_at: Option<i64>,
}

/// A chat session (conversation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSession {
    /// Session id (UUID).
    pub id: crate::ids::SessionId,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// Owning principal id (`user:…` or `key:…`).
    pub principal_id: String,
    /// Optional title.
    pub title: Option<String>,
    /// Model name.
    pub model: String,
    /// `active`, `completed` or `error`.
    pub status: String,
    /// Messages stored in the session.
    pub message_count: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A stored chat message. The conversation is the session's messages in `seq` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Message id (UUID).
    pub id: String,
    /// The session.
    pub session_id: crate::ids::SessionId,
    /// Position in the session, from 1; assigned by the store.
    pub seq: i64,
    /// `user`, `assistant`, `tool` or `summary` (a running summary of older messages).
    pub role: String,
    /// Text (already redacted).
    pub content: String,
    /// JSON details: an assistant's `{"toolCalls":[{id,name,arguments}]}`, a tool
    /// result's `{"toolCallId","toolName"}`, a summary's `{"throughSeq"}`.
    pub meta: Option<String>,
    /// When it was said.
    pub created_at: i64,
}

/// One chat turn: the work started by one user message, which may pause for an
/// approval and resume later, on any replica, under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTurn {
    /// Turn id (UUID).
    pub id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// The session.
    pub session_id: crate::ids::SessionId,
    /// The principal the turn acts as.
    pub principal_id: String,
    /// Where the turn is.
    pub status: TurnStatus,
    /// The approval the turn waits for.
    pub approval_id: Option<crate::ids::ApprovalId>,
    /// The runner's state as JSON (model, pending tool call, rounds and time used).
    pub state: String,
    /// The replica running it now.
    pub lease_owner: Option<String>,
    /// Until when the lease holds (epoch ms).
    pub lease_until: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// One stored event of a session's chat stream (an AI SDK UI message stream part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEvent {
    /// The session.
    pub session_id: crate::ids::SessionId,
    /// Event id: increasing within the session, from 1.
    pub seq: i64,
    /// The turn that emitted it.
    pub turn_id: String,
    /// The part, as JSON.
    pub body: String,
    /// When it was emitted.
    pub created_at: i64,
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// How many match in all.
    pub total: i64,
}

/// A tool execution in the activity feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Record id.
    pub id: String,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// Principal who ran it.
    pub principal_id: String,
    /// Tool name.
    pub tool_name: String,
    /// Tool category.
    pub category: String,
    /// What the tool risks.
    pub risk: Risk,
    /// The run's outcome (`Running` while its outcome is not written yet).
    pub status: ExecutionStatus,
    /// Arguments with secrets redacted (JSON).
    pub args: String,
    /// Error message, if any.
    pub error: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: Option<i64>,
    /// Approval that allowed it, if any.
    pub approval_id: Option<crate::ids::ApprovalId>,
    /// When it ran.
    pub created_at: i64,
}

/// Filters for the activity feed.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Only this tool.
    pub tool: Option<String>,
    /// Only this principal.
    pub principal: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// From this time (inclusive).
    pub from: Option<i64>,
    /// Until this time (exclusive).
    pub to: Option<i64>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Tool executions of one principal, tool and argument set within one
/// hour: what the usage graph is built from (aggregated in the query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// Who ran them.
    pub principal_id: String,
    /// The hour (epoch milliseconds / 3,600,000).
    pub hour: i64,
    /// The tool.
    pub tool_name: String,
    /// The (redacted) arguments, JSON.
    pub args: String,
    /// How many.
    pub count: i64,
}

/// Filters for audit listings.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this action (exact) or prefix when it ends with `*`.
    pub action: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// From this time (inclusive).
    pub from: Option<i64>,
    /// Until this time (exclusive).
    pub to: Option<i64>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// An approval for one tool call (see `service::approvals`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Approval id.
    pub id: crate::ids::ApprovalId,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// The principal who asked (and alone may use it).
    pub requester: String,
    /// Tool.
    pub tool_name: String,
    /// What the tool risks (`confirm` or `danger`).
    pub risk: Risk,
    /// SHA-256 (hex) of the canonical validated arguments.
    pub args_hash: String,
    /// Arguments with secrets redacted (JSON), for approvers.
    pub args_redacted: String,
    /// The caller's id for the call, when it gave one.
    pub tool_call_id: Option<String>,
    /// Where the approval is in its life.
    pub status: ApprovalStatus,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why (optional).
    pub reason: Option<String>,
    /// When asked.
    pub created_at: i64,
    /// When it lapses unless used.
    pub expires_at: i64,
    /// When decided.
    pub decided_at: Option<i64>,
    /// When spent.
    pub consumed_at: Option<i64>,
    /// A second person must decide it, whatever the organisation's four-eyes
    /// setting (tools that run code or change IAM).
    pub four_eyes: bool,
    /// The full canonical arguments, sealed (AES-256-GCM, bound to the
    /// approval id) for eligible approvers to review; `None` when nothing is
    /// secret (the redacted form is then complete).
    pub args_sealed: Option<String>,
}

/// One event of the webhook outbox (see `service::events`): stored when it
/// happens, delivered later by a dispatcher, and pollable meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Global, increasing id: the order events happened in, and a poller's cursor.
    pub id: i64,
    /// Organisation.
    pub org_id: crate::ids::OrgId,
    /// What happened (`tool.executed`, `approval.requested`, `approval.decided`).
    pub kind: String,
    /// Details as JSON (secrets already redacted).
    pub payload: String,
    /// When it happened.
    pub created_at: i64,
    /// When the dispatcher delivered it; `None` while still to deliver.
    pub delivered_at: Option<i64>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Waiting for the invited person.
    Pending,
    /// Accepted: the person is a member.
    Accepted,
    /// Declined by the person.
    Declined,
    /// Not answered in time (or replaced by a new invitation).
    Expired,
}

impl InvitationStatus {
    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
            InvitationStatus::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => InvitationStatus::Pending,
            "accepted" => InvitationStatus::Accepted,
            "declined" => InvitationStatus::Declined,
            "expired" => InvitationStatus::Expired,
            _ => return None,
        })
    }
}

/// An invitation to join an organisation, which only the invited person can accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Stable id (UUID).
    pub id: String,
    /// The inviting organisation.
    pub org_id: crate::ids::OrgId,
    /// The invited account.
    pub user_id: crate::ids::UserId,
    /// The role on acceptance.
    pub role: Role,
    /// The principal who invited (`user:<id>` or `key:<id>`).
    pub invited_by: String,
    /// The account was created for this invitation (accepted at its first sign-in).
    pub created_account: bool,
    /// Where it stands.
    pub status: InvitationStatus,
    /// Creation time.
    pub created_at: i64,
    /// Pending invitations lapse at this time.
    pub expires_at: i64,
}
