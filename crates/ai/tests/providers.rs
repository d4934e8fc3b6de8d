//! Every provider against a fake speaking its real wire protocol over real HTTP.

mod common;

use common::*;
use portal_fake_llm::Protocol;
use serde_json::json;

macro_rules! behaviours {
    ($module:ident, $protocol:expr) => {
        mod $module {
            use super::*;

            behaviours!(@each $protocol;
                plain_streamed_answer,
                byte_split_stream,
                tool_call_split_across_chunks,
                usage_reported,
                length_finish,
                rate_limited_then_success,
                retries_at_most_twice,
                retry_after_honoured,
                long_retry_after_not_waited,
                unauthorized_not_retried,
                bad_request_message_without_secrets,
                server_error_mid_stream,
                connection_cut_mid_stream,
                slow_stream_times_out,
                no_first_byte_times_out,
                dropping_the_stream_cancels,
                full_stream_is_completed,
            );
        }
    };
    (@each $protocol:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                common::$name($protocol).await;
            }
        )*
    };
}

behaviours!(openai, Protocol::OpenAi);
behaviours!(anthropic, Protocol::Anthropic);
behaviours!(oci, Protocol::Oci);

#[tokio::test]
async fn openai_request_shape() {
    let (h, body) = send_multi_turn(Protocol::OpenAi).await;
    let req = &h.fake.requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    // A compatible server (not api.openai.com) gets the widely supported field.
    assert_eq!(body["max_tokens"], 256);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "You are the portal assistant."},
            {"role": "user", "content": "List my instances"},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [
                {"id": "call_a", "type": "function",
                 "function": {"name": "listInstances", "arguments": "{\"limit\":5}"}},
                {"id": "call_b", "type": "function",
                 "function": {"name": "getQuota", "arguments": "{}"}},
            ]},
            {"role": "tool", "tool_call_id": "call_a", "content": "[{\"id\":\"ocid1.instance.oc1..x\"}]"},
            {"role": "tool", "tool_call_id": "call_b", "content": "quota ok"},
            {"role": "assistant", "content": "You have one instance."},
            {"role": "user", "content": "Thanks, and now?"},
        ])
    );
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "function": {
            "name": "listInstances",
            "description": "Lists compute instances in a compartment.",
            "parameters": list_instances_tool().parameters,
        }})
    );
}

#[tokio::test]
async fn anthropic_request_shape() {
    let (h, body) = send_multi_turn(Protocol::Anthropic).await;
    let req = &h.fake.requests()[0];
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("x-api-key"), Some(API_KEY));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 256);
    assert_eq!(body["stream"], true);
    assert_eq!(body["system"], "You are the portal assistant.");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "List my instances"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "call_a", "name": "listInstances", "input": {"limit": 5}},
                {"type": "tool_use", "id": "call_b", "name": "getQuota", "input": {}},
            ]},
            // Both results in one user message.
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_a",
                 "content": "[{\"id\":\"ocid1.instance.oc1..x\"}]"},
                {"type": "tool_result", "tool_use_id": "call_b", "content": "quota ok"},
            ]},
            {"role": "assistant", "content": [{"type": "text", "text": "You have one instance."}]},
            {"role": "user", "content": [{"type": "text", "text": "Thanks, and now?"}]},
        ])
    );
    assert_eq!(
        body["tools"][0],
        json!({
            "name": "listInstances",
            "description": "Lists compute instances in a compartment.",
            "input_schema": list_instances_tool().parameters,
        })
    );
}

#[tokio::test]
async fn anthropic_results_followed_by_user_text_share_one_message() {
    let h = harness(Protocol::Anthropic).await;
    h.fake.push(portal_fake_llm::Turn::text(["ok"]));
    let mut req = multi_turn_request();
    // Drop the assistant's answer: the results are directly followed by the user's words.
    req.messages.remove(4);
    let a = run(&h, req).await.unwrap();
    assert_eq!(a.text(), "ok", "{a:?}");
    let body = &h.fake.requests()[0].body;
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(
        messages[2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "call_a",
             "content": "[{\"id\":\"ocid1.instance.oc1..x\"}]"},
            {"type": "tool_result", "tool_use_id": "call_b", "content": "quota ok"},
            {"type": "text", "text": "Thanks, and now?"},
        ])
    );
}

