//! Token-bucket rate limiting per caller (verified principal, else client IP)
//! and class (`api`, `chat`), per replica, with a bounded bucket table.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::HttpError;
use crate::middleware::caller::Caller;
use crate::state::AppState;

const SHARDS: usize = 16;

/// Which budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Everything except chat.
    Api,
    /// Chat turns (model calls are expensive).
    Chat,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    Principal(String),
    Ip(IpAddr),
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Outcome of taking one token.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// Bucket size (requests per minute).
    pub limit: u32,
    /// Whole tokens left.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset: u64,
    /// Seconds until the next token (for `Retry-After`).
    pub retry_after: u64,
}

/// The limiter: per-class limits and a sharded, bounded table of buckets.
pub struct RateLimiter {
    api: u32,
    chat: u32,
    max_entries_per_shard: usize,
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<(Who, Class), Bucket>>>,
}

impl RateLimiter {
    /// Limits in requests per minute (0 turns a class off); `max_entries` bounds memory.
    pub fn new(api: u32, chat: u32, max_entries: usize) -> Self {
        Self {
            api,
            chat,
            max_entries_per_shard: (max_entries / SHARDS).max(1),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn limit(&self, class: Class) -> u32 {
        match class {
            Class::Api => self.api,
            Class::Chat => self.chat,
        }
    }

    /// Number of buckets held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    /// True when no bucket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take(&self, who: Who, class: Class, now: Instant) -> Option<Decision> {
        let limit = self.limit(class);
        if limit == 0 {
            return None;
        }
        let capacity = f64::from(limit);
        let per_sec = capacity / 60.0;
        let key = (who, class);
        let shard = &self.shards[(self.hasher.hash_one(&key) as usize) % SHARDS];
        let mut map = match shard.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if !map.contains_key(&key) && map.len() >= self.max_entries_per_shard {
            // Forget buckets that have refilled (idle callers); if none, forget any one.
            map.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * per_sec < capacity
            });
            if map.len() >= self.max_entries_per_shard {
                if let Some(k) = map.keys().next().cloned() {
                    map.remove(&k);
                }
            }
        }
        let b = map.entry(key).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * per_sec).min(capacity);
        b.last = now;
        let allowed = b.tokens >= 1.0;
        if allowed {
            b.tokens -= 1.0;
        }
        Some(Decision {
            allowed,
            limit,
            remaining: b.tokens.floor() as u32,
            reset: ((capacity - b.tokens) / per_sec).ceil() as u64,
            retry_after: if allowed {
                0
            } else {
                ((1.0 - b.tokens) / per_sec).ceil().max(1.0) as u64
            },
        })
    }
}

/// The class of a request path.
pub fn class_of(path: &str) -> Class {
    if path == "/api/chat" || path.starts_with("/api/chat/") {
        Class::Chat
    } else {
        Class::Api
    }
}

static LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

fn decorate(res: &mut Response, d: &Decision) {
    let h = res.headers_mut();
    h.insert(LIMIT.clone(), HeaderValue::from(d.limit));
    h.insert(REMAINING.clone(), HeaderValue::from(d.remaining));
    h.insert(RESET.clone(), HeaderValue::from(d.reset));
}

/// Middleware: takes a token or answers 429 with `Retry-After` and `RateLimit-*` headers.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limiter = &state.limiter;
    let who = match req.extensions().get::<Caller>() {
        Some(Caller {
            principal: Some(p), ..
        }) => Who::Principal(p.id.clone()),
        Some(c) => Who::Ip(c.ip),
        None => Who::Ip(IpAddr::from([0, 0, 0, 0])),
    };
    let class = class_of(req.uri().path());
    match limiter.take(who, class, Instant::now()) {
        None => next.run(req).await,
        Some(d) if d.allowed => {
            let mut res = next.run(req).await;
            decorate(&mut res, &d);
            res
        }
        Some(d) => {
            state
                .metrics
                .rate_limited
                .with_label_values(&[match class {
                    Class::Api => "api",
                    Class::Chat => "chat",
                }])
                .inc();
            let mut res = HttpError::RateLimited(d.retry_after).into_response();
            decorate(&mut res, &d);
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(n: u8) -> Who {
        Who::Ip(IpAddr::from([10, 0, 0, n]))
    }

    #[test]
    fn bucket_empties_and_refills() {
        let l = RateLimiter::new(3, 1, 100);
        let t0 = Instant::now();
        for i in 0..3 {
            let d = l.take(ip(1), Class::Api, t0).unwrap();
            assert!(d.allowed, "request {i}");
        }
        let d = l.take(ip(1), Class::Api, t0).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.retry_after, 20);
        // Another caller and another class have their own buckets.
        assert!(l.take(ip(2), Class::Api, t0).unwrap().allowed);
        assert!(l.take(ip(1), Class::Chat, t0).unwrap().allowed);
        // 20 s later one token is back.
        assert!(
            l.take(ip(1), Class::Api, t0 + Duration::from_secs(20))
                .unwrap()
                .allowed
        );
    }

    #[test]
    fn zero_turns_a_class_off() {
        let l = RateLimiter::new(0, 5, 100);
        assert!(l.take(ip(1), Class::Api, Instant::now()).is_none());
        assert!(l.is_empty());
    }

    #[test]
    fn table_is_bounded() {
        let l = RateLimiter::new(10, 10, 64);
        let now = Instant::now();
        for i in 0..=255u8 {
            for j in 0..8u8 {
                l.take(Who::Ip(IpAddr::from([10, 1, i, j])), Class::Api, now);
            }
        }
        assert!(l.len() <= 64, "{}", l.len());
    }

    #[test]
    fn chat_class_by_path() {
        assert_eq!(class_of("/api/chat"), Class::Chat);
        assert_eq!(class_of("/api/chat/abc/stream"), Class::Chat);
        assert_eq!(class_of("/api/chatty"), Class::Api);
        assert_eq!(class_of("/healthz"), Class::Api);
    }
}
