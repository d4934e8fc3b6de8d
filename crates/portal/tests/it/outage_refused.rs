//! A PostgreSQL server that refuses connections (down or restarting, not hung):
//! every endpoint answers 503 `DATABASE_UNAVAILABLE` with `Retry-After`, or a
//! degraded 200 for listings, never 500, and service resumes on its own.
//! (SQLite is an embedded file with no connection to refuse: there the test
//! only checks that the same endpoints work.)

use std::time::{Duration, Instant};

use portal_testkit::proxy::{self, TcpProxy};
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

/// The listings that degrade (200, no items, `degraded: true`) and their item field.
const LISTS: &[(&str, &str)] = &[
    ("/api/sessions", "sessions"),
    ("/api/activity", "items"),
    ("/api/audit", "items"),
    ("/api/v1/events", "events"),
];

async fn assert_unavailable(what: &str, res: reqwest::Response) {
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").cloned();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 503, "{what}: {body}");
    assert_eq!(body["code"], "DATABASE_UNAVAILABLE", "{what}: {body}");
    assert!(retry.is_some(), "{what}: Retry-After");
}

async fn sign_in(app: &TestApp, email: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": email, "password": "not the password at all"}))
        .send()
        .await
        .unwrap()
}

/// Every endpoint the review found answering 500, asked once each.
async fn probe_all(app: &TestApp, key: &Client) {
    assert_unavailable("setup status", app.get("/api/setup/status").await).await;
    assert_unavailable("sign-in (known)", sign_in(app, "admin@acme.test").await).await;
    assert_unavailable("sign-in (unknown)", sign_in(app, "nobody@acme.test").await).await;
    for (path, field) in LISTS {
        let res = key.get(path).await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["degraded"], true, "{path}: {body}");
        assert_eq!(body[field], json!([]), "{path}: {body}");
    }
    // Pending approvals: degraded or unavailable, never 500.
    let res = key.get("/api/tools/approve").await;
    if res.status() == 200 {
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["degraded"], true, "/api/tools/approve: {body}");
    } else {
        assert_unavailable("/api/tools/approve", res).await;
    }
    assert_unavailable(
        "POST /api/sessions",
        key.post("/api/sessions", json!({"title": "refused"})).await,
    )
    .await;
    assert_unavailable(
        "listRegions",
        key.post("/api/v1/tools/listRegions/execute", json!({"args": {}}))
            .await,
    )
    .await;
}

#[tokio::test]
async fn postgres_refusing_connections_answers_503_never_500_and_recovers() {
    if !portal_testkit::on_postgres() {
        let app = TestApp::spawn().await;
        let admin = app.admin().await;
        for (path, _) in LISTS {
            assert_eq!(admin.get(path).await.status(), 200, "{path}");
        }
        return;
    }
    let url = std::env::var(portal_testkit::PG_ENV).unwrap();
    let proxy = TcpProxy::start(proxy::pg_target(&url)).await;
    let addr = proxy.addr;
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .pg_url_via(move |u| proxy::via(u, addr))
        .spawn()
        .await;
    let admin = app.admin().await;
    let (key, _) = admin
        .create_key(
            "warm",
            &[
                "sessions:read",
                "sessions:write",
                "tools:read",
                "tools:execute",
                "tools:approve",
                "admin:audit",
            ],
        )
        .await;
    let key = app.with_key(&key);
    // Resolve and cache the key just before the outage (the cache keeps it for seconds).
    for (path, _) in LISTS {
        assert_eq!(key.get(path).await.status(), 200, "{path}");
    }

    proxy.refuse();
    // At once (before the monitor notices) and again once it has.
    probe_all(&app, &key).await;
    let start = Instant::now();
    while app.get("/health").await.status() != 503 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "health never 503"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (path, _) in LISTS {
        assert_eq!(key.get(path).await.status(), 200, "{path}");
    }
    assert_unavailable("setup status", app.get("/api/setup/status").await).await;

    proxy.restore();
    let start = Instant::now();
    while app.get("/health").await.status() != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "health never 200"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.get("/api/setup/status").await.status(), 200);
    assert_eq!(
        key.post("/api/sessions", json!({"title": "after"}))
            .await
            .status(),
        201
    );
    let listed: Value = key.get("/api/sessions").await.json().await.unwrap();
    assert_eq!(listed["total"], 1, "{listed}");
    assert!(listed.get("degraded").is_none(), "{listed}");
    let res = key
        .post("/api/v1/tools/listRegions/execute", json!({"args": {}}))
        .await;
    assert_eq!(res.status(), 200);
}
