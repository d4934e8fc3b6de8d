//! The handler of `advisor.run` jobs: resumes the run's principal, scans
//! through the gateway as them, reconciles the findings and ends the run with
//! its events, in one transaction. A retried job (its worker died) scans again.

use crate::kinds::EventKind;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::check::Prices;
use super::model::{AdvisorRun, RunStatus, RunSummary};
use super::reconcile::reconcile;
use super::scan::{scan, Cloud};
use crate::error::CoreResult;
use crate::identity::resume_principal;
use crate::jobs::{Job, JobError, JobHandler};
use crate::service::tools::{GatewayHooks, ToolRunner};
use crate::service::{Contexts, Ctx};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    org_id: String,
    run_id: String,
}

/// What runs need besides the store.
pub struct RunHandler {
    contexts: Contexts,
    tools: Option<Arc<dyn ToolRunner>>,
    hooks: Arc<dyn GatewayHooks>,
    prices: Arc<dyn Prices>,
    timeout: Duration,
}

impl RunHandler {
    /// The handler over this process's contexts, cloud (`None`: none) and price list.
    pub fn new(
        contexts: Contexts,
        tools: Option<Arc<dyn ToolRunner>>,
        hooks: Arc<dyn GatewayHooks>,
        prices: Arc<dyn Prices>,
        timeout: Duration,
    ) -> Self {
        Self {
            contexts,
            tools,
            hooks,
            prices,
            timeout,
        }
    }
}

#[async_trait]
impl JobHandler for RunHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let p: Payload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad advisor.run payload: {e}")))?;
        let ctx = self.contexts.ctx(None, Some("portal-advisor"));
        self.execute(&ctx, &p.org_id, &p.run_id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}

impl RunHandler {
    async fn execute(&self, ctx: &Ctx<'_>, org_id: &str, run_id: &str) -> CoreResult<()> {
        let Some(mut run) = ctx.store.get_advisor_run(org_id, run_id).await? else {
            return Ok(());
        };
        if matches!(
            run.status,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Skipped
        ) {
            return Ok(());
        }
        run.status = RunStatus::Running;
        run.started_at = Some(ctx.now);
        ctx.store.save_advisor_run(&run).await?;
        let Some(tools) = &self.tools else {
            return fail(
                ctx,
                run,
                "No cloud is configured: the advisor cannot read it",
            )
            .await;
        };
        let principal = match resume_principal(ctx.store, org_id, &run.principal, ctx.now).await? {
            Ok(p) => p,
            Err(why) => return fail(ctx, run, &why.to_string()).await,
        };
        let cloud = Cloud {
            tools: tools.as_ref(),
            hooks: self.hooks.as_ref(),
            prices: self.prices.as_ref(),
            timeout: self.timeout,
        };
        let found = scan(ctx, &cloud, &principal, None).await;
        let now = crate::identity::now_ms();
        let existing = ctx.store.all_findings(org_id).await?;
        let changes = reconcile(org_id, run_id, &existing, &found.hits, now);
        run.summary = RunSummary {
            checks: found.hits.len() as i64,
            failed_checks: found.errors.len() as i64,
            hits: found.hits.iter().map(|(_, h)| h.len() as i64).sum(),
            created: changes.created,
            resolved: changes.resolved,
            reads: found.reads,
            errors: found.errors,
        };
        run.status = RunStatus::Completed;
        run.finished_at = Some(now);
        let mut j = crate::journal::Journal::new(ctx.keys, None, now);
        for (kind, payload) in &changes.events {
            j.event(org_id, *kind, payload);
        }
        j.event(
            org_id,
            EventKind::AdvisorRunCompleted,
            &serde_json::json!({"runId": run.id, "summary": run.summary}),
        );
        ctx.store
            .finish_advisor_run(&run, &changes.writes, &j)
            .await?;
        // Every read failing is a failed scheduled run too (e.g. the cloud is down).
        let failed = run.summary.checks == 0 && run.summary.failed_checks > 0;
        outcome(ctx, &run, failed, "Every check failed to read the cloud").await
    }
}

async fn fail(ctx: &Ctx<'_>, mut run: AdvisorRun, why: &str) -> CoreResult<()> {
    run.status = RunStatus::Failed;
    run.error = Some(why.into());
    run.finished_at = Some(ctx.now);
    let mut j = ctx.journal();
    j.event(
        &run.org_id,
        EventKind::AdvisorRunFailed,
        &serde_json::json!({"runId": run.id, "error": why}),
    );
    ctx.store.finish_advisor_run(&run, &[], &j).await?;
    outcome(ctx, &run, true, why).await
}

/// Counts a scheduled run's outcome on its schedule (repeated failures pause it).
async fn outcome(ctx: &Ctx<'_>, run: &AdvisorRun, failed: bool, why: &str) -> CoreResult<()> {
    if let Some(sid) = &run.schedule_id {
        let reason = format!("Paused after repeated failures: {why}");
        ctx.store
            .advisor_schedule_outcome(&run.org_id, sid, failed, &reason, ctx.now)
            .await?;
    }
    Ok(())
}
