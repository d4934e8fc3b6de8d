//! The anchors `bench/run` measures beside the portal, in the same invocation:
//! bare axum `GET /healthz`, and bare axum + rusqlite serving 20 of a user's
//! 1,000 rows as JSON (the shape of the portal's session list).
//!
//! Usage: `bench-baseline <bind> <sqlite file>`; the file is created and seeded.

use std::cell::RefCell;
use std::path::PathBuf;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::Connection;
use serde::Serialize;

#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    model: String,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(rename = "updatedAt")]
    updated_at: String,
}

#[derive(Serialize)]
struct Page {
    sessions: Vec<Row>,
}

thread_local! {
    static CONN: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

fn seed(path: &PathBuf) -> rusqlite::Result<()> {
    let _ = std::fs::remove_file(path);
    let c = Connection::open(path)?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title TEXT NOT NULL, model TEXT NOT NULL,
                                created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
         CREATE INDEX sessions_user ON sessions (user_id, updated_at DESC);",
    )?;
    let tx = c.unchecked_transaction()?;
    for i in 0..1000 {
        let ts = format!(
            "2026-11-{:02}T{:02}:{:02}:00.000Z",
            1 + i % 28,
            i % 24,
            i % 60
        );
        tx.execute(
            "INSERT INTO sessions VALUES (?1, 'user-1', ?2, 'gpt-4o', ?3, ?3)",
            rusqlite::params![format!("{i:032x}"), format!("Session {i}"), ts],
        )?;
    }
    tx.commit()
}

async fn rows(State(path): State<PathBuf>) -> Json<Page> {
    let sessions = CONN.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Connection::open(&path).ok();
        }
        let Some(c) = slot.as_ref() else { return Vec::new() };
        let Ok(mut st) = c.prepare_cached(
            "SELECT id, title, model, created_at, updated_at FROM sessions WHERE user_id = ?1 ORDER BY updated_at DESC LIMIT 20",
        ) else {
            return Vec::new();
        };
        st.query_map(["user-1"], |r| {
            Ok(Row { id: r.get(0)?, title: r.get(1)?, model: r.get(2)?, created_at: r.get(3)?, updated_at: r.get(4)? })
        })
        .map(|it| it.filter_map(Result::ok).collect())
        .unwrap_or_default()
    });
    Json(Page { sessions })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18181".into());
    let db = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "/tmp/bench-baseline.db".into()),
    );
    seed(&db)?;
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/rows", get(rows))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("baseline listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
