//! Per-test PostgreSQL databases cloned from a migrated template.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use tokio_postgres::NoTls;

use crate::PG_ENV;

/// A throwaway database; dropped (forcefully) when this value is dropped.
pub struct PgTestDb {
    admin_url: String,
    name: String,
    url: String,
}

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

fn template_name() -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for m in portal_store::MIGRATIONS {
        m.version.hash(&mut h);
        m.postgres.hash(&mut h);
    }
    format!("portal_tmpl_{:016x}", h.finish())
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is not reachable: {e}"));
    tokio::spawn(conn);
    client
}

impl PgTestDb {
    /// Creates a fresh database from the migrated template (building the template once).
    pub async fn create() -> Self {
        let admin_url = std::env::var(PG_ENV).expect("PORTAL_TEST_DATABASE_URL");
        let client = admin(&admin_url).await;
        let tmpl = template_name();
        client
            .execute("SELECT pg_advisory_lock(4242)", &[])
            .await
            .expect("lock");
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&tmpl])
            .await
            .expect("query")
            .is_some();
        if !exists {
            let building = format!("{tmpl}_build");
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .await
                .expect("drop");
            client
                .batch_execute(&format!("CREATE DATABASE {building}"))
                .await
                .expect("create template");
            {
                let store = portal_store::PgStore::connect(
                    &with_db(&admin_url, &building),
                    1,
                    Duration::from_secs(3600),
                )
                .expect("template pool");
                store.migrate().await.expect("migrate template");
            }
            // Renaming needs no other session on the database; the pool above may take a moment to close.
            let mut tries = 0;
            loop {
                let r = client
                    .batch_execute(&format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{building}' AND pid <> pg_backend_pid(); \
                         ALTER DATABASE {building} RENAME TO {tmpl}"
                    ))
                    .await;
                match r {
                    Ok(()) => break,
                    Err(e) if tries < 50 => {
                        tries += 1;
                        tracing::debug!(error = %e, "template busy, retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("finishing template: {e}"),
                }
            }
        }
        client
            .execute("SELECT pg_advisory_unlock(4242)", &[])
            .await
            .expect("unlock");
        let name = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
        let mut tries = 0;
        loop {
            match client
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {tmpl}"))
                .await
            {
                Ok(()) => break,
                Err(e) if tries < 50 => {
                    tries += 1;
                    tracing::debug!(error = %e, "template busy, retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("creating test database: {e}"),
            }
        }
        Self {
            url: with_db(&admin_url, &name),
            admin_url,
            name,
        }
    }

    /// Connection string of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee: use a private one on a thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) = tokio_postgres::connect(&admin_url, NoTls).await {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_db;

    #[test]
    fn replaces_database_name() {
        assert_eq!(
            with_db("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(with_db("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
        assert_eq!(
            with_db("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
