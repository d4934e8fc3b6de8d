//! A migrated, empty store per test on each backend: SQLite in a temporary
//! folder always, PostgreSQL in a throwaway database when
//! `PORTAL_TEST_DATABASE_URL` is set (otherwise the PostgreSQL variant is
//! `None` and the test passes without doing anything). The same set-up as
//! `contract.rs`, kept here for test files that need only the store.

use std::sync::Arc;
use std::time::Duration;

use portal_core::Store;
use portal_store::{PgStore, SqliteStore};
use tokio_postgres::NoTls;

const PG_ENV: &str = "PORTAL_TEST_DATABASE_URL";

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

/// Replaces the database name in a connection URL.
fn with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is not reachable: {e}"));
    tokio::spawn(conn);
    client
}

/// A throwaway PostgreSQL database, dropped (forcefully) with this value.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> Self {
        let name = format!("portal_jobs_test_{}", uuid::Uuid::new_v4().simple());
        admin(admin_url)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        Self {
            admin_url: admin_url.to_string(),
            url: with_db(admin_url, &name),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run while the test's runtime shuts down: use a private one.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                admin(&admin_url)
                    .await
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
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
