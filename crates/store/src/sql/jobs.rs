//! The durable job queue: statements and repository. Claims lock the picked
//! row with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers
//! pass over each other's picks; SQLite's single writer makes a claim's pick
//! and update atomic.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portal_core::jobs::{Failure, Job, JobCount, JobKind, JobRepo, JobState, Lease, NewJob};
use portal_core::store::StoreResult;
use portal_core::StoreError;
use tokio::sync::Notify;

use super::decode::{self, job_cols};
use super::{Arg, Db, Exec, Row, Sql, SqlStore};
use crate::args;

/// What a job whose runner died on its last attempt is left with.
pub(crate) const LAPSED_ON_LAST: &str =
    "the lease lapsed on the last attempt (the runner died or stalled)";

static ENQUEUE: Sql = Sql::new(concat!(
    "INSERT INTO jobs (id, kind, payload, state, run_after, attempts, \
    max_attempts, created_at, updated_at) VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $6) \
    RETURNING ",
    job_cols!(),
    ""
));

static GET: Sql = Sql::new(concat!("SELECT ", job_cols!(), " FROM jobs WHERE id = $1"));

/// Lapsed jobs without attempts left die instead of running again.
static REAP: Sql = Sql::new(
    "UPDATE jobs SET state = 'dead', last_error = $2, lease_owner = NULL, \
    lease_until = NULL, updated_at = $1 \
    WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts AND kind {ANY $3}",
);

static CLAIM: Sql = Sql::new(concat!(
    "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, \
    attempts = attempts + 1, updated_at = $3 \
    WHERE id = (SELECT id FROM jobs WHERE kind {ANY $4} \
    AND ((state = 'queued' AND run_after <= $3) \
    OR (state = 'running' AND lease_until < $3 AND attempts < max_attempts)) \
    ORDER BY run_after, id LIMIT 1 {SKIP_LOCKED}) RETURNING ",
    job_cols!(),
    ""
));

/// The fence every runner write carries: this job, this owner, this attempt.
macro_rules! fence {
    () => {
        "id = $1 AND state = 'running' AND lease_owner = $2 AND attempts = $3"
    };
}

static RENEW: Sql = Sql::new(concat!(
    "UPDATE jobs SET lease_until = $4, updated_at = $5 WHERE ",
    fence!(),
    ""
));

static COMPLETE: Sql = Sql::new(concat!(
    "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, \
    updated_at = $4 WHERE ",
    fence!(),
    ""
));

/// `$5` is the retry time, NULL for a permanent failure.
static FAIL: Sql = Sql::new(concat!("UPDATE jobs SET \
    state = CASE WHEN $5::BIGINT IS NULL OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
    run_after = COALESCE($5::BIGINT, run_after), last_error = $4, lease_owner = NULL, \
    lease_until = NULL, updated_at = $6 WHERE ", fence!(), " RETURNING state"));

static COUNTS: Sql = Sql::new("SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state");

static OLDEST: Sql = Sql::new(
    "SELECT MIN(t) FROM (\
    SELECT MIN(run_after) AS t FROM jobs WHERE state = 'queued' AND run_after <= $1 \
    UNION ALL SELECT MIN(lease_until) AS t FROM jobs WHERE state = 'running' AND lease_until < $1\
    ) AS due",
);

/// A stored kind; unknown names (a newer replica's) are an error here, since
/// only known kinds are ever claimed or returned.
pub(crate) fn kind(s: &str) -> Result<JobKind, StoreError> {
    JobKind::parse(s).ok_or_else(|| StoreError::Other(format!("unknown job kind {s:?}")))
}

/// A stored state.
pub(crate) fn state(s: &str) -> Result<JobState, StoreError> {
    JobState::parse(s).ok_or_else(|| StoreError::Other(format!("unknown job state {s:?}")))
}

/// The kinds' stored names.
pub(crate) fn kind_names(kinds: &[JobKind]) -> Vec<&'static str> {
    kinds.iter().map(|k| k.as_str()).collect()
}

/// Longest `last_error` kept; handler errors can quote whole responses.
const MAX_ERROR: usize = 2000;

/// `error` cut to [`MAX_ERROR`] bytes at a character boundary.
pub(crate) fn clip(error: &str) -> &str {
    if error.len() <= MAX_ERROR {
        return error;
    }
    let mut end = MAX_ERROR;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    &error[..end]
}

fn job(r: &dyn Row) -> StoreResult<Job> {
    Ok(Job {
        id: r.text(0)?,
        kind: kind(&r.text(1)?)?,
        payload: r.text(2)?,
        state: state(&r.text(3)?)?,
        run_after: r.int(4)?,
        attempts: r.int(5)?,
        max_attempts: r.int(6)?,
        last_error: r.opt_text(7)?,
        lease_owner: r.opt_text(8)?,
        lease_until: r.opt_int(9)?,
        created_at: r.int(10)?,
        updated_at: r.int(11)?,
    })
}

fn kinds_arg(kinds: &[JobKind]) -> Arg<'static> {
    Arg::Texts(kind_names(kinds))
}

