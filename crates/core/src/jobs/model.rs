//! What a job is: its kind, its state, the row the store keeps, the lease
//! that fences a runner's writes, and what a runner's drain reports.

use std::time::Duration;

/// What a job does; each kind has one handler in a [`super::JobRunner`].
///
/// Stored as the stable text of [`JobKind::as_str`]; the enum maps to text
/// only at the store boundary. Workflows (`workflow.step`), webhook delivery
/// (`webhook.deliver`) and search indexing (`search.index`) become kinds here
/// when they move onto the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// Does nothing: exercises the machinery (tests, smoke checks).
    Noop,
    /// Runs a chat turn that is not running anywhere: one whose approval was
    /// decided, or whose replica died (see [`crate::jobs::chat_turn`]).
    ChatTurn,
    /// One attempt of one webhook delivery (see [`crate::webhooks::delivery`]).
    WebhookDeliver,
    /// Runs one step of a workflow run (see [`crate::workflows::executor`]).
    WorkflowStep,
    /// Embeds stored messages for search (see [`crate::search::indexing`]).
    SearchIndex,
    /// Runs one advisor scan (see [`crate::advisor::job`]).
    AdvisorRun,
    /// Handles one tick of an advisor schedule (see [`crate::advisor::tick`]).
    AdvisorTick,
}

impl JobKind {
    /// Every kind, for metrics that must show zeros from start-up.
    pub const ALL: &'static [JobKind] = &[
        JobKind::Noop,
        JobKind::ChatTurn,
        JobKind::WebhookDeliver,
        JobKind::WorkflowStep,
        JobKind::SearchIndex,
        JobKind::AdvisorRun,
        JobKind::AdvisorTick,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Noop => "noop",
            JobKind::ChatTurn => "chat.turn",
            JobKind::WebhookDeliver => "webhook.deliver",
            JobKind::WorkflowStep => "workflow.step",
            JobKind::SearchIndex => "search.index",
            JobKind::AdvisorRun => "advisor.run",
            JobKind::AdvisorTick => "advisor.tick",
        }
    }

    /// The kind of a stored name; `None` for a kind this build does not know
    /// (written by a newer replica), which this build then never claims.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a job is in its life. "Retrying" is not a state of its own: it is
/// `Queued` with `attempts > 0` (see [`Job::is_retrying`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Waiting for `run_after`, then for a runner.
    Queued,
    /// Claimed by a runner under a lease.
    Running,
    /// Finished successfully.
    Done,
    /// Gave up: attempts exhausted or a permanent error (`last_error` says which).
    Dead,
}

impl JobState {
    /// Every state, for metrics that must show zeros from start-up.
    pub const ALL: &'static [JobState] = &[
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Unique id (see [`NewJob::new`]).
    pub id: String,
    /// What to do.
    pub kind: JobKind,
    /// The handler's input, JSON text.
    pub payload: String,
    /// Not before this time (ms since the epoch).
    pub run_after: i64,
    /// Claims allowed before the job is dead (at least 1).
    pub max_attempts: i64,
}

/// Attempts a job gets unless its enqueuer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

