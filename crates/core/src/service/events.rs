//! The webhook outbox: what happened, stored in the database as it happens so
//! a dispatcher (on any replica, under a lease) can deliver it later, and
//! integrations can poll it meanwhile. Payloads carry redacted arguments only,
//! and times as epoch milliseconds, like audit details. The kinds are
//! [`EventKind`](crate::kinds::EventKind).

use super::Ctx;
use crate::error::CoreResult;
use crate::identity::Principal;
use crate::model::Event;
use crate::rbac::Permission;

/// The caller's organisation's events after `after`, oldest first (`admin:audit`,
/// like the audit log they mirror).
pub async fn list(ctx: &Ctx<'_>, p: &Principal, after: i64, limit: i64) -> CoreResult<Vec<Event>> {
    p.require(Permission::AdminAudit)?;
    let org = p.org()?;
    Ok(ctx.store.list_events(&org.id, after, limit).await?)
}
