//! AI providers as data through the real router: CRUD and validation over
//! `/api/admin/ai-providers` (`admin:all`; the key write-only and sealed),
//! chat through a stored provider pointing at the fake model server, "Test"
//! against the fake and against a closed port (a failing provider leaves
//! `GET /api/models`), and a second replica on the same database following a
//! change within 5 s.

use std::time::{Duration, Instant};

use portal_fake_llm::{FakeLlm, Protocol, Turn};
use portal_testkit::sse::{read_sse, text_of};
use portal_testkit::web::{csrf_of, page};
use portal_testkit::{Client, TestApp, PASSWORD};
use serde_json::{json, Value};

const KEY: &str = "sk-data-provider-secret-7f3a9c2e51";
const PATH: &str = "/api/admin/ai-providers";

fn builder() -> portal_testkit::Builder {
    TestApp::builder()
        .env("PORTAL_OUTBOUND_ALLOW", "127.0.0.1")
        .env("PORTAL_OUTBOUND_ALLOW_HTTP", "true")
}

/// Every response body seen, so the key can be looked for in all of them.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    async fn send(&mut self, res: reqwest::Response) -> (u16, Value) {
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        self.0.push(text.clone());
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn assert_no_key(&self) {
        for body in &self.0 {
            assert!(!body.contains(KEY), "the key leaked: {body}");
        }
    }
}

