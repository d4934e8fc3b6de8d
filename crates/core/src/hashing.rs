//! A process-wide bound on concurrent password hashing.
//!
//! argon2id with the default parameters fills 19 MiB per hash and keeps a core
//! busy: a burst of unbounded sign-ins took a 2-core box to 2 GB of memory.
//! Every hash and verification goes through [`run`], which allows as many at
//! once as there are CPUs, lets a short queue wait, and refuses the rest at
//! once (the caller answers 429 with `Retry-After`). The bound is per process
//! because the resources it protects are.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::Semaphore;

/// How long a queued hash waits for a slot before it is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// Queued hashes allowed per slot.
pub const QUEUE_PER_SLOT: usize = 4;

struct Gate {
    slots: usize,
    sem: Semaphore,
    waiting: AtomicUsize,
    running: AtomicUsize,
    peak: AtomicUsize,
    rejected: AtomicU64,
}

fn gate() -> &'static Gate {
    static G: OnceLock<Gate> = OnceLock::new();
    G.get_or_init(|| {
        let slots = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 64);
        Gate {
            slots,
            sem: Semaphore::new(slots),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            rejected: AtomicU64::new(0),
        }
    })
}

/// The hashing gate refused the work: too many already running and queued.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct Saturated;

/// Counters for metrics.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Hashes allowed at once.
    pub slots: usize,
    /// Hashes running now.
    pub in_flight: usize,
    /// The most that ever ran at once.
    pub peak: usize,
    /// Hashes refused because the gate was saturated.
    pub rejected: u64,
}

/// The gate's counters now.
pub fn stats() -> Stats {
    let g = gate();
    Stats {
        slots: g.slots,
        in_flight: g.running.load(Ordering::Relaxed),
        peak: g.peak.load(Ordering::Relaxed),
        rejected: g.rejected.load(Ordering::Relaxed),
    }
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs CPU-heavy hashing work `f` on the blocking pool under the gate.
pub async fn run<T, F>(f: F) -> Result<Result<T, tokio::task::JoinError>, Saturated>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let g = gate();
    let permit = {
        let queued = g.waiting.fetch_add(1, Ordering::AcqRel);
        let _w = Waiting(&g.waiting);
        if queued >= g.slots * (1 + QUEUE_PER_SLOT) {
            g.rejected.fetch_add(1, Ordering::Relaxed);
            return Err(Saturated);
        }
        match tokio::time::timeout(QUEUE_WAIT, g.sem.acquire()).await {
            Ok(Ok(p)) => p,
            _ => {
                g.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(Saturated);
            }
        }
    };
    let now = g.running.fetch_add(1, Ordering::AcqRel) + 1;
    g.peak.fetch_max(now, Ordering::AcqRel);
    let running = Running(&g.running);
    // The permit and the count move into the blocking task: a cancelled request
    // cannot free its slot while its hash still runs.
    Ok(tokio::task::spawn_blocking(move || {
        // Tuple fields drop in order: the count goes down before the slot is freed.
        let _slot = (running, permit);
        f()
    })
    .await)
}
