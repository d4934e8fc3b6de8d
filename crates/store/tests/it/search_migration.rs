//! Migration 0016 indexes the messages stored before it (and not the running
//! summaries), on both backends.

use crate::support;

#[allow(unused_imports)]
use support::contract::*;

/// Messages stored before the search migration.
const BEFORE: &str =
    "INSERT INTO organizations (id, slug, name, created_at) VALUES ('o1', 'o1', 'O1', 1);
    INSERT INTO chat_sessions (id, org_id, principal_id, model, created_at, updated_at) VALUES
        ('c1', 'o1', 'user:a', 'm', 1, 1);
    INSERT INTO chat_messages (id, session_id, seq, role, content, created_at) VALUES
        ('m1', 'c1', 1, 'user', 'the backup failed', 10),
        ('m2', 'c1', 2, 'assistant', 'retrying the backup now', 20),
        ('m3', 'c1', 3, 'summary', 'backup talk', 30),
        ('m4', 'c1', 4, 'user', 'thanks', 40);";

/// Indexed rows, by message.
const INDEXED: &str = "SELECT message_id, org_id, principal_id, session_id, role \
     FROM message_search ORDER BY message_id";

fn before_search() -> (
    &'static [portal_store::Migration],
    &'static portal_store::Migration,
) {
    let at = portal_store::MIGRATIONS
        .iter()
        .position(|m| m.name == "search")
        .expect("the search migration");
    (
        &portal_store::MIGRATIONS[..at],
        &portal_store::MIGRATIONS[at],
    )
}

fn expected() -> Vec<Vec<String>> {
    ["m1 user", "m2 assistant", "m4 user"]
        .iter()
        .map(|r| {
            let (id, role) = r.split_once(' ').unwrap();
            [id, "o1", "user:a", "c1", role].map(String::from).to_vec()
        })
        .collect()
}

#[test]
fn sqlite_search_migration_indexes_existing_messages() {
    let dir = tempfile::tempdir().unwrap();
    let c = rusqlite::Connection::open(dir.path().join("p.db")).unwrap();
    let (earlier, search) = before_search();
    for m in earlier {
        c.execute_batch(m.sqlite).unwrap();
    }
    c.execute_batch(BEFORE).unwrap();
    c.execute_batch(search.sqlite).unwrap();
    let mut st = c.prepare(INDEXED).unwrap();
    let rows: Vec<Vec<String>> = st
        .query_map([], |r| (0..5).map(|i| r.get(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, expected());
    let found: Vec<String> = c
        .prepare(
            "SELECT f.message_id FROM message_search_fts JOIN message_search f \
             ON f.id = message_search_fts.rowid WHERE message_search_fts MATCH 'backup' \
             ORDER BY f.message_id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(found, ["m1", "m2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_search_migration_indexes_existing_messages() {
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|v| !v.trim().is_empty()) else {
        return;
    };
    let db = PgDatabase::create(&admin_url).await;
    let c = pg_client(&db.url).await;
    let (earlier, search) = before_search();
    for m in earlier {
        c.batch_execute(m.postgres).await.unwrap();
    }
    c.batch_execute(BEFORE).await.unwrap();
    c.batch_execute(search.postgres).await.unwrap();
    let rows: Vec<Vec<String>> = c
        .query(INDEXED, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (0..5).map(|i| r.get(i)).collect())
        .collect();
    assert_eq!(rows, expected());
    let found: Vec<String> = c
        .query(
            "SELECT message_id FROM message_search \
             WHERE doc @@ to_tsquery('simple', 'backup') ORDER BY message_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(found, ["m1", "m2"]);
}
