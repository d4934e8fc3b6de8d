//! Streams and connections under attack: separate stream pools with per-caller
//! caps, header-read and idle timeouts, and the connection cap.

use std::time::{Duration, Instant};

use portal_testkit::TestApp;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    let path = format!("/api/chat/{id}/stream?after=0");
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
