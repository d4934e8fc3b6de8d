//! Per-test PostgreSQL databases cloned from a migrated template (the
//! throwaway-database plumbing lives in `portal-test-db`).

use std::hash::{Hash, Hasher};
use std::time::Duration;

use portal_test_db::ThrowawayDb;

use crate::PG_ENV;

/// A throwaway database; dropped (forcefully) when this value is dropped.
pub struct PgTestDb(ThrowawayDb);

/// The template's name: one per set of migrations, so a schema change builds a new one.
fn template_name() -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for m in portal_store::MIGRATIONS {
        m.version.hash(&mut h);
        m.postgres.hash(&mut h);
    }
    format!("portal_tmpl_{:016x}", h.finish())
}

impl PgTestDb {
    /// Creates a fresh database from the migrated template (building the template once).
    pub async fn create() -> Self {
        let admin_url = std::env::var(PG_ENV).expect("PORTAL_TEST_DATABASE_URL");
        let db = ThrowawayDb::from_template(
            &admin_url,
            "portal_test",
            &template_name(),
            |url| async move {
                let store = portal_store::PgStore::connect(&url, 1, Duration::from_secs(3600))
                    .expect("template pool");
                store.migrate().await.expect("migrate template");
            },
        )
        .await;
        Self(db)
    }

    /// Connection string of this test's database.
    pub fn url(&self) -> &str {
        self.0.url()
    }
}
