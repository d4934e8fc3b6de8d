//! Search latency with 100k stored 384-d vectors in one organisation, on a
//! real SQLite store (`bench/search/run`):
//!
//! - vector top-10: the in-memory index's exact scan (after its lazy load);
//! - hybrid: the search service's ranking end to end (full-text query,
//!   query embedding, vector scan, fusion, hits made whole);
//! - query embedding: the local model on one short query.
//!
//! The stored vectors are random unit vectors (embedding 100k texts with the
//! real model would take an hour here; a scan costs the same whatever the
//! values); the message texts are sentences from a small vocabulary so the
//! full-text half matches thousands of rows. The query embedder is the real
//! local model (`PORTAL_EMBEDDER_MODEL_DIR`), so the model id of the stored
//! vectors is its own.

#![cfg_attr(not(feature = "local"), allow(unused))]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(feature = "local")]
use portal_ai::embed::local::LocalEmbedder;
use portal_core::model::{ChatMessage, ChatSession};
use portal_core::search::embed::{normalize, Embedder, Purpose};
use portal_core::search::engine::SearchEngine;
use portal_core::search::vector::Filter;
use portal_core::search::IndexSource;
use portal_core::service::search::{query, ranked, SearchInput};
use portal_core::store::Store;

const WORDS: &[&str] = &[
    "disk",
    "volume",
    "database",
    "replica",
    "latency",
    "restart",
    "instance",
    "billing",
    "network",
    "subnet",
    "certificate",
    "backup",
    "snapshot",
    "login",
    "policy",
    "quota",
    "memory",
    "cpu",
    "alarm",
    "bucket",
    "gateway",
    "route",
    "kernel",
    "patch",
    "deploy",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self, dims: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dims)
            .map(|_| (self.next() % 20_000) as f32 / 10_000.0 - 1.0)
            .collect();
        normalize(&mut v);
        v
    }
}

fn p95(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    (ms(d[d.len() / 2]), ms(d[(d.len() * 95).div_ceil(100) - 1]))
}

#[cfg(not(feature = "local"))]
fn main() {
    eprintln!("build with --features local (bench/search/run does)");
    std::process::exit(2);
}

#[cfg(feature = "local")]
#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_VECTORS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = PathBuf::from(std::env::var("PORTAL_EMBEDDER_MODEL_DIR").expect(
        "PORTAL_EMBEDDER_MODEL_DIR: the local model's folder (bench/search/run fetches it)",
    ));
    let embedder = Arc::new(LocalEmbedder::load(&dir).expect("the local model loads"));
    let dims = embedder.dims();
    let data = tempfile::tempdir().expect("tempdir");
    let env = vec![(
        "PORTAL_DATA_DIR".to_string(),
        data.path().display().to_string(),
    )];
    let settings = portal_core::Settings::load(None, env).expect("settings");
    let store: Arc<dyn Store> = portal_store::open(&settings, true).await.expect("store");

    // One organisation, one user holding all the vectors (the worst case:
    // the index keeps each principal's vectors apart, and a search scans the
    // caller's only), in sessions of 100 messages.
    let t0 = Instant::now();
    let org = store
        .create_org("org-bench", "bench", "Bench", 1)
        .await
        .expect("org");
    let who = "user:bench";
    let mut rng = Rng(0x5eed);
    let mut sources = Vec::with_capacity(n);
    for s in 0..n.div_ceil(100) {
        let sid = format!("session-{s}");
        let session = ChatSession {
            id: sid.clone(),
            org_id: org.id.clone(),
            principal_id: who.into(),
            title: None,
            model: "m".into(),
            status: "active".into(),
            message_count: 0,
            created_at: 1,
            updated_at: 1,
        };
        store.create_chat_session(&session).await.expect("session");
        let msgs: Vec<ChatMessage> = (0..100.min(n - s * 100))
            .map(|i| {
                let words: Vec<&str> = (0..12)
                    .map(|_| WORDS[(rng.next() % WORDS.len() as u64) as usize])
                    .collect();
                ChatMessage {
                    id: format!("m-{s}-{i}"),
                    session_id: sid.clone(),
                    seq: 0,
                    role: "user".into(),
                    content: words.join(" "),
                    meta: None,
                    created_at: 1_000 + (s * 100 + i) as i64,
                }
            })
            .collect();
        let stored = store
            .append_chat_messages(&org.id, &sid, &msgs, 1)
            .await
            .expect("messages");
        for m in stored {
            sources.push(IndexSource {
                index_id: 0,
                message_id: m.id,
                org_id: org.id.clone(),
                principal_id: who.into(),
                session_id: sid.clone(),
                role: m.role,
                content: m.content,
                created_at: m.created_at,
            });
        }
    }
    for src in &sources {
        store
            .put_embeddings(src, embedder.model_id(), &[rng.unit(dims)])
            .await
            .expect("vectors");
    }
    println!(
        "stored {n} messages and {n} {dims}-d vectors in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let engine = SearchEngine::with_embedder(embedder.clone());
    let t1 = Instant::now();
    engine
        .index()
        .catch_up(store.as_ref(), &org.id, embedder.model_id(), dims)
        .await
        .expect("load");
    println!(
        "lazy load of the org's index: {:.0} ms ({} vectors)",
        t1.elapsed().as_secs_f64() * 1000.0,
        engine.index().len(&org.id).await
    );

    let runs = 200;
    let mut vec_t = Vec::new();
    for _ in 0..runs {
        let q = rng.unit(dims);
        let t = Instant::now();
        let top = engine
            .index()
            .nearest(&org.id, who, &q, Filter::default(), 10)
            .await;
        vec_t.push(t.elapsed());
        assert_eq!(top.len(), 10);
    }
    let (m, p) = p95(vec_t);
    println!("vector top-10 ({n} vectors, one user): p50 {m:.2} ms, p95 {p:.2} ms (target ≤ 2 ms)");

    let queries = [
        "disk volume full",
        "replica latency after the restart",
        "certificate renewal",
        "why is the billing so high",
        "backup snapshot of the bucket",
    ];
    let mut emb_t = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        let v = embedder
            .embed(&[queries[i % queries.len()].to_string()], Purpose::Query)
            .await
            .expect("embeds");
        emb_t.push(t.elapsed());
        assert_eq!(v[0].len(), dims);
    }
    let (m, p) = p95(emb_t);
    println!("query embedding (local MiniLM, CPU): p50 {m:.2} ms, p95 {p:.2} ms (target ≤ 15 ms)");

    let mut hy_t = Vec::new();
    for i in 0..runs {
        let text = queries[i % queries.len()];
        let q = query(&SearchInput {
            q: text,
            ..Default::default()
        })
        .expect("query");
        let t = Instant::now();
        let found = ranked(store.as_ref(), &engine, &org.id, who, text, &q)
            .await
            .expect("search");
        hy_t.push(t.elapsed());
        assert!(!found.hits.is_empty());
    }
    let (m, p) = p95(hy_t);
    println!("hybrid search (full-text + embedding + vector + fusion + hits): p50 {m:.2} ms, p95 {p:.2} ms (target ≤ 15 ms)");
}
