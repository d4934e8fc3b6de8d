//! Advisor schedules: statements, row decoder and repository. A tick's write
//! is fenced on the tick it handles (`next_at`), so one replica wins it.

use async_trait::async_trait;
use portal_core::advisor::model::AdvisorRun;
use portal_core::advisor::schedule::{Overlap, Schedule};
use portal_core::journal::Journal;
use portal_core::store::{AdvisorScheduleRepo, StoreResult};
use portal_core::StoreError;

use super::advisor::{insert_run, text};
use super::workflows::json;
use super::{decode, journal, Db, Exec, Row, Sql, SqlStore};
use crate::args;

macro_rules! cols {
    () => {
        "id, org_id, cron, overlap, catch_up_ms, jitter_ms, max_failures, failures, paused, \
         paused_reason, principal, created_by, next_at, last_tick_at, created_at, updated_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO advisor_schedules (",
    cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    cols!(),
    " FROM advisor_schedules WHERE org_id = $1 AND id = $2"
));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    cols!(),
    " FROM advisor_schedules WHERE org_id = $1 ORDER BY created_at, id{C}"
));
static UPDATE: Sql = Sql::new(
    "UPDATE advisor_schedules SET cron = $3, overlap = $4, catch_up_ms = $5, jitter_ms = $6, \
     max_failures = $7, failures = $8, paused = $9, paused_reason = $10, next_at = $11, \
     last_tick_at = $12, updated_at = $13 WHERE org_id = $1 AND id = $2 AND updated_at = $14",
);
static ADVANCE: Sql = Sql::new(
    "UPDATE advisor_schedules SET next_at = $3, last_tick_at = $4, updated_at = $5 \
     WHERE org_id = $1 AND id = $2 AND next_at = $6 AND paused = $7",
);
static DELETE: Sql = Sql::new("DELETE FROM advisor_schedules WHERE org_id = $1 AND id = $2");
static OUTCOME: Sql = Sql::new(
    "UPDATE advisor_schedules SET \
     paused = CASE WHEN $3 AND failures + 1 >= max_failures THEN $6 ELSE paused END, \
     paused_reason = CASE WHEN $3 AND failures + 1 >= max_failures THEN $4 ELSE paused_reason END, \
     next_at = CASE WHEN $3 AND failures + 1 >= max_failures THEN NULL ELSE next_at END, \
     failures = CASE WHEN $3 THEN failures + 1 ELSE 0 END, updated_at = $5 \
     WHERE org_id = $1 AND id = $2",
);
static ACTIVE: Sql = Sql::new(
    "SELECT COUNT(*) FROM advisor_runs WHERE org_id = $1 AND schedule_id = $2 \
     AND status IN ('queued', 'running')",
);

fn schedule(r: &dyn Row) -> StoreResult<Schedule> {
    let overlap = r.text(3)?;
    Ok(Schedule {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        cron: r.text(2)?,
        overlap: Overlap::parse(&overlap)
            .ok_or_else(|| StoreError::Other(format!("unknown overlap {overlap}")))?,
        catch_up_ms: r.int(4)?,
        jitter_ms: r.int(5)?,
        max_failures: r.int(6)?,
        failures: r.int(7)?,
        paused: r.flag(8)?,
        paused_reason: r.opt_text(9)?,
        principal: json(&r.text(10)?)?,
        created_by: r.text(11)?,
        next_at: r.opt_int(12)?,
        last_tick_at: r.opt_int(13)?,
        created_at: r.int(14)?,
        updated_at: r.int(15)?,
    })
}

#[async_trait]
impl<B: Db> AdvisorScheduleRepo for SqlStore<B> {
    async fn create_advisor_schedule(&self, s: &Schedule, j: &Journal<'_>) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        tx.execute(
            &INSERT,
            &args![
                s.id,
                s.org_id,
                s.cron,
                s.overlap.as_str(),
                s.catch_up_ms,
                s.jitter_ms,
                s.max_failures,
                s.failures,
                s.paused,
                s.paused_reason,
                text(&s.principal),
                s.created_by,
                s.next_at,
                s.last_tick_at,
                s.created_at,
                s.updated_at
            ],
        )
        .await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn get_advisor_schedule(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<Schedule>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![org_id, id], schedule).await
    }

    async fn list_advisor_schedules(
        &self,
        org_id: &portal_core::ids::OrgId,
    ) -> StoreResult<Vec<Schedule>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![org_id], schedule).await
    }

    async fn update_advisor_schedule(
        &self,
        s: &Schedule,
        read_at: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut tx = self.0.begin().await?;
        let n = tx
            .execute(
                &UPDATE,
                &args![
                    s.org_id,
                    s.id,
                    s.cron,
                    s.overlap.as_str(),
                    s.catch_up_ms,
                    s.jitter_ms,
                    s.max_failures,
                    s.failures,
                    s.paused,
                    s.paused_reason,
                    s.next_at,
                    s.last_tick_at,
                    s.updated_at,
                    read_at
                ],
            )
            .await?;
        journal::commit_touched(tx, n, j).await
    }

    async fn delete_advisor_schedule(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut tx = self.0.begin().await?;
        let n = tx.execute(&DELETE, &args![org_id, id]).await?;
        journal::commit_touched(tx, n, j).await
    }

    async fn advance_advisor_schedule(
        &self,
        s: &Schedule,
        tick: i64,
        run: Option<&AdvisorRun>,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut tx = self.0.begin().await?;
        let n = tx
            .execute(
                &ADVANCE,
                &args![
                    s.org_id,
                    s.id,
                    s.next_at,
                    s.last_tick_at,
                    s.updated_at,
                    tick,
                    false
                ],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        if let Some(r) = run {
            insert_run(&mut tx, r).await?;
        }
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn advisor_schedule_outcome(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
        failed: bool,
        reason: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        w.execute(&OUTCOME, &args![org_id, id, failed, reason, now, true])
            .await?;
        w.commit().await
    }

    async fn active_schedule_runs(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<i64> {
        let mut c = self.0.reader().await?;
        c.one(&ACTIVE, &args![org_id, id], decode::int).await
    }
}