#[tokio::test]
async fn oci_request_shape() {
    let (h, body) = send_multi_turn(Protocol::Oci).await;
    let req = &h.fake.requests()[0];
    assert_eq!(req.path, "/20231130/actions/chat");
    assert_eq!(
        req.signature.as_ref().unwrap().as_deref(),
        Ok(key_id().as_str())
    );
    assert!(req
        .header("opc-request-id")
        .is_some_and(|id| id.len() == 32));
    assert_eq!(
        req.header("accept"),
        Some("application/json, text/event-stream")
    );
    let tenancy = key_id().split('/').next().unwrap().to_string();
    assert_eq!(body["compartmentId"], tenancy.as_str());
    assert_eq!(
        body["servingMode"],
        json!({"servingType": "ON_DEMAND", "modelId": "test-model"})
    );
    let chat = &body["chatRequest"];
    assert_eq!(chat["apiFormat"], "GENERIC");
    assert_eq!(chat["isStream"], true);
    assert_eq!(chat["streamOptions"], json!({"isIncludeUsage": true}));
    assert_eq!(chat["maxTokens"], 256);
    let text = |t: &str| json!([{"type": "TEXT", "text": t}]);
    assert_eq!(
        chat["messages"],
        json!([
            {"role": "SYSTEM", "content": text("You are the portal assistant.")},
            {"role": "USER", "content": text("List my instances")},
            {"role": "ASSISTANT", "content": text("Let me look."), "toolCalls": [
                {"type": "FUNCTION", "id": "call_a", "name": "listInstances", "arguments": "{\"limit\":5}"},
                {"type": "FUNCTION", "id": "call_b", "name": "getQuota", "arguments": "{}"},
            ]},
            {"role": "TOOL", "toolCallId": "call_a", "content": text("[{\"id\":\"ocid1.instance.oc1..x\"}]")},
            {"role": "TOOL", "toolCallId": "call_b", "content": text("quota ok")},
            {"role": "ASSISTANT", "content": text("You have one instance.")},
            {"role": "USER", "content": text("Thanks, and now?")},
        ])
    );
    assert_eq!(
        chat["tools"][0],
        json!({"type": "FUNCTION", "name": "listInstances",
               "description": "Lists compute instances in a compartment.",
               "parameters": list_instances_tool().parameters})
    );
}

#[tokio::test]
async fn oci_wrong_key_is_unauthorized() {
    use portal_ai::provider::oci::{OciConfig, OciProvider};
    use portal_ai::provider::Provider;
    use portal_oci::PublicKey;

    let h = harness(Protocol::Oci).await;
    // The fake knows the key id, but with a different public key: the signature fails.
    let other = PublicKey::from_pem(OTHER_PUBLIC_KEY).unwrap();
    h.fake
        .verify_oci_signatures(std::collections::HashMap::from([(key_id(), other)]));
    h.fake.push(portal_fake_llm::Turn::text(["never"]));
    let provider = OciProvider::new(OciConfig {
        client: oci_client(),
        base_url: Some(h.fake.base_url()),
        compartment_id: Some("ocid1.compartment.oc1..billing".into()),
        http: fast_options(),
    })
    .unwrap();
    let err = provider.stream(request("hi")).await.err().unwrap();
    assert!(
        matches!(err, portal_ai::provider::ProviderError::Unauthorized),
        "{err:?}"
    );
    let reqs = h.fake.requests();
    assert_eq!(reqs.len(), 1);
    assert!(matches!(reqs[0].signature, Some(Err(_))));
    assert_eq!(
        reqs[0].body["compartmentId"],
        "ocid1.compartment.oc1..billing"
    );
}

/// A 2048-bit RSA public key unrelated to the test vectors' key.
const OTHER_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvApelFF7rzCInkXPS1bM
cHEQic6+A2ifQ+8+aa6+qs/0WfzEVeuZhjzOm4bV1XEyj5raHN6w/pavyzd0qZ4L
vAcgUAIS1pcveL2oBkIqaZNuqREf1Deu3PAmcZJdj4x8pQsuS2vXhJtTzqQ8zfHe
hpDCvjkDUM++eHjolewUGp/7gvelQOi+G+p35xfQGlc/S+x94f/F8nqZFKcx4jm6
CYpf2j+fze8Pdse7cSNIrix2LwOEAd8BBQ7LA3bj8k95DDrDHgYRWmQ/ch4spL5a
SVCuFoTm2vcZNRCgJMhtPEREhJrLQa8UspDXiYfyElp4ryMKoIVqXA6/TcgDR9Jt
iwIDAQAB
-----END PUBLIC KEY-----";
