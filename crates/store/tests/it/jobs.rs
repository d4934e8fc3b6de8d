//! The durable job queue and its runner, on every backend: claims never
//! overlap, a lapsed lease is taken over and fences the old owner, failed
//! attempts back off further each time and end dead, and `run_pending`
//! reports what it did.

use crate::support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portal_core::jobs::{
    Failure, Job, JobCount, JobError, JobHandler, JobKind, JobRunner, JobState, NewJob, Outcome,
    RetryPolicy, RunnerConfig,
};
use portal_core::Store;

const T0: i64 = 1_000_000;

/// A clock the test moves by hand.
#[derive(Clone)]
struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    fn new() -> Self {
        Self(Arc::new(AtomicI64::new(T0)))
    }
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
    fn clock(&self) -> portal_core::jobs::Clock {
        let c = self.0.clone();
        Arc::new(move || c.load(Ordering::SeqCst))
    }
}

/// Fails its first `failures` runs (permanently when `permanent`), then succeeds.
struct Flaky {
    runs: AtomicUsize,
    failures: usize,
    permanent: bool,
}

impl Flaky {
    fn new(failures: usize) -> Arc<Self> {
        Arc::new(Self {
            runs: AtomicUsize::new(0),
            failures,
            permanent: false,
        })
    }
}

#[async_trait]
impl JobHandler for Flaky {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let n = self.runs.fetch_add(1, Ordering::SeqCst);
        if n < self.failures {
            let msg = format!("attempt {} of {} failed", job.attempts, job.id);
            return Err(if self.permanent {
                JobError::Permanent(msg)
            } else {
                JobError::Retry(msg)
            });
        }
        Ok(())
    }
}

fn config() -> RunnerConfig {
    RunnerConfig {
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(20),
        retry: RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
        },
        metrics_interval: Duration::from_secs(60),
        concurrency: 2,
    }
}

fn runner(store: &Arc<dyn Store>, clock: &ManualClock, handler: Arc<dyn JobHandler>) -> JobRunner {
    JobRunner::new(store.clone(), "runner-a", config())
        .handle(JobKind::Noop, handler)
        .clock(clock.clock())
}

fn count(counts: &[JobCount], state: JobState) -> i64 {
    counts
        .iter()
        .filter(|c| c.kind == JobKind::Noop && c.state == state)
        .map(|c| c.count)
        .sum()
}

async fn check_concurrent_claims_never_overlap(store: Arc<dyn Store>) {
    let mut ids = HashSet::new();
    for i in 0..30 {
        let job = NewJob::new(JobKind::Noop, format!("{{\"n\":{i}}}"), T0);
        ids.insert(store.enqueue(&job, T0).await.unwrap().id);
    }
    let mut claimers = Vec::new();
    for c in 0..4 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let owner = format!("claimer-{c}");
            let mut got = Vec::new();
            while let Some(job) = store
                .claim_job(&owner, &[JobKind::Noop], T0 + 60_000, T0 + 1)
                .await
                .unwrap()
            {
                assert_eq!(job.state, JobState::Running);
                assert_eq!(job.lease_owner.as_deref(), Some(owner.as_str()));
                assert_eq!(job.attempts, 1);
                got.push(job.id);
            }
            got
        }));
    }
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    let unique: HashSet<String> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), unique.len(), "a job was claimed twice");
    assert_eq!(unique, ids, "every job was claimed once");
}

