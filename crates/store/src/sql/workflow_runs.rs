//! Workflow runs, steps and run events: statements, row decoders and
//! repository. A run changes only by a whole `Advance` in one transaction:
//! the run row (at the revision it was read, then bumped), its steps, its
//! events, the step jobs it queues and its outbox events.

use async_trait::async_trait;
use portal_core::jobs::JobKind;
use portal_core::journal::Journal;
use portal_core::model::Page;
use portal_core::store::{StoreResult, WorkflowRunRepo};
use portal_core::workflows::model::{
    Advance, RunEvent, RunStatus, StepStatus, WorkflowRun, WorkflowStep,
};
use portal_core::StoreError;
use serde_json::Value;

use super::workflows::json;
use super::{decode, events, journal, Db, Exec, Lock, Row, Sql, SqlStore};
use crate::args;

macro_rules! run_cols {
    () => {
        "id, org_id, workflow_id, version, status, input, output, error, started_by, principal, \
         steps_used, max_steps, event_seq, rev, created_at, updated_at, finished_at"
    };
}
macro_rules! step_cols {
    () => {
        "run_id, org_id, node_id, node_type, status, attempt, input, output, error, approval_id, \
         deadline, started_at, finished_at, updated_at"
    };
}

static INSERT_RUN: Sql = Sql::new(concat!(
    "INSERT INTO workflow_runs (",
    run_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
));
/// Written only at the revision the change was computed from.
static SAVE_RUN: Sql = Sql::new(
    "UPDATE workflow_runs SET status = $4, output = $5, error = $6, steps_used = $7, \
     event_seq = $8, rev = rev + 1, updated_at = $9, finished_at = $10 \
     WHERE id = $1 AND org_id = $2 AND rev = $3",
);
static GET_RUN: Sql = Sql::new(concat!(
    "SELECT ",
    run_cols!(),
    " FROM workflow_runs WHERE org_id = $1 AND id = $2"
));
macro_rules! run_filter {
    () => {
        " FROM workflow_runs WHERE org_id = $1 AND ($2::TEXT IS NULL OR workflow_id = $2) \
         AND ($3::TEXT IS NULL OR status = $3)"
    };
}
static COUNT_RUNS: Sql = Sql::new(concat!("SELECT COUNT(*)", run_filter!()));
static LIST_RUNS: Sql = Sql::new(concat!(
    "SELECT ",
    run_cols!(),
    run_filter!(),
    " ORDER BY created_at DESC, id{C} LIMIT $4 OFFSET $5"
));
static UPSERT_STEP: Sql = Sql::new(concat!(
    "INSERT INTO workflow_steps (",
    step_cols!(),
    ", created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
     ON CONFLICT (run_id, node_id) DO UPDATE SET node_type = excluded.node_type, \
     status = excluded.status, attempt = excluded.attempt, input = excluded.input, \
     output = excluded.output, error = excluded.error, approval_id = excluded.approval_id, \
     deadline = excluded.deadline, started_at = excluded.started_at, \
     finished_at = excluded.finished_at, updated_at = excluded.updated_at"
));
static LIST_STEPS: Sql = Sql::new(concat!(
    "SELECT ",
    step_cols!(),
    " FROM workflow_steps WHERE org_id = $1 AND run_id = $2 ORDER BY created_at, node_id{C}"
));
static WAITING_FOR: Sql = Sql::new(concat!(
    "SELECT ",
    step_cols!(),
    " FROM workflow_steps WHERE org_id = $1 AND approval_id = $2 AND status = 'waiting'"
));
static INSERT_EVENT: Sql = Sql::new(
    "INSERT INTO workflow_run_events (run_id, seq, org_id, kind, body, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)",
);
static LIST_EVENTS: Sql = Sql::new(
    "SELECT run_id, seq, kind, body, created_at FROM workflow_run_events \
     WHERE org_id = $1 AND run_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
);
/// A step job; one already queued under the same id is kept.
static ENQUEUE: Sql = Sql::new(
    "INSERT INTO jobs (id, kind, payload, state, run_after, attempts, max_attempts, \
     created_at, updated_at) VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $6) \
     ON CONFLICT (id) DO NOTHING",
);

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Other(format!("unknown {what} {v}"))
}

fn opt_json(t: Option<String>) -> StoreResult<Option<Value>> {
    t.map(|t| json(&t)).transpose()
}

fn run(r: &dyn Row) -> StoreResult<WorkflowRun> {
    let status = r.text(4)?;
    Ok(WorkflowRun {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        workflow_id: r.text(2)?,
        version: r.int(3)?,
        status: RunStatus::parse(&status).ok_or_else(|| bad("run status", &status))?,
        input: json(&r.text(5)?)?,
        output: opt_json(r.opt_text(6)?)?,
        error: r.opt_text(7)?,
        started_by: r.text(8)?,
        principal: json(&r.text(9)?)?,
        steps_used: r.int(10)?,
        max_steps: r.int(11)?,
        event_seq: r.int(12)?,
        rev: r.int(13)?,
        created_at: r.int(14)?,
        updated_at: r.int(15)?,
        finished_at: r.opt_int(16)?,
    })
}

fn step(r: &dyn Row) -> StoreResult<WorkflowStep> {
    let status = r.text(4)?;
    Ok(WorkflowStep {
        run_id: r.text(0)?,
        org_id: r.text(1)?.into(),
        node_id: r.text(2)?,
        node_type: r.text(3)?,
        status: StepStatus::parse(&status).ok_or_else(|| bad("step status", &status))?,
        attempt: r.int(5)?,
        input: opt_json(r.opt_text(6)?)?,
        output: opt_json(r.opt_text(7)?)?,
        error: r.opt_text(8)?,
        approval_id: r.opt_text(9)?.map(Into::into),
        deadline: r.opt_int(10)?,
        started_at: r.opt_int(11)?,
        finished_at: r.opt_int(12)?,
        updated_at: r.int(13)?,
    })
}

