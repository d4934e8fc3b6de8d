//! The job queue on PostgreSQL. Claims lock the picked row with
//! `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass over each other's
//! picks; statements come from [`crate::jobs_sql`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portal_core::jobs::{Failure, Job, JobCount, JobKind, JobRepo, JobState, Lease, NewJob};
use portal_core::store::StoreResult;
use portal_core::StoreError;
use tokio::sync::Notify;
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use super::listen::JOBS_CHANNEL;
use super::PgStore;
use crate::jobs_sql::{self, clip, kind_names, LAPSED_ON_LAST, POSTGRES as SQL};

fn col<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> StoreResult<T> {
    r.try_get(i)
        .map_err(|e| StoreError::Other(format!("decoding jobs column {i}: {e}")))
}

/// Decodes a row of [`jobs_sql::JOB_COLS`].
fn job_row(r: &Row) -> StoreResult<Job> {
    Ok(Job {
        id: col(r, 0)?,
        kind: jobs_sql::kind(col(r, 1)?)?,
        payload: col(r, 2)?,
        state: jobs_sql::state(col(r, 3)?)?,
        run_after: col(r, 4)?,
        attempts: col(r, 5)?,
        max_attempts: col(r, 6)?,
        last_error: col(r, 7)?,
        lease_owner: col(r, 8)?,
        lease_until: col(r, 9)?,
        created_at: col(r, 10)?,
        updated_at: col(r, 11)?,
    })
}

#[async_trait]
impl JobRepo for PgStore {
    async fn enqueue(&self, job: &NewJob, now: i64) -> StoreResult<Job> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                &SQL.enqueue,
                &[
                    &job.id,
                    &job.kind.as_str(),
                    &job.payload,
                    &job.run_after,
                    &job.max_attempts.max(1),
                    &now,
                ],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        // After the insert committed; a lost notification only means the job
        // waits for the runners' next poll.
        if let Err(e) = conn
            .execute(
                "SELECT pg_notify($1, $2)",
                &[&JOBS_CHANNEL, &job.kind.as_str()],
            )
            .await
        {
            tracing::debug!(error = %e, "could not notify job runners");
        }
        job_row(&row)
    }

    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(&SQL.get, &[&id])
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| job_row(&r)).transpose()
    }

    async fn claim_job(
        &self,
        owner: &str,
        kinds: &[JobKind],
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<Job>> {
        let kinds = kind_names(kinds);
        let conn = self.conn().await?;
        // Reaping first is idempotent and needs no transaction with the claim:
        // the claim itself never picks a lapsed job without attempts left.
        conn.execute(&SQL.reap, &[&now, &LAPSED_ON_LAST, &kinds])
            .await
            .map_err(|e| self.map_err(e))?;
        let row = conn
            .query_opt(&SQL.claim, &[&owner, &lease_until, &now, &kinds])
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| job_row(&r)).transpose()
    }

    async fn renew_job(&self, lease: &Lease, lease_until: i64, now: i64) -> StoreResult<bool> {
        let conn = self.conn().await?;
        let n = conn
            .execute(
                &SQL.renew,
                &[
                    &lease.job_id,
                    &lease.owner,
                    &lease.attempt,
                    &lease_until,
                    &now,
                ],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(n == 1)
    }

    async fn complete_job(&self, lease: &Lease, now: i64) -> StoreResult<bool> {
        let conn = self.conn().await?;
        let n = conn
            .execute(
                &SQL.complete,
                &[&lease.job_id, &lease.owner, &lease.attempt, &now],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        Ok(n == 1)
    }

    async fn fail_job(
        &self,
        lease: &Lease,
        error: &str,
        failure: Failure,
        now: i64,
    ) -> StoreResult<Option<JobState>> {
        let retry_at = match failure {
            Failure::RetryAt(t) => Some(t),
            Failure::Permanent => None,
        };
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &SQL.fail,
                &[
                    &lease.job_id,
                    &lease.owner,
                    &lease.attempt,
                    &clip(error),
                    &retry_at,
                    &now,
                ],
            )
            .await
            .map_err(|e| self.map_err(e))?;
        row.map(|r| jobs_sql::state(col(&r, 0)?)).transpose()
    }

    async fn job_counts(&self) -> StoreResult<Vec<JobCount>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(&SQL.counts, &[])
            .await
            .map_err(|e| self.map_err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (kind, state) = (col::<&str>(r, 0)?, col::<&str>(r, 1)?);
            if let (Some(kind), Some(state)) = (JobKind::parse(kind), JobState::parse(state)) {
                out.push(JobCount {
                    kind,
                    state,
                    count: col(r, 2)?,
                });
            }
        }
        Ok(out)
    }

    async fn oldest_runnable_age(&self, now: i64) -> StoreResult<Duration> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(&SQL.oldest, &[&now])
            .await
            .map_err(|e| self.map_err(e))?;
        let due: Option<i64> = col(&row, 0)?;
        Ok(Duration::from_millis(
            due.map_or(0, |t| now.saturating_sub(t).max(0)) as u64,
        ))
    }

    fn job_signal(&self) -> Option<Arc<Notify>> {
        self.start_listener();
        Some(self.inner.jobs_wake.clone())
    }
}
