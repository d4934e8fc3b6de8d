//! The HTTP pipeline, end to end over HTTP against a real database: headers,
//! request ids, error bodies, CORS, rate limits, load shedding, timeouts.

use std::time::Duration;

use axum::routing::{get, post};
use portal_api::extract::ApiJson;
use portal_api::AppState;
use portal_testkit::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Probe {
    name: String,
    count: u32,
}

async fn echo(ApiJson(p): ApiJson<Probe>) -> String {
    format!("{}:{}", p.name, p.count)
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    "done"
}

async fn boom() -> &'static str {
    panic!("probe panic")
}

fn probes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/test/echo", post(echo))
        .route("/test/slow", get(slow))
        .route("/test/panic", get(boom))
}

async fn app_with(env: &[(&str, &str)]) -> TestApp {
    let mut b = TestApp::builder().routes(probes());
    for (k, v) in env {
        b = b.env(k, *v);
    }
    b.spawn().await
}

const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-robots-tag", "noindex, nofollow"),
    ("cache-control", "no-store"),
];

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(
            h.get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{what}: header {name}"
        );
    }
    let csp = h
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{what}: csp {csp}"
    );
    let pp = h
        .get("permissions-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(pp.contains("camera=()"), "{what}: permissions-policy {pp}");
    assert!(h.get("x-request-id").is_some(), "{what}: x-request-id");
}

async fn error_body(res: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status);
    let rid = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .starts_with("application/json"),
        "error bodies are JSON"
    );
    let body: Value = res.json().await.expect("json body");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert_eq!(
        body["requestId"].as_str(),
        rid.as_deref(),
        "requestId matches header"
    );
    body
}

