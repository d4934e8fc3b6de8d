//! Provider tests against the scripted fakes: one body per behaviour, run for each protocol.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use portal_ai::provider::anthropic::{AnthropicConfig, AnthropicProvider};
use portal_ai::provider::oci::{OciConfig, OciProvider};
use portal_ai::provider::openai::{OpenAiConfig, OpenAiProvider};
use portal_ai::provider::{
    ChatRequest, EventStream, FinishReason, HttpOptions, Message, Provider, ProviderError,
    StreamEvent, ToolCall, ToolDef, Usage,
};
use portal_core::Secret;
use portal_fake_llm::{FakeLlm, Protocol, Turn};
use portal_oci::{ClientOptions, OciClient, PrivateKey, PublicKey, RequestSigner};
use serde_json::{json, Value};

pub const API_KEY: &str = "sk-test-0123456789abcdef";
const VECTORS: &str = include_str!("../../../oci/tests/data/oci-signing-vectors.json");

pub fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

/// The OCI test key's keyId (its tenancy is the default compartment).
pub fn key_id() -> String {
    vectors()["keyId"].as_str().unwrap().to_string()
}

pub fn oci_client() -> OciClient {
    let v = vectors();
    let key = PrivateKey::from_pem(v["private_key_pem"].as_str().unwrap(), None).unwrap();
    OciClient::new(
        RequestSigner::new(key_id(), key),
        "us-ashburn-1",
        ClientOptions::default(),
    )
    .unwrap()
}

pub fn fast_options() -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_retries: 2,
        backoff_base: Duration::from_millis(20),
        max_retry_wait: Duration::from_secs(5),
    }
}

pub struct Harness {
    pub fake: FakeLlm,
    pub provider: Arc<dyn Provider>,
}

pub async fn harness(protocol: Protocol) -> Harness {
    harness_with(protocol, fast_options()).await
}

pub async fn harness_with(protocol: Protocol, http: HttpOptions) -> Harness {
    let fake = FakeLlm::start(protocol).await.unwrap();
    let base_url = Some(fake.base_url());
    let provider: Arc<dyn Provider> = match protocol {
        Protocol::OpenAi => Arc::new(
            OpenAiProvider::new(OpenAiConfig {
                base_url,
                api_key: Some(Secret::new(API_KEY.to_string())),
                http,
            })
            .unwrap(),
        ),
        Protocol::Anthropic => Arc::new(
            AnthropicProvider::new(AnthropicConfig {
                base_url,
                api_key: Secret::new(API_KEY.to_string()),
                http,
            })
            .unwrap(),
        ),
        Protocol::Oci => {
            let public =
                PublicKey::from_pem(vectors()["public_key_pem"].as_str().unwrap()).unwrap();
            fake.verify_oci_signatures(HashMap::from([(key_id(), public)]));
            Arc::new(
                OciProvider::new(OciConfig {
                    client: oci_client(),
                    base_url,
                    compartment_id: None,
                    http,
                })
                .unwrap(),
            )
        }
    };
    Harness { fake, provider }
}

pub fn request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        system: "You are the portal assistant.".into(),
        messages: vec![Message::user(text)],
        tools: vec![list_instances_tool()],
        max_tokens: 512,
    }
}

pub fn list_instances_tool() -> ToolDef {
    ToolDef {
        name: "listInstances".into(),
        description: "Lists compute instances in a compartment.".into(),
        parameters: json!({"type": "object", "properties": {
            "compartmentId": {"type": "string"}, "limit": {"type": "integer"}}}),
    }
}

/// Everything a stream produced, assembled.
#[derive(Debug, Default)]
pub struct Answer {
    pub deltas: Vec<String>,
    pub calls: Vec<ToolCall>,
    pub finish: Option<(FinishReason, Usage)>,
    pub error: Option<ProviderError>,
    pub events_after_end: usize,
}

impl Answer {
    pub fn text(&self) -> String {
        self.deltas.concat()
    }
}

