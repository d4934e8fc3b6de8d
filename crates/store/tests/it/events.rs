//! The storage contract for events, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ids::OrgId;
#[allow(unused_imports)]
use support::contract::*;

contract! {
    store: [
        check_events,
    ],
    db: [
        check_events_concurrent_appends_are_seen_in_order,
        check_events_cascade_and_ids_never_reused,
    ],
}

async fn check_events(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    assert!(s.list_events(&o1.id, 0, 100).await.unwrap().is_empty());
    assert!(s.undelivered_events(100).await.unwrap().is_empty());
    assert_conflict(
        s.append_event(&OrgId::from("no-such-org"), "tool.executed", "{}", 1)
            .await,
    );

    // Interleaved appends for two organisations: ids increase globally.
    let mut ids = Vec::new();
    for (i, org) in ["o1", "o2", "o1", "o1", "o2", "o1"].iter().enumerate() {
        let payload = format!("{{\"n\":{i}}}");
        ids.push(
            s.append_event(
                &OrgId::from(*org),
                &format!("kind.{i}"),
                &payload,
                100 + i as i64,
            )
            .await
            .unwrap(),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // Tenancy: each organisation sees only its own, oldest first, with every field.
    let mine = s.list_events(&o1.id, 0, 100).await.unwrap();
    assert_eq!(event_ids(&mine), vec![ids[0], ids[2], ids[3], ids[5]]);
    assert_eq!(
        mine[1],
        Event {
            id: ids[2],
            org_id: o1.id.clone(),
            kind: "kind.2".into(),
            payload: "{\"n\":2}".into(),
            created_at: 102,
            delivered_at: None,
        }
    );
    let theirs = s.list_events(&o2.id, 0, 100).await.unwrap();
    assert_eq!(event_ids(&theirs), vec![ids[1], ids[4]]);
    assert!(theirs.iter().all(|e| e.org_id == o2.id));
    assert!(s
        .list_events(&OrgId::from("no-such-org"), 0, 100)
        .await
        .unwrap()
        .is_empty());

    // after and limit page through in order.
    let page = s.list_events(&o1.id, ids[0], 2).await.unwrap();
    assert_eq!(event_ids(&page), vec![ids[2], ids[3]]);
    let page = s.list_events(&o1.id, ids[3], 2).await.unwrap();
    assert_eq!(event_ids(&page), vec![ids[5]]);
    assert!(s.list_events(&o1.id, ids[5], 2).await.unwrap().is_empty());
    // A cursor taken from another org's id still works (ids are global).
    let page = s.list_events(&o1.id, ids[4], 100).await.unwrap();
    assert_eq!(event_ids(&page), vec![ids[5]]);

    // The dispatcher's queue: every org, oldest first.
    assert_eq!(event_ids(&s.undelivered_events(100).await.unwrap()), ids);
    assert_eq!(
        event_ids(&s.undelivered_events(2).await.unwrap()),
        ids[..2].to_vec()
    );
    assert_eq!(s.mark_events_delivered(&[], 500).await.unwrap(), 0);
    assert_eq!(
        s.mark_events_delivered(&[ids[0], ids[1], ids[1], 9_999_999], 500)
            .await
            .unwrap(),
        2,
        "unknown and repeated ids are not counted"
    );
    assert_eq!(
        s.mark_events_delivered(&[ids[0], ids[2]], 600)
            .await
            .unwrap(),
        1,
        "an already delivered event is left alone"
    );
    assert_eq!(
        event_ids(&s.undelivered_events(100).await.unwrap()),
        vec![ids[3], ids[4], ids[5]]
    );
    let mine = s.list_events(&o1.id, 0, 100).await.unwrap();
    let delivered: Vec<Option<i64>> = mine.iter().map(|e| e.delivered_at).collect();
    assert_eq!(delivered, vec![Some(500), Some(600), None, None]);
}

/// Appends racing on many connections get distinct ids, and a poller following
/// with `after` while they run misses none of them: ids become visible in order.
async fn check_events_concurrent_appends_are_seen_in_order(db: &TestDb) {
    let s = db.store();
    mk_org(s, "busy").await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let store = db.store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut cursor = 0;
            loop {
                // Read the flag first: a read after it was set sees every append.
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let batch = store
                    .list_events(&OrgId::from("busy"), cursor, 1000)
                    .await
                    .expect("poll");
                if let Some(last) = batch.last() {
                    cursor = last.id;
                }
                seen.extend(event_ids(&batch));
                if finished && batch.is_empty() {
                    return seen;
                }
            }
        })
    };
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let store = db.store.clone();
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..10 {
                let payload = format!("{{\"t\":{t},\"i\":{i}}}");
                ids.push(
                    store
                        .append_event(&OrgId::from("busy"), "load", &payload, i)
                        .await
                        .expect("append"),
                );
            }
            ids
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let ids = r.expect("task");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        all.extend(ids);
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 80, "distinct ids");
    let seen = poller.await.expect("poller");
    assert_eq!(seen, all, "the poller saw every event once, in id order");
}

/// Removing an organisation removes its events (orgs are not deleted through
/// the store today, so this deletes the row directly), and ids of removed
/// events are never handed out again: a poller past them would miss new ones.
async fn check_events_cascade_and_ids_never_reused(db: &TestDb) {
    let s = db.store();
    let keep = mk_org(s, "keep").await;
    mk_org(s, "gone").await;
    let kept = s
        .append_event(&OrgId::from("keep"), "k", "{}", 1)
        .await
        .unwrap();
    let mut top = 0;
    for _ in 0..3 {
        top = s
            .append_event(&OrgId::from("gone"), "g", "{}", 2)
            .await
            .unwrap();
    }
    let sql = "DELETE FROM organizations WHERE id = 'gone'";
    match &db.raw {
        Raw::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
            assert_eq!(c.execute(sql, []).unwrap(), 1);
        }
        Raw::Postgres(url) => {
            assert_eq!(pg_client(url).await.execute(sql, &[]).await.unwrap(), 1);
        }
    }
    assert!(s
        .list_events(&OrgId::from("gone"), 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        event_ids(&s.undelivered_events(100).await.unwrap()),
        vec![kept]
    );
    let next = s.append_event(&keep.id, "k", "{}", 3).await.unwrap();
    assert!(
        next > top,
        "id {next} reused (removed ids went up to {top})"
    );
    assert_eq!(
        event_ids(&s.list_events(&keep.id, 0, 100).await.unwrap()),
        vec![kept, next]
    );
}
