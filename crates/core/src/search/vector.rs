//! The in-memory vector index: per organisation, loaded from the database
//! (the source of truth) on its first search and caught up by the
//! organisation's monotonic `seq` before every search. An exact scan over
//! the caller's own vectors (they are kept apart per principal, so a search
//! reads nothing else); empty, costing no memory, until search is used.
//!
//! Rows deleted in the database (a deleted session) stay in memory until the
//! process restarts, but every hit is made whole by a query that checks it
//! still exists and is the caller's, so they are never shown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::RwLock;

use crate::store::{SearchRepo, StoreResult};

use super::StoredVector;

/// Rows read per catch-up query.
const PAGE: i64 = 5_000;

/// The filters a vector search keeps (the caller is the shard).
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// Only this session.
    pub session_id: Option<&'a str>,
    /// Only this role.
    pub role: Option<&'a str>,
    /// Created at or after (epoch ms).
    pub from: Option<i64>,
    /// Created before (epoch ms).
    pub to: Option<i64>,
}

struct Meta {
    message_id: Arc<str>,
    session_id: Arc<str>,
    role: &'static str,
    created_at: i64,
}

/// One principal's vectors: metadata and one flat array of floats.
#[derive(Default)]
struct Shard {
    meta: Vec<Meta>,
    data: Vec<f32>,
    slots: HashMap<(Arc<str>, i64), usize>,
}

#[derive(Default)]
struct OrgIndex {
    model: String,
    dims: usize,
    last_seq: i64,
    shards: HashMap<String, Shard>,
}

fn role(s: &str) -> &'static str {
    match s {
        "user" => "user",
        "assistant" => "assistant",
        _ => "tool",
    }
}

impl OrgIndex {
    fn apply(&mut self, rows: Vec<StoredVector>) {
        for r in rows {
            self.last_seq = self.last_seq.max(r.seq);
            if r.vector.len() != self.dims {
                continue;
            }
            let shard = self.shards.entry(r.principal_id).or_default();
            let id: Arc<str> = Arc::from(r.message_id);
            let meta = Meta {
                message_id: id.clone(),
                session_id: Arc::from(r.session_id),
                role: role(&r.role),
                created_at: r.created_at,
            };
            match shard.slots.get(&(id.clone(), r.chunk)) {
                Some(&i) => {
                    shard.data[i * self.dims..(i + 1) * self.dims].copy_from_slice(&r.vector);
                    shard.meta[i] = meta;
                }
                None => {
                    shard.slots.insert((id, r.chunk), shard.meta.len());
                    shard.meta.push(meta);
                    shard.data.extend_from_slice(&r.vector);
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.shards.values().map(|s| s.meta.len()).sum()
    }
}

/// The dot product (the cosine, for unit vectors), in eight lanes the
/// compiler vectorises.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Shards at least this large are scanned on the blocking pool.
const BLOCKING_SCAN: usize = 4_096;

struct OwnedFilter {
    session_id: Option<String>,
    role: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
}

impl OwnedFilter {
    fn of(f: Filter<'_>) -> Self {
        Self {
            session_id: f.session_id.map(str::to_owned),
            role: f.role.map(str::to_owned),
            from: f.from,
            to: f.to,
        }
    }

    fn borrow(&self) -> Filter<'_> {
        Filter {
            session_id: self.session_id.as_deref(),
            role: self.role.as_deref(),
            from: self.from,
            to: self.to,
        }
    }
}

/// The exact scan behind [`VectorIndex::nearest`].
fn scan(
    ix: &OrgIndex,
    principal_id: &str,
    query: &[f32],
    filter: Filter<'_>,
    k: usize,
) -> Vec<(String, f32)> {
    let Some(shard) = ix.shards.get(principal_id) else {
        return Vec::new();
    };
    if query.len() != ix.dims || k == 0 {
        return Vec::new();
    }
    let keep = |m: &Meta| {
        filter.session_id.is_none_or(|s| *m.session_id == *s)
            && filter.role.is_none_or(|r| m.role == r)
            && filter.from.is_none_or(|f| m.created_at >= f)
            && filter.to.is_none_or(|t| m.created_at < t)
    };
    let mut scored: Vec<(f32, usize)> = shard
        .meta
        .iter()
        .enumerate()
        .filter(|(_, m)| keep(m))
        .map(|(i, _)| (dot(query, &shard.data[i * ix.dims..(i + 1) * ix.dims]), i))
        .collect();
    let by_score = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0);
    // Chunks of one message compete; a few times k chunks hold k messages.
    let want = (k * 4).min(scored.len());
    if want < scored.len() && want > 0 {
        scored.select_nth_unstable_by(want - 1, by_score);
        scored.truncate(want);
    }
    scored.sort_unstable_by(by_score);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(k);
    for (score, i) in scored {
        let id = &shard.meta[i].message_id;
        if seen.insert(id.clone()) {
            out.push((id.to_string(), score));
            if out.len() == k {
                break;
            }
        }
    }
    out
}

/// Every replica's per-organisation copies of the stored vectors.
#[derive(Default)]
pub struct VectorIndex {
    orgs: Mutex<HashMap<String, Arc<RwLock<OrgIndex>>>>,
}

impl VectorIndex {
    /// An empty index (nothing is loaded until a search asks).
    pub fn new() -> Self {
        Self::default()
    }

