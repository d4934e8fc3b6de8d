//! The job queue on SQLite. The single writer makes a claim's pick and update
//! atomic; statements come from [`crate::jobs_sql`].

use std::time::Duration;

use async_trait::async_trait;
use portal_core::jobs::{Failure, Job, JobCount, JobKind, JobRepo, JobState, Lease, NewJob};
use portal_core::store::StoreResult;
use portal_core::StoreError;
use rusqlite::{params, OptionalExtension, Row};

use super::{Db, SqliteStore};
use crate::jobs_sql::{self, clip, kind_names, LAPSED_ON_LAST, SQLITE as SQL};

/// Decodes a row of [`jobs_sql::JOB_COLS`].
fn job_row(r: &Row) -> rusqlite::Result<Job> {
    let kind: String = r.get(1)?;
    let state: String = r.get(3)?;
    let bad = |at: usize, e: StoreError| {
        rusqlite::Error::FromSqlConversionFailure(at, rusqlite::types::Type::Text, e.into())
    };
    Ok(Job {
        id: r.get(0)?,
        kind: jobs_sql::kind(&kind).map_err(|e| bad(1, e))?,
        payload: r.get(2)?,
        state: jobs_sql::state(&state).map_err(|e| bad(3, e))?,
        run_after: r.get(4)?,
        attempts: r.get(5)?,
        max_attempts: r.get(6)?,
        last_error: r.get(7)?,
        lease_owner: r.get(8)?,
        lease_until: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

fn kinds_json(kinds: &[JobKind]) -> StoreResult<String> {
    serde_json::to_string(&kind_names(kinds)).map_err(|e| StoreError::Other(e.to_string()))
}

#[async_trait]
impl JobRepo for SqliteStore {
    async fn enqueue(&self, job: &NewJob, now: i64) -> StoreResult<Job> {
        let stored = self
            .write(|tx| {
                tx.prepare_cached(&SQL.enqueue)
                    .db()?
                    .query_row(
                        params![
                            job.id,
                            job.kind.as_str(),
                            job.payload,
                            job.run_after,
                            job.max_attempts.max(1),
                            now
                        ],
                        job_row,
                    )
                    .db()
            })
            .await?;
        if stored.run_after <= now {
            self.jobs_wake.notify_one();
        }
        Ok(stored)
    }

    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>> {
        self.read(|c| {
            c.prepare_cached(&SQL.get)
                .db()?
                .query_row(params![id], job_row)
                .optional()
                .db()
        })
        .await
    }

    async fn claim_job(
        &self,
        owner: &str,
        kinds: &[JobKind],
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<Job>> {
        let kinds = kinds_json(kinds)?;
        self.write(|tx| {
            tx.prepare_cached(&SQL.reap)
                .db()?
                .execute(params![now, LAPSED_ON_LAST, kinds])
                .db()?;
            tx.prepare_cached(&SQL.claim)
                .db()?
                .query_row(params![owner, lease_until, now, kinds], job_row)
                .optional()
                .db()
        })
        .await
    }

    async fn renew_job(&self, lease: &Lease, lease_until: i64, now: i64) -> StoreResult<bool> {
        let n = self
            .write(|tx| {
                tx.prepare_cached(&SQL.renew)
                    .db()?
                    .execute(params![
                        lease.job_id,
                        lease.owner,
                        lease.attempt,
                        lease_until,
                        now
                    ])
                    .db()
            })
            .await?;
        Ok(n == 1)
    }

    async fn complete_job(&self, lease: &Lease, now: i64) -> StoreResult<bool> {
        let n = self
            .write(|tx| {
                tx.prepare_cached(&SQL.complete)
                    .db()?
                    .execute(params![lease.job_id, lease.owner, lease.attempt, now])
                    .db()
            })
            .await?;
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
        let state: Option<String> = self
            .write(|tx| {
                tx.prepare_cached(&SQL.fail)
                    .db()?
                    .query_row(
                        params![
                            lease.job_id,
                            lease.owner,
                            lease.attempt,
                            clip(error),
                            retry_at,
                            now
                        ],
                        |r| r.get(0),
                    )
                    .optional()
                    .db()
            })
            .await?;
        state.as_deref().map(jobs_sql::state).transpose()
    }

    async fn job_counts(&self) -> StoreResult<Vec<JobCount>> {
        let rows: Vec<(String, String, i64)> = self
            .read(|c| {
                c.prepare_cached(&SQL.counts)
                    .db()?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .db()?
                    .collect::<rusqlite::Result<_>>()
                    .db()
            })
            .await?;
        Ok(rows
            .iter()
            .filter_map(|(k, s, n)| {
                Some(JobCount {
                    kind: JobKind::parse(k)?,
                    state: JobState::parse(s)?,
                    count: *n,
                })
            })
            .collect())
    }

    async fn oldest_runnable_age(&self, now: i64) -> StoreResult<Duration> {
        let due: Option<i64> = self
            .read(|c| {
                c.prepare_cached(&SQL.oldest)
                    .db()?
                    .query_row(params![now], |r| r.get(0))
                    .db()
            })
            .await?;
        Ok(Duration::from_millis(
            due.map_or(0, |t| now.saturating_sub(t).max(0)) as u64,
        ))
    }

    fn job_signal(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        Some(self.jobs_wake.clone())
    }
}