impl NewJob {
    /// A job due at `now`, with a fresh random id and the default attempts.
    pub fn new(kind: JobKind, payload: impl Into<String>, now: i64) -> Self {
        Self {
            id: hex::encode(crate::crypto::random_bytes::<16>()),
            kind,
            payload: payload.into(),
            run_after: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// The same job with this many attempts (at least 1).
    pub fn max_attempts(mut self, n: i64) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The same job, due at `at`.
    pub fn run_after(mut self, at: i64) -> Self {
        self.run_after = at;
        self
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Unique id.
    pub id: String,
    /// What to do.
    pub kind: JobKind,
    /// The handler's input, JSON text.
    pub payload: String,
    /// Where the job is.
    pub state: JobState,
    /// Due time (ms): when queued, not claimed before it.
    pub run_after: i64,
    /// Claims so far (the current one included while running).
    pub attempts: i64,
    /// Claims allowed.
    pub max_attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The runner holding the lease while running.
    pub lease_owner: Option<String>,
    /// When that lease lapses (ms).
    pub lease_until: Option<i64>,
    /// When it was enqueued (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

impl Job {
    /// Queued again after a failed attempt.
    pub fn is_retrying(&self) -> bool {
        self.state == JobState::Queued && self.attempts > 0
    }

    /// The lease this (claimed) job's runner writes under.
    pub fn lease(&self) -> Lease {
        Lease {
            job_id: self.id.clone(),
            owner: self.lease_owner.clone().unwrap_or_default(),
            attempt: self.attempts,
        }
    }
}

/// The fence of one attempt: the store accepts the outcome of a job only from
/// the owner of this very attempt, so a runner whose lease lapsed (and whose
/// job another runner took over) cannot complete or fail it any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job_id: String,
    /// Who claimed it.
    pub owner: String,
    /// The attempt number the claim gave.
    pub attempt: i64,
}

/// What a failed attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Queue it again at this time (ms), unless its attempts are exhausted.
    RetryAt(i64),
    /// Dead now, whatever attempts are left (the error will not go away).
    Permanent,
}

/// How many jobs of one kind are in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobCount {
    /// The kind.
    pub kind: JobKind,
    /// The state.
    pub state: JobState,
    /// How many.
    pub count: i64,
}

/// Exponential backoff with "equal jitter", capped: attempt `n` (from 1) waits
/// between half and all of `base · 2^(n-1)`, never more than `cap`. Jitter
/// spreads retries of jobs that failed together; keeping the lower half fixed
/// makes each delay at least the previous one's upper bound, so it grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay scale of the first retry.
    pub base: Duration,
    /// Longest delay.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt `attempt` (1-based), with `unit` in
    /// `[0, 1)` choosing the jitter.
    pub fn delay(&self, attempt: i64, unit: f64) -> Duration {
        let exp = attempt.clamp(1, 63) as u32 - 1;
        let full = self
            .base
            .checked_mul(2u32.saturating_pow(exp.min(31)))
            .unwrap_or(self.cap)
            .min(self.cap);
        let half = full / 2;
        half + (full - half).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// [`RetryPolicy::delay`] with OS randomness for the jitter.
    pub fn jittered(&self, attempt: i64) -> Duration {
        let r = u64::from_le_bytes(crate::crypto::random_bytes::<8>());
        self.delay(attempt, (r >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// What became of one claimed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler succeeded and the job is done.
    Done,
    /// The handler failed; queued again at `run_after` (ms).
    Retrying {
        /// When it is due again.
        run_after: i64,
        /// What the handler said.
        error: String,
    },
    /// The handler failed for good, or on its last attempt.
    Dead {
        /// What the handler said.
        error: String,
    },
    /// The lease was lost (another runner took the job over): the outcome was
    /// not recorded, and the other runner's attempt counts.
    Fenced,
    /// The outcome could not be written (database away); the lease will lapse
    /// and the job run again.
    Unrecorded {
        /// What the store said.
        error: String,
    },
}

/// One attempt the runner made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    /// The job.
    pub id: String,
    /// Its kind.
    pub kind: JobKind,
    /// The attempt number.
    pub attempt: i64,
    /// What became of it.
    pub outcome: Outcome,
}

/// What one drain did, in the order it did it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Every attempt made.
    pub outcomes: Vec<JobOutcome>,
}

impl RunSummary {
    /// True when nothing was due.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(&o.outcome)).count()
    }

    /// Attempts that finished their job.
    pub fn done(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done))
    }

    /// Attempts that failed and were queued again.
    pub fn retried(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Retrying { .. }))
    }

    /// Attempts that left their job dead.
    pub fn dead(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Dead { .. }))
    }

    /// Attempts whose lease was lost.
    pub fn fenced(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fenced))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(*k));
        }
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(JobKind::parse("webhook.deliver.v9"), None);
        assert_eq!(JobState::parse("retrying"), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
        };
        assert_eq!(p.delay(1, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(1, 1.0), Duration::from_millis(100));
        assert_eq!(p.delay(3, 0.0), Duration::from_millis(200));
        let mut previous_max = Duration::ZERO;
        for attempt in 1..=10 {
            let lo = p.delay(attempt, 0.0);
            let hi = p.delay(attempt, 1.0);
            assert!(lo >= previous_max.min(p.cap / 2), "attempt {attempt}");
            assert!(hi <= p.cap);
            let j = p.jittered(attempt);
            assert!(lo <= j && j <= hi, "attempt {attempt}: {j:?}");
            previous_max = hi;
        }
        assert_eq!(p.delay(1000, 1.0), p.cap);
        assert_eq!(p.delay(i64::MAX, 0.0), p.cap / 2);
    }

    #[test]
    fn new_jobs_are_due_now_with_default_attempts() {
        let a = NewJob::new(JobKind::Noop, "{}", 42);
        let b = NewJob::new(JobKind::Noop, "{}", 42).max_attempts(0);
        assert_eq!(a.run_after, 42);
        assert_eq!(a.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(b.max_attempts, 1);
        assert_ne!(a.id, b.id);
    }
}
