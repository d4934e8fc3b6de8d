//! The storage contract for chat migration, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

#[allow(unused_imports)]
use support::contract::*;

/// Rows for the message backfill checks: stored before migration 5 numbered
/// the messages (time order, per session).
const BEFORE_SEQ: &str =
    "INSERT INTO organizations (id, slug, name, created_at) VALUES ('o1', 'o1', 'O1', 1);
    INSERT INTO chat_sessions (id, org_id, principal_id, model, created_at, updated_at) VALUES
        ('c1', 'o1', 'user:a', 'm', 1, 1), ('c2', 'o1', 'user:a', 'm', 1, 1);
    INSERT INTO chat_messages (id, session_id, role, content, created_at) VALUES
        ('z', 'c1', 'user', 'first', 10), ('a', 'c1', 'assistant', 'second', 20),
        ('m', 'c1', 'user', 'third', 30), ('b', 'c2', 'user', 'only', 5);";
const AFTER_SEQ: &str = "SELECT id, seq FROM chat_messages ORDER BY session_id, seq";
const ADD_FOURTH: &str =
    "INSERT INTO chat_messages (id, session_id, seq, role, content, created_at) \
    VALUES ('n', 'c1', 4, 'user', 'fourth', 40)";
const COUNTS: &str = "SELECT id, message_count FROM chat_sessions ORDER BY id";

/// The migrations before the chat one, and the chat one.
fn before_chat() -> (
    &'static [portal_store::Migration],
    &'static portal_store::Migration,
) {
    let at = portal_store::MIGRATIONS
        .iter()
        .position(|m| m.name == "chat")
        .expect("the chat migration");
    (
        &portal_store::MIGRATIONS[..at],
        &portal_store::MIGRATIONS[at],
    )
}

/// (message id, seq) and (session id, message count) rows.
type Pairs = Vec<(String, i64)>;

fn backfilled() -> (Pairs, Pairs) {
    let seqs = [("z", 1), ("a", 2), ("m", 3), ("n", 4), ("b", 1)];
    (
        seqs.iter().map(|(i, s)| (i.to_string(), *s)).collect(),
        vec![("c1".to_string(), 4), ("c2".to_string(), 1)],
    )
}

#[test]
fn sqlite_chat_migration_numbers_existing_messages() {
    let dir = tempfile::tempdir().unwrap();
    let c = rusqlite::Connection::open(dir.path().join("p.db")).unwrap();
    let (earlier, last) = before_chat();
    for m in earlier {
        c.execute_batch(m.sqlite).unwrap();
    }
    c.execute_batch(BEFORE_SEQ).unwrap();
    c.execute_batch(last.sqlite).unwrap();
    c.execute(ADD_FOURTH, []).unwrap();
    let rows = |sql: &str| -> Pairs {
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!((rows(AFTER_SEQ), rows(COUNTS)), backfilled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_chat_migration_numbers_existing_messages() {
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|v| !v.trim().is_empty()) else {
        return;
    };
    let db = PgDatabase::create(&admin_url).await;
    let c = pg_client(&db.url).await;
    let (earlier, last) = before_chat();
    for m in earlier {
        c.batch_execute(m.postgres).await.unwrap();
    }
    c.batch_execute(BEFORE_SEQ).await.unwrap();
    c.batch_execute(last.postgres).await.unwrap();
    c.batch_execute(ADD_FOURTH).await.unwrap();
    let mut got = Vec::new();
    for sql in [AFTER_SEQ, COUNTS] {
        let rows = c.query(sql, &[]).await.unwrap();
        got.push(
            rows.iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
                .collect::<Vec<_>>(),
        );
    }
    let (seqs, counts) = backfilled();
    assert_eq!(got, vec![seqs, counts]);
}
