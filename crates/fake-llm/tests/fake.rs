//! The fakes refuse what the real services refuse, and answer what they are scripted to.

use portal_fake_llm::{FakeLlm, Protocol, Turn};
use serde_json::{json, Value};

async fn post(fake: &FakeLlm, body: Value, headers: &[(&str, &str)]) -> (u16, String) {
    let url = format!("http://{}{}", fake.addr(), fake.protocol().path());
    let mut req = reqwest::Client::new().post(url).json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn openai_refuses_a_tool_result_without_its_call() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    fake.push(Turn::text(["unused"]));
    let body = json!({"model": "m", "stream": true, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "call_x", "content": "result"},
    ]});
    let (status, text) = post(&fake, body, &[]).await;
    assert_eq!(status, 400);
    let err: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(err["error"]["type"], "invalid_request_error");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("role 'tool'"));
    assert_eq!(fake.remaining(), 1, "a refused request uses no turn");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn anthropic_refuses_unanswered_tool_use_and_missing_key() {
    let fake = FakeLlm::start(Protocol::Anthropic).await.unwrap();
    let body = json!({"model": "m", "max_tokens": 10, "stream": true, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
        {"role": "user", "content": "no result given"},
    ]});
    let headers = [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];
    let (status, text) = post(&fake, body.clone(), &headers).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("without `tool_result`"), "{text}");
    let (status, text) = post(&fake, body, &[]).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("authentication_error"));
}

#[tokio::test]
async fn oci_refuses_unsigned_requests() {
    let fake = FakeLlm::start(Protocol::Oci).await.unwrap();
    fake.push(Turn::text(["unused"]));
    let body = json!({"compartmentId": "c", "servingMode": {"servingType": "ON_DEMAND", "modelId": "m"},
        "chatRequest": {"apiFormat": "GENERIC", "isStream": true, "messages": []}});
    let (status, text) = post(&fake, body, &[]).await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["code"],
        "NotAuthenticated"
    );
}

/// Content deltas that carry text (the first chunk's empty content is the role).
fn words(text: &str) -> usize {
    text.matches("\"content\":\"").count() - text.matches("\"content\":\"\"").count()
}

#[tokio::test]
async fn instant_mode_answers_every_request_with_n_tokens() {
    let fake = FakeLlm::instant(Protocol::OpenAi, 50).await.unwrap();
    let body =
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..2 {
        let (status, text) = post(&fake, body.clone(), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(words(&text), 50);
        assert!(text.ends_with("data: [DONE]\n\n"));
    }
    // The model name can ask for another length (benchmarks compare two).
    let body = json!({"model": "instant-7", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let (status, text) = post(&fake, body, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(words(&text), 7);
}

#[tokio::test]
async fn an_exhausted_script_is_a_server_error() {
    let fake = FakeLlm::start(Protocol::Anthropic).await.unwrap();
    let body = json!({"model": "m", "max_tokens": 10, "stream": true,
        "messages": [{"role": "user", "content": "hi"}]});
    let headers = [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];
    let (status, text) = post(&fake, body, &headers).await;
    assert_eq!(status, 500);
    assert!(text.contains("script exhausted"));
}