pub async fn collect(mut stream: EventStream) -> Answer {
    let mut a = Answer::default();
    while let Some(item) = stream.next().await {
        if a.finish.is_some() || a.error.is_some() {
            a.events_after_end += 1;
            continue;
        }
        match item {
            Ok(StreamEvent::TextDelta(t)) => a.deltas.push(t),
            Ok(StreamEvent::ToolCallStart { index, id, name }) => {
                assert_eq!(index, a.calls.len(), "tool call indexes are sequential");
                a.calls.push(ToolCall {
                    id,
                    name,
                    arguments: String::new(),
                });
            }
            Ok(StreamEvent::ToolCallDelta { index, delta }) => {
                a.calls[index].arguments.push_str(&delta);
            }
            Ok(StreamEvent::Finish { reason, usage }) => a.finish = Some((reason, usage)),
            Err(e) => a.error = Some(e),
        }
    }
    a
}

pub async fn run(h: &Harness, req: ChatRequest) -> Result<Answer, ProviderError> {
    Ok(collect(h.provider.stream(req).await?).await)
}

// ---------------------------------------------------------------------------------------
// Behaviours, each run against every protocol.

pub async fn plain_streamed_answer(p: Protocol) {
    let h = harness(p).await;
    h.fake.push(Turn::text(["Hel", "lo, ", "wörld 😀"]));
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(a.deltas, ["Hel", "lo, ", "wörld 😀"]);
    assert!(a.calls.is_empty());
    assert_eq!(a.finish.map(|f| f.0), Some(FinishReason::Stop));
    assert!(a.error.is_none());
    assert_eq!(a.events_after_end, 0);
    assert_eq!(h.fake.requests().len(), 1);
}

pub async fn byte_split_stream(p: Protocol) {
    let h = harness(p).await;
    // Every write is 3 bytes: events, JSON and the multi-byte characters are all cut.
    h.fake
        .push(Turn::text(["Ünïcödé ", "→ ✓ ", "😀😀"]).split_bytes(3));
    h.fake
        .push(Turn::tool_call("listInstances", ["{\"compartmentId\":", "\"ö\"}"]).split_bytes(1));
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(a.text(), "Ünïcödé → ✓ 😀😀");
    assert_eq!(a.finish.map(|f| f.0), Some(FinishReason::Stop));
    let b = run(&h, request("hi")).await.unwrap();
    assert_eq!(b.calls.len(), 1);
    let args: Value = serde_json::from_str(&b.calls[0].arguments).unwrap();
    assert_eq!(args, json!({"compartmentId": "ö"}));
}

pub async fn tool_call_split_across_chunks(p: Protocol) {
    let h = harness(p).await;
    h.fake.push(
        Turn::text(["Let me check."])
            .and_tool_call(
                "listInstances",
                [
                    "{\"compart",
                    "mentId\": \"ocid1.compartment.oc1..a",
                    "aa\", \"li",
                    "mit\": 5}",
                ],
            )
            .call_id("call_first")
            .and_tool_call("getQuota", Vec::<String>::new())
            .call_id("call_second"),
    );
    let a = run(&h, request("list")).await.unwrap();
    assert_eq!(a.text(), "Let me check.");
    assert_eq!(a.calls.len(), 2, "{a:?}");
    assert_eq!(a.calls[0].id, "call_first");
    assert_eq!(a.calls[0].name, "listInstances");
    let args: Value = serde_json::from_str(&a.calls[0].arguments).unwrap();
    assert_eq!(
        args,
        json!({"compartmentId": "ocid1.compartment.oc1..aaa", "limit": 5})
    );
    // A call streamed without argument pieces still carries valid JSON.
    assert_eq!(a.calls[1].id, "call_second");
    assert_eq!(a.calls[1].name, "getQuota");
    assert_eq!(a.calls[1].arguments, "{}");
    assert_eq!(a.finish.map(|f| f.0), Some(FinishReason::ToolCalls));
}

pub async fn usage_reported(p: Protocol) {
    let h = harness(p).await;
    h.fake.push(Turn::text(["a", "b"]).usage(1234, 56));
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(
        a.finish,
        Some((
            FinishReason::Stop,
            Usage {
                input_tokens: 1234,
                output_tokens: 56
            }
        ))
    );
}

