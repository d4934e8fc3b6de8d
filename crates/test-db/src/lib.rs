//! Throwaway PostgreSQL databases for tests, shared by the store's contract
//! suite and the HTTP test harness (testkit). Test-only: CI keeps this crate
//! out of the portal binary's graph.
//!
//! A [`ThrowawayDb`] is created on the server named by an admin URL (e.g.
//! `PORTAL_TEST_DATABASE_URL`) and dropped, forcefully, with its handle.

use std::future::Future;
use std::time::Duration;

use tokio_postgres::NoTls;

/// The variable naming the PostgreSQL server tests run against.
pub const PG_ENV: &str = "PORTAL_TEST_DATABASE_URL";

/// The admin URL from [`PG_ENV`], or `None` when tests run on SQLite only.
pub fn admin_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|v| !v.trim().is_empty())
}

/// Replaces the database name in a connection URL.
pub fn with_db(url: &str, db: &str) -> String {
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

/// A client on `url`; panics naming [`PG_ENV`] when the server is unreachable.
pub async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is not reachable: {e}"));
    tokio::spawn(conn);
    client
}

/// A throwaway database; dropped (forcefully) when this value is dropped.
pub struct ThrowawayDb {
    admin_url: String,
    name: String,
    url: String,
}

impl ThrowawayDb {
    /// Creates an empty database named `<prefix>_<random>`.
    pub async fn empty(admin_url: &str, prefix: &str) -> Self {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        client(admin_url)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        Self::named(admin_url, name)
    }

    /// Creates a database `<prefix>_<random>` cloned from the template
    /// `template`, which `build` fills (given its URL) the first time it is
    /// needed: once per server across concurrent tests and processes.
    pub async fn from_template<F, Fut>(
        admin_url: &str,
        prefix: &str,
        template: &str,
        build: F,
    ) -> Self
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()>,
    {
        let client = client(admin_url).await;
        client
            .execute("SELECT pg_advisory_lock(4242)", &[])
            .await
            .expect("lock");
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&template])
            .await
            .expect("query")
            .is_some();
        if !exists {
            let building = format!("{template}_build");
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .await
                .expect("drop");
            client
                .batch_execute(&format!("CREATE DATABASE {building}"))
                .await
                .expect("create template");
            build(with_db(admin_url, &building)).await;
            // Renaming needs no other session on the database; the builder's
            // pool may take a moment to close.
            let rename = format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{building}' AND pid <> pg_backend_pid(); \
                 ALTER DATABASE {building} RENAME TO {template}"
            );
            retry(50, Duration::from_millis(100), || {
                client.batch_execute(&rename)
            })
            .await;
        }
        client
            .execute("SELECT pg_advisory_unlock(4242)", &[])
            .await
            .expect("unlock");
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let create = format!("CREATE DATABASE {name} TEMPLATE {template}");
        retry(50, Duration::from_millis(50), || {
            client.batch_execute(&create)
        })
        .await;
        Self::named(admin_url, name)
    }

    fn named(admin_url: &str, name: String) -> Self {
        Self {
            url: with_db(admin_url, &name),
            admin_url: admin_url.to_string(),
            name,
        }
    }

    /// Connection string of this database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Runs `op` until it succeeds, `tries` times at most (a template is busy
/// while another session still uses it).
async fn retry<F, Fut>(tries: u32, pause: Duration, op: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), tokio_postgres::Error>>,
{
    let mut left = tries;
    loop {
        match op().await {
            Ok(()) => return,
            Err(e) if left > 0 => {
                left -= 1;
                tracing::debug!(error = %e, "template busy, retrying");
                tokio::time::sleep(pause).await;
            }
            Err(e) => panic!("test database: {e}"),
        }
    }
}

impl Drop for ThrowawayDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop may run while the test's runtime is shutting down (or
        // panicking): use a private runtime on a helper thread.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let (client, conn) = tokio_postgres::connect(&admin_url, NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!(
                "could not drop test database {}: helper panicked",
                self.name
            ),
        }
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