async fn check_lapsed_lease_is_taken_over_and_fences(store: Arc<dyn Store>) {
    let job = store
        .enqueue(&NewJob::new(JobKind::Noop, "{}", T0), T0)
        .await
        .unwrap();
    let kinds = [JobKind::Noop];
    let a = store
        .claim_job("a", &kinds, T0 + 1_000, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.id, job.id);
    // While the lease holds nobody else gets it.
    assert!(store
        .claim_job("b", &kinds, T0 + 2_000, T0 + 500)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .renew_job(&a.lease(), T0 + 1_500, T0 + 500)
        .await
        .unwrap());
    assert!(store
        .claim_job("b", &kinds, T0 + 3_000, T0 + 1_200)
        .await
        .unwrap()
        .is_none());
    // Runner a died: its lease lapses and b takes the job over.
    let b = store
        .claim_job("b", &kinds, T0 + 9_000, T0 + 1_501)
        .await
        .unwrap()
        .expect("lapsed job claimable");
    assert_eq!(b.id, job.id);
    assert_eq!(b.lease_owner.as_deref(), Some("b"));
    assert_eq!(b.attempts, 2);
    // a's late writes are refused.
    assert!(!store.complete_job(&a.lease(), T0 + 1_600).await.unwrap());
    assert!(!store
        .renew_job(&a.lease(), T0 + 5_000, T0 + 1_600)
        .await
        .unwrap());
    assert_eq!(
        store
            .fail_job(&a.lease(), "late", Failure::RetryAt(T0 + 2_000), T0 + 1_600)
            .await
            .unwrap(),
        None
    );
    assert!(store.complete_job(&b.lease(), T0 + 1_700).await.unwrap());
    let done = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.lease_owner, None);
    // Done jobs are never claimed again, even much later.
    assert!(store
        .claim_job("c", &kinds, T0 + 99_000, T0 + 90_000)
        .await
        .unwrap()
        .is_none());
}

async fn check_lapsed_last_attempt_is_dead(store: Arc<dyn Store>) {
    let job = NewJob::new(JobKind::Noop, "{}", T0).max_attempts(1);
    let job = store.enqueue(&job, T0).await.unwrap();
    let kinds = [JobKind::Noop];
    store
        .claim_job("a", &kinds, T0 + 1_000, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .claim_job("b", &kinds, T0 + 9_000, T0 + 2_000)
        .await
        .unwrap()
        .is_none());
    let dead = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert!(dead.last_error.unwrap().contains("lease lapsed"));
}

async fn check_retry_backoff_grows_then_dead(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let handler = Flaky::new(usize::MAX);
    let r = runner(&store, &clock, handler.clone());
    let job = r
        .enqueue(&NewJob::new(JobKind::Noop, "{}", T0).max_attempts(5))
        .await
        .unwrap();
    let mut previous = 0;
    for attempt in 1..=4 {
        let s = r.run_pending().await.unwrap();
        assert_eq!(s.outcomes.len(), 1, "attempt {attempt}: {s:?}");
        assert_eq!(s.outcomes[0].attempt, attempt);
        let Outcome::Retrying { run_after, error } = &s.outcomes[0].outcome else {
            panic!("attempt {attempt}: {s:?}");
        };
        assert!(error.contains(&format!("attempt {attempt}")));
        let delay = run_after - clock.now();
        assert!(
            delay > previous,
            "attempt {attempt}: {delay} after {previous}"
        );
        assert!(delay <= 10_000);
        previous = delay;
        let stored = store.get_job(&job.id).await.unwrap().unwrap();
        assert!(stored.is_retrying());
        assert_eq!(stored.run_after, *run_after);
        // Not due yet: nothing runs.
        clock.set(run_after - 1);
        assert!(r.run_pending().await.unwrap().is_empty());
        clock.set(*run_after);
    }
    let s = r.run_pending().await.unwrap();
    assert_eq!(s.dead(), 1, "{s:?}");
    let dead = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(dead.attempts, 5);
    assert!(dead.last_error.unwrap().contains("attempt 5"));
    clock.set(clock.now() + 3_600_000);
    assert!(r.run_pending().await.unwrap().is_empty());
    assert_eq!(handler.runs.load(Ordering::SeqCst), 5);
}

async fn check_handler_error_is_retried(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let r = runner(&store, &clock, Flaky::new(1));
    let job = r
        .enqueue(&NewJob::new(JobKind::Noop, "{}", T0))
        .await
        .unwrap();
    let first = r.run_pending().await.unwrap();
    assert_eq!((first.retried(), first.done()), (1, 0), "{first:?}");
    clock.set(clock.now() + 60_000);
    let second = r.run_pending().await.unwrap();
    assert_eq!((second.retried(), second.done()), (0, 1), "{second:?}");
    let done = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!((done.state, done.attempts), (JobState::Done, 2));

    // A permanent error is dead at once, attempts left or not.
    let permanent = Arc::new(Flaky {
        runs: AtomicUsize::new(0),
        failures: 1,
        permanent: true,
    });
    let r = runner(&store, &clock, permanent);
    let job = r
        .enqueue(&NewJob::new(JobKind::Noop, "{}", clock.now()))
        .await
        .unwrap();
    let s = r.run_pending().await.unwrap();
    assert_eq!(s.dead(), 1, "{s:?}");
    let dead = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!((dead.state, dead.attempts), (JobState::Dead, 1));
}

