//! The durable job runner: background work kept in the database, claimed by
//! one replica at a time under a lease, retried with backoff and given up
//! ("dead") after a bounded number of attempts.
//!
//! The store implements [`JobRepo`] (SQLite and PostgreSQL); [`JobRunner`]
//! holds one handler per [`JobKind`] and drains the queue, either all that is
//! due now ([`JobRunner::run_pending`], deterministic, for tests) or until
//! shutdown ([`JobRunner::run`]).

pub mod chat_turn;
mod model;
mod runner;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

pub use model::{
    Failure, Job, JobCount, JobKind, JobOutcome, JobState, Lease, NewJob, Outcome, RetryPolicy,
    RunSummary, DEFAULT_MAX_ATTEMPTS,
};
pub use runner::{Clock, JobError, JobHandler, JobHooks, JobRunner, NoopHandler, RunnerConfig};

use crate::store::StoreResult;

/// The job queue's storage. Times are ms since the epoch, passed in so tests
/// control the clock.
#[async_trait]
pub trait JobRepo: Send + Sync {
    /// Stores a queued job; `Conflict` when the id is taken.
    async fn enqueue(&self, job: &NewJob, now: i64) -> StoreResult<Job>;

    /// A job by id.
    async fn get_job(&self, id: &str) -> StoreResult<Option<Job>>;

    /// Claims one job of `kinds` for `owner` until `lease_until`: a queued one
    /// due by `now` (oldest due first), or a running one whose lease lapsed
    /// before `now` (its runner died). The claim counts an attempt. At most one
    /// caller gets any given attempt (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
    /// the single writer on SQLite). A lapsed job with no attempts left is
    /// made dead instead of claimed.
    async fn claim_job(
        &self,
        owner: &str,
        kinds: &[JobKind],
        lease_until: i64,
        now: i64,
    ) -> StoreResult<Option<Job>>;

    /// Moves the lease of this attempt to `lease_until`; false when the attempt
    /// is not the job's current one any more (fenced).
    async fn renew_job(&self, lease: &Lease, lease_until: i64, now: i64) -> StoreResult<bool>;

    /// Marks this attempt's job done; false when fenced.
    async fn complete_job(&self, lease: &Lease, now: i64) -> StoreResult<bool>;

    /// Records a failed attempt with `error`: queued again (retrying) at the
    /// time `failure` names, or dead when the failure is permanent or the
    /// attempts are exhausted. The new state, or `None` when fenced.
    async fn fail_job(
        &self,
        lease: &Lease,
        error: &str,
        failure: Failure,
        now: i64,
    ) -> StoreResult<Option<JobState>>;

    /// How many jobs there are by kind and state (pairs with none left out;
    /// rows of kinds this build does not know are not counted).
    async fn job_counts(&self) -> StoreResult<Vec<JobCount>>;

    /// How long the oldest runnable job (queued and due, or running with a
    /// lapsed lease) has been waiting at `now`; zero when none is.
    async fn oldest_runnable_age(&self, now: i64) -> StoreResult<Duration>;

    /// Notified when a write makes a job due now — any replica's, through
    /// PostgreSQL LISTEN/NOTIFY; this process's on SQLite, which has one — so
    /// runners need not poll often; `None` where polling is all there is.
    fn job_signal(&self) -> Option<Arc<Notify>> {
        None
    }
}
