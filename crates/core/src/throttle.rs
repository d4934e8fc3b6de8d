//! Sign-in throttling (per replica).
//!
//! Three counters, each over a sliding window: the (account, address) pair, the
//! account from any address, and the address for any account. The pair limit is
//! the tight one, so an attacker guessing from one address locks only
//! themselves out; the per-account limit is much higher and only stops a
//! guessing campaign spread over many addresses.
//!
//! An attempt *reserves* its slot before the password is verified
//! ([`SignInThrottle::begin`]): attempts in flight count against every limit,
//! so a burst of parallel guesses cannot all pass the check before the first
//! failure is recorded.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failures (and attempts in flight) allowed per account and address pair within the window.
pub const PER_PAIR: usize = 5;
/// Failures allowed per account from all addresses together within the window.
pub const PER_ACCOUNT: usize = 50;
/// Failures allowed per client address within the window.
pub const PER_IP: usize = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_KEYS: usize = 50_000;

#[derive(Default)]
struct Entry {
    failures: VecDeque<Instant>,
    in_flight: usize,
    /// When a throttled attempt on this key was last audited.
    throttled_noted: Option<Instant>,
}

impl Entry {
    fn prune(&mut self, now: Instant) {
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.failures.pop_front();
        }
    }

    fn idle(&self, now: Instant) -> bool {
        self.in_flight == 0
            && self
                .failures
                .back()
                .is_none_or(|t| now.duration_since(*t) >= WINDOW)
    }
}

type Map = HashMap<String, Entry>;

/// Remembers recent failures and attempts in flight; refuses further attempts
/// while over a limit.
#[derive(Default, Clone)]
pub struct SignInThrottle(Arc<Mutex<Map>>);

/// A refused attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until an attempt may succeed the check again.
    pub retry_after: u64,
    /// True for the first refusal of this window on the limiting counter: only
    /// that one is worth an audit record (the ledger is append-only).
    pub first_in_window: bool,
}

/// A reserved attempt. Record the outcome with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropping it unrecorded (an error before the password
/// was judged) just releases the reservation.
pub struct Attempt {
    map: Arc<Mutex<Map>>,
    keys: [String; 3],
    done: bool,
}

fn keys(account: &str, ip: &str) -> [String; 3] {
    [
        format!("p:{ip}|{account}"),
        format!("a:{account}"),
        format!("i:{ip}"),
    ]
}

const LIMITS: [usize; 3] = [PER_PAIR, PER_ACCOUNT, PER_IP];

impl SignInThrottle {
    /// Reserves an attempt for `account` from `ip`, or says how long to wait.
    pub fn begin(&self, account: &str, ip: &str) -> Result<Attempt, Throttled> {
        let now = Instant::now();
        let keys = keys(account, ip);
        let Ok(mut map) = self.0.lock() else {
            // A poisoned lock means a panic elsewhere: fail closed.
            return Err(Throttled {
                retry_after: 1,
                first_in_window: false,
            });
        };
        if map.len() >= MAX_KEYS {
            map.retain(|_, e| !e.idle(now));
            if map.len() >= MAX_KEYS {
                // A flood from very many addresses: forget failures (as a restart
                // would) rather than grow without bound; reservations stay.
                map.retain(|_, e| e.in_flight > 0);
            }
        }
        let mut over: Option<Throttled> = None;
        for (k, limit) in keys.iter().zip(LIMITS) {
            let Some(e) = map.get_mut(k) else { continue };
            e.prune(now);
            if e.failures.len() + e.in_flight < limit {
                continue;
            }
            // Full with attempts in flight only: they finish within seconds.
            let wait = match e.failures.front() {
                Some(t) if e.failures.len() >= limit => {
                    (WINDOW - now.duration_since(*t)).as_secs().max(1)
                }
                _ => 1,
            };
            let first = e
                .throttled_noted
                .is_none_or(|t| now.duration_since(t) >= WINDOW);
            if first {
                e.throttled_noted = Some(now);
            }
            let o = over.get_or_insert(Throttled {
                retry_after: 0,
                first_in_window: false,
            });
            o.retry_after = o.retry_after.max(wait);
            o.first_in_window |= first;
        }
        if let Some(t) = over {
            return Err(t);
        }
        for k in &keys {
            map.entry(k.clone()).or_default().in_flight += 1;
        }
        Ok(Attempt {
            map: self.0.clone(),
            keys,
            done: false,
        })
    }

