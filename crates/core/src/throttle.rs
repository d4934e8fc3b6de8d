//! Sign-in throttling per account and per client address (per replica).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account within the window.
pub const PER_ACCOUNT: usize = 5;
/// Failures allowed per client address within the window.
pub const PER_IP: usize = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_KEYS: usize = 50_000;

/// Remembers recent failures; refuses further attempts while over the limit.
#[derive(Default)]
pub struct SignInThrottle(Mutex<HashMap<String, VecDeque<Instant>>>);

impl SignInThrottle {
    fn wait(&self, key: &str, limit: usize, now: Instant) -> Option<u64> {
        let mut map = self.0.lock().ok()?;
        let q = map.get_mut(key)?;
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() >= limit {
            let oldest = *q.front()?;
            Some((WINDOW - now.duration_since(oldest)).as_secs().max(1))
        } else {
            None
        }
    }

    /// Seconds to wait before another attempt for this account or address, if any.
    pub fn check(&self, account: &str, ip: &str) -> Option<u64> {
        let now = Instant::now();
        let a = self.wait(&format!("a:{account}"), PER_ACCOUNT, now);
        let i = self.wait(&format!("i:{ip}"), PER_IP, now);
        a.max(i)
    }

    /// Records a failed attempt.
    pub fn fail(&self, account: &str, ip: &str) {
        let now = Instant::now();
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= MAX_KEYS {
                map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
                if map.len() >= MAX_KEYS {
                    map.clear();
                }
            }
            for k in [format!("a:{account}"), format!("i:{ip}")] {
                map.entry(k).or_default().push_back(now);
            }
        }
    }

    /// Clears the account's failures after a successful sign-in.
    pub fn succeed(&self, account: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&format!("a:{account}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_is_blocked_after_five_failures() {
        let t = SignInThrottle::default();
        for _ in 0..PER_ACCOUNT {
            assert!(t.check("a@x.io", "1.1.1.1").is_none());
            t.fail("a@x.io", "1.1.1.1");
        }
        assert!(
            t.check("a@x.io", "2.2.2.2").is_some(),
            "blocked from any address"
        );
        assert!(t.check("b@x.io", "2.2.2.2").is_none());
        t.succeed("a@x.io");
        assert!(t.check("a@x.io", "2.2.2.2").is_none());
    }

    #[test]
    fn address_is_blocked_after_twenty_failures() {
        let t = SignInThrottle::default();
        for i in 0..PER_IP {
            t.fail(&format!("u{i}@x.io"), "9.9.9.9");
        }
        assert!(t.check("new@x.io", "9.9.9.9").is_some());
    }
}
