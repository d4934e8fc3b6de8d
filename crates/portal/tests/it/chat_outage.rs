//! A short PostgreSQL outage in the middle of a streamed chat answer (L1): the
//! answer keeps streaming, is stored once when the database returns, the turn
//! ends normally, and the session takes the next message at once. (PostgreSQL
//! only: SQLite is an embedded file with no connection to lose; on SQLite the
//! test checks the same turn without an outage.)

use std::time::Duration;

use portal_fake_llm::{FakeLlm, Protocol, Turn};
use portal_testkit::proxy::{self, TcpProxy};
use portal_testkit::TestApp;
use serde_json::{json, Value};

fn parts(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|block| {
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            serde_json::from_str(&data).ok()
        })
        .collect()
}

fn text_of(parts: &[Value]) -> String {
    parts
        .iter()
        .filter(|p| p["type"] == "text-delta")
        .filter_map(|p| p["delta"].as_str())
        .collect()
}

#[tokio::test]
async fn a_short_outage_mid_answer_keeps_the_answer_and_frees_the_session() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    // Plain words: nothing the redactor would hold back as a possible secret.
    let names = ["alpha", "bravo", "charlie", "delta", "echo"];
    let words: Vec<String> = (0..50).map(|i| format!("{} ", names[i % 5])).collect();
    let answer: String = words.concat();
    fake.push(Turn::text(words).delay(Duration::from_millis(100)));
    let mut b = TestApp::builder()
        .env("PORTAL_AI_PROVIDER", "openai")
        .env("PORTAL_AI_BASE_URL", fake.base_url())
        .env("PORTAL_AI_MODEL", "test-model")
        .env("PORTAL_AI_API_KEY", "sk-test-not-a-real-key-000000000000");
    let proxy = if portal_testkit::on_postgres() {
        let url = std::env::var(portal_testkit::PG_ENV).unwrap();
        let proxy = TcpProxy::start(proxy::pg_target(&url)).await;
        let addr = proxy.addr;
        b = b.pg_url_via(move |u| proxy::via(u, addr));
        Some(proxy)
    } else {
        None
    };
    let app = b.spawn().await;
    let admin = app.admin().await;

    let res = admin
        .post("/api/chat", json!({"message": "tell me slowly"}))
        .await;
    assert_eq!(res.status(), 200);
    let session = res.headers()["x-chat-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = tokio::spawn(async move { res.text().await.unwrap() });
    if let Some(proxy) = &proxy {
        // The answer is streaming (about 5 s); the database goes away for 3 s.
        tokio::time::sleep(Duration::from_millis(800)).await;
        proxy.refuse();
        tokio::time::sleep(Duration::from_secs(3)).await;
        proxy.restore();
    }
    let streamed = tokio::time::timeout(Duration::from_secs(60), body)
        .await
        .expect("the stream ends")
        .unwrap();
    let evs = parts(&streamed);
    assert!(
        !evs.iter().any(|p| p["type"] == "error"),
        "no error: {streamed}"
    );
    assert_eq!(text_of(&evs), answer);
    let finish = evs.iter().rfind(|p| p["type"] == "finish").unwrap();
    assert_eq!(finish["finishReason"], "stop");

    // Stored once, replayable, and the session is free at once.
    let msgs: Value = admin
        .get(&format!("/api/sessions/{session}/messages"))
        .await
        .json()
        .await
        .unwrap();
    let assistant: Vec<&Value> = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .collect();
    assert_eq!(assistant.len(), 1, "{msgs}");
    assert_eq!(assistant[0]["content"], answer.as_str());
    let replay = admin
        .get(&format!("/api/chat/{session}/stream?after=0"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        text_of(&parts(&replay)),
        answer,
        "replay has every part once"
    );

    fake.push(Turn::text(["second answer"]));
    let res = admin
        .post(
            "/api/chat",
            json!({"sessionId": session, "message": "and now?"}),
        )
        .await;
    assert_eq!(res.status(), 200, "the session is not locked");
    assert_eq!(text_of(&parts(&res.text().await.unwrap())), "second answer");
    let msgs: Value = admin
        .get(&format!("/api/sessions/{session}/messages"))
        .await
        .json()
        .await
        .unwrap();
    let roles: Vec<&str> = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"], "{msgs}");
}

/// An outage longer than a turn retries its writes: the turn tells the client
/// it failed, and marks itself failed as soon as the database is back, so the
/// session takes a new message at once instead of after the 3-minute lease.
#[tokio::test]
async fn a_turn_that_fails_in_an_outage_frees_its_session_when_the_database_returns() {
    if !portal_testkit::on_postgres() {
        return; // nothing to cut on SQLite
    }
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    fake.push(Turn::text(["one ", "two ", "three"]).delay(Duration::from_millis(300)));
    let url = std::env::var(portal_testkit::PG_ENV).unwrap();
    let proxy = TcpProxy::start(proxy::pg_target(&url)).await;
    let addr = proxy.addr;
    let app = TestApp::builder()
        .env("PORTAL_AI_PROVIDER", "openai")
        .env("PORTAL_AI_BASE_URL", fake.base_url())
        .env("PORTAL_AI_MODEL", "test-model")
        .env("PORTAL_AI_API_KEY", "sk-test-not-a-real-key-000000000000")
        .pg_url_via(move |u| proxy::via(u, addr))
        .spawn()
        .await;
    let admin = app.admin().await;
    let res = admin.post("/api/chat", json!({"message": "go"})).await;
    let session = res.headers()["x-chat-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = tokio::spawn(async move { res.text().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(400)).await;
    proxy.refuse();
    // The database stays away until the turn has given up (a read fails at
    // once; writes are retried for 30 s) and told the client.
    let streamed = tokio::time::timeout(Duration::from_secs(60), body)
        .await
        .expect("the stream ends while the database is still away")
        .unwrap();
    let evs = parts(&streamed);
    assert!(
        evs.iter().any(|p| p["type"] == "error"),
        "the client is told: {streamed}"
    );
    proxy.restore();
    let start = std::time::Instant::now();
    fake.set_fallback(Some(Turn::text(["back"])));
    loop {
        let res = admin
            .post(
                "/api/chat",
                json!({"sessionId": session, "message": "again"}),
            )
            .await;
        match res.status().as_u16() {
            // Until the availability monitor sees the database again, a new
            // turn may itself fail fast with "storage is unavailable".
            200 => {
                if text_of(&parts(&res.text().await.unwrap())) == "back" {
                    break;
                }
            }
            409 | 503 => {}
            other => panic!("unexpected {other}"),
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the session stayed locked after the database returned"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