    fn org(&self, org_id: &crate::ids::OrgId) -> Arc<RwLock<OrgIndex>> {
        let mut orgs = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        orgs.entry(org_id.to_string()).or_default().clone()
    }

    /// Brings the organisation's copy up to the database's latest `seq` for
    /// `model` (all of it on first use, or after a model change).
    pub async fn catch_up(
        &self,
        store: &dyn SearchRepo,
        org_id: &crate::ids::OrgId,
        model: &str,
        dims: usize,
    ) -> StoreResult<()> {
        let org = self.org(org_id);
        loop {
            let after = {
                let ix = org.read().await;
                (ix.model == model && ix.dims == dims).then_some(ix.last_seq)
            };
            let after = match after {
                Some(a) => a,
                None => {
                    let mut ix = org.write().await;
                    if ix.model != model || ix.dims != dims {
                        *ix = OrgIndex {
                            model: model.to_string(),
                            dims,
                            ..OrgIndex::default()
                        };
                    }
                    ix.last_seq
                }
            };
            let rows = store.embeddings_since(org_id, model, after, PAGE).await?;
            let full = rows.len() as i64 == PAGE;
            if !rows.is_empty() {
                let mut ix = org.write().await;
                if ix.model == model && ix.last_seq == after {
                    ix.apply(rows);
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// The principal's `k` messages nearest to `query` (best chunk each),
    /// best first, with their similarity, within `filter`. A large scan runs
    /// on the blocking pool, off the async threads.
    pub async fn nearest(
        &self,
        org_id: &crate::ids::OrgId,
        principal_id: &str,
        query: &[f32],
        filter: Filter<'_>,
        k: usize,
    ) -> Vec<(String, f32)> {
        let ix = self.org(org_id).read_owned().await;
        let size = ix.shards.get(principal_id).map_or(0, |s| s.meta.len());
        if size < BLOCKING_SCAN {
            return scan(&ix, principal_id, query, filter, k);
        }
        let (who, q) = (principal_id.to_string(), query.to_vec());
        let owned = OwnedFilter::of(filter);
        tokio::task::spawn_blocking(move || scan(&ix, &who, &q, owned.borrow(), k))
            .await
            .unwrap_or_default()
    }

    /// Vectors held for the organisation (0 before its first search).
    pub async fn len(&self, org_id: &crate::ids::OrgId) -> usize {
        let org = {
            let orgs = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
            orgs.get(org_id.as_str()).cloned()
        };
        match org {
            Some(o) => o.read().await.len(),
            None => 0,
        }
    }

    /// Organisations loaded (0 until search is first used).
    pub fn loaded(&self) -> usize {
        self.orgs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, who: &str, msg: &str, chunk: i64, v: [f32; 2]) -> StoredVector {
        StoredVector {
            seq,
            principal_id: who.into(),
            session_id: "s".into(),
            message_id: msg.into(),
            chunk,
            role: "user".into(),
            created_at: seq,
            vector: v.to_vec(),
        }
    }

    #[tokio::test]
    async fn nearest_keeps_to_the_principal_and_the_best_chunk() {
        let ix = VectorIndex::new();
        let org = ix.org(&"o".into());
        {
            let mut o = org.write().await;
            o.model = "m".into();
            o.dims = 2;
            o.apply(vec![
                row(1, "alice", "a1", 0, [1.0, 0.0]),
                row(2, "alice", "a1", 1, [0.0, 1.0]),
                row(3, "alice", "a2", 0, [0.6, 0.8]),
                row(4, "bob", "b1", 0, [1.0, 0.0]),
                // A re-embedded chunk replaces its slot.
                row(5, "alice", "a2", 0, [0.8, 0.6]),
            ]);
            assert_eq!(o.last_seq, 5);
        }
        let got = ix
            .nearest(&"o".into(), "alice", &[1.0, 0.0], Filter::default(), 10)
            .await;
        let ids: Vec<&str> = got.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(ids, vec!["a1", "a2"]);
        assert!((got[1].1 - 0.8).abs() < 1e-6);
        assert_eq!(ix.len(&"o".into()).await, 4);
        let none = ix
            .nearest(&"o".into(), "carol", &[1.0, 0.0], Filter::default(), 10)
            .await;
        assert!(none.is_empty());
        let later = Filter {
            from: Some(3),
            ..Filter::default()
        };
        let got = ix
            .nearest(&"o".into(), "alice", &[1.0, 0.0], later, 10)
            .await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "a2");
        assert!((dot(&[1.0; 11], &[2.0; 11]) - 22.0).abs() < 1e-6);
    }
}
