//! Appending to, listing and verifying the audit ledger.

use serde_json::Value;

use super::Ctx;
use crate::audit::{org_chain, AuditRecord, NewAuditEntry, Verification, Verifier};
use crate::error::CoreResult;
use crate::identity::Principal;
use crate::kinds::AuditAction;
use crate::model::{AuditFilter, Page};
use crate::rbac::Permission;

/// Appends an event; an error means it was **not** recorded, and callers that
/// must fail closed (tool executions, setup) stop there.
pub async fn append(
    ctx: &Ctx<'_>,
    org_id: Option<&str>,
    actor: &str,
    action: AuditAction,
    target: Option<&str>,
    outcome: &str,
    detail: Value,
) -> CoreResult<AuditRecord> {
    let entry = NewAuditEntry {
        org_id: org_id.map(str::to_owned),
        actor: actor.to_string(),
        action: action.as_str().to_string(),
        target: target.map(str::to_owned),
        outcome: outcome.to_string(),
        detail,
        ip: ctx.ip.map(|i| i.to_string()),
        created_at: ctx.now,
    };
    Ok(ctx.store.append_audit(ctx.keys, &entry).await?)
}

/// Appends an event that must not stop the action it records (sign-in
/// failures during a flood, for instance): failures are logged loudly.
pub async fn append_best_effort(
    ctx: &Ctx<'_>,
    org_id: Option<&str>,
    actor: &str,
    action: AuditAction,
    target: Option<&str>,
    outcome: &str,
    detail: Value,
) {
    if let Err(e) = append(ctx, org_id, actor, action, target, outcome, detail).await {
        tracing::error!(error = %e, action = action.as_str(), "audit record could not be written");
    }
}

/// The caller's organisation's records (`admin:audit`).
pub async fn list(ctx: &Ctx<'_>, p: &Principal, f: &AuditFilter) -> CoreResult<Page<AuditRecord>> {
    p.require(Permission::AdminAudit)?;
    let org = p.org()?;
    Ok(ctx.store.list_audit(&org_chain(&org.id), f).await?)
}

/// Recomputes a chain from its first record and checks its head checkpoint.
pub async fn verify_chain(ctx: &Ctx<'_>, chain: &str) -> CoreResult<Verification> {
    let mut v = Verifier::new(ctx.keys, chain);
    let mut after = 0;
    loop {
        let batch = ctx.store.audit_records_after(chain, after, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        let n = batch.len();
        if !batch.iter().all(|r| v.push(r)) {
            break;
        }
        if n < 1000 {
            break;
        }
    }
    let head = ctx.store.audit_head(chain).await?;
    Ok(v.finish(head.as_ref()))
}

/// Verifies the caller's organisation's chain (`admin:audit`).
pub async fn verify(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Verification> {
    p.require(Permission::AdminAudit)?;
    let org = p.org()?;
    verify_chain(ctx, &org_chain(&org.id)).await
}
