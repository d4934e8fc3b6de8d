//! The activity feed: what tools ran, for whom, with what outcome. The
//! cloud-tools gateway calls [`record`]; readers call [`list`].

use super::Ctx;
use crate::error::CoreResult;
use crate::identity::Principal;
use crate::model::{Activity, ActivityFilter, Page};
use crate::rbac::Permission;

/// Records a tool execution (arguments already redacted by the caller) that
/// leaves no other record (imports, tests); the gateway records its runs with
/// their audit entries through `executions`.
pub async fn record(ctx: &Ctx<'_>, a: &Activity) -> CoreResult<()> {
    ctx.store
        .record_activity(a, crate::journal::Journal::NONE)
        .await?;
    if let Some(t) = ctx.tenancy {
        t.usage.executed(&a.org_id);
    }
    Ok(())
}

/// Allowed status filter values.
pub const STATUSES: [&str; 6] = [
    "success", "error", "denied", "pending", "running", "unknown",
];

/// The caller's organisation's recent tool executions (`tools:read`).
pub async fn list(ctx: &Ctx<'_>, p: &Principal, f: &ActivityFilter) -> CoreResult<Page<Activity>> {
    p.require(Permission::ToolsRead)?;
    if let Some(s) = &f.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(crate::error::CoreError::Validation(format!(
                "status: must be one of {}",
                STATUSES.join(", ")
            )));
        }
    }
    Ok(ctx.store.list_activity(&p.org()?.id, f).await?)
}
