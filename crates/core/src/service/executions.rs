//! The execution record of a tool run, written so that nothing is lost when
//! the database goes away mid-run: a `running` record (and a `started` audit
//! entry) before the tool runs — both fail closed, so nothing runs unrecorded —
//! and afterwards its outcome together with its `tool.executed` outbox event in
//! one transaction, retried with backoff. What is still `running` long after
//! its deadline is finished by [`finish_stale`] (at start-up and periodically)
//! as `unknown`, with its event and audit entry.

use std::time::Duration;

use serde_json::{json, Value};

use super::{audit, events, Ctx};
use crate::error::CoreResult;
use crate::model::Activity;

/// Status of a record whose tool is running (or whose outcome is not written yet).
pub const RUNNING: &str = "running";
/// Status the sweep gives a run whose outcome was never written.
pub const UNKNOWN: &str = "unknown";

/// Attempts to write an outcome before leaving it to the sweep, and the first pause.
const ATTEMPTS: u32 = 6;
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// Records the run as started (fails closed).
pub async fn start(
    ctx: &Ctx<'_>,
    actor: &str,
    record: &Activity,
    audit_detail: Value,
) -> CoreResult<()> {
    audit::append(
        ctx,
        Some(&record.org_id),
        actor,
        "tool.execute",
        Some(&record.tool_name),
        "started",
        audit_detail,
    )
    .await?;
    ctx.store.record_activity(record).await?;
    Ok(())
}

/// Writes the outcome of a run (`record` holds it) and its event in one
/// transaction, then the audit entry with the outcome; each retried with
/// backoff (~3 s in all). What still fails is logged and left `running` for
/// [`finish_stale`]: the tool has run, and its answer is not withheld.
pub async fn finish(ctx: &Ctx<'_>, actor: &str, record: &Activity, payload: &Value) {
    let body = payload.to_string();
    let now = ctx.now + record.duration_ms.unwrap_or(0);
    let mut pause = FIRST_PAUSE;
    let mut finished = false;
    let mut audited = false;
    for attempt in 1..=ATTEMPTS {
        if !finished {
            match ctx
                .store
                .finish_execution(record, events::TOOL_EXECUTED, &body, now)
                .await
            {
                Ok(_) => finished = true,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, execution = %record.id, "execution outcome not written yet")
                }
            }
        }
        if finished && !audited {
            let detail = json!({"executionId": record.id, "status": record.status, "error": record.error, "durationMs": record.duration_ms});
            let outcome = record.status.as_str();
            match audit::append(
                ctx,
                Some(&record.org_id),
                actor,
                "tool.execute",
                Some(&record.tool_name),
                outcome,
                detail,
            )
            .await
            {
                Ok(_) => audited = true,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, execution = %record.id, "execution audit outcome not written yet")
                }
            }
        }
        if finished && audited {
            return;
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    tracing::error!(
        execution = %record.id,
        tool = %record.tool_name,
        outcome_written = finished,
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
            a.status = UNKNOWN.to_string();
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
            if ctx
                .store
                .finish_execution(&a, events::TOOL_EXECUTED, &payload.to_string(), ctx.now)
                .await?
            {
                progressed = true;
                done += 1;
                audit::append_best_effort(
                    ctx,
                    Some(&a.org_id),
                    "system:sweep",
                    "tool.execute",
                    Some(&a.tool_name),
                    UNKNOWN,
                    json!({"executionId": a.id, "principal": a.principal_id}),
                )
                .await;
            }
        }
        if !progressed {
            return Ok(done);
        }
    }
}