/// Inserts a queued job on `w` and wakes runners (at commit, inside a transaction).
pub(crate) async fn insert<E: Exec>(w: &mut E, job_: &NewJob, now: i64) -> StoreResult<Job> {
    let stored = w
        .one(
            &ENQUEUE,
            &args![
                job_.id,
                job_.kind.as_str(),
                job_.payload,
                job_.run_after,
                job_.max_attempts.max(1),
                now
            ],
            job,
        )
        .await?;
    w.notify_jobs(job_.kind.as_str()).await;
    Ok(stored)
}

#[async_trait]
impl<B: Db> JobRepo for SqlStore<B> {
    async fn enqueue(&self, job_: &NewJob, now: i64) -> StoreResult<Job> {
        let mut w = self.0.writer().await?;
        // PostgreSQL's write is autocommit: the insert is visible already.
        let stored = insert(&mut w, job_, now).await?;
        w.commit().await?;
        Ok(stored)
    }

    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![id], job).await
    }

    async fn claim_job(
        &self,
        owner: &str,
        kinds: &[JobKind],
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<Job>> {
        // Reaping first is idempotent and needs no transaction with the claim:
        // the claim itself never picks a lapsed job without attempts left.
        let mut w = self.0.writer().await?;
        w.execute(
            &REAP,
            &[Arg::Int(now), Arg::Text(LAPSED_ON_LAST), kinds_arg(kinds)],
        )
        .await?;
        let claimed = w
            .opt(
                &CLAIM,
                &[
                    Arg::Text(owner),
                    Arg::Int(lease_until),
                    Arg::Int(now),
                    kinds_arg(kinds),
                ],
                job,
            )
            .await?;
        w.commit().await?;
        Ok(claimed)
    }

    async fn renew_job(&self, lease: &Lease, lease_until: i64, now: i64) -> StoreResult<bool> {
        let mut w = self.0.writer().await?;
        let n = w
            .execute(
                &RENEW,
                &args![lease.job_id, lease.owner, lease.attempt, lease_until, now],
            )
            .await?;
        w.commit().await?;
        Ok(n == 1)
    }

    async fn complete_job(&self, lease: &Lease, now: i64) -> StoreResult<bool> {
        let mut w = self.0.writer().await?;
        let n = w
            .execute(
                &COMPLETE,
                &args![lease.job_id, lease.owner, lease.attempt, now],
            )
            .await?;
        w.commit().await?;
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
        let mut w = self.0.writer().await?;
        let new_state = w
            .opt(
                &FAIL,
                &args![
                    lease.job_id,
                    lease.owner,
                    lease.attempt,
                    clip(error),
                    retry_at,
                    now
                ],
                decode::text,
            )
            .await?;
        w.commit().await?;
        new_state.as_deref().map(state).transpose()
    }

    async fn job_counts(&self) -> StoreResult<Vec<JobCount>> {
        let mut c = self.0.reader().await?;
        let rows = c
            .rows(&COUNTS, &[], |r| Ok((r.text(0)?, r.text(1)?, r.int(2)?)))
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
        let mut c = self.0.reader().await?;
        let due = c.one(&OLDEST, &args![now], decode::opt_int).await?;
        Ok(Duration::from_millis(
            due.map_or(0, |t| now.saturating_sub(t).max(0)) as u64,
        ))
    }

    fn job_signal(&self) -> Option<Arc<Notify>> {
        self.0.job_signal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Dialect;

    #[test]
    fn dialects_differ_only_where_they_must() {
        let sqlite = CLAIM.get(Dialect::Sqlite);
        assert!(sqlite.contains("json_each(?4)"));
        assert!(!sqlite.contains('$'));
        assert!(!FAIL.get(Dialect::Sqlite).contains("::"));
        assert!(CLAIM.get(Dialect::Postgres).contains("= ANY($4)"));
        assert!(CLAIM
            .get(Dialect::Postgres)
            .contains("FOR UPDATE SKIP LOCKED"));
        assert!(!REAP.get(Dialect::Postgres).contains('{'));
        assert_eq!(clip(&"é".repeat(1500)).len(), 2000);
        assert_eq!(clip("short"), "short");
    }
}
