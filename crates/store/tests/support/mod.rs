#![allow(dead_code)] // each test crate uses a part of the support code
//! A migrated, empty store per test on each backend: SQLite in a temporary
//! folder always, PostgreSQL in a throwaway database when
//! `PORTAL_TEST_DATABASE_URL` is set (otherwise the PostgreSQL variant is
//! `None` and the test passes without doing anything). The same set-up as
//! `contract.rs`, kept here for test files that need only the store.

use std::sync::Arc;
use std::time::Duration;

pub mod contract;

use portal_core::Store;
use portal_store::{PgStore, SqliteStore};

use portal_test_db::PG_ENV;

/// The store plus whatever keeps its database alive; the store drops first.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// The PostgreSQL database's URL (a second replica connects to it).
    #[allow(dead_code)] // read by some of the test crates that include this module
    pub pg_url: Option<String>,
    _pg: Option<PgDatabase>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("portal.db"), 4)
            .await
            .expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        Self {
            store: Arc::new(store),
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
            pg_url: Some(db.url.clone()),
            _pg: Some(db),
            _dir: None,
        })
    }
}

/// A throwaway PostgreSQL database (from `portal-test-db`), dropped with this value.
struct PgDatabase {
    url: String,
    _db: portal_test_db::ThrowawayDb,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> Self {
        let db = portal_test_db::ThrowawayDb::empty(admin_url, "portal_store_test").await;
        Self {
            url: db.url().to_string(),
            _db: db,
        }
    }
}

/// Runs each listed async check (taking `Arc<dyn Store>`) once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let db = super::support::TestDb::sqlite().await;
                    super::$check(db.store.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(db) = super::support::TestDb::postgres().await else { return };
                    super::$check(db.store.clone()).await;
                }
            )*
        }
    };
}
