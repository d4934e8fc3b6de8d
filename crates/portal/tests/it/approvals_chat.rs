//! Chat tool calls get a fresh approval each turn even when the model reuses
//! a call id such as `call_0` (L11): the chat engine scopes the ids it hands
//! to the gateway to the turn and the call.

use std::time::Duration;

use portal_fake_llm::{FakeLlm, Protocol, Turn};
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

/// The data of every server-sent event of a finished stream.
async fn chat(c: &Client, body: Value) -> Vec<Value> {
    let res = c.post("/api/chat", body).await;
    assert_eq!(res.status(), 200);
    let text = tokio::time::timeout(Duration::from_secs(60), res.text())
        .await
        .expect("stream ends")
        .expect("body");
    events(&text)
}

async fn follow(c: &Client, session: &str) -> Vec<Value> {
    let res = c.get(&format!("/api/chat/{session}/stream?after=0")).await;
    assert_eq!(res.status(), 200);
    let text = tokio::time::timeout(Duration::from_secs(60), res.text())
        .await
        .expect("stream ends")
        .expect("body");
    events(&text)
}

fn events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|block| {
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            (!data.is_empty() && data != "[DONE]").then(|| serde_json::from_str(&data).unwrap())
        })
        .collect()
}

fn of_type<'a>(evs: &'a [Value], t: &str) -> Vec<&'a Value> {
    evs.iter().filter(|e| e["type"] == t).collect()
}

/// The portal's reason of the last finish (the wire's `finishReason` is the AI SDK's `other`).
fn finish_reason(evs: &[Value]) -> String {
    of_type(evs, "finish")
        .last()
        .map(|f| {
            f["messageMetadata"]["reason"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .expect("a finish part")
}

/// Asks for a bucket through the model, which names its call `call_0`; the
/// turn must pause for a new approval, which the admin grants; the turn then ends.
async fn bucket_via_chat(
    fake: &FakeLlm,
    op: &Client,
    admin: &Client,
    session: Option<&str>,
    compartment: &str,
    name: &str,
) -> String {
    let args = json!({"compartmentId": compartment, "name": name}).to_string();
    fake.push(Turn::tool_call("createBucket", [args.as_str()]).call_id("call_0"));
    fake.push(Turn::text(["Created."]));
    let mut body = json!({"message": "make me a bucket"});
    if let Some(s) = session {
        body["sessionId"] = json!(s);
    }
    let evs = chat(op, body).await;
    let session = evs[0]["messageMetadata"]["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let errors = of_type(&evs, "tool-output-error");
    assert!(errors.is_empty(), "the call was refused: {errors:?}");
    let asked = of_type(&evs, "data-approval-required");
    assert_eq!(asked.len(), 1, "a fresh approval is asked for: {evs:?}");
    assert_eq!(
        asked[0]["data"]["toolCallId"], "call_0",
        "the model's own id"
    );
    assert_eq!(finish_reason(&evs), "awaiting-approval");
    let approval = asked[0]["data"]["approvalId"].as_str().unwrap();
    let res = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let start = std::time::Instant::now();
    loop {
        let all = follow(op, &session).await;
        if finish_reason(&all) == "stop" {
            assert!(
                of_type(&all, "tool-output-error").is_empty(),
                "every approved call ran: {all:?}"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "never resumed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session
}

#[tokio::test]
async fn a_reused_model_call_id_gets_a_fresh_approval_in_each_turn() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_AI_PROVIDER", "openai")
        .env("PORTAL_AI_BASE_URL", fake.base_url())
        .env("PORTAL_AI_MODEL", "test-model")
        .env("PORTAL_AI_API_KEY", "sk-test-not-a-real-key-000000000000")
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let instance = admin.running_instance().await;
    let res = admin
        .post(
            "/api/tools/execute",
            json!({"toolName": "getInstance", "args": {"instanceId": instance}}),
        )
        .await;
    let inst: Value = res.json().await.unwrap();
    let compartment = inst["result"]["compartmentId"]
        .as_str()
        .unwrap()
        .to_string();

    let session = bucket_via_chat(&fake, &op, &admin, None, &compartment, "l11-first").await;
    // The same session, the same id `call_0` in the next turn: a new approval, not "already used".
    bucket_via_chat(
        &fake,
        &op,
        &admin,
        Some(&session),
        &compartment,
        "l11-second",
    )
    .await;
    // A new session: a new approval too, not "the arguments differ".
    bucket_via_chat(&fake, &op, &admin, None, &compartment, "l11-third").await;
    let activity: Value = admin
        .get("/api/activity?tool=createBucket&status=success")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        activity["total"], 3,
        "each approved call ran once: {activity}"
    );
}
