//! Test harness: starts the real application on 127.0.0.1:0 with a fresh
//! database per test — SQLite in a temporary folder, or, when
//! `PORTAL_TEST_DATABASE_URL` is set, a PostgreSQL database cloned from a
//! migrated template — and hands back an HTTP client pointed at it.

pub mod embedder;
pub mod fake_op;
mod logs;
mod pg;
pub mod proxy;
pub mod sse;
mod tools;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use portal_api::AppState;
use portal_core::{Settings, Store};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use utoipa_axum::router::OpenApiRouter;

pub use logs::captured_logs;
pub use pg::PgTestDb;
pub use tools::{compartment_id, run_tool};

/// The environment variable selecting PostgreSQL for tests.
pub use portal_test_db::PG_ENV;

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
    _pg: Option<std::sync::Arc<PgTestDb>>,
    /// The database this app uses (to share it with a second app, or tamper in tests).
    pub db: DbHandle,
    secret: String,
}

/// Where a test app's data lives.
#[derive(Clone, Debug)]
pub enum DbHandle {
    /// An SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// Rewrites the test database URL (e.g. to go through a proxy).
type UrlRewrite = Box<dyn FnOnce(&str) -> String + Send>;

/// Configures a [`TestApp`] before it starts.
pub struct Builder {
    env: Vec<(String, String)>,
    extra: Option<OpenApiRouter<AppState>>,
    pg_via: Option<UrlRewrite>,
    share: Option<(DbHandle, Option<std::sync::Arc<PgTestDb>>)>,
    embedder: Option<Arc<dyn portal_core::search::embed::Embedder>>,
}

/// The approval fixture: the app on the embedded emulator, its admin, an
/// operator (`op@acme.test`) and a RUNNING instance of the demo tenancy.
pub async fn with_operator() -> (TestApp, Client, Client, String) {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let instance = admin.running_instance().await;
    (app, admin, op, instance)
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
            share: None,
            embedder: None,
        }
    }

    /// Runs every due search-indexing job to the end, here or by the
    /// server's own runner, and waits until none is queued or running (the
    /// test's drain of the job runner); how many have run, in all.
    pub async fn drain_index_jobs(&self) -> usize {
        use portal_core::jobs::{JobKind, JobRunner, RunnerConfig};
        use portal_core::search::indexing::IndexHandler;
        let app = &self.state.app;
        let handler = IndexHandler::new(app.store.clone(), app.search.clone());
        let runner = JobRunner::new(app.store.clone(), "test-drain", RunnerConfig::default())
            .handle(JobKind::SearchIndex, Arc::new(handler));
        let count = |state: &'static str| async move {
            let sql = format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM jobs WHERE kind = 'search.index' AND state {state}"
            );
            let v = self.query_strings(&sql).await;
            v.first().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0)
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            runner.run_pending().await.expect("drain the job runner");
            if count("IN ('queued', 'running')").await == 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "indexing jobs never finished"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(count("= 'dead'").await, 0, "an indexing job failed");
        count("= 'done'").await
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

    /// Runs raw SQL statements against the app's database (tests that play an
    /// attacker with write access, or move clocks).
    pub async fn sql(&self, sql: &str) {
        match &self.db {
            DbHandle::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).expect("open sqlite");
                c.busy_timeout(std::time::Duration::from_secs(5))
                    .expect("busy timeout");
                c.execute_batch(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            DbHandle::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(conn);
                client
                    .batch_execute(sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }

    /// The first column of each row `sql` returns, as text (a test's look at
    /// stored state it has no API for).
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        match &self.db {
            DbHandle::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).expect("open sqlite");
                c.busy_timeout(std::time::Duration::from_secs(5))
                    .expect("busy timeout");
                let mut st = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let rows = st
                    .query_map([], |r| r.get::<_, String>(0))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.map(|r| r.expect("row")).collect()
            }
            DbHandle::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(conn);
                let rows = client
                    .query(sql, &[])
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter().map(|r| r.get::<_, String>(0)).collect()
            }
        }
    }

    /// The tables (of the public schema, or every SQLite table) whose rows
    /// contain `needle` anywhere, to prove a secret was never stored. On SQLite
    /// the raw bytes of the database file and its `-wal`/`-shm` are searched
    /// too, as an attacker reading the files would.
    pub async fn tables_containing(&self, needle: &str) -> Vec<String> {
        let mut hits = Vec::new();
        match &self.db {
            DbHandle::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let file = format!("{}{suffix}", path.display());
                    if let Ok(bytes) = std::fs::read(&file) {
                        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                            hits.push(file);
                        }
                    }
                }
                let c = rusqlite::Connection::open(path).expect("open sqlite");
                let tables: Vec<String> = c
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .and_then(|mut st| {
                        st.query_map([], |r| r.get(0))?
                            .collect::<Result<Vec<String>, _>>()
                    })
                    .expect("list tables");
                for t in tables {
                    let cols: Vec<String> = c
                        .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
                        .and_then(|mut st| {
                            st.query_map([], |r| r.get(0))?
                                .collect::<Result<Vec<String>, _>>()
                        })
                        .expect("list columns");
                    let any = cols
                        .iter()
                        .map(|col| format!("CAST(\"{col}\" AS TEXT) LIKE ?1"))
                        .collect::<Vec<_>>()
                        .join(" OR ");
                    let n: i64 = c
                        .query_row(
                            &format!("SELECT count(*) FROM \"{t}\" WHERE {any}"),
                            [format!("%{needle}%")],
                            |r| r.get(0),
                        )
                        .expect("search table");
                    if n > 0 {
                        hits.push(t);
                    }
                }
            }
            DbHandle::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(conn);
                let tables = client
                    .query(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                        &[],
                    )
                    .await
                    .expect("list tables");
                for row in tables {
                    let t: String = row.get(0);
                    let n: i64 = client
                        .query_one(
                            &format!("SELECT count(*) FROM \"{t}\" x WHERE x::text LIKE $1"),
                            &[&format!("%{needle}%")],
                        )
                        .await
                        .expect("search table")
                        .get(0);
                    if n > 0 {
                        hits.push(t);
                    }
                }
            }
        }
        hits
    }

    /// Runs SQL with the audit ledger's append-only triggers out of the way, as
    /// an attacker with full database access could.
    pub async fn sql_bypassing_audit_triggers(&self, sql: &str) {
        match &self.db {
            DbHandle::Sqlite(_) => {
                self.sql(&format!(
                    "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; {sql}; \
                     CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END; \
                     CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
                ))
                .await
            }
            DbHandle::Postgres(_) => {
                self.sql(&format!(
                    "ALTER TABLE audit_log DISABLE TRIGGER USER; {sql}; ALTER TABLE audit_log ENABLE TRIGGER USER;"
                ))
                .await
            }
        }
    }

    /// A command running the `portal` binary at `bin` against this app's data
    /// dir and database (tests pass `env!("CARGO_BIN_EXE_portal")`).
    pub fn command(&self, bin: &str) -> std::process::Command {
        let mut c = std::process::Command::new(bin);
        c.env("PORTAL_DATA_DIR", &self.state.settings.data_dir)
            .env("PORTAL_SECRET_KEY", &self.secret);
        match &self.db {
            DbHandle::Postgres(url) => c.env("PORTAL_DATABASE_URL", url),
            DbHandle::Sqlite(p) => c.env("PORTAL_DATABASE_URL", format!("sqlite:{}", p.display())),
        };
        c
    }

    /// The setup token written at start (while no admin exists).
    pub fn setup_token(&self) -> Option<String> {
        std::fs::read_to_string(self.state.settings.data_dir.join("setup-token")).ok()
    }

    /// Creates the first admin through the setup endpoint and signs them in.
    pub async fn admin(&self) -> Client {
        let token = self.setup_token().expect("setup token present");
        let res = self
            .client
            .post(self.at("/api/setup/admin"))
            .bearer_auth(token)
            .json(&serde_json::json!({"email": "admin@acme.test", "password": PASSWORD, "name": "Ada Admin", "orgName": "Acme"}))
            .send()
            .await
            .expect("setup request");
        assert_eq!(
            res.status(),
            201,
            "setup: {}",
            res.text().await.unwrap_or_default()
        );
        let done: serde_json::Value = res.json().await.expect("setup json");
        let admin = self.sign_in("admin@acme.test", PASSWORD).await;
        // The embedded emulator gives the first organisation the demo tenancy;
        // a configured cloud (`PORTAL_CLOUD=oci`, e.g. a shared standalone
        // emulator) gives nothing by default, so the fixture assigns it as a
        // platform admin would.
        if let Some(cloud) = self
            .state
            .cloud
            .get()
            .filter(|c| c.mode == portal_core::CloudMode::Oci)
        {
            let org = done["organization"]["id"].as_str().expect("org id");
            admin.assign_compartments(org, &[&cloud.tenancy]).await;
        }
        admin
    }

    /// The connected cloud's tenancy OCID (without running a tool).
    pub fn tenancy(&self) -> String {
        self.state
            .cloud
            .get()
            .map(|c| c.tenancy.clone())
            .expect("a cloud is connected")
    }

    /// Signs in and returns a client carrying the session cookie and a same-origin `Origin`.
    pub async fn sign_in(&self, email: &str, password: &str) -> Client {
        let res = self
            .client
            .post(self.at("/api/auth/sign-in/email"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("sign-in request");
        assert_eq!(res.status(), 200, "sign-in as {email}: {}", res.status());
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("portal_session="))
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_string();
        let body: serde_json::Value = res.json().await.expect("session json");
        Client {
            base: self.url.clone(),
            http: self.client.clone(),
            auth: Auth::Cookie(cookie, self.state.settings.http.public_url.clone()),
            who: body,
        }
    }

    /// A client using a session cookie (`name=value`) obtained elsewhere
    /// (an SSO callback, say).
    pub fn with_cookie(&self, cookie: &str) -> Client {
        Client {
            base: self.url.clone(),
            http: self.client.clone(),
            auth: Auth::Cookie(
                cookie.to_string(),
                self.state.settings.http.public_url.clone(),
            ),
            who: serde_json::Value::Null,
        }
    }

    /// A client using an API key.
    pub fn with_key(&self, key: &str) -> Client {
        Client {
            base: self.url.clone(),
            http: self.client.clone(),
            auth: Auth::Key(key.to_string()),
            who: serde_json::Value::Null,
        }
    }

    /// A member added by `admin` with `role`, signed in (after setting their password).
    pub async fn member(&self, admin: &Client, email: &str, role: &str) -> Client {
        let res = admin
            .post(
                "/api/org/members",
                serde_json::json!({"email": email, "name": email, "role": role}),
            )
            .await;
        assert_eq!(res.status(), 201, "add member {email}");
        let body: serde_json::Value = res.json().await.expect("json");
        let otp = body["oneTimePassword"]
            .as_str()
            .expect("one-time password")
            .to_string();
        let c = self.sign_in(email, &otp).await;
        let res = c
            .post(
                "/api/auth/change-password",
                serde_json::json!({"currentPassword": otp, "newPassword": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 200);
        c
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

    /// Points chat at a model provider (`openai`, `anthropic` or `oci`) served at
    /// `base_url` (a test fake speaking its wire protocol), model `test-model`.
    pub fn model(self, provider: &str, base_url: &str) -> Self {
        self.env("PORTAL_AI_PROVIDER", provider)
            .env("PORTAL_AI_BASE_URL", base_url)
            .env("PORTAL_AI_MODEL", "test-model")
            .env("PORTAL_AI_API_KEY", "sk-test-not-a-real-key-000000000000")
    }

    /// Searches and indexes with `embedder` (a test embedder, or the local
    /// model) instead of the configured one.
    pub fn embedder(mut self, e: Arc<dyn portal_core::search::embed::Embedder>) -> Self {
        self.embedder = Some(e);
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

    /// Uses the same database as `other` (a second replica).
    pub fn same_database_as(mut self, other: &TestApp) -> Self {
        self.share = Some((other.db.clone(), other._pg.clone()));
        // Replicas share the master secret (audit MACs must agree).
        self.env
            .push(("PORTAL_SECRET_KEY".to_string(), other.secret.clone()));
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
            // Tests that need a cloud ask for one (`.env("PORTAL_CLOUD", "emulator")`).
            ("PORTAL_CLOUD".to_string(), "none".to_string()),
        ];
        let (pg, db) = match self.share {
            Some((DbHandle::Sqlite(path), _)) => {
                env.push((
                    "PORTAL_DATABASE_URL".to_string(),
                    format!("sqlite:{}", path.display()),
                ));
                (None, DbHandle::Sqlite(path))
            }
            Some((DbHandle::Postgres(url), pg)) => {
                env.push(("PORTAL_DATABASE_URL".to_string(), url.clone()));
                (pg, DbHandle::Postgres(url))
            }
            None if on_postgres() => {
                let db = std::sync::Arc::new(PgTestDb::create().await);
                let url = match self.pg_via {
                    Some(f) => f(db.url()),
                    None => db.url().to_string(),
                };
                env.push(("PORTAL_DATABASE_URL".to_string(), url));
                let direct = db.url().to_string();
                (Some(db), DbHandle::Postgres(direct))
            }
            None => (None, DbHandle::Sqlite(dir.path().join("portal.db"))),
        };
        env.extend(self.env);
        let settings = Settings::load(None, env).expect("test settings");
        let store: Arc<dyn Store> =
            portal_store::open(&settings, !settings.database.skip_migrations)
                .await
                .expect("open test database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let master = settings.load_or_create_secret_key().expect("secret key");
        let secret = String::from_utf8_lossy(master.expose()).into_owned();
        let app = portal_app::App::build(settings, store, &master)
            .await
            .expect("keys");
        app.prepare_setup().await.expect("setup token");
        app.connect_cloud().await.expect("cloud");
        if let Some(e) = self.embedder {
            app.search.set_embedder(e);
        }
        app.connect_embedder().await.expect("embedder");
        let state = AppState::of(app);
        let routes = match self.extra {
            Some(extra) => portal_api::routes().merge(extra),
            None => portal_api::routes(),
        };
        // The server's composition: the API and the web UI in one pipeline.
        let router = portal_api::app::with_routes(&state, routes).merge(portal_web::router());
        let app = portal_http::pipeline(state.clone(), router, Some(portal_web::error_page));
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(portal_http::serve_router(
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
            db,
            secret,
        }
    }
}

/// The password test users get.
pub const PASSWORD: &str = "correct horse battery staple";

/// How a [`Client`] authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    /// Session cookie (`name=value`) and the Origin to send on writes.
    Cookie(String, String),
    /// API key.
    Key(String),
}

/// An HTTP client bound to one identity.
#[derive(Clone)]
pub struct Client {
    base: String,
    /// The underlying client.
    pub http: reqwest::Client,
    /// Credentials.
    pub auth: Auth,
    /// What sign-in answered (session view), for cookie clients.
    pub who: serde_json::Value,
}

impl Client {
    /// A request with credentials (and Origin for cookies).
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, format!("{}{}", self.base, path));
        match &self.auth {
            Auth::Cookie(c, origin) => rb.header("cookie", c).header("origin", origin),
            Auth::Key(k) => rb.bearer_auth(k),
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::PUT, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::PATCH, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::DELETE, path)
            .send()
            .await
            .expect("request")
    }

    /// Creates an API key through the API and returns the secret.
    pub async fn create_key(&self, name: &str, perms: &[&str]) -> (String, String) {
        let res = self
            .post(
                "/api/api-keys",
                serde_json::json!({"name": name, "permissions": perms}),
            )
            .await;
        assert_eq!(res.status(), 201, "create key {name}");
        let body: serde_json::Value = res.json().await.expect("json");
        (
            body["key"].as_str().expect("key").to_string(),
            body["apiKey"]["id"].as_str().expect("id").to_string(),
        )
    }

    /// Creates an organisation as a platform admin; returns its id.
    pub async fn create_org(&self, name: &str, slug: &str) -> String {
        let res = self
            .post(
                "/api/admin/orgs",
                serde_json::json!({"name": name, "slug": slug}),
            )
            .await;
        assert_eq!(res.status(), 201, "create organisation {slug}");
        let body: serde_json::Value = res.json().await.expect("json");
        body["id"].as_str().expect("org id").to_string()
    }

    /// Asks for `tool` through `POST /api/tools/execute`; returns the approval it needs.
    pub async fn ask_approval(&self, tool: &str, args: serde_json::Value) -> String {
        let res = self
            .post(
                "/api/tools/execute",
                serde_json::json!({"toolName": tool, "args": args}),
            )
            .await;
        assert_eq!(res.status(), 403, "{tool} needs an approval");
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["code"], "APPROVAL_REQUIRED", "{body}");
        body["approvalId"]
            .as_str()
            .expect("approval id")
            .to_string()
    }

    /// Switches the session's active organisation (by slug).
    pub async fn set_active(&self, slug: &str) {
        let res = self
            .post(
                "/api/auth/organization/set-active",
                serde_json::json!({ "organizationSlug": slug }),
            )
            .await;
        assert_eq!(res.status(), 200, "switch to {slug}");
    }

    /// The id of a RUNNING instance of the demo tenancy, found through the tools.
    pub async fn running_instance(&self) -> String {
        let comps: serde_json::Value = self
            .post(
                "/api/v1/tools/listCompartments/execute",
                serde_json::json!({"args": {}}),
            )
            .await
            .json()
            .await
            .expect("compartments");
        for comp in comps["result"]["items"].as_array().into_iter().flatten() {
            let body: serde_json::Value = self
                .post(
                    "/api/v1/tools/listInstances/execute",
                    serde_json::json!({"args": {"compartmentId": comp["id"], "lifecycleState": "RUNNING"}}),
                )
                .await
                .json()
                .await
                .expect("instances");
            if let Some(id) = body["result"]["items"][0]["id"].as_str() {
                return id.to_string();
            }
        }
        panic!("no running instance in the demo tenancy");
    }

    /// Assigns organisation `org_id` the cloud compartments its tools may act in
    /// (the caller must be a platform admin, e.g. [`TestApp::admin`]); returns
    /// what is now assigned. New organisations have none (deny by default).
    pub async fn assign_compartments(
        &self,
        org_id: &str,
        compartments: &[&str],
    ) -> serde_json::Value {
        let res = self
            .put(
                &format!("/api/admin/orgs/{org_id}/compartments"),
                serde_json::json!({ "allowedCompartments": compartments }),
            )
            .await;
        assert_eq!(res.status(), 200, "assign compartments to {org_id}");
        res.json().await.expect("json")
    }

    /// The tenancy's OCID, as the (unrestricted) caller's tools report it.
    pub async fn tenancy(&self) -> String {
        let body: serde_json::Value = self
            .post(
                "/api/v1/tools/getTenancy/execute",
                serde_json::json!({"args": {}}),
            )
            .await
            .json()
            .await
            .expect("tenancy");
        body["result"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("tenancy id in {body}"))
            .to_string()
    }

    /// The user id of a signed-in client.
    pub fn user_id(&self) -> String {
        self.who["user"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}
