#![allow(dead_code, unused_imports)] // each test crate uses a part of the support code
//! A migrated, empty store per test on each backend: SQLite in a temporary
//! folder always, PostgreSQL in a throwaway database when
//! `PORTAL_TEST_DATABASE_URL` is set (otherwise the PostgreSQL variant is
//! `None` and the test passes without doing anything). The harness is
//! `contract.rs`'s, shared with the per-aggregate contract files.

#[macro_use]
pub mod contract;
pub mod workflows;

pub use contract::TestDb;

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
