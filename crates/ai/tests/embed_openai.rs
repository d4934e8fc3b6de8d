//! The OpenAI-compatible embedder against a fake `/v1/embeddings` server on
//! loopback (tests only): the dimensions come from the model's first
//! answer, the order from `index`, the key goes as a bearer token, and bad
//! answers are errors, never panics or wrong vectors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use portal_ai::embed::openai::OpenAiEmbedder;
use portal_core::search::embed::{EmbedError, Embedder, Purpose};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the fake answers: `Ok(dims)` vectors (texts answered in reverse
/// order, with their `index`), or `Err(status)`.
type Script = Arc<Mutex<Result<usize, u16>>>;

async fn server(script: Script, seen: Arc<Mutex<Vec<(String, Value)>>>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = s.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(at) = text.find("\r\n\r\n") {
                    let head = text[..at].to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= at + 4 + len {
                        break (head, buf[at + 4..at + 4 + len].to_vec());
                    }
                }
            };
            let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let auth = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("authorization: ")
                        .or(l.strip_prefix("Authorization: "))
                })
                .unwrap_or_default()
                .to_string();
            seen.lock().unwrap().push((auth, req.clone()));
            let answer = *script.lock().unwrap();
            let (status, out) = match answer {
                Ok(dims) => {
                    let texts = req["input"].as_array().cloned().unwrap_or_default();
                    let data: Vec<Value> = texts
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(i, _)| {
                            let v: Vec<f32> = (0..dims)
                                .map(|d| if d == i % dims { 2.0 } else { 0.0 })
                                .collect();
                            json!({"object": "embedding", "index": i, "embedding": v})
                        })
                        .collect();
                    (
                        200,
                        json!({"object": "list", "data": data, "model": req["model"]}),
                    )
                }
                Err(code) => (code, json!({"error": {"message": "boom"}})),
            };
            let body = out.to_string();
            let res = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(res.as_bytes()).await;
        }
    });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn learns_dimensions_orders_by_index_and_normalises() {
    let script: Script = Arc::new(Mutex::new(Ok(5)));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = server(script.clone(), seen.clone()).await;
    let key = Some(portal_core::Secret::new("sk-test-0000".to_string()));
    let e = OpenAiEmbedder::connect(&url, key, "nomic-embed-text", Duration::from_secs(5))
        .await
        .expect("connects");
    assert_eq!(e.dims(), 5, "from the model's answer");
    assert_eq!(e.model_id(), "openai:nomic-embed-text");
    let texts: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    let v = e.embed(&texts, Purpose::Document).await.expect("embeds");
    for (i, x) in v.iter().enumerate() {
        assert_eq!(x.len(), 5);
        assert!(
            (x[i] - 1.0).abs() < 1e-6,
            "text {i} got its own vector, normalised: {x:?}"
        );
    }
    let (auth, req) = seen.lock().unwrap().last().cloned().expect("a request");
    assert_eq!(auth, "Bearer sk-test-0000");
    assert_eq!(req["model"], "nomic-embed-text");
    assert_eq!(req["input"], json!(["a", "b", "c"]));

    // A server error is "unavailable" (the job retries); a changed model
    // (other dimensions) is refused.
    *script.lock().unwrap() = Err(500);
    assert!(matches!(
        e.embed(&texts, Purpose::Query).await,
        Err(EmbedError::Unavailable(_))
    ));
    *script.lock().unwrap() = Ok(7);
    assert!(matches!(
        e.embed(&texts, Purpose::Query).await,
        Err(EmbedError::Invalid(_))
    ));
    // Nobody listening: a clear error at connect.
    let gone =
        OpenAiEmbedder::connect("http://127.0.0.1:9/v1", None, "m", Duration::from_secs(2)).await;
    assert!(matches!(gone, Err(EmbedError::Unavailable(_))));
}