pub async fn length_finish(p: Protocol) {
    let h = harness(p).await;
    let wire = if p == Protocol::Anthropic {
        "max_tokens"
    } else {
        "length"
    };
    h.fake.push(Turn::text(["trunc"]).finish(wire));
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(a.finish.map(|f| f.0), Some(FinishReason::Length));
}

pub async fn rate_limited_then_success(p: Protocol) {
    let h = harness(p).await;
    h.fake
        .push(Turn::error(429, "slow down").header("retry-after", "0"));
    h.fake.push(Turn::error(503, "overloaded"));
    h.fake.push(Turn::text(["ok"]));
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(a.text(), "ok");
    let reqs = h.fake.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].body, reqs[2].body, "a retry sends the same request");
    if p == Protocol::Oci {
        for r in &reqs {
            assert_eq!(
                r.signature.as_ref().unwrap().as_deref(),
                Ok(key_id().as_str())
            );
        }
    }
}

pub async fn retries_at_most_twice(p: Protocol) {
    let h = harness(p).await;
    for _ in 0..3 {
        h.fake.push(Turn::error(500, "internal"));
    }
    h.fake.push(Turn::text(["never reached"]));
    let err = h.provider.stream(request("hi")).await.err().unwrap();
    assert!(
        matches!(err, ProviderError::Unavailable(ref m) if m.contains("internal")),
        "{err:?}"
    );
    assert_eq!(h.fake.requests().len(), 3);
    assert_eq!(h.fake.remaining(), 1);
}