fn event(r: &dyn Row) -> StoreResult<RunEvent> {
    Ok(RunEvent {
        run_id: r.text(0)?,
        seq: r.int(1)?,
        kind: r.text(2)?,
        body: json(&r.text(3)?)?,
        created_at: r.int(4)?,
    })
}

fn text(v: &Value) -> String {
    v.to_string()
}

fn opt(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(text)
}

/// Everything of an advance but the run row, on `w`.
async fn write_rest(w: &mut impl Exec, a: &Advance) -> StoreResult<()> {
    for s in &a.steps {
        w.execute(
            &UPSERT_STEP,
            &args![
                s.run_id,
                s.org_id,
                s.node_id,
                s.node_type,
                s.status.as_str(),
                s.attempt,
                opt(&s.input),
                opt(&s.output),
                s.error,
                s.approval_id,
                s.deadline,
                s.started_at,
                s.finished_at,
                s.updated_at
            ],
        )
        .await?;
    }
    for e in &a.events {
        w.execute(
            &INSERT_EVENT,
            &args![
                e.run_id,
                e.seq,
                a.run.org_id,
                e.kind,
                text(&e.body),
                e.created_at
            ],
        )
        .await?;
    }
    let now = a.run.updated_at;
    for j in &a.jobs {
        w.execute(
            &ENQUEUE,
            &args![
                j.id,
                j.kind.as_str(),
                j.payload,
                j.run_after,
                j.max_attempts,
                now
            ],
        )
        .await?;
    }
    if a.jobs.iter().any(|j| j.run_after <= now) {
        w.notify_jobs(JobKind::WorkflowStep.as_str()).await;
    }
    if !a.outbox.is_empty() {
        // The outbox's ordering lock: ids become visible in order (see `events`).
        w.lock(Lock::Events).await?;
        for (kind, payload) in &a.outbox {
            w.execute(
                &events::INSERT,
                &args![a.run.org_id, kind.as_str(), text(payload), now],
            )
            .await?;
        }
    }
    Ok(())
}

#[async_trait]
impl<B: Db> WorkflowRunRepo for SqlStore<B> {
    async fn create_workflow_run(&self, a: &Advance) -> StoreResult<()> {
        let r = &a.run;
        let principal =
            serde_json::to_string(&r.principal).map_err(|e| StoreError::Other(e.to_string()))?;
        let mut tx = self.0.begin().await?;
        tx.execute(
            &INSERT_RUN,
            &args![
                r.id,
                r.org_id,
                r.workflow_id,
                r.version,
                r.status.as_str(),
                text(&r.input),
                opt(&r.output),
                r.error,
                r.started_by,
                principal,
                r.steps_used,
                r.max_steps,
                r.event_seq,
                r.rev,
                r.created_at,
                r.updated_at,
                r.finished_at
            ],
        )
        .await?;
        write_rest(&mut tx, a).await?;
        tx.commit().await
    }

    async fn advance_workflow_run(&self, a: &Advance, j: &Journal<'_>) -> StoreResult<bool> {
        let r = &a.run;
        let mut tx = self.0.begin().await?;
        let n = tx
            .execute(
                &SAVE_RUN,
                &args![
                    r.id,
                    r.org_id,
                    r.rev,
                    r.status.as_str(),
                    opt(&r.output),
                    r.error,
                    r.steps_used,
                    r.event_seq,
                    r.updated_at,
                    r.finished_at
                ],
            )
            .await?;
        if n != 1 {
            return Ok(false); // rolled back on drop
        }
        write_rest(&mut tx, a).await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn get_workflow_run(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<WorkflowRun>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET_RUN, &args![org_id, id], run).await
    }

    async fn list_workflow_runs(
        &self,
        org_id: &portal_core::ids::OrgId,
        workflow_id: Option<&str>,
        status: Option<RunStatus>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<WorkflowRun>> {
        let (limit, offset) = B::DIALECT.page(limit, offset);
        let status = status.map(|s| s.as_str());
        let mut c = self.0.reader().await?;
        let total = c
            .one(
                &COUNT_RUNS,
                &args![org_id, workflow_id, status],
                decode::int,
            )
            .await?;
        let items = c
            .rows(
                &LIST_RUNS,
                &args![org_id, workflow_id, status, limit, offset],
                run,
            )
            .await?;
        Ok(Page { items, total })
    }

    async fn list_workflow_steps(
        &self,
        org_id: &portal_core::ids::OrgId,
        run_id: &str,
    ) -> StoreResult<Vec<WorkflowStep>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST_STEPS, &args![org_id, run_id], step).await
    }

    async fn list_run_events(
        &self,
        org_id: &portal_core::ids::OrgId,
        run_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<RunEvent>> {
        let mut c = self.0.reader().await?;
        c.rows(
            &LIST_EVENTS,
            &args![org_id, run_id, after_seq, limit],
            event,
        )
        .await
    }

    async fn step_waiting_for_approval(
        &self,
        org_id: &portal_core::ids::OrgId,
        approval_id: &portal_core::ids::ApprovalId,
    ) -> StoreResult<Option<WorkflowStep>> {
        let mut c = self.0.reader().await?;
        c.opt(&WAITING_FOR, &args![org_id, approval_id], step).await
    }
}
