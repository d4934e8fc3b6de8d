//! Writes of a running turn that survive a short database outage (L1). A turn
//! streams for seconds to minutes; when the database goes away meanwhile, the
//! answer is kept in memory and written when it returns, instead of failing the
//! turn and leaving it locked under its lease.

use std::future::Future;
use std::time::{Duration, Instant};

use portal_core::store::StoreResult;
use portal_core::StoreError;

/// How long one write keeps being retried while the database is away.
pub(crate) const RETRY_FOR: Duration = Duration::from_secs(30);
/// Longest a failed turn keeps trying to record that it failed (and so free
/// its session); never past its lease, so no other replica has taken it.
pub(crate) const RELEASE_FOR: Duration = Duration::from_secs(150);
/// How much of the lease a failed turn leaves unused when it gives up.
pub(crate) const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// First pause between attempts; doubled up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Paces the attempts of one write: exponential pauses within a time budget.
pub(crate) struct Backoff {
    start: Instant,
    within: Duration,
    pause: Duration,
    waited: bool,
}

impl Backoff {
    /// A budget of `within` from now.
    pub(crate) fn new(within: Duration) -> Self {
        Self {
            start: Instant::now(),
            within,
            pause: FIRST_PAUSE,
            waited: false,
        }
    }

    /// After a failed attempt: waits and returns true, or false when the
    /// budget would be exceeded (give up).
    pub(crate) async fn wait(&mut self, what: &str) -> bool {
        if self.start.elapsed() + self.pause >= self.within {
            return false;
        }
        if !self.waited {
            tracing::warn!(what, "database unavailable during a chat turn; retrying");
        }
        self.waited = true;
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        true
    }

    /// Whether an attempt has failed before (its outcome may be unknown).
    pub(crate) fn retried(&self) -> bool {
        self.waited
    }
}

/// Runs `write` until it succeeds, fails for another reason than the database
/// being away, or `within` has passed. A write whose earlier attempt may have
/// committed before the connection broke (its outcome unknown) and that now
/// conflicts is taken as done: each write here carries its own keys (the
/// message id), so the conflict is with itself.
pub(crate) async fn retry<F, Fut>(what: &str, within: Duration, mut write: F) -> StoreResult<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<()>>,
{
    let mut backoff = Backoff::new(within);
    loop {
        match write().await {
            Err(StoreError::Unavailable) if backoff.wait(what).await => {}
            Err(StoreError::Conflict(_)) if backoff.retried() => return Ok(()),
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retries_while_unavailable_then_succeeds_or_gives_up() {
        let n = AtomicU32::new(0);
        let r = retry("t", RETRY_FOR, || async {
            if n.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(StoreError::Unavailable)
            } else {
                Ok(())
            }
        })
        .await;
        assert!(r.is_ok());
        assert_eq!(n.load(Ordering::SeqCst), 4);

        let r = retry("t", Duration::from_secs(1), || async {
            Err(StoreError::Unavailable)
        })
        .await;
        assert!(matches!(r, Err(StoreError::Unavailable)));

        // A write that may have committed before the break and now conflicts is done.
        let n = AtomicU32::new(0);
        let r = retry("t", RETRY_FOR, || async {
            if n.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(StoreError::Unavailable)
            } else {
                Err(StoreError::Conflict("dup".into()))
            }
        })
        .await;
        assert!(r.is_ok());
        // Other errors are not retried.
        let r = retry("t", RETRY_FOR, || async {
            Err(StoreError::Other("x".into()))
        })
        .await;
        assert!(matches!(r, Err(StoreError::Other(_))));
    }
}