async fn check_run_pending_summary_and_counts(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let handler = Flaky::new(0);
    let r = runner(&store, &clock, handler.clone());
    let mut due = Vec::new();
    for i in 0..3 {
        let job = NewJob::new(JobKind::Noop, "{}", T0 - 1_000 + i);
        due.push(r.enqueue(&job).await.unwrap().id);
    }
    let later = NewJob::new(JobKind::Noop, "{}", T0 + 5_000);
    let later = r.enqueue(&later).await.unwrap().id;
    assert_eq!(
        store.oldest_runnable_age(T0).await.unwrap(),
        Duration::from_millis(1_000)
    );

    let s = r.run_pending().await.unwrap();
    assert_eq!(s.done(), 3, "{s:?}");
    assert_eq!((s.retried(), s.dead(), s.fenced()), (0, 0, 0));
    // Oldest due first.
    let ran: Vec<String> = s.outcomes.iter().map(|o| o.id.clone()).collect();
    assert_eq!(ran, due);
    assert!(s
        .outcomes
        .iter()
        .all(|o| o.kind == JobKind::Noop && o.attempt == 1));
    assert!(r.run_pending().await.unwrap().is_empty());
    assert_eq!(store.oldest_runnable_age(T0).await.unwrap(), Duration::ZERO);

    let counts = store.job_counts().await.unwrap();
    assert_eq!(count(&counts, JobState::Done), 3);
    assert_eq!(count(&counts, JobState::Queued), 1);
    assert_eq!(count(&counts, JobState::Running), 0);

    clock.set(T0 + 5_000);
    let s = r.run_pending().await.unwrap();
    assert_eq!(s.outcomes.len(), 1);
    assert_eq!(s.outcomes[0].id, later);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 4);

    // A runner without handlers claims nothing.
    let idle = JobRunner::new(store.clone(), "idle", config());
    store
        .enqueue(&NewJob::new(JobKind::Noop, "{}", T0), T0)
        .await
        .unwrap();
    assert!(idle.run_pending().await.unwrap().is_empty());
}

async fn check_run_loop_runs_enqueued_jobs(store: Arc<dyn Store>) {
    let handler = Flaky::new(0);
    let r = Arc::new(
        JobRunner::new(store.clone(), "looper", config()).handle(JobKind::Noop, handler.clone()),
    );
    let stop = Arc::new(tokio::sync::Notify::new());
    let task = {
        let (r, stop) = (r.clone(), stop.clone());
        tokio::spawn(async move { r.run(async move { stop.notified().await }).await })
    };
    let now = portal_core::identity::now_ms();
    let job = r
        .enqueue(&NewJob::new(JobKind::Noop, "{}", now))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let state = store.get_job(&job.id).await.unwrap().unwrap().state;
        if state == JobState::Done {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "job still {state}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.notify_one();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("runner stops on shutdown")
        .unwrap();
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

/// Runs until aborted, saying when it started; `dropped` counts runs whose
/// future was dropped (aborted) before finishing.
struct Stuck {
    started: Arc<tokio::sync::Notify>,
    finished: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl JobHandler for Stuck {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let guard = CountDrop(self.dropped.clone());
        self.started.notify_one();
        tokio::time::sleep(Duration::from_secs(30)).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        std::mem::forget(guard);
        Ok(())
    }
}

/// A runner whose lease was taken over (it stalled) learns so at its next
/// renewal, abandons the attempt and records nothing.
async fn check_runner_abandons_a_lost_lease(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let started = Arc::new(tokio::sync::Notify::new());
    let finished = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(Stuck {
        started: started.clone(),
        finished: finished.clone(),
        dropped: dropped.clone(),
    });
    let short = RunnerConfig {
        lease: Duration::from_millis(90),
        ..config()
    };
    let r = JobRunner::new(store.clone(), "stalled", short)
        .handle(JobKind::Noop, handler)
        .clock(clock.clock());
    let job = r
        .enqueue(&NewJob::new(JobKind::Noop, "{}", T0))
        .await
        .unwrap();
    let takeover = {
        let store = store.clone();
        tokio::spawn(async move {
            started.notified().await;
            store
                .claim_job("rescuer", &[JobKind::Noop], T0 + 60_000, T0 + 1_000)
                .await
                .unwrap()
                .expect("the stalled runner's lease lapsed")
        })
    };
    let s = tokio::time::timeout(Duration::from_secs(10), r.run_pending())
        .await
        .expect("the attempt is abandoned")
        .unwrap();
    assert_eq!(s.fenced(), 1, "{s:?}");
    let rescued = takeover.await.unwrap();
    assert_eq!(
        (rescued.id.as_str(), rescued.attempts),
        (job.id.as_str(), 2)
    );
    let stored = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(stored.state, JobState::Running);
    assert_eq!(stored.lease_owner.as_deref(), Some("rescuer"));
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the stale run was aborted"
    );
}

/// Succeeds only once `n` runs are going at the same time.
struct Together(tokio::sync::Barrier);

#[async_trait]
impl JobHandler for Together {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        tokio::time::timeout(Duration::from_secs(2), self.0.wait())
            .await
            .map(|_| ())
            .map_err(|_| JobError::Retry("ran alone".into()))
    }
}