    /// Attempts currently reserved for this pair (for tests and diagnostics).
    pub fn in_flight(&self, account: &str, ip: &str) -> usize {
        let k = &keys(account, ip)[0];
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(k).map(|e| e.in_flight))
            .unwrap_or(0)
    }
}

impl Attempt {
    fn finish(&mut self, failed: bool) {
        if self.done {
            return;
        }
        self.done = true;
        let now = Instant::now();
        if let Ok(mut map) = self.map.lock() {
            for (i, k) in self.keys.iter().enumerate() {
                let e = map.entry(k.clone()).or_default();
                e.in_flight = e.in_flight.saturating_sub(1);
                if failed {
                    e.failures.push_back(now);
                } else if i < 2 {
                    // A success clears the pair's and the account's failures,
                    // not the address's (it may be guessing other accounts).
                    e.failures.clear();
                    e.throttled_noted = None;
                }
            }
        }
    }

    /// The password was wrong (or the account unknown).
    pub fn failed(mut self) {
        self.finish(true);
    }

    /// The password was right.
    pub fn succeeded(mut self) {
        self.finish(false);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            if let Ok(mut map) = self.map.lock() {
                for k in &self.keys {
                    if let Some(e) = map.get_mut(k) {
                        e.in_flight = e.in_flight.saturating_sub(1);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_is_blocked_after_five_failures_but_not_other_addresses() {
        let t = SignInThrottle::default();
        for _ in 0..PER_PAIR {
            t.begin("a@x.io", "1.1.1.1").unwrap().failed();
        }
        let refused = t.begin("a@x.io", "1.1.1.1").err().unwrap();
        assert!(refused.retry_after > 1 && refused.first_in_window);
        let again = t.begin("a@x.io", "1.1.1.1").err().unwrap();
        assert!(!again.first_in_window, "audited once per window");
        t.begin("a@x.io", "2.2.2.2")
            .expect("the owner's address is not locked out")
            .succeeded();
        assert!(
            t.begin("a@x.io", "1.1.1.1").is_err(),
            "the owner's success does not clear the attacker's pair"
        );
        t.begin("b@x.io", "3.3.3.3").unwrap().failed();
        t.begin("b@x.io", "3.3.3.3").unwrap().succeeded();
        assert_eq!(t.in_flight("b@x.io", "3.3.3.3"), 0);
    }

    #[test]
    fn attempts_in_flight_count() {
        let t = SignInThrottle::default();
        let held: Vec<_> = (0..PER_PAIR)
            .map(|_| t.begin("a@x.io", "1.1.1.1").unwrap())
            .collect();
        assert_eq!(t.in_flight("a@x.io", "1.1.1.1"), PER_PAIR);
        let refused = t.begin("a@x.io", "1.1.1.1").err().unwrap();
        assert_eq!(refused.retry_after, 1);
        drop(held);
        assert_eq!(t.in_flight("a@x.io", "1.1.1.1"), 0);
        assert!(t.begin("a@x.io", "1.1.1.1").is_ok(), "released, not failed");
    }

    #[test]
    fn account_has_a_higher_global_limit() {
        let t = SignInThrottle::default();
        for i in 0..PER_ACCOUNT {
            t.begin("a@x.io", &format!("10.0.{}.{}", i / 4, i % 4))
                .unwrap()
                .failed();
        }
        assert!(t.begin("a@x.io", "9.9.9.9").is_err());
        assert!(t.begin("b@x.io", "9.9.9.9").is_ok());
    }

    #[test]
    fn address_is_blocked_after_twenty_failures() {
        let t = SignInThrottle::default();
        for i in 0..PER_IP {
            t.begin(&format!("u{i}@x.io"), "9.9.9.9").unwrap().failed();
        }
        assert!(t.begin("new@x.io", "9.9.9.9").is_err());
    }
}
