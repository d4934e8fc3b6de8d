#![allow(dead_code, unused_imports)]
//! The storage contract's harness and helpers, shared by the per-aggregate
//! contract files (`tests/<aggregate>.rs`).
//!
//! Each check is written once (`check_*`) and run twice: on SQLite (a file in
//! a temporary folder) always, and on PostgreSQL when `PORTAL_TEST_DATABASE_URL`
//! is set (a fresh database per test, dropped afterwards). Without the variable
//! the PostgreSQL variants pass without doing anything.

pub use std::path::PathBuf;
pub use std::sync::Arc;
pub use std::time::{Duration, Instant};

pub use portal_core::audit::{self, AuditRecord, NewAuditEntry, Verifier, SYSTEM_CHAIN};
pub use portal_core::crypto::Keys;
pub use portal_core::model::*;
pub use portal_core::rbac::Role;
pub use portal_core::store::ChatEventRepo;
pub use portal_core::{Backend, Secret, Store, StoreError};
pub use portal_store::{PgStore, SqliteStore};
pub use tokio_postgres::NoTls;

pub use portal_test_db::PG_ENV;

// ---------------------------------------------------------------- harness

/// How to reach the test database behind the store's back.
pub enum Raw {
    Sqlite(PathBuf),
    Postgres(String),
}

/// A migrated, empty store plus whatever keeps its database alive.
/// Fields drop in order: the store (and its pool) before the database.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub raw: Raw,
    /// The PostgreSQL database's URL (a second replica connects to it).
    pub pg_url: Option<String>,
    pub _pg: Option<PgDatabase>,
    pub _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("portal.db");
        let store = SqliteStore::open(&path, 4).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        Self {
            store: Arc::new(store),
            raw: Raw::Sqlite(path),
            pg_url: None,
            _pg: None,
            _dir: Some(dir),
        }
    }

    /// `None` when `PORTAL_TEST_DATABASE_URL` is not set.
    pub async fn postgres() -> Option<Self> {
        let admin_url = std::env::var(PG_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())?;
        let db = PgDatabase::create(&admin_url).await;
        let store = PgStore::connect(&db.url, 4, Duration::from_secs(60)).expect("pool");
        store.migrate().await.expect("migrate postgres");
        Some(Self {
            store: Arc::new(store),
            raw: Raw::Postgres(db.url.clone()),
            pg_url: Some(db.url.clone()),
            _pg: Some(db),
            _dir: None,
        })
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }
}

/// A throwaway PostgreSQL database (from `portal-test-db`), dropped with this value.
pub struct PgDatabase {
    pub url: String,
    _db: portal_test_db::ThrowawayDb,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> Self {
        let db = portal_test_db::ThrowawayDb::empty(admin_url, "portal_store_test").await;
        Self {
            url: db.url().to_string(),
            _db: db,
        }
    }
}

/// A client on the test server or one of its databases.
pub async fn pg_client(url: &str) -> tokio_postgres::Client {
    portal_test_db::client(url).await
}

/// Runs each listed check once per backend: `mod sqlite { fn check_x }` and
/// `mod postgres { fn check_x }`. Checks in `store:` take `&dyn Store`; checks
/// in `db:` take the whole [`TestDb`] (raw access, shared ownership).
#[macro_export]
macro_rules! contract {
    (store: [$($s:ident),* $(,)?], db: [$($d:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    let db = super::TestDb::sqlite().await;
                    super::$s(db.store()).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $d() {
                    let db = super::TestDb::sqlite().await;
                    super::$d(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$s(db.store()).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $d() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$d(&db).await;
                }
            )*
        }
    };
}

// ---------------------------------------------------------------- helpers

pub fn keys() -> Keys {
    Keys::derive(&Secret::new(vec![7u8; 32]))
}

pub fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        name: format!("User {email}"),
        password_hash: Some(format!("hash-of-{email}")),
        platform_admin: false,
        must_change_password: false,
    }
}

pub async fn mk_user(s: &dyn Store, email: &str) -> User {
    s.create_user(new_user(email), 1_000)
        .await
        .expect("create user")
}

pub async fn mk_org(s: &dyn Store, id: &str) -> Org {
    s.create_org(id, &format!("slug-{id}"), &format!("Org {id}"), 1_000)
        .await
        .expect("create org")
}

#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::Conflict(_))),
        "expected Conflict, got {r:?}"
    );
}

#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "expected NotFound, got {r:?}"
    );
}

pub fn entry(org: Option<&str>, actor: &str, action: &str, at: i64) -> NewAuditEntry {
    NewAuditEntry {
        org_id: org.map(Into::into),
        actor: actor.into(),
        action: action.into(),
        target: Some(format!("target-of-{action}")),
        outcome: "success".into(),
        detail: serde_json::json!({"b": 1, "a": [1, 2], "note": action}),
        ip: Some("192.0.2.1".into()),
        created_at: at,
    }
}

/// Every record of the chain, fetched in pages of `page`, checked with the verifier.
pub async fn verify_chain(
    s: &dyn Store,
    keys: &Keys,
    chain: &str,
    page: i64,
) -> (Vec<AuditRecord>, audit::Verification) {
    let mut v = Verifier::new(keys, chain);
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let batch = s
            .audit_records_after(chain, after, page)
            .await
            .expect("records after");
        assert!(batch.len() as i64 <= page);
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for r in &batch {
            v.push(r);
        }
        rows.extend(batch);
    }
    let head = s.audit_head(chain).await.expect("head");
    (rows, v.finish(head.as_ref()))
}