#[tokio::test]
async fn security_headers_on_success_error_404_and_sse() {
    let app = app_with(&[]).await;
    let ok = app.get("/healthz").await;
    assert_eq!(ok.status(), 200);
    assert_security_headers(&ok, "200");
    assert!(
        ok.headers().get("strict-transport-security").is_none(),
        "no HSTS in development"
    );
    assert_eq!(ok.text().await.unwrap(), "ok");

    let nf = app.get("/no/such/route").await;
    assert_security_headers(&nf, "404");
    error_body(nf, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    let err = app
        .client
        .post(app.at("/test/echo"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_security_headers(&err, "400");

    let sse = app.get("/api/health/stream").await;
    assert_eq!(sse.status(), 200);
    assert!(sse.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert_security_headers(&sse, "sse");
}

#[tokio::test]
async fn production_sends_hsts() {
    let key = "p".repeat(48);
    let app = app_with(&[
        ("PORTAL_ENV", "production"),
        ("PORTAL_SECRET_KEY", &key),
        ("PORTAL_CORS_ORIGINS", "https://portal.example"),
    ])
    .await;
    let res = app.get("/healthz").await;
    assert_eq!(
        res.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains; preload")
    );
    assert_security_headers(&res, "production");
}

#[tokio::test]
async fn request_ids_are_generated_echoed_and_sanitised() {
    let app = app_with(&[]).await;
    let res = app.get("/healthz").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.starts_with("req-") && id.len() == 40, "{id}");
    let other = app.get("/healthz").await.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(id, other, "ids are unique");

    let res = app
        .client
        .get(app.at("/nope"))
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc.123");
    let body = error_body(res, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(body["requestId"], "trace-abc.123");

    let res = app
        .client
        .get(app.at("/healthz"))
        .header("x-request-id", "bad id<script>")
        .send()
        .await
        .unwrap();
    let got = res.headers()["x-request-id"].to_str().unwrap();
    assert!(got.starts_with("req-"), "unsafe ids are replaced: {got}");

    let sse = app
        .client
        .get(app.at("/api/health/stream"))
        .header("x-request-id", "sse-1")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.headers()["x-request-id"], "sse-1");
}

#[tokio::test]
async fn error_bodies_for_400_404_405_413_415() {
    let app = app_with(&[("PORTAL_BODY_LIMIT_BYTES", "1024")]).await;
    let post = |body: String, ct: &'static str| {
        app.client
            .post(app.at("/test/echo"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let ok = post(r#"{"name":"a","count":2}"#.into(), "application/json")
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "a:2");

    let b = error_body(
        post("{not json".into(), "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
    )
    .await;
    assert!(b["error"].as_str().unwrap().contains("invalid JSON"), "{b}");
    let b = error_body(
        post(r#"{"name":"a","count":"x"}"#.into(), "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
    )
    .await;
    assert!(
        b["error"].as_str().unwrap().starts_with("body/count:"),
        "names the field: {b}"
    );
    let b = error_body(
        post(r#"{"count":1}"#.into(), "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
    )
    .await;
    assert!(
        b["error"].as_str().unwrap().contains("name"),
        "names the missing field: {b}"
    );
    error_body(
        post(String::new(), "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
    )
    .await;

    error_body(
        post(r#"{"name":"a","count":1}"#.into(), "text/plain")
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;

    let big = format!(r#"{{"name":"{}","count":1}}"#, "x".repeat(4096));
    error_body(
        post(big.clone(), "application/json").await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    // Chunked (no Content-Length) bodies are cut too.
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(big.into_bytes())]);
    let res = app
        .client
        .post(app.at("/test/echo"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    error_body(res, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;

    let res = app
        .client
        .request(Method::DELETE, app.at("/healthz"))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers().get("allow").is_some(),
        "405 names the allowed methods"
    );
    error_body(res, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
    error_body(
        app.get("/api/nothing-here").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    // A trailing slash is a different route.
    error_body(
        app.get("/healthz/").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_without_internals() {
    let app = app_with(&[]).await;
    let b = error_body(
        app.get("/test/panic").await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
    )
    .await;
    assert!(
        !b["error"].as_str().unwrap().contains("probe panic"),
        "internals never shown: {b}"
    );
    // The server keeps serving.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn rate_limit_answers_429_with_headers() {
    let app = app_with(&[("PORTAL_RATE_LIMIT_API", "3")]).await;
    for i in 0..3 {
        let res = app.get("/healthz").await;
        assert_eq!(res.status(), 200, "request {i}");
        assert_eq!(res.headers()["ratelimit-limit"], "3");
        assert_eq!(
            res.headers()["ratelimit-remaining"].to_str().unwrap(),
            (2 - i).to_string()
        );
    }
    let res = app.get("/healthz").await;
    assert_eq!(res.headers()["retry-after"], "20");
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    assert_security_headers(&res, "429");
    error_body(res, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    let metrics = app.get("/api/metrics").await;
    assert_eq!(metrics.status(), 429, "metrics share the caller's budget");
}

#[tokio::test]
async fn chat_class_has_its_own_budget_and_zero_turns_a_class_off() {
    let app = app_with(&[
        ("PORTAL_RATE_LIMIT_API", "0"),
        ("PORTAL_RATE_LIMIT_CHAT", "1"),
    ])
    .await;
    for _ in 0..20 {
        let res = app.get("/healthz").await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("ratelimit-limit").is_none());
    }
    assert_eq!(
        app.get("/api/chat").await.status(),
        405,
        "first chat request passes the limiter (POST only)"
    );
    error_body(
        app.get("/api/chat").await,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
    )
    .await;
}

#[tokio::test]
async fn forwarded_for_is_ignored_from_untrusted_peers() {
    let app = app_with(&[("PORTAL_RATE_LIMIT_API", "2")]).await;
    let with_xff = |ip: &'static str| {
        app.client
            .get(app.at("/healthz"))
            .header("x-forwarded-for", ip)
            .send()
    };
    assert_eq!(with_xff("1.1.1.1").await.unwrap().status(), 200);
    assert_eq!(with_xff("2.2.2.2").await.unwrap().status(), 200);
    // A new X-Forwarded-For does not buy a new budget: the peer is not a trusted proxy.
    assert_eq!(with_xff("3.3.3.3").await.unwrap().status(), 429);

    let trusted = app_with(&[
        ("PORTAL_RATE_LIMIT_API", "2"),
        ("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    let with_xff = |ip: &'static str| {
        trusted
            .client
            .get(trusted.at("/healthz"))
            .header("x-forwarded-for", ip)
            .send()
    };
    assert_eq!(with_xff("1.1.1.1").await.unwrap().status(), 200);
    assert_eq!(with_xff("1.1.1.1").await.unwrap().status(), 200);
    assert_eq!(with_xff("1.1.1.1").await.unwrap().status(), 429);
    assert_eq!(
        with_xff("2.2.2.2").await.unwrap().status(),
        200,
        "behind a trusted proxy each client has its own bucket"
    );
}

#[tokio::test]
async fn overload_is_shed_with_503() {
    let app = app_with(&[("PORTAL_MAX_IN_FLIGHT", "1")]).await;
    let slow = tokio::spawn({
        let c = app.client.clone();
        let u = app.at("/test/slow");
        async move { c.get(u).send().await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = app.get("/healthz").await;
    assert!(res.headers().get("retry-after").is_some());
    error_body(res, StatusCode::SERVICE_UNAVAILABLE, "OVERLOADED").await;
    assert_eq!(slow.await.unwrap(), 200);
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "capacity comes back"
    );
}

#[tokio::test]
async fn slow_requests_time_out_with_503() {
    let app = app_with(&[("PORTAL_REQUEST_TIMEOUT_SECS", "1")]).await;
    error_body(
        app.get("/test/slow").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "TIMEOUT",
    )
    .await;
}

#[tokio::test]
async fn cors_preflight_allowed_and_refused() {
    let app = app_with(&[
        ("PORTAL_CORS_ORIGINS", "https://ui.example"),
        ("PORTAL_DEV_CORS_LOCALHOST", "true"),
    ])
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.at("/health"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
    };
    for origin in ["https://ui.example", "http://localhost:5173"] {
        let res = preflight(origin).await.unwrap();
        assert_eq!(res.status(), 204, "{origin}");
        let h = res.headers();
        assert_eq!(h["access-control-allow-origin"], origin);
        assert_eq!(h["access-control-allow-credentials"], "true");
        assert!(h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("DELETE"));
        assert!(h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization"));
        assert_security_headers(&res, "preflight");
    }
    let res = preflight("https://evil.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    error_body(res, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    let simple = app
        .client
        .get(app.at("/healthz"))
        .header("origin", "https://ui.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://ui.example"
    );
    assert!(simple.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("x-request-id"));
    let foreign = app
        .client
        .get(app.at("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(foreign
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let key = "p".repeat(48);
    let prod = app_with(&[
        ("PORTAL_ENV", "production"),
        ("PORTAL_SECRET_KEY", &key),
        ("PORTAL_CORS_ORIGINS", "https://ui.example"),
    ])
    .await;
    let res = prod
        .client
        .request(Method::OPTIONS, prod.at("/health"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "production never reflects localhost");
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let app = app_with(&[]).await;
    let res = app
        .client
        .post(app.at("/test/echo"))
        .header("authorization", "Bearer portal_supersecretvalue1")
        .header("cookie", "portal_session=cookiesecretvalue2")
        .header("x-api-key", "portal_apikeysecretvalue3")
        .header("content-type", "application/json")
        .body(r#"{"name":"n","count":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rid = res.headers()["x-request-id"].to_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logs = portal_testkit::captured_logs();
    assert!(logs.contains(&rid), "the request was logged");
    assert!(
        logs.contains("[REDACTED]"),
        "headers are logged at trace, redacted"
    );
    for secret in [
        "supersecretvalue1",
        "cookiesecretvalue2",
        "apikeysecretvalue3",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}
