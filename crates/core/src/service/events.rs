//! The webhook outbox: what happened, stored in the database as it happens so
//! a dispatcher (on any replica, under a lease) can deliver it later, and
//! integrations can poll it meanwhile. Payloads carry redacted arguments only,
//! and times as epoch milliseconds, like audit details.

use super::Ctx;
use crate::error::CoreResult;
use crate::identity::Principal;
use crate::model::Event;
use crate::rbac::Permission;

/// A tool ran through the gateway (successfully or not).
pub const TOOL_EXECUTED: &str = "tool.executed";
/// A tool call needs an approval; a new one was created.
pub const APPROVAL_REQUESTED: &str = "approval.requested";
/// An approver approved or rejected a request.
pub const APPROVAL_DECIDED: &str = "approval.decided";

/// A person was invited to the organisation.
pub const MEMBER_INVITED: &str = "member.invited";
/// A member's role changed.
pub const MEMBER_ROLE_CHANGED: &str = "member.role_changed";
/// A member left or was removed.
pub const MEMBER_REMOVED: &str = "member.removed";
/// An API key was created.
pub const API_KEY_CREATED: &str = "api_key.created";
/// An API key was revoked.
pub const API_KEY_REVOKED: &str = "api_key.revoked";

/// The caller's organisation's events after `after`, oldest first (`admin:audit`,
/// like the audit log they mirror).
pub async fn list(ctx: &Ctx<'_>, p: &Principal, after: i64, limit: i64) -> CoreResult<Vec<Event>> {
    p.require(Permission::AdminAudit)?;
    let org = p.org()?;
    Ok(ctx.store.list_events(&org.id, after, limit).await?)
}