pub async fn retry_after_honoured(p: Protocol) {
    let h = harness(p).await;
    h.fake
        .push(Turn::error(429, "slow down").header("retry-after", "1"));
    h.fake.push(Turn::text(["ok"]));
    let started = Instant::now();
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(a.text(), "ok");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

pub async fn long_retry_after_not_waited(p: Protocol) {
    let h = harness(p).await;
    h.fake
        .push(Turn::error(429, "quota").header("retry-after", "3600"));
    h.fake.push(Turn::text(["never reached"]));
    let err = h.provider.stream(request("hi")).await.err().unwrap();
    assert!(
        matches!(err, ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(3600)),
        "{err:?}"
    );
    assert_eq!(h.fake.requests().len(), 1);
}

pub async fn unauthorized_not_retried(p: Protocol) {
    let h = harness(p).await;
    h.fake.push(Turn::error(401, "bad key"));
    h.fake.push(Turn::text(["never reached"]));
    let err = h.provider.stream(request("hi")).await.err().unwrap();
    assert!(matches!(err, ProviderError::Unauthorized), "{err:?}");
    assert_eq!(h.fake.requests().len(), 1);
    assert_eq!(h.fake.remaining(), 1);
}

pub async fn bad_request_message_without_secrets(p: Protocol) {
    let h = harness(p).await;
    let long_tail = "x".repeat(2000);
    h.fake.push(Turn::error(
        400,
        &format!("model test-model not found for key {API_KEY} {long_tail}"),
    ));
    let err = h.provider.stream(request("hi")).await.err().unwrap();
    let ProviderError::BadRequest(msg) = err else {
        panic!("expected BadRequest, got {err:?}");
    };
    assert!(msg.starts_with("model test-model not found"), "{msg}");
    assert!(!msg.contains(API_KEY), "{msg}");
    assert!(msg.chars().count() <= 301, "{}", msg.len());
    assert_eq!(h.fake.requests().len(), 1);
}

pub async fn server_error_mid_stream(p: Protocol) {
    let h = harness(p).await;
    h.fake
        .push(Turn::text(["one ", "two ", "three"]).fail_after(2, "upstream exploded"));
    h.fake.push(Turn::text(["never reached"]));
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(a.text(), "one two ");
    assert!(a.finish.is_none());
    assert!(
        matches!(a.error, Some(ProviderError::Unavailable(ref m)) if m.contains("upstream exploded")),
        "{:?}",
        a.error
    );
    assert_eq!(h.fake.requests().len(), 1, "output was streamed: no retry");
}

pub async fn connection_cut_mid_stream(p: Protocol) {
    let h = harness(p).await;
    h.fake
        .push(Turn::text(["one ", "two ", "three"]).cut_after(1));
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(a.text(), "one ");
    assert!(a.finish.is_none());
    assert!(
        matches!(a.error, Some(ProviderError::Transport(_))),
        "{:?}",
        a.error
    );
}

pub async fn slow_stream_times_out(p: Protocol) {
    let h = harness_with(
        p,
        HttpOptions {
            timeout: Duration::from_millis(300),
            ..fast_options()
        },
    )
    .await;
    h.fake
        .push(Turn::text(["a", "b", "c"]).delay(Duration::from_secs(3)));
    let started = Instant::now();
    let a = run(&h, request("hi")).await.unwrap();
    assert!(matches!(a.error, Some(ProviderError::Timeout)), "{a:?}");
    assert!(a.finish.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

pub async fn no_first_byte_times_out(p: Protocol) {
    let h = harness_with(
        p,
        HttpOptions {
            timeout: Duration::from_millis(300),
            ..fast_options()
        },
    )
    .await;
    h.fake
        .push(Turn::text(["late"]).head_delay(Duration::from_secs(3)));
    let started = Instant::now();
    let err = h.provider.stream(request("hi")).await.err().unwrap();
    assert!(matches!(err, ProviderError::Timeout), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(h.fake.requests().len(), 1, "a timeout is not retried");
}

pub async fn dropping_the_stream_cancels(p: Protocol) {
    let h = harness(p).await;
    let chunks: Vec<String> = (0..40).map(|i| format!("w{i} ")).collect();
    h.fake
        .push(Turn::text(chunks).delay(Duration::from_millis(30)));
    let mut stream = h.provider.stream(request("hi")).await.unwrap();
    loop {
        match stream.next().await {
            Some(Ok(StreamEvent::TextDelta(_))) => break,
            Some(Ok(_)) => continue,
            other => panic!("expected text first, got {other:?}"),
        }
    }
    assert_eq!(h.fake.disconnects(), 0);
    drop(stream);
    assert!(
        h.fake.wait_for_disconnect(Duration::from_secs(3)).await,
        "the fake never saw the client go away"
    );
    assert_eq!(h.fake.completed(), 0);
}

pub async fn full_stream_is_completed(p: Protocol) {
    let h = harness(p).await;
    h.fake.push(Turn::text(["a", "b"]));
    let a = run(&h, request("hi")).await.unwrap();
    assert_eq!(a.text(), "ab");
    // The server sees the stream through to its end, never a disconnect.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.fake.completed(), 1);
    assert_eq!(h.fake.disconnects(), 0);
}

/// A conversation with a tool round: two calls, their results, and a follow-up question.
pub fn multi_turn_request() -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        system: "You are the portal assistant.".into(),
        messages: vec![
            Message::user("List my instances"),
            Message::assistant(
                "Let me look.",
                vec![
                    ToolCall {
                        id: "call_a".into(),
                        name: "listInstances".into(),
                        arguments: "{\"limit\":5}".into(),
                    },
                    ToolCall {
                        id: "call_b".into(),
                        name: "getQuota".into(),
                        arguments: "{}".into(),
                    },
                ],
            ),
            Message::tool("call_a", "[{\"id\":\"ocid1.instance.oc1..x\"}]"),
            Message::tool("call_b", "quota ok"),
            Message::assistant("You have one instance.", vec![]),
            Message::user("Thanks, and now?"),
        ],
        tools: vec![list_instances_tool()],
        max_tokens: 256,
    }
}

/// Sends [`multi_turn_request`] (which the fake checks as the real service would) and
/// returns the body it received.
pub async fn send_multi_turn(p: Protocol) -> (Harness, Value) {
    let h = harness(p).await;
    h.fake.push(Turn::text(["fine"]));
    let a = run(&h, multi_turn_request()).await.unwrap();
    assert_eq!(a.text(), "fine", "{a:?}");
    let body = h.fake.requests()[0].body.clone();
    (h, body)
}
