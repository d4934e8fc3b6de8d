//! A PostgreSQL outage and recovery, with the connection cut by a TCP proxy the
//! test controls. (SQLite is an embedded file: it has no outage mode; on SQLite
//! this test only checks that the probe route works.)

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::get;
use axum::Json;
use portal_api::{ApiError, AppState};
use portal_testkit::proxy::{self, TcpProxy};
use portal_testkit::TestApp;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

async fn schema(State(state): State<AppState>) -> Result<Json<i64>, ApiError> {
    Ok(Json(state.store.schema_version().await?))
}

async fn wait_for(app: &TestApp, path: &str, status: u16) -> reqwest::Response {
    let start = Instant::now();
    loop {
        let res = app.get(path).await;
        if res.status().as_u16() == status {
            return res;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{path} never answered {status} (last {})",
            res.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn postgres_outage_degrades_and_recovers_without_restart() {
    let routes = OpenApiRouter::new().route("/test/db", get(schema));
    if !portal_testkit::on_postgres() {
        let app = TestApp::builder().routes(routes).spawn().await;
        assert_eq!(app.get("/test/db").await.status(), 200);
        return;
    }
    let url = std::env::var(portal_testkit::PG_ENV).unwrap();
    let proxy = TcpProxy::start(proxy::pg_target(&url)).await;
    let addr = proxy.addr;
    let app = TestApp::builder()
        .routes(routes)
        .pg_url_via(move |u| proxy::via(u, addr))
        .spawn()
        .await;
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/test/db").await.status(), 200);
    let admin = app.admin().await;
    let (warm_key, _) = admin
        .create_key("warm", &["sessions:read", "sessions:write"])
        .await;
    let (cold_key, _) = admin.create_key("cold", &["sessions:read"]).await;
    let warm = app.with_key(&warm_key);
    assert_eq!(
        warm.get("/api/sessions").await.status(),
        200,
        "resolves and caches the key"
    );

    proxy.cut();
    // A caller already verified keeps reading (degraded) and is told writes are unavailable.
    let res = warm.get("/api/sessions").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["degraded"], true, "{body}");
    assert_eq!(body["sessions"], serde_json::json!([]));
    assert!(body["message"].as_str().is_some());
    let res = warm
        .post(
            "/api/sessions",
            serde_json::json!({"title": "during outage"}),
        )
        .await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "DATABASE_UNAVAILABLE"
    );
    // A caller whose credentials need the database: 503, never 401 (an outage logs nobody out).
    let res = app.with_key(&cold_key).get("/api/sessions").await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "DATABASE_UNAVAILABLE"
    );

    let res = wait_for(&app, "/health", 503).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["checks"]["database"]["status"], "error");
    let res = wait_for(&app, "/test/db", 503).await;
    assert_eq!(res.headers()["retry-after"], "5");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "DATABASE_UNAVAILABLE", "{body}");
    assert!(
        !body["error"].as_str().unwrap().contains("127.0.0.1"),
        "no internals: {body}"
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness does no I/O"
    );
    let metrics = app.get("/api/metrics").await.text().await.unwrap();
    assert!(metrics.contains("db_up 0"));
    // /health answers quickly during the outage instead of hanging on the dead socket.
    let t = Instant::now();
    assert_eq!(app.get("/health").await.status(), 503);
    assert!(t.elapsed() < Duration::from_secs(3));

    proxy.restore();
    let res = wait_for(&app, "/health", 200).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    wait_for(&app, "/test/db", 200).await;
    // Service resumes without a restart, for every caller.
    assert_eq!(
        app.with_key(&cold_key).get("/api/sessions").await.status(),
        200
    );
    assert_eq!(
        warm.post("/api/sessions", serde_json::json!({"title": "after"}))
            .await
            .status(),
        201
    );
    let listed: Value = warm.get("/api/sessions").await.json().await.unwrap();
    assert_eq!(listed["total"], 1);
    assert!(listed.get("degraded").is_none());
}
