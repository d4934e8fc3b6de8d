//! Health, metrics, OpenAPI, docs and the live health stream.

use std::time::Duration;

use futures_util::StreamExt;
use portal_testkit::TestApp;
use serde_json::{json, Value};

#[tokio::test]
async fn health_reports_the_database() {
    let app = TestApp::spawn().await;
    // Details are for platform admins (and the metrics token); anonymous callers see statuses.
    let admin = app.admin().await;
    let res = admin.get("/health").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    let db = &body["checks"]["database"];
    assert_eq!(db["status"], "ok");
    assert!(db["latencyMs"].as_f64().is_some_and(|ms| ms >= 0.0));
    let backend = if portal_testkit::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(db["details"]["backend"], backend);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptimeSeconds"].as_f64().is_some());
    assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[tokio::test]
async fn metrics_label_by_route_template() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/secret-probe-path-12345").await.status(), 404);
    let res = app.get("/api/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/health",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#));
    assert!(
        !text.contains("secret-probe-path-12345"),
        "raw paths never become labels"
    );
    assert!(text.contains(
        r#"http_request_duration_seconds_bucket{method="GET",route="/health",le="+Inf"} 1"#
    ));
    assert!(text.contains(r#"db_pool_connections{state="max"}"#));
    assert!(text.contains("db_up 1"));
    assert!(text.contains("process_resident_memory_bytes"));
    assert!(text.contains("portal_build_info"));
}

#[tokio::test]
async fn openapi_documents_every_route_with_its_statuses() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in ["/healthz", "/health", "/api/health/stream", "/api/metrics"] {
        let op = &paths[p]["get"];
        assert!(op.is_object(), "{p} documented");
        let responses = op["responses"].as_object().unwrap();
        for code in ["200", "429", "500", "503"] {
            assert!(responses.contains_key(code), "{p} documents {code}");
        }
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for s in ["bearer", "apiKey", "session"] {
        assert!(schemes.contains_key(s), "security scheme {s}");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // Every documented path is really served (no stale docs).
    for p in paths.keys() {
        let status = app.client.head(app.at(p)).send().await.unwrap().status();
        assert_ne!(status, 404, "{p} is documented but not routed");
    }
}

/// Every asset the docs page references loads from the binary.
#[tokio::test]
async fn docs_ui_works_offline() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/docs/").await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let html = res.text().await.unwrap();
    let mut assets = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(!url.starts_with("http"), "external asset {url}");
            assets.push(url.trim_start_matches("./").to_string());
        }
    }
    assert!(assets.len() >= 4, "{assets:?}");
    for a in &assets {
        let r = app.get(&format!("/api/docs/{a}")).await;
        assert_eq!(r.status(), 200, "asset {a}");
    }
    let init = app
        .get("/api/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
}

#[tokio::test]
async fn docs_need_admin_in_production() {
    let key = "p".repeat(48);
    let app = TestApp::builder()
        .env("PORTAL_ENV", "production")
        .env("PORTAL_SECRET_KEY", key)
        .env("PORTAL_CORS_ORIGINS", "https://ui.example")
        .spawn()
        .await;
    let res = app.get("/api/docs/").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("www-authenticate").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "AUTH_REQUIRED");
    assert_eq!(
        app.get("/api/v1/openapi.json").await.status(),
        200,
        "the document itself stays public"
    );
}

async fn next_event(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
) -> String {
    loop {
        if let Some(i) = buf.find("\n\n") {
            let ev = buf[..i].to_string();
            buf.drain(..i + 2);
            return ev;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("event within 5 s")
            .expect("stream open")
            .expect("chunk");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn health_stream_events_heartbeats_and_shutdown() {
    let app = TestApp::builder()
        .env("PORTAL_SSE_HEARTBEAT_SECS", "1")
        .env("PORTAL_MAX_HEALTH_STREAMS", "1")
        .spawn()
        .await;
    let res = app.get("/api/health/stream").await;
    assert_eq!(res.status(), 200);
    let mut stream = Box::pin(res.bytes_stream());
    let mut buf = String::new();
    let first = next_event(&mut stream, &mut buf).await;
    assert!(
        first.contains("event: health") && first.contains("id: 0"),
        "{first}"
    );
    assert!(first.contains("\"status\":\"ok\""), "{first}");
    let beat = next_event(&mut stream, &mut buf).await;
    assert_eq!(beat.trim(), ": heartbeat");

    // The stream pool is bounded.
    let second = app.get("/api/health/stream").await;
    assert_eq!(second.status(), 503);
    assert_eq!(second.json::<Value>().await.unwrap()["code"], "OVERLOADED");

    let text = app.get("/api/metrics").await.text().await.unwrap();
    assert!(text.contains("http_streams_open 1"), "{text}");

    let shutdown = tokio::spawn(app.shutdown());
    let mut last = String::new();
    for _ in 0..5 {
        last = next_event(&mut stream, &mut buf).await;
        if last.contains("event: shutdown") {
            break;
        }
    }
    assert!(
        last.contains("event: shutdown") && last.contains("server shutting down"),
        "{last}"
    );
    let done = tokio::time::timeout(Duration::from_secs(5), shutdown)
        .await
        .expect("drained in time");
    assert!(done.unwrap().is_ok());
}

/// What OpenAPI generators need: unique, meaningful operationIds and every
/// parameter where it really is (openapi-spec-validator checks the same in CI).
#[tokio::test]
async fn openapi_operations_have_unique_ids_and_parameters_where_they_are() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut seen = std::collections::BTreeMap::new();
    let generic = ["list", "get", "create", "execute", "delete", "update"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        let template: Vec<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has an operationId"));
            assert!(!generic.contains(&id), "{method} {path}: generic id {id}");
            assert!(
                id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{method} {path}: camelCase id, got {id}"
            );
            if let Some(other) = seen.insert(id.to_string(), format!("{method} {path}")) {
                panic!("operationId {id} on both {other} and {method} {path}");
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: Vec<&str> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for name in &in_path {
                assert!(
                    template.contains(name),
                    "{method} {path}: path parameter {name} is not in the path"
                );
            }
            for name in &template {
                assert!(
                    in_path.contains(name),
                    "{method} {path}: {{{name}}} is not declared as a path parameter"
                );
            }
            // A guarded operation documents its credential and permission refusals.
            let guarded = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let responses = op["responses"].as_object().unwrap();
            if guarded {
                for code in ["401", "403"] {
                    assert!(
                        responses.contains_key(code),
                        "{method} {path} documents {code}"
                    );
                }
            }
            if !params.is_empty() {
                assert!(
                    responses.contains_key("400"),
                    "{method} {path} documents 400"
                );
            }
        }
    }
    assert!(seen.len() >= 40, "{} operations", seen.len());
    for (id, query) in [
        ("listSessions", "limit"),
        ("listSessions", "offset"),
        ("getToolRequirements", "toolName"),
        ("followChatStream", "after"),
    ] {
        let (path, method) = seen[id].split_once(' ').map(|(m, p)| (p, m)).unwrap();
        let op = &doc["paths"][path][method];
        let p = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == query)
            .unwrap_or_else(|| panic!("{id} declares {query}"));
        assert_eq!(p["in"], "query", "{id}: {query} is a query parameter");
    }
}

/// What schemathesis found beyond the document's shape: a body that is not an
/// object, credentials before state on the setup route, audit pages past 200.
#[tokio::test]
async fn bodies_are_objects_setup_asks_for_credentials_first_and_audit_pages_cap() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // serde would fill a struct from an array; the API refuses it.
    let res = admin
        .request(reqwest::Method::POST, "/api/sessions")
        .header("content-type", "application/json")
        .body("[null, null]")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "body: must be a JSON object"
    );
    // Invalid JSON still says so.
    let res = admin
        .request(reqwest::Method::POST, "/api/sessions")
        .header("content-type", "application/json")
        .body("[nul")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("invalid JSON"));

    // Setup is over: no credentials is 401 (as documented), a token is 403.
    let body = json!({"email": "b@acme.test", "password": "a long passphrase", "name": "B", "orgName": "B"});
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .bearer_auth("0".repeat(64))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // JSON audit pages hold at most 200 records; a larger limit is not an error.
    let res = admin.get("/api/audit?limit=500").await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert!(page["items"].as_array().unwrap().len() <= 200);
    assert_eq!(admin.get("/api/audit?limit=10001").await.status(), 400);
}
