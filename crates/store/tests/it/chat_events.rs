//! The storage contract for chat events, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;
use portal_core::ids::SessionId;

#[allow(unused_imports)]
use support::contract::*;

contract! {
    store: [
        check_chat_events,
    ],
    db: [
        check_chat_event_wait,
    ],
}

async fn check_chat_events(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    mk_chat(s, "c1", &o1.id).await;
    mk_chat(s, "c2", &o1.id).await;
    mk_chat(s, "x1", &o2.id).await;
    assert_eq!(s.last_chat_event(&SessionId::from("c1")).await.unwrap(), 0);
    assert!(s
        .list_chat_events(&o1.id, &SessionId::from("c1"), 0, 100)
        .await
        .unwrap()
        .is_empty());
    s.append_chat_events(&[]).await.unwrap();

    s.append_chat_events(&[
        chat_event("c1", 1),
        chat_event("c1", 2),
        chat_event("c2", 1),
        chat_event("x1", 1),
    ])
    .await
    .unwrap();
    s.append_chat_events(&[chat_event("c1", 3)]).await.unwrap();
    // Written out of order, read back in order.
    s.append_chat_events(&[chat_event("c2", 3)]).await.unwrap();
    s.append_chat_events(&[chat_event("c2", 2)]).await.unwrap();

    let c1 = s
        .list_chat_events(&o1.id, &SessionId::from("c1"), 0, 100)
        .await
        .unwrap();
    assert_eq!(
        c1,
        vec![
            chat_event("c1", 1),
            chat_event("c1", 2),
            chat_event("c1", 3)
        ]
    );
    assert_eq!(
        seqs_of(
            &s.list_chat_events(&o1.id, &SessionId::from("c1"), 1, 100)
                .await
                .unwrap(),
            |e| e.seq
        ),
        vec![2, 3]
    );
    assert_eq!(
        seqs_of(
            &s.list_chat_events(&o1.id, &SessionId::from("c1"), 1, 1)
                .await
                .unwrap(),
            |e| e.seq
        ),
        vec![2]
    );
    assert!(s
        .list_chat_events(&o1.id, &SessionId::from("c1"), 3, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        seqs_of(
            &s.list_chat_events(&o1.id, &SessionId::from("c2"), 0, 100)
                .await
                .unwrap(),
            |e| e.seq
        ),
        vec![1, 2, 3]
    );
    assert_eq!(s.last_chat_event(&SessionId::from("c1")).await.unwrap(), 3);
    assert_eq!(s.last_chat_event(&SessionId::from("c2")).await.unwrap(), 3);
    assert_eq!(
        s.last_chat_event(&SessionId::from("nope")).await.unwrap(),
        0
    );

    // Tenancy.
    assert!(s
        .list_chat_events(&o2.id, &SessionId::from("c1"), 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .list_chat_events(&o1.id, &SessionId::from("x1"), 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.list_chat_events(&o2.id, &SessionId::from("x1"), 0, 100)
            .await
            .unwrap(),
        vec![chat_event("x1", 1)]
    );

    // A taken id refuses the whole batch.
    assert_conflict(
        s.append_chat_events(&[chat_event("c1", 4), chat_event("c1", 2)])
            .await,
    );
    assert_conflict(
        s.append_chat_events(&[chat_event("c1", 5), chat_event("c1", 5)])
            .await,
    );
    assert_conflict(s.append_chat_events(&[chat_event("nope", 1)]).await);
    assert_eq!(
        s.list_chat_events(&o1.id, &SessionId::from("c1"), 0, 100)
            .await
            .unwrap(),
        c1
    );
    assert_eq!(s.last_chat_event(&SessionId::from("c1")).await.unwrap(), 3);
}

async fn check_chat_event_wait(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    mk_chat(s, "c1", &o.id).await;
    mk_chat(s, "c2", &o.id).await;
    s.append_chat_events(&[chat_event("c1", 1)]).await.unwrap();

    // Events already there: no wait.
    let start = Instant::now();
    s.wait_chat_events(&SessionId::from("c1"), 0, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );

    // Nothing new: the timeout ends the wait.
    let start = Instant::now();
    s.wait_chat_events(&SessionId::from("c1"), 1, Duration::from_millis(300))
        .await
        .unwrap();
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );

    // A new event ends it promptly; another session's events do not.
    let store = db.store.clone();
    let waiter = tokio::spawn(async move {
        store
            .wait_chat_events(&SessionId::from("c1"), 1, Duration::from_secs(20))
            .await
            .map(|()| Instant::now())
    });
    let store = db.store.clone();
    let bystander = tokio::spawn(async move {
        let start = Instant::now();
        store
            .wait_chat_events(&SessionId::from("c2"), 0, Duration::from_millis(1_500))
            .await
            .map(|()| start.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    let appended = Instant::now();
    s.append_chat_events(&[chat_event("c1", 2)]).await.unwrap();
    let woke = waiter.await.unwrap().unwrap();
    assert!(
        woke.duration_since(appended) < Duration::from_secs(3),
        "{:?}",
        woke.duration_since(appended)
    );
    let waited = bystander.await.unwrap().unwrap();
    assert!(waited >= Duration::from_millis(1_500), "{waited:?}");
}

/// Two replicas on one PostgreSQL database: a follower waiting on one is woken
/// by the other's append through LISTEN/NOTIFY, also after its listener's
/// connection was cut (and re-established).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_chat_wakeup_across_replicas() {
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|v| !v.trim().is_empty()) else {
        return;
    };
    let db = PgDatabase::create(&admin_url).await;
    let a = Arc::new(PgStore::connect(&db.url, 4, Duration::from_secs(60)).expect("pool a"));
    a.migrate().await.expect("migrate");
    let b = PgStore::connect(&db.url, 4, Duration::from_secs(60)).expect("pool b");
    let o = mk_org(&b, "o1").await;
    mk_chat(&b, "c1", &o.id).await;
    b.append_chat_events(&[chat_event("c1", 1)]).await.unwrap();

    // The first wait starts A's listener.
    assert!(!a.chat_listener_ready());
    a.wait_chat_events(&SessionId::from("c1"), 0, Duration::from_secs(5))
        .await
        .unwrap();
    let raw = pg_client(&db.url).await;
    let listener_pids = || async {
        raw.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'oci-portal-listener'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, i32>(0))
        .collect::<Vec<i32>>()
    };
    // Waits for a listening listener on a connection other than `old`; returns its pid.
    let ready = |old: Option<i32>| {
        let a = a.clone();
        let listener_pids = &listener_pids;
        async move {
            for _ in 0..500 {
                // A new connection shows up before it LISTENs: read the flag after it.
                let pid = listener_pids().await.into_iter().find(|p| Some(*p) != old);
                if let (Some(pid), true) = (pid, a.chat_listener_ready()) {
                    return pid;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the chat listener did not (re)connect");
        }
    };
    let first_pid = ready(None).await;
    assert!(!b.chat_listener_ready(), "B never waited: no listener");

    // Woken by B's append well before A's periodic re-check (5 s) would notice.
    let woken_after = |after: i64| {
        let a = a.clone();
        tokio::spawn(async move {
            a.wait_chat_events(&SessionId::from("c1"), after, Duration::from_secs(20))
                .await
                .map(|()| Instant::now())
        })
    };
    let waiter = woken_after(1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    let appended = Instant::now();
    b.append_chat_events(&[chat_event("c1", 2)]).await.unwrap();
    let took = waiter.await.unwrap().unwrap().duration_since(appended);
    assert!(took < Duration::from_secs(2), "{took:?}");

    // Cut the listener's connection: waits keep working (polling meanwhile) and
    // the listener comes back on a new connection.
    let waiter = woken_after(2);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed: bool = raw
        .query_one("SELECT pg_terminate_backend($1)", &[&first_pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);
    let appended = Instant::now();
    b.append_chat_events(&[chat_event("c1", 3)]).await.unwrap();
    let took = waiter.await.unwrap().unwrap().duration_since(appended);
    assert!(took < Duration::from_secs(2), "{took:?}");
    ready(Some(first_pid)).await;

    let waiter = woken_after(3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    let appended = Instant::now();
    b.append_chat_events(&[chat_event("c1", 4)]).await.unwrap();
    let took = waiter.await.unwrap().unwrap().duration_since(appended);
    assert!(took < Duration::from_secs(2), "{took:?}");
}