pub fn audit_filter(limit: i64) -> AuditFilter {
    AuditFilter {
        limit,
        ..Default::default()
    }
}

pub fn activity_filter(limit: i64) -> ActivityFilter {
    ActivityFilter {
        limit,
        ..Default::default()
    }
}

// ---------------------------------------------------------------- helpers shared by the aggregates

pub fn new_invitation(id: &str, org: &str, user: &str, at: i64) -> Invitation {
    Invitation {
        id: id.into(),
        org_id: org.into(),
        user_id: user.into(),
        role: Role::Operator,
        invited_by: "user:inviter".into(),
        created_account: id.ends_with("-new"),
        status: InvitationStatus::Pending,
        created_at: at,
        expires_at: at + 1_000,
    }
}

pub fn new_session(id: &str, user_id: &str, org: Option<&str>) -> NewAuthSession {
    NewAuthSession {
        id: id.into(),
        token_hash: format!("token-hash-{id}"),
        user_id: user_id.into(),
        active_org_id: org.map(Into::into),
        created_at: 1_000,
        expires_at: 2_000,
        ip: Some("198.51.100.7".into()),
        user_agent: Some("test-agent".into()),
    }
}

pub fn new_key(id: &str, org: &str, name: &str, owner: Option<&str>, at: i64) -> NewApiKey {
    NewApiKey {
        id: id.into(),
        org_id: org.into(),
        name: name.into(),
        key_hash: format!("key-hash-{id}"),
        prefix: format!("pfx{id}"),
        permissions: vec!["tools:read".into(), "tools:execute".into()],
        owner_user_id: owner.map(Into::into),
        created_by: "user:creator".into(),
        created_at: at,
        expires_at: Some(at + 10_000),
    }
}

pub fn chat_session(id: &str, org: &str, principal: &str, updated: i64) -> ChatSession {
    ChatSession {
        id: id.into(),
        org_id: org.into(),
        principal_id: principal.into(),
        title: Some(format!("Title {id}")),
        model: "model-x".into(),
        status: "active".into(),
        message_count: 0,
        created_at: 10,
        updated_at: updated,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn act(
    id: &str,
    org: &str,
    principal: &str,
    tool: &str,
    status: &str,
    at: i64,
    error: Option<&str>,
    dur: Option<i64>,
) -> Activity {
    Activity {
        id: id.into(),
        org_id: org.into(),
        principal_id: principal.into(),
        tool_name: tool.into(),
        category: "compute".into(),
        risk: Risk::Read,
        status: ExecutionStatus::parse(status).expect("an execution status"),
        args: format!(r#"{{"id":"{id}"}}"#),
        error: error.map(Into::into),
        duration_ms: dur,
        approval_id: (status == "success").then(|| format!("appr-{id}").into()),
        created_at: at,
    }
}

// ---------------------------------------------------------------- chat messages, turns and events

pub const ALICE: &str = "user:alice";

/// An untitled session of Alice's.
pub async fn mk_chat(s: &dyn Store, id: &str, org: &str) {
    let mut c = chat_session(id, org, ALICE, 10);
    c.title = None;
    s.create_chat_session(&c)
        .await
        .expect("create chat session");
}

/// A message as a caller hands it in (`session_id` and `seq` are the store's to set).
pub fn msg(id: &str, role: &str, content: &str, at: i64) -> ChatMessage {
    ChatMessage {
        id: id.into(),
        session_id: "ignored".into(),
        seq: 99,
        role: role.into(),
        content: content.into(),
        meta: None,
        created_at: at,
    }
}

pub fn chat_turn(id: &str, org: &str, session: &str, status: &str) -> ChatTurn {
    let running = status == "running";
    ChatTurn {
        id: id.into(),
        org_id: org.into(),
        session_id: session.into(),
        principal_id: ALICE.into(),
        status: TurnStatus::parse(status).expect("a turn status"),
        approval_id: None,
        state: format!("{{\"turn\":\"{id}\"}}"),
        lease_owner: running.then(|| "r1".to_string()),
        lease_until: if running { 1_000 } else { 0 },
        created_at: 10,
        updated_at: 10,
    }
}

pub fn chat_event(session: &str, seq: i64) -> ChatEvent {
    ChatEvent {
        session_id: session.into(),
        seq,
        turn_id: "t1".into(),
        body: format!("{{\"type\":\"text-delta\",\"delta\":\"{session}-{seq}\"}}"),
        created_at: 100 + seq,
    }
}

pub fn seqs_of<T>(items: &[T], seq: impl Fn(&T) -> i64) -> Vec<i64> {
    items.iter().map(seq).collect()
}

// ---------------------------------------------------------------- events (webhook outbox)

pub fn event_ids(events: &[Event]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

/// A `SELECT COUNT(*) …` run behind the store's back.
pub async fn raw_count(db: &TestDb, sql: &str) -> i64 {
    match &db.raw {
        Raw::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).expect("open sqlite");
            c.query_row(sql, [], |r| r.get(0)).expect("count")
        }
        Raw::Postgres(url) => pg_client(url)
            .await
            .query_one(sql, &[])
            .await
            .expect("count")
            .get(0),
    }
}
