//! Chat as the AI SDK's own client drives it: its default request body with a
//! client-chosen chat id, approvals answered in the chat, resuming the active
//! turn's stream, turns that outlive their client, and an explicit stop.

use std::time::Duration;

use portal_fake_llm::{FakeLlm, Protocol, Turn};
use portal_testkit::sse::{finish, of_type, parse_sse, read_sse, read_until, text_of, Ev};
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

fn user(text: &str) -> Value {
    json!({"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]})
}

/// The AI SDK's `DefaultChatTransport` body for a new user message.
fn sdk_say(chat: &str, text: &str) -> Value {
    json!({"id": chat, "messages": [user(text)], "trigger": "submit-message"})
}

/// The body `addToolApprovalResponse` makes the SDK send.
fn sdk_answer(chat: &str, tool: &str, call: &str, approval: &str, approved: bool) -> Value {
    json!({"id": chat, "trigger": "submit-message", "messageId": "a1", "messages": [
        user("stop it"),
        {"id": "a1", "role": "assistant", "parts": [
            {"type": "step-start"},
            {"type": format!("tool-{tool}"), "toolCallId": call, "state": "approval-responded",
             "input": {}, "approval": {"id": approval, "approved": approved}}]}]})
}

async fn app() -> TestApp {
    TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await
}

async fn with_model(fake: &FakeLlm) -> TestApp {
    TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .model("openai", &fake.base_url())
        .spawn()
        .await
}

/// Starts a stop-instance turn in chat `chat` and returns (the stream, approval id, call id).
async fn paused(c: &Client, chat: &str) -> (Vec<Ev>, String, String) {
    let instance = c.running_instance().await;
    let evs = read_sse(
        c.post(
            "/api/chat",
            sdk_say(
                chat,
                &format!("/tool stopInstance {{\"instanceId\": \"{instance}\"}}"),
            ),
        )
        .await,
    )
    .await;
    let asked = of_type(&evs, "tool-approval-request");
    assert_eq!(asked.len(), 1, "{evs:?}");
    let approval = asked[0]["approvalId"].as_str().unwrap().to_string();
    let call = asked[0]["toolCallId"].as_str().unwrap().to_string();
    let data = of_type(&evs, "data-approval-required");
    assert_eq!(
        data[0]["data"]["approvalId"],
        approval.as_str(),
        "both forms name it"
    );
    (evs, approval, call)
}

#[tokio::test]
async fn the_sdk_default_body_runs_a_turn_in_the_clients_chat() {
    let app = app().await;
    let admin = app.admin().await;
    let res = admin
        .post(
            "/api/chat",
            sdk_say("chat-Abc_123", "/tool listCompartments {}"),
        )
        .await;
    assert_eq!(res.headers()["x-chat-session-id"], "chat-Abc_123");
    let evs = read_sse(res).await;
    assert_eq!(evs[0].data["messageMetadata"]["sessionId"], "chat-Abc_123");
    assert_eq!(of_type(&evs, "tool-output-available").len(), 1, "{evs:?}");
    assert_eq!(finish(&evs)["finishReason"], "stop");

    // The same id continues the same session.
    let again = read_sse(
        admin
            .post("/api/chat", sdk_say("chat-Abc_123", "hello"))
            .await,
    )
    .await;
    assert_eq!(finish(&again)["finishReason"], "stop");
    let msgs: Value = admin
        .get("/api/sessions/chat-Abc_123/messages")
        .await
        .json()
        .await
        .unwrap();
    let n = msgs["messages"].as_array().map(Vec::len).unwrap_or(0);
    assert!(n >= 4, "{msgs}");

    // Someone else's chat id is not theirs to use; bad ids and bodies are 400s.
    let other = app.member(&admin, "other@acme.test", "admin").await;
    let taken = other
        .post("/api/chat", sdk_say("chat-Abc_123", "mine?"))
        .await;
    assert_eq!(taken.status(), 409);
    for bad in [
        sdk_say("../etc", "hi"),
        sdk_say(&"x".repeat(129), "hi"),
        json!({"id": "c1", "messages": [{"role": "user", "parts": [{"type": "file", "url": "data:,x", "mediaType": "text/plain"}]}]}),
        json!({"id": "c1", "messages": [user("hi")], "trigger": "regenerate-message"}),
        json!({"id": "c1", "messages": [user("hi")], "sessionId": "c1"}),
    ] {
        let res = admin.post("/api/chat", bad.clone()).await;
        assert_eq!(res.status(), 400, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "VALIDATION_ERROR", "{body}");
    }
}

#[tokio::test]
async fn an_approval_answered_in_the_chat_resumes_the_turn() {
    let app = app().await;
    let admin = app.admin().await;
    let (evs, approval, call) = paused(&admin, "c-approve").await;
    let f = finish(&evs);
    assert_eq!(f["finishReason"], "other");
    assert_eq!(f["messageMetadata"]["awaitingApproval"], true);
    assert_eq!(f["messageMetadata"]["approvalIds"], json!([approval]));

    // Resuming while nobody has decided replays the paused turn and ends.
    let replay = read_sse(admin.get("/api/chat/c-approve/stream").await).await;
    assert_eq!(replay[0].data["type"], "start");
    assert_eq!(of_type(&replay, "tool-approval-request").len(), 1);
    assert!(replay.last().is_some_and(|e| e.done));

    // An answer for another approval, or from someone who may not approve, is refused.
    let wrong = admin
        .post(
            "/api/chat",
            sdk_answer("c-approve", "stopInstance", &call, "nope", true),
        )
        .await;
    assert_eq!(wrong.status(), 400);
    let res = admin
        .post(
            "/api/chat",
            sdk_answer("c-approve", "stopInstance", &call, &approval, true),
        )
        .await;
    let rest = read_sse(res).await;
    assert_eq!(rest[0].data["type"], "start");
    let out = of_type(&rest, "tool-output-available");
    assert_eq!(out.len(), 1, "{rest:?}");
    assert_eq!(out[0]["toolCallId"], call.as_str());
    assert_eq!(finish(&rest)["messageMetadata"]["reason"], "stop");
    assert!(
        of_type(&rest, "tool-input-start").is_empty(),
        "only the resumed half"
    );

    // Nothing waits any more; the turn is over, so resuming has nothing to give.
    let again = admin
        .post(
            "/api/chat",
            sdk_answer("c-approve", "stopInstance", &call, &approval, true),
        )
        .await;
    assert_eq!(again.status(), 409);
    let idle = admin.get("/api/chat/c-approve/stream").await;
    assert_eq!(idle.status(), 204);
}

#[tokio::test]
async fn answering_needs_the_approve_permission() {
    let app = app().await;
    let admin = app.admin().await;
    let (key, _) = admin
        .create_key(
            "asker",
            &[
                "sessions:read",
                "sessions:write",
                "tools:read",
                "tools:execute",
            ],
        )
        .await;
    let asker = app.with_key(&key);
    let instance = admin.running_instance().await;
    let evs = read_sse(
        asker
            .post(
                "/api/chat",
                sdk_say(
                    "c-asker",
                    &format!("/tool stopInstance {{\"instanceId\": \"{instance}\"}}"),
                ),
            )
            .await,
    )
    .await;
    let asked = of_type(&evs, "tool-approval-request");
    assert_eq!(asked.len(), 1, "{evs:?}");
    let approval = asked[0]["approvalId"].as_str().unwrap();
    let call = asked[0]["toolCallId"].as_str().unwrap();
    let res = asker
        .post(
            "/api/chat",
            sdk_answer("c-asker", "stopInstance", call, approval, true),
        )
        .await;
    assert_eq!(res.status(), 403);
    // Still waiting: someone who may approve can still answer it elsewhere.
    let pending = read_sse(asker.get("/api/chat/c-asker/stream").await).await;
    assert_eq!(of_type(&pending, "tool-approval-request").len(), 1);
}

#[tokio::test]
async fn a_denied_approval_is_denied_and_old_clients_see_an_error() {
    let app = app().await;
    let admin = app.admin().await;
    let (_, approval, call) = paused(&admin, "c-deny").await;
    let rest = read_sse(
        admin
            .post(
                "/api/chat",
                sdk_answer("c-deny", "stopInstance", &call, &approval, false),
            )
            .await,
    )
    .await;
    let denied = of_type(&rest, "tool-output-denied");
    assert_eq!(denied.len(), 1, "{rest:?}");
    assert_eq!(denied[0]["toolCallId"], call.as_str());

    // AI SDK v5 has no approval chunks: they are left out or rewritten for it.
    let old = read_sse(
        admin
            .get("/api/chat/c-deny/stream?after=0&approvalChunks=false")
            .await,
    )
    .await;
    assert!(of_type(&old, "tool-approval-request").is_empty());
    assert!(of_type(&old, "tool-output-denied").is_empty());
    let errors = of_type(&old, "tool-output-error");
    assert_eq!(errors.len(), 1, "{old:?}");
    assert!(
        errors[0]["errorText"]
            .as_str()
            .unwrap_or_default()
            .contains("rejected"),
        "{}",
        errors[0]
    );
    assert_eq!(of_type(&old, "data-approval-required").len(), 1);
    let bad = admin
        .get("/api/chat/c-deny/stream?approvalChunks=maybe")
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn stopping_a_turn_that_waits_for_an_approval_ends_it() {
    let app = app().await;
    let admin = app.admin().await;
    let (_, approval, _) = paused(&admin, "c-wait").await;
    let res: Value = admin
        .post("/api/chat/c-wait/stop", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res, json!({"stopped": true, "outcome": "ended"}));
    assert_eq!(admin.get("/api/chat/c-wait/stream").await.status(), 204);
    let idle: Value = admin
        .post("/api/chat/c-wait/stop", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(idle, json!({"stopped": false, "outcome": "idle"}));
    // The session takes new messages; the approval no longer resumes anything.
    let next = read_sse(admin.post("/api/chat", sdk_say("c-wait", "hello")).await).await;
    assert_eq!(finish(&next)["finishReason"], "stop");
    let late = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true}),
        )
        .await;
    assert!(late.status().is_success() || late.status() == 409);
    assert_eq!(admin.get("/api/chat/c-wait/stream").await.status(), 204);
    assert_eq!(
        admin.post("/api/chat/nope/stop", json!({})).await.status(),
        404
    );
}

#[tokio::test]
async fn a_client_that_goes_away_does_not_stop_its_turn() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let words: Vec<String> = (0..40).map(|_| "story ".to_string()).collect();
    fake.push(Turn::text(words.clone()).delay(Duration::from_millis(30)));
    let app = with_model(&fake).await;
    let admin = app.admin().await;
    let (key, _) = admin
        .create_key("chat", &["sessions:read", "sessions:write"])
        .await;
    // A raw connection, closed mid-stream the way a browser tab closes.
    let body = sdk_say("c-gone", "tell me a long story").to_string();
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(
        format!(
            "POST /api/chat HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            app.addr,
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut seen = String::new();
    let mut buf = vec![0u8; 4096];
    while !seen.contains("text-delta") {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    drop(tcp);

    // The SDK's resumeStream(): the whole active turn, from its start to its end.
    let resumed = read_sse(admin.get("/api/chat/c-gone/stream").await).await;
    assert_eq!(resumed[0].data["type"], "start");
    assert_eq!(text_of(&resumed), words.concat());
    assert_eq!(finish(&resumed)["messageMetadata"]["reason"], "stop");
    assert!(!fake.wait_for_disconnect(Duration::from_millis(100)).await);
    let msgs: Value = admin
        .get("/api/sessions/c-gone/messages")
        .await
        .json()
        .await
        .unwrap();
    let last = msgs["messages"].as_array().and_then(|m| m.last()).cloned();
    assert_eq!(
        last.map(|m| m["content"].clone()),
        Some(json!(words.concat()))
    );
    assert_eq!(admin.get("/api/chat/c-gone/stream").await.status(), 204);
}

#[tokio::test]
async fn an_explicit_stop_ends_the_turn_and_cancels_the_model_request() {
    let fake = FakeLlm::start(Protocol::OpenAi).await.unwrap();
    let words: Vec<String> = (0..400).map(|_| "story ".to_string()).collect();
    fake.push(Turn::text(words).delay(Duration::from_millis(50)));
    let app = with_model(&fake).await;
    let admin = app.admin().await;
    let mut res = admin
        .post("/api/chat", sdk_say("c-stop", "tell me a long story"))
        .await;
    assert_eq!(res.status(), 200);
    let mut seen = read_until(&mut res, "text-delta").await;
    let stopped: Value = admin
        .post("/api/chat/c-stop/stop", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stopped, json!({"stopped": true, "outcome": "stopped"}));
    let rest = tokio::time::timeout(Duration::from_secs(10), res.text())
        .await
        .expect("the stream ends soon after the stop")
        .expect("body");
    seen.push_str(&rest);
    let evs = parse_sse(
        seen.split_once("\r\n\r\n")
            .map_or(seen.as_str(), |(_, b)| b),
    );
    assert_eq!(of_type(&evs, "abort").len(), 1, "{evs:?}");
    let f = finish(&evs);
    assert_eq!(f["finishReason"], "other");
    assert_eq!(f["messageMetadata"]["reason"], "stopped");
    assert!(evs.last().is_some_and(|e| e.done));
    assert!(
        fake.wait_for_disconnect(Duration::from_secs(5)).await,
        "the model request was cancelled"
    );
    // What the model had said is kept; the session takes the next message.
    let msgs: Value = admin
        .get("/api/sessions/c-stop/messages")
        .await
        .json()
        .await
        .unwrap();
    let said = msgs["messages"]
        .as_array()
        .and_then(|m| m.last())
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    assert!(said.starts_with("story story"), "{msgs}");
    assert!(said.len() < 400 * "story ".len(), "stopped before the end");
    fake.push(Turn::text(["still here"]));
    let next = read_sse(
        admin
            .post("/api/chat", sdk_say("c-stop", "hello again"))
            .await,
    )
    .await;
    assert_eq!(text_of(&next), "still here");
}