async fn models(c: &Client) -> Vec<String> {
    let v: Value = c.get("/api/models").await.json().await.unwrap();
    v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

fn provider(base_url: &str, name: &str, model: &str) -> Value {
    json!({"name": name, "type": "openai-compatible", "baseUrl": base_url,
           "apiKey": KEY, "defaultModel": model, "models": ["other-model"]})
}

async fn create(c: &Client, body: Value) -> Value {
    let res = c.post(PATH, body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn crud_validates_every_field_and_never_returns_the_key() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let app = builder().model("openai", &fake.base_url()).spawn().await;
    let admin = app.admin().await;
    let mut seen = Seen::default();

    // The bootstrap provider is listed, read-only.
    let (s, list) = seen.send(admin.get(PATH).await).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["providers"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["providers"][0]["source"], "environment");
    assert_eq!(list["providers"][0]["defaultModel"], "test-model");
    assert_eq!(list["providers"][0]["type"], "openai-compatible");

    for (body, field) in [
        (
            json!({"type": "openai-compatible", "defaultModel": "m"}),
            "name",
        ),
        (json!({"name": "x", "defaultModel": "m"}), "type"),
        (
            json!({"name": "x", "type": "google", "defaultModel": "m"}),
            "type",
        ),
        (
            json!({"name": "x", "type": "openai-compatible"}),
            "defaultModel",
        ),
        (
            json!({"name": "x", "type": "openai-compatible", "defaultModel": "m", "baseUrl": "ftp://x.example.com"}),
            "baseUrl",
        ),
        (
            json!({"name": "x", "type": "openai-compatible", "defaultModel": "m", "baseUrl": "https://169.254.169.254/v1"}),
            "baseUrl",
        ),
        (
            json!({"name": "x", "type": "anthropic", "defaultModel": "m"}),
            "apiKey",
        ),
        (
            json!({"name": "x", "type": "azure-openai", "defaultModel": "m", "apiKey": KEY}),
            "baseUrl",
        ),
        (
            json!({"name": "x", "type": "openai-compatible", "defaultModel": "has space"}),
            "defaultModel",
        ),
    ] {
        let (s, b) = seen.send(admin.post(PATH, body.clone()).await).await;
        assert_eq!(s, 400, "{body} → {b}");
        assert_eq!(b["code"], "VALIDATION_ERROR", "{b}");
        assert!(
            b["error"].as_str().unwrap().starts_with(field),
            "{field}: {b}"
        );
    }
    let (s, _) = seen
        .send(admin.post(PATH, json!({"name": "x", "bogus": 1})).await)
        .await;
    assert_eq!(s, 400);

    let (s, p) = seen
        .send(
            admin
                .post(PATH, provider(&fake.base_url(), "Local", "data-model"))
                .await,
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["hasApiKey"], true);
    assert_eq!(p["source"], "database");
    assert_eq!(p["testStatus"], "untested");
    assert!(p.get("apiKey").is_none());
    let (s, b) = seen
        .send(
            admin
                .post(PATH, provider(&fake.base_url(), "Local", "m2"))
                .await,
        )
        .await;
    assert_eq!(s, 409, "duplicate name: {b}");

    let (s, got) = seen.send(admin.get(&format!("{PATH}/{id}")).await).await;
    assert_eq!((s, got["name"].as_str()), (200, Some("Local")));
    let (s, list) = seen.send(admin.get(PATH).await).await;
    assert_eq!((s, list["providers"].as_array().unwrap().len()), (200, 2));

    let (s, b) = seen
        .send(
            admin
                .patch(
                    &format!("{PATH}/{id}"),
                    json!({"name": "Renamed", "enabled": false}),
                )
                .await,
        )
        .await;
    assert_eq!(
        (s, b["name"].as_str(), b["enabled"].as_bool()),
        (200, Some("Renamed"), Some(false)),
        "{b}"
    );
    assert_eq!(b["hasApiKey"], true, "an absent key stays");
    let (s, b) = seen
        .send(
            admin
                .patch(&format!("{PATH}/{id}"), json!({"type": "nope"}))
                .await,
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = seen
        .send(
            admin
                .patch(&format!("{PATH}/{id}"), json!({"apiKey": ""}))
                .await,
        )
        .await;
    assert_eq!((s, b["hasApiKey"].as_bool()), (200, Some(false)), "{b}");
    let (s, _) = seen
        .send(
            admin
                .patch(&format!("{PATH}/{id}"), json!({"apiKey": KEY}))
                .await,
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = seen
        .send(
            admin
                .patch(&format!("{PATH}/no-such-id"), json!({"name": "y"}))
                .await,
        )
        .await;
    assert_eq!(s, 404);

    // Sealed at rest: the column does not hold the key.
    let stored = app
        .query_strings("SELECT api_key_sealed FROM ai_providers")
        .await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(KEY) && !stored[0].is_empty());

    // Each change is audited (never with the key).
    let audit = app
        .query_strings("SELECT action || ' ' || detail FROM audit_log WHERE action LIKE 'ai_provider.%' ORDER BY id")
        .await;
    let actions: Vec<&str> = audit.iter().map(|a| a.split(' ').next().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "ai_provider.created",
            "ai_provider.updated",
            "ai_provider.updated",
            "ai_provider.updated"
        ],
        "{audit:?}"
    );
    assert!(audit.iter().all(|a| !a.contains(KEY)));

    let (s, _) = seen.send(admin.delete(&format!("{PATH}/{id}")).await).await;
    assert_eq!(s, 204);
    let (s, _) = seen.send(admin.get(&format!("{PATH}/{id}")).await).await;
    assert_eq!(s, 404);
    let (s, _) = seen.send(admin.delete(&format!("{PATH}/{id}")).await).await;
    assert_eq!(s, 404);
    seen.assert_no_key();
}

#[tokio::test]
async fn chat_uses_the_stored_provider_url_key_and_model() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let app = builder().spawn().await;
    let admin = app.admin().await;
    assert!(models(&admin).await.is_empty());

    let p = create(&admin, provider(&fake.base_url(), "Local", "data-model")).await;
    // At once on the replica that made the change.
    assert_eq!(models(&admin).await, ["data-model", "other-model"]);
    let v: Value = admin.get("/api/models").await.json().await.unwrap();
    assert_eq!(v["defaultModel"], "data-model");
    assert_eq!(v["models"][0]["source"], "database");
    assert_eq!(v["models"][0]["providerId"], p["id"]);

    fake.push(Turn::text(["Hello from ", "data."]));
    let evs = read_sse(
        admin
            .post("/api/chat", json!({"message": "hi", "model": "data-model"}))
            .await,
    )
    .await;
    assert_eq!(text_of(&evs), "Hello from data.");
    let req = &fake.requests()[0];
    assert_eq!(req.body["model"], "data-model");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );

    // A model no provider offers is refused.
    let res = admin
        .post("/api/chat", json!({"message": "hi", "model": "gone-model"}))
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn test_reports_success_or_the_reason_and_a_failing_provider_is_hidden() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let app = builder().spawn().await;
    let admin = app.admin().await;
    let good = create(&admin, provider(&fake.base_url(), "Good", "good-model")).await;
    let dead_url = format!("http://127.0.0.1:{}/v1", closed_port());
    let bad = json!({"name": "Dead", "type": "openai-compatible", "baseUrl": dead_url, "defaultModel": "dead-model"});
    let bad = create(&admin, bad).await;
    assert!(models(&admin).await.contains(&"dead-model".to_string()));

    fake.push(Turn::text(["ok"]));
    let res = admin
        .post(
            &format!("{PATH}/{}/test", good["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.unwrap();
    assert_eq!(
        (t["ok"].as_bool(), t["provider"]["testStatus"].as_str()),
        (Some(true), Some("ok")),
        "{t}"
    );
    let asked = &fake.requests()[0].body;
    assert_eq!(asked["model"], "good-model");
    assert_eq!(asked["max_tokens"], 1, "{asked}");

    let bad_id = bad["id"].as_str().unwrap().to_string();
    let t: Value = admin
        .post(&format!("{PATH}/{bad_id}/test"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["ok"], false, "{t}");
    let reason = t["error"].as_str().unwrap();
    assert!(
        reason.contains("could not reach") && reason.contains("connect"),
        "{reason}"
    );
    assert_eq!(t["provider"]["testStatus"], "failed");
    assert_eq!(t["provider"]["testError"], reason);
    let now = models(&admin).await;
    assert!(!now.contains(&"dead-model".to_string()), "{now:?}");
    assert!(now.contains(&"good-model".to_string()));
    let res = admin
        .post("/api/chat", json!({"message": "hi", "model": "dead-model"}))
        .await;
    assert_eq!(res.status(), 400);

    // Its connection changes: untested again, and offered.
    let b: Value = admin
        .patch(
            &format!("{PATH}/{bad_id}"),
            json!({"baseUrl": fake.base_url()}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["testStatus"], "untested", "{b}");
    assert!(models(&admin).await.contains(&"dead-model".to_string()));
}

#[tokio::test]
async fn a_second_replica_follows_within_five_seconds() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let a = builder().spawn().await;
    let admin = a.admin().await;
    let b = builder().same_database_as(&a).spawn().await;
    let admin_b = b.sign_in("admin@acme.test", PASSWORD).await;
    assert!(models(&admin_b).await.is_empty(), "warm the replica's copy");

    let p = create(&admin, provider(&fake.base_url(), "Shared", "shared-model")).await;
    let id = p["id"].as_str().unwrap();
    let wait = |want: bool| {
        let admin_b = &admin_b;
        async move {
            let t = Instant::now();
            while models(admin_b).await.contains(&"shared-model".to_string()) != want {
                assert!(t.elapsed() < Duration::from_secs(5), "not seen within 5 s");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            t.elapsed()
        }
    };
    let took = wait(true).await;
    eprintln!("the new provider reached the second replica in {took:?}");

    // Chat on the second replica uses it.
    fake.push(Turn::text(["from b"]));
    let evs = read_sse(admin_b.post("/api/chat", json!({"message": "hi"})).await).await;
    assert_eq!(text_of(&evs), "from b");
    assert_eq!(fake.requests()[0].body["model"], "shared-model");

    let res = admin
        .patch(&format!("{PATH}/{id}"), json!({"enabled": false}))
        .await;
    assert_eq!(res.status(), 200);
    assert!(models(&admin).await.is_empty(), "at once where it changed");
    wait(false).await;
}

#[tokio::test]
async fn only_admin_all_manages_providers() {
    let app = builder().spawn().await;
    let admin = app.admin().await;
    let p = create(
        &admin,
        provider("https://llm.example.com/v1", "Remote", "m"),
    )
    .await;
    let id = p["id"].as_str().unwrap();
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let (key, _) = admin
        .create_key("reader", &["sessions:read", "tools:read"])
        .await;
    let keyed = app.with_key(&key);
    for c in [&op, &keyed] {
        assert_eq!(c.get(PATH).await.status(), 403);
        assert_eq!(c.get(&format!("{PATH}/{id}")).await.status(), 403);
        assert_eq!(
            c.post(PATH, provider("https://a.example.com", "N", "m"))
                .await
                .status(),
            403
        );
        assert_eq!(
            c.patch(&format!("{PATH}/{id}"), json!({"enabled": false}))
                .await
                .status(),
            403
        );
        assert_eq!(
            c.post(&format!("{PATH}/{id}/test"), json!({}))
                .await
                .status(),
            403
        );
        assert_eq!(c.delete(&format!("{PATH}/{id}")).await.status(), 403);
        // They still see the models on offer.
        assert_eq!(models(c).await, ["m", "other-model"]);
    }
    assert_eq!(app.get(PATH).await.status(), 401);
    let page = op.get("/admin/ai-providers").await;
    assert_eq!(page.status(), 403);
    let page = admin.get("/admin/ai-providers").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Remote") && !html.contains(KEY));
}

#[tokio::test]
async fn the_admin_page_adds_tests_disables_and_deletes_a_provider() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let app = builder().model("openai", &fake.base_url()).spawn().await;
    let admin = app.admin().await;
    let (s, body) = admin.page("/admin/ai-providers").await;
    assert_eq!(s, 200);
    assert!(
        body.contains("environment (read-only)"),
        "the bootstrap provider is listed"
    );
    let token = csrf_of(&body);
    let base = fake.base_url();

    // Refused without the form token, and a bad field is shown on the form.
    let (s, _) = page(
        admin
            .post_form("/admin/ai-providers", &[("name", "Web")])
            .await,
    )
    .await;
    assert_eq!(s, 403);
    let bad = [
        ("csrf", token.as_str()),
        ("name", "Web"),
        ("type", "openai-compatible"),
        ("baseUrl", "ftp://x"),
        ("defaultModel", "web-model"),
    ];
    let (s, body) = page(admin.post_form("/admin/ai-providers", &bad).await).await;
    assert_eq!(s, 400);
    assert!(
        body.contains("baseUrl") || body.contains("scheme"),
        "{body}"
    );

    let add = [
        ("csrf", token.as_str()),
        ("name", "Web"),
        ("type", "openai-compatible"),
        ("baseUrl", base.as_str()),
        ("apiKey", KEY),
        ("defaultModel", "web-model"),
        ("models", "web-b, web-c"),
        ("enabled", "on"),
    ];
    let (s, body) = page(admin.post_form("/admin/ai-providers", &add).await).await;
    assert_eq!(s, 201, "{body}");
    assert!(body.contains("Web is saved") && !body.contains(KEY));
    assert!(models(&admin).await.contains(&"web-model".to_string()));
    let list: Value = admin.get(PATH).await.json().await.unwrap();
    let id = list["providers"][1]["id"].as_str().unwrap().to_string();
    assert_eq!(list["providers"][1]["models"], json!(["web-b", "web-c"]));

    fake.push(Turn::text(["ok"]));
    let (s, body) = page(
        admin
            .post_form(
                &format!("/admin/ai-providers/{id}/test"),
                &[("csrf", &token)],
            )
            .await,
    )
    .await;
    assert_eq!(s, 200);
    assert!(body.contains("the test passed"), "{body}");

    let res = admin
        .post_form(
            &format!("/admin/ai-providers/{id}/enabled"),
            &[("csrf", &token), ("enabled", "false")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(!models(&admin).await.contains(&"web-model".to_string()));
    let (_, body) = admin.page("/admin/ai-providers").await;
    assert!(body.contains("disabled") && body.contains("Enable"));

    let res = admin
        .post_form(
            &format!("/admin/ai-providers/{id}/delete"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(admin.get(&format!("{PATH}/{id}")).await.status(), 404);
}
