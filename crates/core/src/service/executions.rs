//! The execution record of a tool run, written so that nothing is lost when
//! the database goes away mid-run: a `running` record (and a `started` audit
//! entry) before the tool runs — both fail closed, so nothing runs unrecorded —
//! and afterwards its outcome together with its `tool.executed` outbox event
//! and its audit entry in one transaction, retried with backoff. What is still `running` long after
//! its deadline is finished by [`finish_stale`] (at start-up and periodically)
//! as `unknown`, with its event and audit entry.

use std::time::Duration;

use serde_json::{json, Value};

use super::Ctx;
use crate::error::CoreResult;
use crate::kinds::{AuditAction, EventKind};
use crate::model::{Activity, ExecutionStatus};

/// Attempts to write an outcome before leaving it to the sweep, and the first pause.
const ATTEMPTS: u32 = 6;
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// Records the run as started, with its `started` audit entry in the same
/// transaction (fails closed: nothing runs unrecorded).
pub async fn start(
    ctx: &Ctx<'_>,
    actor: &str,
    record: &Activity,
    audit_detail: Value,
) -> CoreResult<()> {
    let mut j = ctx.journal();
    j.audit(
        Some(&record.org_id),
        actor,
        AuditAction::ToolExecute,
        Some(&record.tool_name),
        "started",
        audit_detail,
    );
    ctx.store.record_activity(record, &j).await?;
    Ok(())
}

/// Writes the outcome of a run (`record` holds it) with its event and its
/// audit entry in one transaction, retried with backoff (~3 s in all). What
/// still fails is logged and left `running` for [`finish_stale`]: the tool
/// has run, and its answer is not withheld.
pub async fn finish(ctx: &Ctx<'_>, actor: &str, record: &Activity, payload: &Value) {
    let now = ctx.now + record.duration_ms.unwrap_or(0);
    let mut j = ctx.journal();
    j.event_at(&record.org_id, EventKind::ToolExecuted, payload, now)
        .audit(
            Some(&record.org_id),
            actor,
            AuditAction::ToolExecute,
            Some(&record.tool_name),
            record.status.as_str(),
            json!({"executionId": record.id, "status": record.status, "error": record.error, "durationMs": record.duration_ms}),
        );
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        match ctx.store.finish_execution(record, &j).await {
            // False: finished already (an earlier attempt whose answer was
            // lost, or the sweep); its records went with it.
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, attempt, execution = %record.id, "execution outcome not written yet")
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    tracing::error!(
        execution = %record.id,
        tool = %record.tool_name,
        "execution outcome could not be written; the finishing sweep will record it"
    );
}

/// Finishes executions still `running` that started more than `older_than_ms`
/// ago (their outcome was lost): status `unknown`, a `tool.executed` event and
/// an audit entry saying so. Returns how many it finished.
pub async fn finish_stale(ctx: &Ctx<'_>, older_than_ms: i64) -> CoreResult<usize> {
    let mut done = 0;
    loop {
        let stale = ctx
            .store
            .stale_executions(ctx.now - older_than_ms, 100)
            .await?;
        if stale.is_empty() {
            return Ok(done);
        }
        let mut progressed = false;
        for mut a in stale {
            a.status = ExecutionStatus::Unknown;
            a.error = Some(
                "The portal lost the outcome of this run (interrupted); check the resource".into(),
            );
            let payload = json!({
                "executionId": a.id,
                "tool": a.tool_name,
                "risk": a.risk,
                "status": a.status,
                "principal": a.principal_id,
                "args": serde_json::from_str::<Value>(&a.args).unwrap_or(Value::Null),
                "approvalId": a.approval_id,
                "error": a.error,
            });
            let mut j = ctx.journal();
            j.event(&a.org_id, EventKind::ToolExecuted, &payload).audit(
                Some(&a.org_id),
                "system:sweep",
                AuditAction::ToolExecute,
                Some(&a.tool_name),
                ExecutionStatus::Unknown.as_str(),
                json!({"executionId": a.id, "principal": a.principal_id}),
            );
            if ctx.store.finish_execution(&a, &j).await? {
                progressed = true;
                done += 1;
            }
        }
        if !progressed {
            return Ok(done);
        }
    }
}
