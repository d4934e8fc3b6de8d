//! Exposure and denial-of-service hardening of the HTTP edge: bounded metric
//! labels, protected metrics and health details, CORS and CSRF. Stream pools and
//! connection limits are in `connections.rs`.

use std::time::{Duration, Instant};

use portal_testkit::{TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

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

/// The same through the MCP and chat endpoints and with made-up tool names:
/// neither an odd method on those routes nor a tool that does not exist adds
/// a series.
#[tokio::test]
async fn odd_methods_on_mcp_and_chat_and_unknown_tools_add_no_series() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, _) = admin
        .create_key("probe", &["tools:read", "tools:execute", "sessions:write"])
        .await;
    let caller = app.with_key(&key);
    let odd = |m: String, path: &str| {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        app.client
            .request(method, app.at(path))
            .bearer_auth(&key)
            .send()
    };
    // Warm up the fixed series these requests can touch, including chat's
    // rate-limit answer (20 a minute) and the scrape itself.
    for i in 0..25 {
        for path in ["/api/mcp", "/api/chat"] {
            odd(format!("WARM{i}"), path).await.unwrap();
        }
    }
    app.get("/api/metrics").await;
    caller
        .post("/api/v1/tools/noSuchTool/execute", json!({"args": {}}))
        .await;
    let before = app.get("/api/metrics").await.text().await.unwrap();
    for i in 0..600 {
        let path = if i % 2 == 0 { "/api/mcp" } else { "/api/chat" };
        let res = odd(format!("M{i:04}{}", "Z".repeat(100)), path)
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
        let res = caller
            .post(
                &format!("/api/v1/tools/madeUp{i}/execute"),
                json!({"args": {}}),
            )
            .await;
        assert_eq!(res.status(), 404);
    }
    let after = app.get("/api/metrics").await.text().await.unwrap();
    for family in [
        "http_requests_total{",
        "http_request_duration_seconds_bucket{",
        "tool_executions_total{",
    ] {
        assert_eq!(
            series(&before, family),
            series(&after, family),
            "{family} series grew: {:?}",
            after
                .lines()
                .filter(|l| l.starts_with(family)
                    && !before.contains(l.split(' ').next().unwrap_or("")))
                .collect::<Vec<_>>()
        );
    }
    assert!(!after.contains("M0001"), "no method becomes a label");
    assert!(!after.contains("madeUp"), "no unknown tool becomes a label");
}
