//! The webhook outbox: what happened, stored in the database as it happens so
//! a dispatcher (on any replica, under a lease) can deliver it later, and
//! integrations can poll it meanwhile. Payloads carry redacted arguments only,
//! and times as epoch milliseconds, like audit details.

use serde_json::Value;

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

/// Appends an event to the outbox, retrying a few times with backoff (~0.7 s)
/// through a short database hiccup. A final refusal is logged, not returned:
/// emitting comes after the action and its audit record (which fails closed)
/// are done, and turning a completed decision into an error would invite a
/// retry of something that already happened. (Tool runs do not use this: their
/// event is written with the execution's outcome, see `executions`.)
pub async fn emit(ctx: &Ctx<'_>, org_id: &str, kind: &str, payload: Value) {
    let body = payload.to_string();
    let mut pause = std::time::Duration::from_millis(100);
    for attempt in 1..=3 {
        match ctx.store.append_event(org_id, kind, &body, ctx.now).await {
            Ok(_) => return,
            Err(e) if attempt == 3 => {
                tracing::error!(error = %e, kind, org = org_id, "event could not be stored in the outbox");
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    }
}

/// The caller's organisation's events after `after`, oldest first (`admin:audit`,
/// like the audit log they mirror).
pub async fn list(ctx: &Ctx<'_>, p: &Principal, after: i64, limit: i64) -> CoreResult<Vec<Event>> {
    p.require(Permission::AdminAudit)?;
    let org = p.org()?;
    Ok(ctx.store.list_events(&org.id, after, limit).await?)
}
