//! Split tiers with real processes: `portal serve --role api` holding the
//! model provider, and `portal serve --role web --api-upstream …` in front of
//! it, both on the test's database (SQLite file or PostgreSQL).

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use portal_fake_llm::{FakeLlm, Protocol, Turn};
use portal_testkit::sse::{of_type, parse_sse, read_until, text_of};
use portal_testkit::TestApp;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_portal");

/// A `portal serve` process, killed on drop; its stdout goes to a file.
struct Tier {
    child: Child,
    base: String,
    log: tempfile::NamedTempFile,
}

impl Tier {
    /// Everything the process logged so far.
    fn log(&self) -> String {
        let mut s = String::new();
        let _ = std::fs::File::open(self.log.path()).and_then(|mut f| f.read_to_string(&mut s));
        s
    }

    /// The JSON access-log line of the request with `id`.
    fn access_line(&self, id: &str) -> Option<Value> {
        self.log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["request_id"] == id && v["message"] == "request")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tier {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `portal serve` with `args` on `app`'s database and waits for `/healthz`.
async fn tier(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Tier {
    tier_on(app, free_port(), args, env).await
}

async fn tier_on(app: &TestApp, port: u16, args: &[&str], env: &[(&str, &str)]) -> Tier {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = app.command(BIN);
    cmd.arg("serve")
        .args(args)
        .env("PORTAL_BIND", format!("127.0.0.1:{port}"))
        .env("PORTAL_CLOUD", "none")
        .env("PORTAL_LOG_FORMAT", "json")
        .env("PORTAL_RATE_LIMIT_API", "100000")
        .env("PORTAL_SHUTDOWN_GRACE_SECS", "2")
        .stdout(log.reopen().unwrap())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let mut t = Tier {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..400 {
        if let Ok(r) = client.get(format!("{}/healthz", t.base)).send().await {
            if r.status() == 200 {
                return t;
            }
        }
        if let Ok(Some(status)) = t.child.try_wait() {
            panic!("portal serve {args:?} exited with {status}: {}", t.log());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    t.stop();
    panic!("portal serve {args:?} never came up: {}", t.log());
}

/// The API tier: the fake model, and the web tier's address as a trusted proxy.
async fn api_tier(app: &TestApp, fake: &FakeLlm) -> Tier {
    tier(
        app,
        &["--role", "api"],
        &[
            ("PORTAL_AI_PROVIDER", "openai"),
            ("PORTAL_AI_BASE_URL", &fake.base_url()),
            ("PORTAL_AI_MODEL", "test-model"),
            ("PORTAL_AI_API_KEY", "sk-test-not-a-real-key-000000000000"),
            ("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await
}

/// The web tier in front of `api`, trusting a local reverse proxy (nginx).
async fn web_tier(app: &TestApp, api: &str, extra: &[(&str, &str)]) -> Tier {
    let mut env = vec![("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32")];
    env.extend_from_slice(extra);
    tier(app, &["--role", "web", "--api-upstream", api], &env).await
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An app with its first admin and an API key that may chat.
async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, _) = admin
        .create_key(
            "tiers",
            &[
                "sessions:read",
                "sessions:write",
                "workflows:read",
                "workflows:write",
                "workflows:execute",
            ],
        )
        .await;
    (app, key)
}

#[tokio::test]
async fn the_web_tier_forwards_the_api_with_its_request_id_and_the_client_address() {
    let (app, key) = setup().await;
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let api = api_tier(&app, &fake).await;
    let web = web_tier(&app, &api.base, &[]).await;

    let res = http()
        .get(format!("{}/api/sessions", web.base))
        .bearer_auth(&key)
        .header("x-request-id", "tiers-rid-0001")
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"], "tiers-rid-0001");
    assert_eq!(res.headers()["via"], "1.1 portal-web");
    let body: Value = res.json().await.unwrap();
    assert!(body.is_object() || body.is_array(), "{body}");

    // The API tier served it under the same id, for the client the web tier
    // resolved (its peer, 127.0.0.1, is a trusted proxy of both tiers here).
    let mut line = None;
    for _ in 0..100 {
        line = api.access_line("tiers-rid-0001");
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no access line in the API tier: {}", api.log()));
    assert_eq!(line["ip"], "203.0.113.9", "{line}");
    assert_eq!(line["status"], 200, "{line}");

    // A page is the web tier's own; the API tier has none.
    let page = http()
        .get(format!("{}/login", web.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("via").is_none());
    let none = http()
        .get(format!("{}/login", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);
    let err: Value = none.json().await.unwrap();
    assert_eq!(err["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_sign_in_through_the_web_tier_opens_its_pages() {
    let (app, _) = setup().await;
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let api = api_tier(&app, &fake).await;
    let web = web_tier(&app, &api.base, &[]).await;
    let res = http()
        .post(format!("{}/api/auth/sign-in/email", web.base))
        .json(&json!({"email": "admin@acme.test", "password": portal_testkit::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("portal_session="))
        .and_then(|v| v.split(';').next())
        .expect("the API tier's session cookie came through")
        .to_string();
    let page = http()
        .get(format!("{}/chat", web.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the web tier knows the session");
    let anonymous = http()
        .get(format!("{}/chat", web.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.status(),
        303,
        "without the cookie: to the sign-in page"
    );
}

#[tokio::test]
async fn a_chat_stream_flows_through_the_web_tier_part_by_part() {
    let (app, key) = setup().await;
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    // Plain words: the output guard holds back what could be a secret.
    let words: Vec<String> = "each word of this answer travels through the web tier on its own and the browser sees it as the model writes it down"
        .split(' ')
        .map(|w| format!("{w} "))
        .collect();
    assert_eq!(words.len(), 24);
    fake.push(Turn::text(words).delay(Duration::from_millis(100)));
    let api = api_tier(&app, &fake).await;
    let web = web_tier(&app, &api.base, &[]).await;

    let started = Instant::now();
    let mut res = http()
        .post(format!("{}/api/chat", web.base))
        .bearer_auth(&key)
        .json(&json!({"message": "stream to me"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["via"], "1.1 portal-web");
    let first = read_until(&mut res, "text-delta").await;
    let first_at = started.elapsed();
    assert!(
        !first.contains("[DONE]") && !first.contains("\"finish\""),
        "the first part came alone, not with the end: {first}"
    );
    let rest = tokio::time::timeout(Duration::from_secs(20), res.text())
        .await
        .expect("the stream ends")
        .unwrap();
    let total = started.elapsed();
    // 24 words 100 ms apart: the first arrives long before the last.
    assert!(
        total - first_at >= Duration::from_millis(1_200),
        "first part at {first_at:?}, end at {total:?}: the proxy buffered"
    );
    let evs = parse_sse(&format!("{first}{rest}"));
    assert_eq!(text_of(&evs).split_whitespace().count(), 24);
    assert!(
        of_type(&evs, "text-delta").len() >= 12,
        "the words came in many parts: {}",
        of_type(&evs, "text-delta").len()
    );
    assert!(evs.last().is_some_and(|e| e.done));
}

#[tokio::test]
async fn a_workflow_run_stream_flows_through_the_web_tier_while_the_run_waits() {
    let (app, key) = setup().await;
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let api = api_tier(&app, &fake).await;
    let web = web_tier(&app, &api.base, &[]).await;
    let call = |method: reqwest::Method, path: &str, body: Value| {
        http()
            .request(method, format!("{}{path}", web.base))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let wf = json!({"name": "through the web tier", "nodes": [
        {"id": "in", "type": "input", "data": {}},
        {"id": "ok", "type": "approval", "data": {"message": "Go on?", "approvers": {"role": "admin"}}},
        {"id": "out", "type": "output", "data": {"mapping": {"done": "true"}}}],
      "edges": [{"id": "e1", "source": "in", "target": "ok"}, {"id": "e2", "source": "ok", "target": "out"}]});
    let res = call(reqwest::Method::POST, "/api/v1/workflows", wf)
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let wid = res.json::<Value>().await.unwrap()["workflow"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = call(
        reqwest::Method::POST,
        &format!("/api/v1/workflows/{wid}/publish"),
        json!({}),
    )
    .await
    .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let res = call(
        reqwest::Method::POST,
        &format!("/api/v1/workflows/{wid}/run"),
        json!({"input": {}}),
    )
    .await
    .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let rid = res.json::<Value>().await.unwrap()["run"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut stream = http()
        .get(format!("{}/api/v1/workflows/runs/{rid}/stream", web.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["via"], "1.1 portal-web");
    // The run waits for its approval: what happened so far is already here.
    let before = read_until(&mut stream, "event: run.suspended").await;
    assert!(!before.contains("run.completed"), "{before}");
    let res = call(
        reqwest::Method::POST,
        &format!("/api/v1/workflows/runs/{rid}/steps/ok/approve"),
        json!({"reason": "through the web tier"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let after = read_until(&mut stream, "event: run.completed").await;
    assert!(!after.contains("run.suspended"), "{after}");
}

#[tokio::test]
async fn a_down_api_tier_is_a_502_and_shows_in_health() {
    let (app, key) = setup().await;
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let mut api = api_tier(&app, &fake).await;
    let web = web_tier(&app, &api.base, &[]).await;

    let health: Value = http()
        .get(format!("{}/health", web.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["checks"]["apiUpstream"]["status"], "ok", "{health}");

    api.stop();
    let res = http()
        .get(format!("{}/api/sessions", web.base))
        .bearer_auth(&key)
        .header("x-request-id", "tiers-down-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "Backend unavailable", "code": "BACKEND_UNAVAILABLE", "requestId": "tiers-down-1"})
    );
    let res = http()
        .get(format!("{}/health", web.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let health: Value = res.json().await.unwrap();
    assert_eq!(health["status"], "error", "{health}");
    assert_eq!(health["checks"]["apiUpstream"]["status"], "error");
    assert_eq!(health["checks"]["database"]["status"], "ok");
    // Pages are still the web tier's.
    let page = http()
        .get(format!("{}/login", web.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn with_a_route_list_the_other_api_routes_stay_local() {
    let (app, key) = setup().await;
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let mut api = api_tier(&app, &fake).await;
    let web = web_tier(
        &app,
        &api.base,
        &[("PORTAL_PROXY_ROUTES", "/api/chat,/api/models")],
    )
    .await;
    let get = |path: &str| {
        http()
            .get(format!("{}{path}", web.base))
            .bearer_auth(&key)
            .send()
    };
    let listed = get("/api/models").await.unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.headers()["via"], "1.1 portal-web");
    let models: Value = listed.json().await.unwrap();
    assert_eq!(
        models["provider"], "openai",
        "the API tier's model: {models}"
    );
    let local = get("/api/sessions").await.unwrap();
    assert_eq!(local.status(), 200);
    assert!(local.headers().get("via").is_none());

    api.stop();
    assert_eq!(get("/api/models").await.unwrap().status(), 502);
    assert_eq!(get("/api/sessions").await.unwrap().status(), 200);
}

#[tokio::test]
async fn bad_tier_settings_stop_start_up_naming_the_setting() {
    let app = TestApp::spawn().await;
    for (args, env, needle) in [
        (vec!["--role", "web"], vec![], "PORTAL_API_UPSTREAM"),
        (
            vec!["--role", "web", "--api-upstream", "ftp://x"],
            vec![],
            "PORTAL_API_UPSTREAM",
        ),
        (
            vec![
                "--role",
                "web",
                "--api-upstream",
                "http://10.0.0.1:8080/api",
            ],
            vec![],
            "PORTAL_API_UPSTREAM",
        ),
        (
            vec!["--role", "api"],
            vec![("PORTAL_PROXY_ROUTES", "/api/chat")],
            "PORTAL_PROXY_ROUTES",
        ),
        (
            vec!["--role", "web", "--api-upstream", "http://127.0.0.1:1"],
            vec![("PORTAL_PROXY_ROUTES", "/chat")],
            "PORTAL_PROXY_ROUTES",
        ),
        (vec!["--role", "db"], vec![], "--role"),
    ] {
        let mut cmd = app.command(BIN);
        cmd.arg("serve")
            .args(&args)
            .env("PORTAL_BIND", "127.0.0.1:0");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{args:?} {env:?} started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?} {env:?}: {err}");
    }
}

/// What the recording upstream saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: axum::http::HeaderMap,
    body: bytes::Bytes,
}

/// A stand-in for the API tier that records the requests it gets (the
/// portal's own API tier does not echo the headers it was sent).
async fn recording_upstream() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Seen>>>) {
    use axum::extract::{Request, State};
    type Log = std::sync::Arc<std::sync::Mutex<Vec<Seen>>>;
    async fn record(State(log): State<Log>, req: Request) -> axum::response::Response {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        log.lock().unwrap().push(Seen {
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: parts.headers,
            body: body.clone(),
        });
        axum::response::Response::builder()
            .status(201)
            .header("set-cookie", "probe=1; Path=/; HttpOnly")
            .header("x-upstream", "recording")
            .body(axum::body::Body::from(body))
            .unwrap()
    }
    let log: Log = Default::default();
    let app = axum::Router::new().fallback(record).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, log)
}

#[tokio::test]
async fn the_web_tier_sends_trace_context_and_the_client_it_resolved_and_drops_hop_headers() {
    let app = TestApp::spawn().await;
    let (up, log) = recording_upstream().await;
    // Behind a local nginx (trusted) …
    let web = web_tier(&app, &up, &[]).await;
    let trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let res = http()
        .post(format!("{}/api/anything/here?x=1", web.base))
        .header("traceparent", trace)
        .header("tracestate", "vendor=abc")
        .header("x-request-id", "tiers-probe-1")
        .header("x-forwarded-for", "198.51.100.7, 203.0.113.9")
        .header("connection", "x-hop")
        .header("x-hop", "drop me")
        .header("cookie", "portal_session=abc")
        .body("the body, streamed")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["x-upstream"], "recording");
    assert_eq!(res.headers()["set-cookie"], "probe=1; Path=/; HttpOnly");
    assert_eq!(res.headers()["x-request-id"], "tiers-probe-1");
    assert_eq!(res.text().await.unwrap(), "the body, streamed");
    let seen = log
        .lock()
        .unwrap()
        .pop()
        .expect("the upstream got the request");
    assert_eq!(seen.path, "/api/anything/here?x=1");
    assert_eq!(seen.headers["traceparent"], trace);
    assert_eq!(seen.headers["tracestate"], "vendor=abc");
    assert_eq!(seen.headers["x-request-id"], "tiers-probe-1");
    assert_eq!(seen.headers["cookie"], "portal_session=abc");
    // The right-most address that is not a trusted proxy, alone.
    assert_eq!(seen.headers["x-forwarded-for"], "203.0.113.9");
    assert!(seen.headers.get("x-hop").is_none(), "{:?}", seen.headers);
    assert_eq!(seen.body, "the body, streamed");

    // Without an id of its own the request gets the web tier's, on both sides.
    let res = http()
        .get(format!("{}/api/x", web.base))
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.starts_with("req-"), "{id}");
    let seen = log.lock().unwrap().pop().unwrap();
    assert_eq!(seen.headers["x-request-id"], id.as_str());
    assert!(seen.body.is_empty());
    drop(web);

    // … and a web tier that trusts no proxy ignores a client's own claim.
    let web = tier(&app, &["--role", "web", "--api-upstream", &up], &[]).await;
    http()
        .get(format!("{}/api/x", web.base))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    let seen = log.lock().unwrap().pop().unwrap();
    assert_eq!(seen.headers["x-forwarded-for"], "127.0.0.1");
}
