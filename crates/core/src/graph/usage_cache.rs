//! Usage answers of the last few seconds, per organisation, kind and window:
//! aggregating 100k executions takes far longer than a dashboard can wait,
//! and the answer only changes when the organisation runs a tool — which
//! forgets that organisation's answers (the gateway calls
//! [`UsageCache::executed`]). Other replicas' runs show within the TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::model::{GraphAnswer, QueryKind};

type Key = (String, QueryKind, i64);

#[derive(Default)]
struct Inner {
    /// Per organisation: bumped by every execution.
    generations: HashMap<String, u64>,
    answers: HashMap<Key, (Instant, u64, Arc<GraphAnswer>)>,
}

/// The process's usage answers.
pub struct UsageCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

/// Most answers kept (the cache is emptied when full: it refills in seconds).
const MAX_ANSWERS: usize = 4096;

impl UsageCache {
    /// Answers reused for `ttl` (zero: never).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The organisation's answer to `kind` over `days`, when fresh; else the
    /// generation to hand back to [`UsageCache::put`].
    pub fn get(&self, org: &str, kind: QueryKind, days: i64) -> Result<Arc<GraphAnswer>, u64> {
        let inner = self.lock();
        let generation = inner.generations.get(org).copied().unwrap_or(0);
        match inner.answers.get(&(org.to_string(), kind, days)) {
            Some((at, g, a)) if *g == generation && at.elapsed() < self.ttl => Ok(a.clone()),
            _ => Err(generation),
        }
    }

    /// Keeps `answer`, computed from the executions as of `generation`
    /// (dropped when the organisation ran a tool meanwhile).
    pub fn put(
        &self,
        org: &str,
        kind: QueryKind,
        days: i64,
        generation: u64,
        answer: Arc<GraphAnswer>,
    ) {
        let mut inner = self.lock();
        if inner.generations.get(org).copied().unwrap_or(0) != generation {
            return;
        }
        if inner.answers.len() >= MAX_ANSWERS {
            inner.answers.clear();
        }
        inner.answers.insert(
            (org.to_string(), kind, days),
            (Instant::now(), generation, answer),
        );
    }

    /// `org` ran a tool: its usage answers are stale.
    pub fn executed(&self, org: &str) {
        let mut inner = self.lock();
        *inner.generations.entry(org.to_string()).or_insert(0) += 1;
        inner.answers.retain(|(o, _, _), _| o != org);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_forgets_only_its_organisations_answers() {
        let c = UsageCache::new(Duration::from_secs(60));
        let g = c.get("a", QueryKind::Usage, 30).unwrap_err();
        c.put("a", QueryKind::Usage, 30, g, Arc::default());
        let gb = c.get("b", QueryKind::Usage, 30).unwrap_err();
        c.put("b", QueryKind::Usage, 30, gb, Arc::default());
        assert!(c.get("a", QueryKind::Usage, 30).is_ok());
        assert!(c.get("a", QueryKind::Usage, 7).is_err());
        c.executed("a");
        assert!(c.get("a", QueryKind::Usage, 30).is_err());
        assert!(c.get("b", QueryKind::Usage, 30).is_ok());
        // An answer computed before a run is not kept.
        let stale = c.get("a", QueryKind::Usage, 30).unwrap_err();
        c.executed("a");
        c.put("a", QueryKind::Usage, 30, stale, Arc::default());
        assert!(c.get("a", QueryKind::Usage, 30).is_err());
    }
}
