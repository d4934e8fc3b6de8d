//! The storage contract for chat sessions, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;
use portal_core::ids::SessionId;

#[allow(unused_imports)]
use support::contract::*;

contract! {
    store: [
        check_chat_sessions,
        check_chat_messages,
    ],
    db: [
        check_chat_messages_concurrent,
        check_chat_cascade,
    ],
}

async fn check_chat_sessions(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    let (alice, bob) = ("user:alice", "key:bob");

    let c1 = chat_session("c1", &o1.id, alice, 100);
    let c2 = chat_session("c2", &o1.id, alice, 300);
    let mut c3 = chat_session("c3", &o1.id, alice, 200);
    c3.title = None;
    c3.status = "completed".into();
    let c4 = chat_session("c4", &o1.id, alice, 200);
    for c in [&c1, &c2, &c3, &c4] {
        s.create_chat_session(c).await.unwrap();
    }
    s.create_chat_session(&chat_session("b1", &o1.id, bob, 500))
        .await
        .unwrap();
    s.create_chat_session(&chat_session("x1", &o2.id, alice, 500))
        .await
        .unwrap();
    assert_conflict(
        s.create_chat_session(&chat_session("c1", &o1.id, alice, 1))
            .await,
    );
    assert_conflict(
        s.create_chat_session(&chat_session("c9", "no-such-org", alice, 1))
            .await,
    );

    // Newest first (ties by id), scoped to organisation and principal.
    let page = s.list_chat_sessions(&o1.id, alice, 50, 0).await.unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(
        page.items,
        vec![c2.clone(), c3.clone(), c4.clone(), c1.clone()]
    );
    assert!(page.items.iter().all(|c| c.message_count == 0));
    let page = s.list_chat_sessions(&o1.id, alice, 2, 1).await.unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(page.items, vec![c3.clone(), c4.clone()]);
    let page = s.list_chat_sessions(&o1.id, alice, 10, 10).await.unwrap();
    assert_eq!((page.total, page.items.len()), (4, 0));
    let ids = |p: Page<ChatSession>| {
        (
            p.total,
            p.items
                .into_iter()
                .map(|c| c.id.into_string())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        ids(s.list_chat_sessions(&o1.id, bob, 50, 0).await.unwrap()),
        (1, vec!["b1".to_string()])
    );
    assert_eq!(
        ids(s.list_chat_sessions(&o2.id, alice, 50, 0).await.unwrap()),
        (1, vec!["x1".to_string()])
    );
    assert_eq!(
        ids(s.list_chat_sessions(&o2.id, bob, 50, 0).await.unwrap()),
        (0, vec![])
    );

    // Get, scoped.
    assert_eq!(
        s.get_chat_session(&o1.id, alice, &SessionId::from("c1"))
            .await
            .unwrap(),
        Some(c1.clone())
    );
    assert_eq!(
        s.get_chat_session(&o1.id, alice, &SessionId::from("c3"))
            .await
            .unwrap(),
        Some(c3.clone())
    );
    assert!(s
        .get_chat_session(&o2.id, alice, &SessionId::from("c1"))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .get_chat_session(&o1.id, bob, &SessionId::from("c1"))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .get_chat_session(&o1.id, alice, &SessionId::from("nope"))
        .await
        .unwrap()
        .is_none());

    // Rename, scoped; it counts as an update.
    assert!(!s
        .rename_chat_session(&o2.id, alice, &SessionId::from("c1"), Some("Hijack"), 900)
        .await
        .unwrap());
    assert!(!s
        .rename_chat_session(&o1.id, bob, &SessionId::from("c1"), Some("Hijack"), 900)
        .await
        .unwrap());
    assert!(!s
        .rename_chat_session(&o1.id, alice, &SessionId::from("nope"), Some("X"), 900)
        .await
        .unwrap());
    assert!(s
        .rename_chat_session(
            &o1.id,
            alice,
            &SessionId::from("c1"),
            Some("Renamed"),
            1_000
        )
        .await
        .unwrap());
    let got = s
        .get_chat_session(&o1.id, alice, &SessionId::from("c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.title.as_deref(), got.updated_at),
        (Some("Renamed"), 1_000)
    );
    assert_eq!(
        ids(s.list_chat_sessions(&o1.id, alice, 1, 0).await.unwrap()),
        (4, vec!["c1".to_string()])
    );
    assert!(s
        .rename_chat_session(&o1.id, alice, &SessionId::from("c1"), None, 1_100)
        .await
        .unwrap());
    assert!(s
        .get_chat_session(&o1.id, alice, &SessionId::from("c1"))
        .await
        .unwrap()
        .unwrap()
        .title
        .is_none());

    // Delete, scoped.
    assert!(!s
        .delete_chat_session(&o2.id, alice, &SessionId::from("c1"))
        .await
        .unwrap());
    assert!(!s
        .delete_chat_session(&o1.id, bob, &SessionId::from("c1"))
        .await
        .unwrap());
    assert!(s
        .delete_chat_session(&o1.id, alice, &SessionId::from("c1"))
        .await
        .unwrap());
    assert!(!s
        .delete_chat_session(&o1.id, alice, &SessionId::from("c1"))
        .await
        .unwrap());
    assert!(s
        .get_chat_session(&o1.id, alice, &SessionId::from("c1"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.list_chat_sessions(&o1.id, alice, 50, 0)
            .await
            .unwrap()
            .total,
        3
    );
    assert!(s
        .get_chat_session(&o1.id, bob, &SessionId::from("b1"))
        .await
        .unwrap()
        .is_some());
}

async fn check_chat_messages(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    mk_chat(s, "c1", &o1.id).await;
    mk_chat(s, "c2", &o1.id).await;
    mk_chat(s, "x1", &o2.id).await;

    // Seq is assigned by the store, per session, continuing across appends.
    let mut m2 = msg("m2", "assistant", "Hi", 21);
    m2.meta =
        Some(r#"{"toolCalls":[{"id":"tc1","name":"listInstances","arguments":"{}"}]}"#.into());
    let first = s
        .append_chat_messages(
            &o1.id,
            &SessionId::from("c1"),
            &[msg("m1", "user", "Hello", 20), m2],
            500,
        )
        .await
        .unwrap();
    assert_eq!(seqs_of(&first, |m| m.seq), vec![1, 2]);
    assert!(first.iter().all(|m| m.session_id == "c1"));
    assert_eq!(
        first[1].meta.as_deref(),
        Some(r#"{"toolCalls":[{"id":"tc1","name":"listInstances","arguments":"{}"}]}"#)
    );
    let second = s
        .append_chat_messages(
            &o1.id,
            &SessionId::from("c1"),
            &[msg("m3", "tool", "[]", 22)],
            600,
        )
        .await
        .unwrap();
    assert_eq!(second[0].seq, 3);
    let other = s
        .append_chat_messages(
            &o1.id,
            &SessionId::from("c2"),
            &[msg("n1", "user", "Other", 30)],
            550,
        )
        .await
        .unwrap();
    assert_eq!(other[0].seq, 1);

    // Tenancy: another organisation's session is not found, and not listed.
    assert_not_found(
        s.append_chat_messages(
            &o2.id,
            &SessionId::from("c1"),
            &[msg("evil", "user", "x", 1)],
            700,
        )
        .await,
    );
    assert_not_found(
        s.append_chat_messages(
            &o1.id,
            &SessionId::from("nope"),
            &[msg("m9", "user", "x", 1)],
            700,
        )
        .await,
    );
    assert_not_found(
        s.append_chat_messages(&o2.id, &SessionId::from("c1"), &[], 700)
            .await,
    );
    assert!(s
        .append_chat_messages(&o1.id, &SessionId::from("c1"), &[], 700)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .list_chat_messages(&o2.id, &SessionId::from("c1"), 0, 100)
        .await
        .unwrap()
        .is_empty());

    // Listing: oldest first, `after` exclusive, `limit` honoured.
    let all = s
        .list_chat_messages(&o1.id, &SessionId::from("c1"), 0, 100)
        .await
        .unwrap();
    let expected: Vec<ChatMessage> = first.iter().chain(&second).cloned().collect();
    assert_eq!(all, expected);
    assert_eq!(
        seqs_of(
            &s.list_chat_messages(&o1.id, &SessionId::from("c1"), 1, 100)
                .await
                .unwrap(),
            |m| m.seq
        ),
        vec![2, 3]
    );
    assert_eq!(
        seqs_of(
            &s.list_chat_messages(&o1.id, &SessionId::from("c1"), 1, 1)
                .await
                .unwrap(),
            |m| m.seq
        ),
        vec![2]
    );
    assert!(s
        .list_chat_messages(&o1.id, &SessionId::from("c1"), 3, 100)
        .await
        .unwrap()
        .is_empty());

    // The session's counter and update time follow the appends.
    let c1 = s
        .get_chat_session(&o1.id, ALICE, &SessionId::from("c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c1.message_count, c1.updated_at), (3, 600));
    let c2 = s
        .get_chat_session(&o1.id, ALICE, &SessionId::from("c2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c2.message_count, c2.updated_at), (1, 550));
    let x1 = s
        .get_chat_session(&o2.id, ALICE, &SessionId::from("x1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((x1.message_count, x1.updated_at), (0, 10));

    // A failing batch stores nothing of itself.
    assert_conflict(
        s.append_chat_messages(
            &o1.id,
            &SessionId::from("c1"),
            &[msg("m4", "user", "new", 40), msg("m1", "user", "dup", 41)],
            800,
        )
        .await,
    );
    assert_eq!(
        s.list_chat_messages(&o1.id, &SessionId::from("c1"), 0, 100)
            .await
            .unwrap(),
        expected
    );
    let c1 = s
        .get_chat_session(&o1.id, ALICE, &SessionId::from("c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c1.message_count, c1.updated_at), (3, 600));

    // Title: set once, only when unset, only within the organisation.
    assert!(!s
        .set_chat_title_if_unset(&o2.id, &SessionId::from("c1"), "Hijack", 900)
        .await
        .unwrap());
    assert!(!s
        .set_chat_title_if_unset(&o1.id, &SessionId::from("nope"), "X", 900)
        .await
        .unwrap());
    assert!(s
        .set_chat_title_if_unset(&o1.id, &SessionId::from("c1"), "First", 900)
        .await
        .unwrap());
    assert!(!s
        .set_chat_title_if_unset(&o1.id, &SessionId::from("c1"), "Second", 950)
        .await
        .unwrap());
    let c1 = s
        .get_chat_session(&o1.id, ALICE, &SessionId::from("c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c1.title.as_deref(), c1.updated_at), (Some("First"), 900));
    assert!(s
        .get_chat_session(&o1.id, ALICE, &SessionId::from("c2"))
        .await
        .unwrap()
        .unwrap()
        .title
        .is_none());

    // Deleting a message-bearing session keeps the other sessions' counts.
    assert!(s
        .delete_chat_session(&o1.id, ALICE, &SessionId::from("c1"))
        .await
        .unwrap());
    assert!(s
        .list_chat_messages(&o1.id, &SessionId::from("c1"), 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.get_chat_session(&o1.id, ALICE, &SessionId::from("c2"))
            .await
            .unwrap()
            .unwrap()
            .message_count,
        1
    );
}

/// Concurrent appends to one session get distinct, gap-free positions.
async fn check_chat_messages_concurrent(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    mk_chat(s, "c1", &o.id).await;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let store = db.store.clone();
        let org = o.id.clone();
        tasks.spawn(async move {
            let mut batches = Vec::new();
            for i in 0..5 {
                let batch = [
                    msg(&format!("t{t}-{i}-a"), "user", "q", 1),
                    msg(&format!("t{t}-{i}-b"), "assistant", "a", 2),
                ];
                let stored = store
                    .append_chat_messages(&org, &SessionId::from("c1"), &batch, 100)
                    .await
                    .expect("append");
                batches.push(seqs_of(&stored, |m| m.seq));
            }
            batches
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        for batch in r.expect("task") {
            assert_eq!(batch.len(), 2);
            assert_eq!(batch[1], batch[0] + 1, "a batch is contiguous");
            all.extend(batch);
        }
    }
    all.sort_unstable();
    assert_eq!(all, (1..=80).collect::<Vec<i64>>());
    let listed = s
        .list_chat_messages(&o.id, &SessionId::from("c1"), 0, 1_000)
        .await
        .unwrap();
    assert_eq!(seqs_of(&listed, |m| m.seq), (1..=80).collect::<Vec<i64>>());
    assert_eq!(
        s.get_chat_session(&o.id, ALICE, &SessionId::from("c1"))
            .await
            .unwrap()
            .unwrap()
            .message_count,
        80
    );
}

/// Deleting a session takes its messages, turns and events with it.
async fn check_chat_cascade(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    for c in ["c1", "c2"] {
        mk_chat(s, c, &o.id).await;
        s.append_chat_messages(
            &o.id,
            &SessionId::from(c),
            &[msg(&format!("{c}-m1"), "user", "hi", 1)],
            5,
        )
        .await
        .unwrap();
        s.create_chat_turn(&chat_turn(&format!("{c}-t1"), &o.id, c, "done"))
            .await
            .unwrap();
        s.create_chat_turn(&chat_turn(&format!("{c}-t2"), &o.id, c, "running"))
            .await
            .unwrap();
        s.append_chat_events(&[chat_event(c, 1), chat_event(c, 2)])
            .await
            .unwrap();
    }
    assert!(s
        .delete_chat_session(&o.id, ALICE, &SessionId::from("c1"))
        .await
        .unwrap());
    assert!(s.get_chat_turn(&o.id, "c1-t2").await.unwrap().is_none());
    assert_eq!(s.last_chat_event(&SessionId::from("c1")).await.unwrap(), 0);
    assert_eq!(
        s.get_chat_turn(&o.id, "c2-t2")
            .await
            .unwrap()
            .unwrap()
            .status,
        "running"
    );

    let tables = ["chat_messages", "chat_turns", "chat_events"];
    let mut counts = Vec::new();
    for table in tables {
        let sql = format!(
            "SELECT session_id, COUNT(*) FROM {table} GROUP BY session_id ORDER BY session_id"
        );
        let rows: Vec<(String, i64)> = match &db.raw {
            Raw::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                let mut st = c.prepare(&sql).unwrap();
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Raw::Postgres(url) => pg_client(url)
                .await
                .query(&sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        };
        counts.push(rows);
    }
    assert_eq!(
        counts,
        vec![
            vec![("c2".to_string(), 1)],
            vec![("c2".to_string(), 2)],
            vec![("c2".to_string(), 2)],
        ]
    );
}
