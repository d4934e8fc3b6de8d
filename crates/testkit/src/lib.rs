//! Test harness: starts the real application on 127.0.0.1:0 with a fresh
//! database per test — SQLite in a temporary folder, or, when
//! `PORTAL_TEST_DATABASE_URL` is set, a PostgreSQL database cloned from a
//! migrated template — and hands back an HTTP client pointed at it.

mod logs;
mod pg;
pub mod proxy;

use std::net::SocketAddr;
use std::sync::Arc;

use portal_api::AppState;
use portal_core::{Settings, Store};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use utoipa_axum::router::OpenApiRouter;

pub use logs::captured_logs;
pub use pg::PgTestDb;

/// The environment variable selecting PostgreSQL for tests.
pub const PG_ENV: &str = "PORTAL_TEST_DATABASE_URL";

/// True when the tests run against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(PG_ENV).is_ok_and(|v| !v.trim().is_empty())
}

/// A running app and everything it needs to stay alive.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// A client with no proxy and no redirects.
    pub client: reqwest::Client,
    /// The app's shared state (store, metrics, settings).
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
    _pg: Option<PgTestDb>,
}

/// Rewrites the test database URL (e.g. to go through a proxy).
type UrlRewrite = Box<dyn FnOnce(&str) -> String + Send>;

/// Configures a [`TestApp`] before it starts.
pub struct Builder {
    env: Vec<(String, String)>,
    extra: Option<OpenApiRouter<AppState>>,
    pg_via: Option<UrlRewrite>,
}

impl TestApp {
    /// Starts the app with test defaults.
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    /// A builder for settings and extra routes.
    pub fn builder() -> Builder {
        Builder {
            env: Vec::new(),
            extra: None,
            pg_via: None,
        }
    }

    /// Absolute URL of a path.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.at(path))
            .send()
            .await
            .expect("request failed")
    }

    /// Asks the server to shut down gracefully and waits for it.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(h) => h.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(h) = self.server.take() {
            h.abort();
        }
    }
}

impl Builder {
    /// Sets a `PORTAL_*` setting.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Adds routes served through the same pipeline (to probe the pipeline itself).
    pub fn routes(mut self, r: OpenApiRouter<AppState>) -> Self {
        self.extra = Some(r);
        self
    }

    /// On PostgreSQL, rewrites the database URL the app uses (e.g. through a TCP proxy).
    pub fn pg_url_via(mut self, f: impl FnOnce(&str) -> String + Send + 'static) -> Self {
        self.pg_via = Some(Box::new(f));
        self
    }

    /// Creates the database, starts the server and waits until it listens.
    pub async fn spawn(self) -> TestApp {
        logs::init();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut env = vec![
            (
                "PORTAL_DATA_DIR".to_string(),
                dir.path().display().to_string(),
            ),
            ("PORTAL_BIND".to_string(), "127.0.0.1:0".to_string()),
            ("PORTAL_RATE_LIMIT_API".to_string(), "100000".to_string()),
            ("PORTAL_DB_CHECK_INTERVAL_MS".to_string(), "200".to_string()),
            ("PORTAL_SHUTDOWN_GRACE_SECS".to_string(), "3".to_string()),
        ];
        let pg = if on_postgres() {
            let db = PgTestDb::create().await;
            let url = match self.pg_via {
                Some(f) => f(db.url()),
                None => db.url().to_string(),
            };
            env.push(("PORTAL_DATABASE_URL".to_string(), url));
            Some(db)
        } else {
            None
        };
        env.extend(self.env);
        let settings = Settings::load(None, env).expect("test settings");
        let store: Arc<dyn Store> = portal_store::open(&settings, !settings.skip_migrations)
            .await
            .expect("open test database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = AppState::new(settings, store);
        let routes = match self.extra {
            Some(extra) => portal_api::routes().merge(extra),
            None => portal_api::routes(),
        };
        let app = portal_api::build(state.clone(), routes);
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(portal_api::serve_router(
            listener,
            state.clone(),
            app,
            async move {
                let _ = rx.await;
            },
        ));
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            addr,
            url: format!("http://{addr}"),
            client,
            state,
            stop: Some(tx),
            server: Some(server),
            _dir: dir,
            _pg: pg,
        }
    }
}