async fn check_run_loop_runs_jobs_concurrently(store: Arc<dyn Store>) {
    let cfg = RunnerConfig {
        concurrency: 3,
        ..config()
    };
    let r = Arc::new(JobRunner::new(store.clone(), "wide", cfg).handle(
        JobKind::Noop,
        Arc::new(Together(tokio::sync::Barrier::new(3))),
    ));
    let now = portal_core::identity::now_ms();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let job = NewJob::new(JobKind::Noop, "{}", now).max_attempts(1);
        ids.push(store.enqueue(&job, now).await.unwrap().id);
    }
    let stop = Arc::new(tokio::sync::Notify::new());
    let task = {
        let (r, stop) = (r.clone(), stop.clone());
        tokio::spawn(async move { r.run(async move { stop.notified().await }).await })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    for id in &ids {
        loop {
            let state = store.get_job(id).await.unwrap().unwrap().state;
            if state == JobState::Done {
                break;
            }
            assert_ne!(state, JobState::Dead, "the jobs did not run at once");
            assert!(tokio::time::Instant::now() < deadline, "job still {state}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    stop.notify_one();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("runner stops on shutdown")
        .unwrap();
}

on_both_backends!(
    check_run_loop_runs_jobs_concurrently,
    check_runner_abandons_a_lost_lease,
    check_concurrent_claims_never_overlap,
    check_lapsed_lease_is_taken_over_and_fences,
    check_lapsed_last_attempt_is_dead,
    check_retry_backoff_grows_then_dead,
    check_handler_error_is_retried,
    check_run_pending_summary_and_counts,
    check_run_loop_runs_enqueued_jobs,
);

/// A runner that polls rarely still runs at once a job another replica
/// enqueued: PostgreSQL's NOTIFY wakes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_runner_wakes_on_another_replicas_enqueue() {
    use portal_core::jobs::JobRepo;
    let Some(db) = support::TestDb::postgres().await else {
        return;
    };
    let url = db.pg_url.clone().unwrap();
    let other = portal_store::PgStore::connect(&url, 2, Duration::from_secs(60)).unwrap();
    let handler = Flaky::new(0);
    let slow = RunnerConfig {
        poll_interval: Duration::from_secs(3600),
        ..config()
    };
    let r = Arc::new(
        JobRunner::new(db.store.clone(), "a", slow).handle(JobKind::Noop, handler.clone()),
    );
    let stop = Arc::new(tokio::sync::Notify::new());
    let task = {
        let (r, stop) = (r.clone(), stop.clone());
        tokio::spawn(async move { r.run(async move { stop.notified().await }).await })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // Two jobs, the second enqueued once the runner surely listens (it ran the first).
    for round in 1..=2 {
        let now = portal_core::identity::now_ms();
        let job = other
            .enqueue(&NewJob::new(JobKind::Noop, "{}", now), now)
            .await
            .unwrap();
        loop {
            let state = db.store.get_job(&job.id).await.unwrap().unwrap().state;
            if state == JobState::Done {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: job still {state}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    stop.notify_one();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("runner stops on shutdown")
        .unwrap();
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);
}
