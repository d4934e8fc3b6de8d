//! The runner: claims due jobs of the kinds it has handlers for, runs each
//! under a lease it keeps renewing, and records the outcome (done, retrying
//! with backoff, dead). Delivery is at least once: a job whose runner died or
//! lost its lease runs again, so handlers are idempotent.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tracing::Instrument;

use super::{
    Failure, Job, JobCount, JobKind, JobOutcome, JobRepo, JobState, NewJob, Outcome, RetryPolicy,
    RunSummary,
};
use crate::store::StoreResult;

/// Why a handler's attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// May succeed later: retried with backoff until the attempts run out.
    #[error("{0}")]
    Retry(String),
    /// Will never succeed (bad payload…): dead at once.
    #[error("{0}")]
    Permanent(String),
}

/// Runs jobs of one kind.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Does the job's work. May run more than once for one job (at least once).
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}

/// The handler of [`JobKind::Noop`]: succeeds at once.
pub struct NoopHandler;

#[async_trait]
impl JobHandler for NoopHandler {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        Ok(())
    }
}

/// Observers of the queue (metrics); called from the runner.
pub trait JobHooks: Send + Sync {
    /// The queue's counts and the age of its oldest runnable job, refreshed
    /// every [`RunnerConfig::metrics_interval`] and after each drain.
    fn observed(&self, counts: &[JobCount], oldest_runnable: Duration);
}

/// How a runner behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerConfig {
    /// How long a claim holds; renewed every third of it while the handler runs.
    pub lease: Duration,
    /// How often an idle runner looks for due jobs (a wake-up comes sooner).
    pub poll_interval: Duration,
    /// Backoff between attempts.
    pub retry: RetryPolicy,
    /// How often the hooks get fresh counts.
    pub metrics_interval: Duration,
    /// Jobs [`JobRunner::run`] runs at once (at least 1); `run_pending` runs
    /// one at a time.
    pub concurrency: usize,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            metrics_interval: Duration::from_secs(10),
            concurrency: 4,
        }
    }
}

/// The clock a runner reads (ms since the epoch); tests substitute their own.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Claims and runs jobs; one per replica (or more, each with its own owner).
pub struct JobRunner {
    repo: Arc<dyn JobRepo>,
    owner: String,
    handlers: BTreeMap<JobKind, Arc<dyn JobHandler>>,
    config: RunnerConfig,
    wake: Arc<Notify>,
    hooks: Option<Arc<dyn JobHooks>>,
    clock: Clock,
}

