//! A real HTTP receiver on loopback for the webhook tests: records every
//! request (headers, body, arrival time) and answers from a script
//! (then 200 once the script is used up). Also the portal-side helpers the
//! webhook tests share.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

/// One received request.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: String,
    pub at: Instant,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub delay: Duration,
}

pub fn status(status: u16) -> Reply {
    Reply {
        status,
        retry_after: None,
        delay: Duration::ZERO,
    }
}

#[derive(Default)]
struct Inner {
    hits: Vec<Hit>,
    script: VecDeque<Reply>,
    forever: Option<Reply>,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = {
        let mut inner = r.inner.lock().unwrap();
        inner.hits.push(Hit {
            id: header(&headers, "webhook-id"),
            timestamp: header(&headers, "webhook-timestamp").parse().unwrap_or(0),
            signature: header(&headers, "webhook-signature"),
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        });
        let next = inner.script.pop_front();
        next.or_else(|| inner.forever.clone())
            .unwrap_or_else(|| status(200))
    };
    tokio::time::sleep(reply.delay).await;
    let mut res = (
        StatusCode::from_u16(reply.status).unwrap(),
        format!("answer {}", reply.status),
    )
        .into_response();
    if let Some(ra) = reply.retry_after {
        res.headers_mut().insert(
            HeaderName::from_static("retry-after"),
            HeaderValue::from_static(ra),
        );
    }
    res
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let r = Receiver {
            addr,
            inner: Arc::default(),
        };
        let app = axum::Router::new().fallback(receive).with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        r
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.addr.port())
    }

    pub fn script(&self, replies: &[Reply]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .extend(replies.iter().cloned());
    }

    /// Answers every request (after the script) with `reply`.
    pub fn forever(&self, reply: Reply) {
        self.inner.lock().unwrap().forever = Some(reply);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.inner.lock().unwrap().hits.clone()
    }

    /// Waits until at least `n` requests arrived (panics after 20 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let hits = self.hits();
            if hits.len() >= n {
                return hits;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} requests arrived",
                hits.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A portal that may call the loopback receiver, with fast pumps and a short schedule.
pub async fn portal(schedule_ms: &str, timeout_ms: &str) -> TestApp {
    builder(schedule_ms, timeout_ms).spawn().await
}

/// [`portal`]'s settings, to add to (a second replica).
pub fn builder(schedule_ms: &str, timeout_ms: &str) -> portal_testkit::Builder {
    TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_OUTBOUND_ALLOW", "127.0.0.1")
        .env("PORTAL_OUTBOUND_ALLOW_HTTP", "true")
        .env("PORTAL_OUTBOUND_TIMEOUT_MS", timeout_ms)
        .env("PORTAL_WEBHOOKS_POLL_INTERVAL_MS", "50")
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "50")
        .env("PORTAL_WEBHOOKS_RETRY_SCHEDULE_MS", schedule_ms)
}

/// Creates a subscription; its id and secret.
pub async fn subscribe(admin: &Client, url: &str, types: &[&str]) -> (String, String) {
    let res = admin
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "eventTypes": types, "description": "test receiver"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    (
        body["webhook"]["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

/// Waits until `f` holds for the subscription's JSON (panics after 20 s).
pub async fn wait_webhook(admin: &Client, id: &str, f: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let w: Value = admin
            .get(&format!("/api/v1/webhooks/{id}"))
            .await
            .json()
            .await
            .unwrap();
        if f(&w) {
            return w;
        }
        assert!(Instant::now() < deadline, "webhook never got there: {w}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The subscription's delivery log.
pub async fn deliveries(admin: &Client, id: &str, query: &str) -> Vec<Value> {
    let res = admin
        .get(&format!("/api/v1/webhooks/{id}/deliveries{query}"))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["deliveries"].as_array().unwrap().clone()
}

/// Waits until the delivery log satisfies `f` (panics after 20 s).
pub async fn wait_log(admin: &Client, id: &str, f: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = deliveries(admin, id, "").await;
        if f(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "the log never got there: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One delivery's attempts.
pub async fn attempts(admin: &Client, id: &str, delivery: i64) -> Vec<Value> {
    let res = admin
        .get(&format!("/api/v1/webhooks/{id}/deliveries/{delivery}"))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["attempts"].as_array().unwrap().clone()
}

/// Waits until the delivery has reached `state` with `n` attempts logged.
pub async fn wait_attempts(admin: &Client, id: &str, delivery: i64, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = attempts(admin, id, delivery).await;
        if a.len() >= n {
            return a;
        }
        assert!(
            Instant::now() < deadline,
            "only {} attempts: {a:?}",
            a.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Queues a test message; the delivery id.
pub async fn send_test(admin: &Client, id: &str) -> i64 {
    let res = admin
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    body["deliveryId"].as_i64().unwrap()
}

/// True when the signature header verifies for `secret` (the core verifier;
/// `.ci/webhooks` checks the same captures with the official libraries).
pub fn verifies(secret: &str, hit: &Hit) -> bool {
    let key = portal_core::webhooks::signing::SigningKey::parse(secret).unwrap();
    portal_core::webhooks::signing::verify(
        &key,
        &hit.signature,
        &hit.id,
        hit.timestamp,
        hit.body.as_bytes(),
    )
}

/// Appends captured deliveries for `.ci/webhooks` (when it asks for them).
/// `secrets` must each verify every hit; `rejected` must verify none.
pub fn capture(name: &str, secrets: &[&str], rejected: &[&str], hits: &[Hit]) {
    let Ok(dir) = std::env::var("PORTAL_WEBHOOK_CAPTURE_DIR") else {
        return;
    };
    let lines: Vec<String> = hits
        .iter()
        .map(|h| {
            json!({
                "case": name,
                "secrets": secrets,
                "rejected": rejected,
                "headers": {"webhook-id": h.id, "webhook-timestamp": h.timestamp.to_string(),
                            "webhook-signature": h.signature},
                "body": h.body,
            })
            .to_string()
        })
        .collect();
    let path = std::path::Path::new(&dir).join(format!("{name}.jsonl"));
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}
