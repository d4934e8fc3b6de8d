//! Pieces of the chat storage shared by both backends: the in-process wake-up of tasks following a session's event stream.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use portal_core::store::StoreResult;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Distinct session ids, in first-seen order.
pub(crate) fn distinct<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Tasks waiting for new events, by session. Entries live while someone waits.
#[derive(Default)]
pub(crate) struct Waiters {
    sessions: Mutex<HashMap<String, (Arc<Notify>, usize)>>,
}

/// One task's registration with [`Waiters`]; unregisters on drop.
pub(crate) struct Waiting<'a> {
    waiters: &'a Waiters,
    session: String,
    notify: Arc<Notify>,
}

impl Waiters {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (Arc<Notify>, usize)>> {
        // The map stays consistent even if a holder panicked: keep using it.
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers interest in a session's events.
    pub(crate) fn register(&self, session: &str) -> Waiting<'_> {
        let mut map = self.lock();
        let entry = map
            .entry(session.to_string())
            .or_insert_with(|| (Arc::new(Notify::new()), 0));
        entry.1 += 1;
        Waiting {
            waiters: self,
            session: session.to_string(),
            notify: entry.0.clone(),
        }
    }

    /// Wakes the tasks waiting on `session`.
    pub(crate) fn wake(&self, session: &str) {
        let notify = self.lock().get(session).map(|(n, _)| n.clone());
        if let Some(n) = notify {
            n.notify_waiters();
        }
    }

    /// Wakes every waiting task (they re-check the database).
    pub(crate) fn wake_all(&self) {
        let all: Vec<Arc<Notify>> = self.lock().values().map(|(n, _)| n.clone()).collect();
        for n in all {
            n.notify_waiters();
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut map = self.waiters.lock();
        if let Some(entry) = map.get_mut(&self.session) {
            entry.1 = entry.1.saturating_sub(1);
            if entry.1 == 0 {
                map.remove(&self.session);
            }
        }
    }
}

/// Waits until `last()` exceeds `after` or `timeout` passes. Between checks it
/// sleeps until woken through `waiters` or for `pause()` (read before each
/// check, so a backend can shorten it while its wake-ups are unreliable).
pub(crate) async fn wait_for_events<F, Fut>(
    waiters: &Waiters,
    session: &str,
    after: i64,
    timeout: Duration,
    pause: impl Fn() -> Duration,
    last: F,
) -> StoreResult<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = StoreResult<i64>>,
{
    let deadline = Instant::now().checked_add(timeout);
    let waiting = waiters.register(session);
    loop {
        let notified = waiting.notify.notified();
        tokio::pin!(notified);
        // Registered before the check: a wake-up between check and sleep is kept.
        notified.as_mut().enable();
        let pause = pause();
        if last().await? > after {
            return Ok(());
        }
        let now = Instant::now();
        let until = match (deadline, now.checked_add(pause)) {
            (Some(d), _) if d <= now => return Ok(()),
            (Some(d), Some(p)) => d.min(p),
            (Some(d), None) => d,
            (None, Some(p)) => p,
            (None, None) => now + Duration::from_secs(1),
        };
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep_until(until) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_ids_keep_their_first_seen_order() {
        assert_eq!(distinct(["a", "b", "a", "c", "b"]), vec!["a", "b", "c"]);
    }

    #[test]
    fn registrations_are_dropped() {
        let w = Waiters::default();
        let a = w.register("s");
        let b = w.register("s");
        drop(a);
        assert_eq!(w.lock().get("s").map(|e| e.1), Some(1));
        drop(b);
        assert!(w.lock().is_empty());
    }

    #[tokio::test]
    async fn wake_ends_the_wait_early() {
        let w = Arc::new(Waiters::default());
        let value = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let (w2, v2) = (w.clone(), value.clone());
        let waiter = tokio::spawn(async move {
            let start = std::time::Instant::now();
            wait_for_events(
                &w2,
                "s",
                0,
                Duration::from_secs(30),
                || Duration::from_secs(60),
                || {
                    let v = v2.load(std::sync::atomic::Ordering::SeqCst);
                    async move { Ok(v) }
                },
            )
            .await
            .map(|()| start.elapsed())
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        value.store(1, std::sync::atomic::Ordering::SeqCst);
        w.wake("other");
        w.wake("s");
        let took = waiter.await.unwrap().unwrap();
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert!(w.lock().is_empty());
    }
}
