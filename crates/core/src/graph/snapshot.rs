//! Short-lived tenancy snapshots: the resource graph of what an organisation
//! may see, read once and shared for a few seconds by every graph query and
//! approval impact of that organisation. Concurrent requests wait for one
//! read (single flight) instead of each making ~15 cloud calls.
//!
//! Why per organisation: what the reads return depends only on the
//! organisation's compartment assignment (the runner is confined to it), so
//! the snapshot is keyed by the organisation *and* that assignment — a changed
//! assignment is a different key, never a stale answer. The caller's own
//! permission (`tools:execute`) is checked by [`super::read::Cloud::graph`]
//! before anything is served from here.
//!
//! Any tool that may change the cloud forgets every snapshot (the gateway
//! calls [`Snapshots::invalidate`]): organisations may share compartments,
//! and a re-read is cheap next to a wrong blast radius. Changes made outside
//! this process (another replica, the console) show within the TTL.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::resources::{Inventory, ResourceGraph};
use super::usage_cache::UsageCache;
use crate::error::CoreResult;

/// Most organisations' snapshots kept at once (the oldest goes first).
const MAX_ORGS: usize = 1000;

/// One organisation's last snapshot.
struct Taken {
    at: Instant,
    generation: u64,
    allowed: Vec<String>,
    graph: Arc<ResourceGraph>,
}

/// One organisation's slot: its lock is the single flight.
#[derive(Default)]
struct Slot {
    cell: tokio::sync::Mutex<Option<Taken>>,
    used: Mutex<Option<Instant>>,
}

/// The process's tenancy snapshots.
pub struct Snapshots {
    ttl: Duration,
    generation: AtomicU64,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    reads: AtomicU64,
    /// Usage answers, for the same TTL.
    pub usage: UsageCache,
}

impl Snapshots {
    /// Snapshots reused for `ttl` (zero: every request reads afresh, still
    /// one read at a time per organisation).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            slots: Mutex::new(HashMap::new()),
            reads: AtomicU64::new(0),
            usage: UsageCache::new(ttl),
        }
    }

    /// How long a snapshot is reused.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many times the cloud was read for a snapshot (metrics, tests).
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// The cloud may have changed: every snapshot is read afresh next time
    /// (a read under way when this is called is not kept either).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn slot(&self, org: &str) -> Arc<Slot> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !slots.contains_key(org) && slots.len() >= MAX_ORGS {
            let oldest = slots
                .iter()
                .min_by_key(|(_, s)| *s.used.lock().unwrap_or_else(|e| e.into_inner()))
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                slots.remove(&k);
            }
        }
        let slot = slots.entry(org.to_string()).or_default().clone();
        *slot.used.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        slot
    }

    /// The resource graph of `org` as assigned `allowed`: the snapshot when
    /// it is fresh, else what `read` returns (one caller reads, the others
    /// wait for it). A failed read is not kept.
    pub async fn get<F, Fut>(
        &self,
        org: &str,
        allowed: &[String],
        read: F,
    ) -> CoreResult<Arc<ResourceGraph>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = CoreResult<Inventory>>,
    {
        let slot = self.slot(org);
        let mut cell = slot.cell.lock().await;
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(t) = cell.as_ref().filter(|t| {
            t.generation == generation && t.allowed == allowed && t.at.elapsed() < self.ttl
        }) {
            return Ok(t.graph.clone());
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        let inventory = read().await?;
        let graph = Arc::new(ResourceGraph::build(&inventory));
        *cell = Some(Taken {
            at: Instant::now(),
            generation,
            allowed: allowed.to_vec(),
            graph: graph.clone(),
        });
        Ok(graph)
    }
}

impl Default for Snapshots {
    fn default() -> Self {
        Self::new(DEFAULT_TTL)
    }
}

/// How long a snapshot is reused unless configured.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::AtomicUsize;

    fn inv(vcn: &str) -> Inventory {
        Inventory {
            vcns: vec![json!({"id": vcn, "displayName": vcn})],
            ..Inventory::default()
        }
    }

    #[tokio::test]
    async fn one_read_per_ttl_per_organisation_and_assignment() {
        let s = Snapshots::new(Duration::from_secs(60));
        let n = AtomicUsize::new(0);
        let read = |v: &'static str| {
            let n = &n;
            move || async move {
                n.fetch_add(1, Ordering::SeqCst);
                Ok(inv(v))
            }
        };
        let all = vec!["t".to_string()];
        let a = s.get("a", &all, read("ocid1.vcn.a")).await.unwrap();
        let again = s.get("a", &all, read("ocid1.vcn.x")).await.unwrap();
        assert!(a.find("ocid1.vcn.a").is_some() && again.find("ocid1.vcn.a").is_some());
        assert_eq!(n.load(Ordering::SeqCst), 1);
        // Another organisation, or another assignment, reads its own.
        let b = s.get("b", &all, read("ocid1.vcn.b")).await.unwrap();
        assert!(b.find("ocid1.vcn.a").is_none());
        let narrowed = s.get("a", &[], read("ocid1.vcn.n")).await.unwrap();
        assert!(narrowed.find("ocid1.vcn.n").is_some());
        assert_eq!(n.load(Ordering::SeqCst), 3);
        // A change forgets them all.
        s.invalidate();
        let fresh = s.get("b", &all, read("ocid1.vcn.c")).await.unwrap();
        assert!(fresh.find("ocid1.vcn.c").is_some());
        assert_eq!(s.reads(), 4);
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_read_and_failures_are_not_kept() {
        let s = Snapshots::new(Duration::from_secs(60));
        let n = AtomicUsize::new(0);
        let read = || async {
            n.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(inv("ocid1.vcn.a"))
        };
        let (x, y, z) = tokio::join!(
            s.get("a", &[], read),
            s.get("a", &[], read),
            s.get("a", &[], read)
        );
        assert!(x.is_ok() && y.is_ok() && z.is_ok());
        assert_eq!(n.load(Ordering::SeqCst), 1);

        let failing = || async { Err(crate::error::CoreError::Upstream("down".into())) };
        s.invalidate();
        assert!(s.get("a", &[], failing).await.is_err());
        s.get("a", &[], read).await.unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 2, "the failure was not kept");
    }
}