/// Aborts the handler's task when the attempt is abandoned (lease lost,
/// shutdown), so no stale run goes on beside the new owner's.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl JobRunner {
    /// A runner claiming as `owner` (unique per runner: a replica id).
    pub fn new(repo: Arc<dyn JobRepo>, owner: impl Into<String>, config: RunnerConfig) -> Self {
        Self {
            repo,
            owner: owner.into(),
            handlers: BTreeMap::new(),
            config,
            wake: Arc::new(Notify::new()),
            hooks: None,
            clock: Arc::new(crate::identity::now_ms),
        }
    }

    /// Registers the handler of `kind` (replacing an earlier one). Only kinds
    /// with a handler are claimed.
    pub fn handle(mut self, kind: JobKind, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(kind, handler);
        self
    }

    /// Reports queue counts to `hooks`.
    pub fn hooks(mut self, hooks: Arc<dyn JobHooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// Reads time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Who this runner claims as.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Wakes [`JobRunner::run`] early (after an enqueue in this process).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Enqueues a job and wakes this runner.
    pub async fn enqueue(&self, job: &NewJob) -> StoreResult<Job> {
        let stored = self.repo.enqueue(job, (self.clock)()).await?;
        self.wake.notify_one();
        Ok(stored)
    }

    fn kinds(&self) -> Vec<JobKind> {
        self.handlers.keys().copied().collect()
    }

    /// Runs every job due now, one after the other, until none is left that
    /// was due when the drain started (a retried job is due later, so the
    /// drain ends). No sleeping: tests call this to step the queue.
    pub async fn run_pending(&self) -> StoreResult<RunSummary> {
        let cutoff = (self.clock)();
        let kinds = self.kinds();
        let mut summary = RunSummary::default();
        if kinds.is_empty() {
            return Ok(summary);
        }
        loop {
            let lease_until = (self.clock)() + self.config.lease.as_millis() as i64;
            let Some(job) = self
                .repo
                .claim_job(&self.owner, &kinds, lease_until, cutoff)
                .await?
            else {
                break;
            };
            summary.outcomes.push(self.run_traced(job).await);
        }
        if !summary.is_empty() {
            self.refresh_metrics().await;
        }
        Ok(summary)
    }

    /// Drains due jobs until `shutdown` resolves, with
    /// [`RunnerConfig::concurrency`] workers, each waiting between drains for
    /// a wake-up (an enqueue through [`JobRunner::enqueue`], or on PostgreSQL
    /// any replica's enqueue) or the poll interval; and refreshes the hooks'
    /// counts. Jobs running at shutdown are abandoned (their tasks aborted);
    /// their leases lapse and they run again.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.config.concurrency.max(1) {
            workers.spawn(self.clone().work());
        }
        let metrics = async {
            loop {
                self.refresh_metrics().await;
                tokio::time::sleep(self.config.metrics_interval).await;
            }
        };
        tokio::select! {
            _ = shutdown => {}
            _ = workers.join_next() => tracing::error!("a job worker stopped"),
            _ = metrics => {}
        }
        workers.abort_all();
        while workers.join_next().await.is_some() {}
    }

    /// One worker of [`JobRunner::run`]: drains, then waits.
    async fn work(self: Arc<Self>) {
        let signal = self.repo.job_signal();
        loop {
            match self.run_pending().await {
                Ok(s) if !s.is_empty() => continue,
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "job runner could not claim jobs"),
            }
            let signalled = async {
                match &signal {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = signalled => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    /// Reads the queue's counts and hands them to the hooks.
    pub async fn refresh_metrics(&self) {
        let Some(hooks) = &self.hooks else { return };
        let counts = self.repo.job_counts().await;
        let oldest = self.repo.oldest_runnable_age((self.clock)()).await;
        match (counts, oldest) {
            (Ok(c), Ok(o)) => hooks.observed(&c, o),
            (Err(e), _) | (_, Err(e)) => {
                tracing::debug!(error = %e, "could not read job queue counts")
            }
        }
    }

    /// [`Self::run_one`] in a root span of its own when tracing is on (a job
    /// outlives the request that queued it; its trace starts here).
    async fn run_traced(&self, job: Job) -> JobOutcome {
        if !portal_telemetry::enabled() {
            return self.run_one(job).await;
        }
        let span = portal_telemetry::root(tracing::info_span!(
            target: "otel",
            "job",
            otel.name = %format_args!("job {}", job.kind),
            otel.status_code = tracing::field::Empty,
            job.kind = %job.kind,
            job.attempt = job.attempts,
            outcome = tracing::field::Empty,
            trace_id = tracing::field::Empty,
        ));
        let result = self.run_one(job).instrument(span.clone()).await;
        let outcome = match &result.outcome {
            Outcome::Done => "done",
            Outcome::Retrying { .. } => "retrying",
            Outcome::Dead { .. } => "dead",
            Outcome::Fenced => "fenced",
            Outcome::Unrecorded { .. } => "unrecorded",
        };
        span.record("outcome", outcome);
        if !matches!(result.outcome, Outcome::Done) {
            span.record("otel.status_code", "ERROR");
        }
        result
    }

    /// Runs one claimed attempt and records its outcome.
    async fn run_one(&self, job: Job) -> JobOutcome {
        let lease = job.lease();
        let done = |outcome| JobOutcome {
            id: job.id.clone(),
            kind: job.kind,
            attempt: job.attempts,
            outcome,
        };
        let result = match self.handlers.get(&job.kind) {
            Some(h) => match self.run_leased(h.clone(), &job).await {
                Some(r) => r,
                None => return done(Outcome::Fenced),
            },
            None => Err(JobError::Permanent(format!(
                "no handler for job kind {}",
                job.kind
            ))),
        };
        let now = (self.clock)();
        let recorded = match &result {
            Ok(()) => self
                .repo
                .complete_job(&lease, now)
                .await
                .map(|ok| ok.then_some(Outcome::Done)),
            Err(e) => {
                let failure = match e {
                    JobError::Retry(_) => {
                        let delay = self.config.retry.jittered(job.attempts);
                        Failure::RetryAt(now + delay.as_millis() as i64)
                    }
                    JobError::Permanent(_) => Failure::Permanent,
                };
                let error = e.to_string();
                self.repo
                    .fail_job(&lease, &error, failure, now)
                    .await
                    .map(|state| match (state, failure) {
                        (Some(JobState::Queued), Failure::RetryAt(run_after)) => {
                            Some(Outcome::Retrying { run_after, error })
                        }
                        (Some(_), _) => Some(Outcome::Dead { error }),
                        (None, _) => None,
                    })
            }
        };
        match recorded {
            Ok(Some(o)) => done(o),
            Ok(None) => done(Outcome::Fenced),
            Err(e) => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %e, "could not record a job's outcome");
                done(Outcome::Unrecorded {
                    error: e.to_string(),
                })
            }
        }
    }

    /// Runs the handler in its own task (a panic fails the attempt instead of
    /// the runner) while renewing the lease; `None` when the lease was lost.
    async fn run_leased(
        &self,
        handler: Arc<dyn JobHandler>,
        job: &Job,
    ) -> Option<Result<(), JobError>> {
        let lease = job.lease();
        let owned = job.clone();
        let mut task = AbortOnDrop(tokio::spawn(portal_telemetry::in_current_span(
            async move { handler.run(&owned).await },
        )));
        let lease_ms = self.config.lease.as_millis() as i64;
        let mut renew =
            tokio::time::interval((self.config.lease / 3).max(Duration::from_millis(10)));
        renew.tick().await;
        loop {
            tokio::select! {
                joined = &mut task.0 => {
                    return Some(joined.unwrap_or_else(|e| {
                        Err(JobError::Retry(if e.is_panic() {
                            "the handler panicked".to_string()
                        } else {
                            "the handler was cancelled".to_string()
                        }))
                    }));
                }
                _ = renew.tick() => {
                    let now = (self.clock)();
                    match self.repo.renew_job(&lease, now + lease_ms, now).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(job = %job.id, kind = %job.kind, "lost a job's lease; abandoning the attempt");
                            return None;
                        }
                        Err(e) => tracing::debug!(job = %job.id, error = %e, "could not renew a job's lease"),
                    }
                }
            }
        }
    }
}
