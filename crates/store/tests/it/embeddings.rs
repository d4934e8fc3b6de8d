//! The storage contract for the stored vectors (migration 0020), checked
//! identically on every backend: bytes round-trip, per-organisation
//! sequence numbers only grow, replacing a message's vectors, the backfill's
//! pages, the indexing job queued with the messages, and deletion with the
//! session.

use crate::support;

use portal_core::ids::{OrgId, SessionId};
use portal_core::jobs::JobKind;
use portal_core::search::IndexSource;
#[allow(unused_imports)]
use support::contract::*;

contract! {
    store: [
        check_vectors_round_trip_in_sequence,
        check_backfill_pages_and_replacement,
    ],
    db: [
        check_vectors_go_with_their_session_and_jobs_with_their_messages,
    ],
}

async fn chat_with(s: &dyn Store, org: &str, who: &str, id: &str, messages: &[(&str, &str, &str)]) {
    s.create_chat_session(&chat_session(id, org, who, 10))
        .await
        .unwrap();
    let ms: Vec<ChatMessage> = messages
        .iter()
        .zip(1..)
        .map(|((mid, role, content), i)| msg(mid, role, content, i * 100))
        .collect();
    s.append_chat_messages(&OrgId::from(org), &SessionId::from(id), &ms, 5)
        .await
        .unwrap();
}

async fn source(s: &dyn Store, org: &str, id: &str) -> IndexSource {
    let mut v = s
        .index_sources(&OrgId::from(org), &[id.to_string()])
        .await
        .unwrap();
    assert_eq!(v.len(), 1, "{id}: {v:?}");
    v.remove(0)
}

async fn check_vectors_round_trip_in_sequence(s: &dyn Store) {
    let o = mk_org(s, "o1").await;
    let other = mk_org(s, "o2").await;
    chat_with(
        s,
        &o.id,
        ALICE,
        "c1",
        &[("m1", "user", "disk full"), ("m2", "summary", "x")],
    )
    .await;
    chat_with(s, &other.id, "user:bob", "c2", &[("n1", "user", "quota")]).await;
    // Summaries are not indexed; another org's message is not a source here.
    assert!(s
        .index_sources(&o.id, &["m2".into(), "n1".into()])
        .await
        .unwrap()
        .is_empty());
    let m1 = source(s, &o.id, "m1").await;
    assert_eq!(
        (
            m1.principal_id.as_str(),
            m1.session_id.as_str(),
            m1.role.as_str()
        ),
        (ALICE, "c1", "user")
    );
    assert_eq!(m1.content, "disk full");
    let v = vec![vec![0.25f32, -0.5, 1.0e-7], vec![1.0, 0.0, -1.0]];
    s.put_embeddings(&m1, "model-a", &v).await.unwrap();
    s.put_embeddings(
        &source(s, &other.id, "n1").await,
        "model-a",
        &[vec![9.0, 9.0, 9.0]],
    )
    .await
    .unwrap();
    let got = s.embeddings_since(&o.id, "model-a", 0, 100).await.unwrap();
    assert_eq!(got.len(), 2, "only this org's: {got:?}");
    assert_eq!((got[0].chunk, got[1].chunk), (0, 1));
    assert_eq!(got[0].vector, v[0], "exact f32 round trip");
    assert_eq!(got[1].vector, v[1]);
    assert!(got[0].seq < got[1].seq);
    assert_eq!(got[0].message_id, "m1");
    assert!(s
        .embeddings_since(&o.id, "model-b", 0, 100)
        .await
        .unwrap()
        .is_empty());
    // Replacing takes new, larger sequence numbers; paging by seq sees them.
    let last = got[1].seq;
    s.put_embeddings(&m1, "model-a", &[vec![0.0, 1.0, 0.0]])
        .await
        .unwrap();
    let newer = s
        .embeddings_since(&o.id, "model-a", last, 100)
        .await
        .unwrap();
    assert_eq!(newer.len(), 1);
    assert!(newer[0].seq > last);
    assert_eq!(
        s.embeddings_since(&o.id, "model-a", 0, 100)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.embeddings_since(&o.id, "model-a", 0, 1)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn check_backfill_pages_and_replacement(s: &dyn Store) {
    let o = mk_org(s, "o1").await;
    let msgs: Vec<(String, &str, String)> = (0..5)
        .map(|i| (format!("m{i}"), "user", format!("text {i}")))
        .collect();
    let refs: Vec<(&str, &str, &str)> = msgs
        .iter()
        .map(|(a, b, c)| (a.as_str(), *b, c.as_str()))
        .collect();
    chat_with(s, &o.id, ALICE, "c1", &refs).await;
    assert_eq!(s.count_unembedded("m").await.unwrap(), 5);
    let page = s.unembedded("m", 0, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    let rest = s.unembedded("m", page[1].index_id, 10).await.unwrap();
    assert_eq!(rest.len(), 3, "the cursor pages on");
    for src in page.iter().chain(&rest) {
        s.put_embeddings(src, "m", &[vec![1.0]]).await.unwrap();
    }
    assert_eq!(s.count_unembedded("m").await.unwrap(), 0);
    // A new model: every message is to embed again; embedding replaces the old model's rows.
    assert_eq!(s.count_unembedded("m2").await.unwrap(), 5);
    s.put_embeddings(&rest[0], "m2", &[vec![2.0]])
        .await
        .unwrap();
    assert_eq!(s.count_unembedded("m2").await.unwrap(), 4);
    assert_eq!(s.count_unembedded("m").await.unwrap(), 1);
}

async fn check_vectors_go_with_their_session_and_jobs_with_their_messages(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    chat_with(
        s,
        &o.id,
        ALICE,
        "c1",
        &[("a1", "user", "quota exceeded"), ("a2", "summary", "s")],
    )
    .await;
    chat_with(s, &o.id, ALICE, "c2", &[("b1", "user", "quota raised")]).await;
    // Each append queued one indexing job naming its indexable messages.
    let jobs = raw_count(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'search.index'").await;
    assert_eq!(jobs, 2);
    assert_eq!(JobKind::parse("search.index"), Some(JobKind::SearchIndex));
    for id in ["a1", "b1"] {
        s.put_embeddings(&source(s, &o.id, id).await, "m", &[vec![1.0, 0.0]])
            .await
            .unwrap();
    }
    assert_eq!(raw_count(db, "SELECT COUNT(*) FROM embeddings").await, 2);
    assert!(s
        .delete_chat_session(&o.id, ALICE, &SessionId::from("c1"))
        .await
        .unwrap());
    assert_eq!(raw_count(db, "SELECT COUNT(*) FROM embeddings").await, 1);
    let left = s.embeddings_since(&o.id, "m", 0, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].message_id, "b1");
}
