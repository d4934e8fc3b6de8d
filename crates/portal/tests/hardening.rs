//! Denial-of-service and exposure hardening of the HTTP edge: bounded metric
//! labels, protected metrics and health details, separate stream pools with
//! per-caller caps, connection timeouts and a connection cap, CORS and CSRF.

use std::time::{Duration, Instant};

use portal_testkit::{TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 64 random-looking characters: a valid metrics token.
const TOKEN: &str = "metrics-token-0123456789abcdef0123456789abcdef0123456789abcdef";

fn series(text: &str, family: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with(family) && !l.starts_with('#'))
        .count()
}

#[tokio::test]
async fn odd_methods_and_paths_add_no_metric_series() {
    let app = TestApp::spawn().await;
    let send = |m: String, path: String| {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        app.client.request(method, app.at(&path)).send()
    };
    // Warm up every fixed series an odd request can touch.
    for i in 0..3 {
        send(format!("WARM{i}"), "/health".into()).await.unwrap();
        send(format!("WARM{i}"), format!("/nowhere-{i}"))
            .await
            .unwrap();
        app.get(&format!("/nowhere-{i}")).await;
        app.get("/api/metrics").await;
    }
    let before = app.get("/api/metrics").await.text().await.unwrap();
    for i in 0..2000 {
        let m = format!("X{i:05}{}", "Q".repeat(200));
        let path = format!("/probe-{i}/{}", "p".repeat(50));
        let res = send(m, if i % 2 == 0 { "/health".into() } else { path })
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    for i in 0..500 {
        app.get(&format!("/api/sessions/{i}/odd")).await;
    }
    let after = app.get("/api/metrics").await.text().await.unwrap();
    for family in [
        "http_requests_total{",
        "http_request_duration_seconds_bucket{",
    ] {
        assert_eq!(
            series(&before, family),
            series(&after, family),
            "{family} series grew"
        );
    }
    assert!(!after.contains("X00001"), "no method becomes a label");
    assert!(!after.contains("probe-"), "no path becomes a label");
    assert!(
        after.contains(r#"http_requests_total{method="other",route="/health",status="405"}"#),
        "odd methods are counted as other"
    );
    assert!(after.len() < 200_000, "scrape stays small: {}", after.len());
}

#[tokio::test]
async fn metrics_need_the_token_once_configured() {
    let app = TestApp::builder()
        .env("PORTAL_METRICS_TOKEN", TOKEN)
        .spawn()
        .await;
    let admin = app.admin().await;
    let operator = app.member(&admin, "op@acme.test", "admin").await;
    let res = app.get("/api/metrics").await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "AUTH_REQUIRED");
    let wrong = app
        .client
        .get(app.at("/api/metrics"))
        .bearer_auth(format!("{TOKEN}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = app
        .client
        .get(app.at("/api/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("http_requests_total"));
    assert_eq!(
        operator.get("/api/metrics").await.status(),
        403,
        "an org admin sees only their organisation, not platform-wide figures"
    );
    assert_eq!(
        admin.get("/api/metrics").await.status(),
        200,
        "platform admin"
    );
}

#[tokio::test]
async fn production_metrics_are_never_public() {
    let key = "p".repeat(48);
    let prod = TestApp::builder()
        .env("PORTAL_ENV", "production")
        .env("PORTAL_SECRET_KEY", key)
        .env("PORTAL_CORS_ORIGINS", "https://ui.example")
        .spawn()
        .await;
    assert_eq!(prod.get("/api/metrics").await.status(), 401);
    let short = portal_core::Settings::load(
        None,
        [("PORTAL_METRICS_TOKEN".to_string(), "short".to_string())],
    );
    assert!(short.is_err(), "a short metrics token is refused");
}

#[tokio::test]
async fn anonymous_health_shows_statuses_only() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_METRICS_TOKEN", TOKEN)
        .spawn()
        .await;
    let res = app.get("/health").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    for check in ["database", "cloud"] {
        let c = body["checks"][check].as_object().unwrap();
        assert_eq!(c["status"], "ok", "{body}");
        assert_eq!(c.len(), 1, "status only: {body}");
    }
    assert!(body.get("version").is_none() && body.get("uptimeSeconds").is_none());
    let text = body.to_string();
    assert!(
        !text.contains("region") && !text.contains("backend") && !text.contains("emulator"),
        "{text}"
    );
    let full: Value = app
        .client
        .get(app.at("/health"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(full["checks"]["cloud"]["details"]["cloud"], "emulator");
    assert!(full["checks"]["database"]["latencyMs"].as_f64().is_some());
    // Many concurrent anonymous probes share one cached cloud check.
    let started = Instant::now();
    let probes: Vec<_> = (0..50).map(|_| app.get("/health")).collect();
    for r in futures_util::future::join_all(probes).await {
        assert_eq!(r.status(), 200);
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// Opens a stream and checks its status; the response is returned to keep it open.
async fn open(rb: reqwest::RequestBuilder) -> reqwest::Response {
    rb.send().await.unwrap()
}

#[tokio::test]
async fn anonymous_health_streams_cannot_starve_chat() {
    let app = TestApp::builder()
        .env("PORTAL_MAX_HEALTH_STREAMS", "3")
        .env("PORTAL_MAX_STREAMS", "8")
        .env("PORTAL_STREAMS_PER_IP", "100")
        .env("PORTAL_STREAMS_PER_PRINCIPAL", "2")
        .spawn()
        .await;
    let admin = app.admin().await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let r = open(app.client.get(app.at("/api/health/stream"))).await;
        assert_eq!(r.status(), 200);
        held.push(r);
    }
    let full = open(app.client.get(app.at("/api/health/stream"))).await;
    assert_eq!(full.status(), 503, "the anonymous pool is full");
    assert_eq!(full.json::<Value>().await.unwrap()["code"], "OVERLOADED");
    // Chat still streams (no model configured: it says so).
    let res = admin.post("/api/chat", json!({"message": "hello"})).await;
    assert_eq!(res.status(), 200);
    let text = tokio::time::timeout(Duration::from_secs(30), res.text())
        .await
        .unwrap()
        .unwrap();
    assert!(text.contains("No AI model is configured"), "{text}");

    // One principal holds at most its share of the chat pool.
    let session: Value = admin
        .post("/api/sessions", json!({"title": "t"}))
        .await
        .json()
        .await
        .unwrap();
    let id = session["session"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/chat/{id}/stream");
    // The finished chat stream gives its slot back as hyper drops the body.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a = admin.get(&path).await;
    let b = admin.get(&path).await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let c = admin.get(&path).await;
    assert_eq!(c.status(), 429, "per-principal cap");
    assert_eq!(c.json::<Value>().await.unwrap()["code"], "RATE_LIMITED");
    drop(a);
    let mut reopened = 0;
    for _ in 0..50 {
        let r = admin.get(&path).await;
        if r.status() == 200 {
            reopened += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reopened, 1, "a closed stream gives its slot back");
    drop(held);
    drop(b);
}

#[tokio::test]
async fn one_address_cannot_hold_every_stream() {
    let app = TestApp::builder()
        .env("PORTAL_MAX_HEALTH_STREAMS", "10")
        .env("PORTAL_STREAMS_PER_IP", "2")
        .spawn()
        .await;
    let a = open(app.client.get(app.at("/api/health/stream"))).await;
    let b = open(app.client.get(app.at("/api/health/stream"))).await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let c = open(app.client.get(app.at("/api/health/stream"))).await;
    assert_eq!(c.status(), 429, "per-address cap");
    assert!(c.headers().contains_key("retry-after"));
    drop((a, b));
}

/// True when the server closed `s` (EOF or reset) within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A 408 or similar may precede the close.
            Ok(Ok(_)) => continue,
        }
    }
}

async fn healthz_raw(app: &TestApp) -> Option<String> {
    let mut s = TcpStream::connect(app.addr).await.ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    text.starts_with("HTTP/1.1 200").then_some(text)
}

#[tokio::test]
async fn silent_partial_and_idle_connections_are_closed() {
    let app = TestApp::builder()
        .env("PORTAL_HEADER_READ_TIMEOUT_SECS", "1")
        .spawn()
        .await;
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut partial = TcpStream::connect(app.addr).await.unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "silent"
    );
    assert!(
        closed_within(&mut partial, Duration::from_secs(5)).await,
        "partial header"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).await,
        "idle keep-alive"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn streams_outlive_the_header_read_timeout() {
    let app = TestApp::builder()
        .env("PORTAL_HEADER_READ_TIMEOUT_SECS", "1")
        .env("PORTAL_SSE_HEARTBEAT_SECS", "1")
        .spawn()
        .await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(b"GET /api/health/stream HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + Duration::from_millis(3500);
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            other => panic!("stream ended early: {other:?}; got {seen}"),
        }
    }
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(seen.matches("heartbeat").count() >= 2, "{seen}");
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed() {
    let app = TestApp::builder()
        .env("PORTAL_MAX_CONNECTIONS", "4")
        .env("PORTAL_HEADER_READ_TIMEOUT_SECS", "30")
        .spawn()
        .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        healthz_raw(&app).await.is_none(),
        "a fifth connection is refused"
    );
    let mut extra = TcpStream::connect(app.addr).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_secs(2)).await,
        "closed at once"
    );
    drop(held.pop());
    let mut ok = false;
    for _ in 0..50 {
        if healthz_raw(&app).await.is_some() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "served again once below the cap");
    drop(held);
}

#[tokio::test]
async fn localhost_cors_is_opt_in_in_development() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.at("/healthz"))
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "no credentialed CORS for local ports by default"
    );
    let dev = TestApp::builder()
        .env("PORTAL_DEV_CORS_LOCALHOST", "true")
        .spawn()
        .await;
    let res = dev
        .client
        .get(dev.at("/healthz"))
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let prod = portal_core::Settings::load(
        None,
        [
            ("PORTAL_ENV", "production"),
            ("PORTAL_SECRET_KEY", &"p".repeat(48)),
            ("PORTAL_CORS_ORIGINS", "https://ui.example"),
            ("PORTAL_CLOUD", "none"),
            ("PORTAL_DEV_CORS_LOCALHOST", "true"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    assert!(prod.is_err(), "refused in production");
}

#[tokio::test]
async fn https_public_url_gets_secure_host_cookies_in_development() {
    let app = TestApp::builder()
        .env("PORTAL_PUBLIC_URL", "https://portal.example")
        .spawn()
        .await;
    let token = app.setup_token().unwrap();
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .bearer_auth(token)
        .json(
            &json!({"email": "a@acme.test", "password": PASSWORD, "name": "A", "orgName": "Acme"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": "a@acme.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-portal_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn csrf_refuses_a_null_origin_even_with_a_good_referer() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let portal_testkit::Auth::Cookie(cookie, origin) = admin.auth.clone() else {
        panic!("cookie client")
    };
    let post = |o: Option<&str>| {
        let mut rb = app
            .client
            .post(app.at("/api/sessions"))
            .header("cookie", &cookie)
            .header("referer", format!("{origin}/chat"))
            .json(&json!({"title": "t"}));
        if let Some(o) = o {
            rb = rb.header("origin", o);
        }
        rb.send()
    };
    for bad in ["null", "not a url", "https://evil.example"] {
        let res = post(Some(bad)).await.unwrap();
        assert_eq!(res.status(), 403, "Origin: {bad}");
        assert_eq!(res.json::<Value>().await.unwrap()["code"], "FORBIDDEN");
    }
    assert_eq!(
        post(None).await.unwrap().status(),
        201,
        "no Origin at all: the same-origin Referer decides"
    );
}

#[tokio::test]
async fn concurrent_health_probes_make_one_signed_cloud_call() {
    use portal_oci_emulator::{Emulator, EmulatorConfig};
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(EmulatorConfig::new(dir.path())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn({
        let emu = emu.clone();
        let stop = stop.clone();
        async move { emu.serve(listener, stop.cancelled_owned()).await }
    });
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "oci")
        .env(
            "PORTAL_OCI_CONFIG_FILE",
            emu.config_path().display().to_string(),
        )
        .env("PORTAL_OCI_ENDPOINT", &endpoint)
        .spawn()
        .await;
    let before = emu.requests_served();
    let probes: Vec<_> = (0..40).map(|_| app.get("/health")).collect();
    for r in futures_util::future::join_all(probes).await {
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        emu.requests_served() - before,
        1,
        "anonymous probes cannot multiply signed calls"
    );
    stop.cancel();
    let _ = server.await;
}
