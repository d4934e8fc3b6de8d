//! What a password change and a sign-out take away: the user's API keys, and
//! paused chat turns started from the browser session that ended.

use std::time::Duration;

use portal_testkit::{Client, TestApp, PASSWORD};
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "a brand new long passphrase";

/// The data of every event of a finished stream.
async fn events(res: reqwest::Response) -> Vec<Value> {
    assert_eq!(res.status(), 200);
    let text = tokio::time::timeout(Duration::from_secs(60), res.text())
        .await
        .expect("stream ends")
        .expect("body");
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

/// L8: the key a user made keeps working after a password change before the fix.
#[tokio::test]
async fn a_password_change_revokes_the_users_api_keys() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, _) = admin.create_key("bot", &["sessions:read"]).await;
    let k = app.with_key(&key);
    assert_eq!(k.get("/api/sessions").await.status(), 200);
    let res = admin
        .post(
            "/api/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(k.get("/api/sessions").await.status(), 401);
    let keys: Value = admin.get("/api/api-keys").await.json().await.unwrap();
    assert!(
        keys.to_string().contains("revoked"),
        "listed as revoked: {keys}"
    );
}

/// Starts a turn from `c` that pauses for an approval; returns (session, approval id).
async fn paused_turn(c: &Client) -> (String, String) {
    let instance = c.running_instance().await;
    let evs = events(
        c.post(
            "/api/chat",
            json!({"message": format!("/tool stopInstance {{\"instanceId\": \"{instance}\"}}")}),
        )
        .await,
    )
    .await;
    let finish = of_type(&evs, "finish");
    assert_eq!(
        finish[0]["messageMetadata"]["reason"], "awaiting-approval",
        "{evs:?}"
    );
    let approval = of_type(&evs, "data-approval-required")[0]["data"]["approvalId"]
        .as_str()
        .unwrap()
        .to_string();
    let session = evs[0]["messageMetadata"]["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    (session, approval)
}

/// Approves with `approver` and follows the session to the end of the resumed turn.
async fn approve_and_follow(approver: &Client, session: &str, approval: &str) -> Vec<Value> {
    let res = approver
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let all = events(
        approver
            .get(&format!("/api/chat/{session}/stream?after=0"))
            .await,
    )
    .await;
    // The first turn's part ends at its finish; the resumed part follows it.
    let first_finish = all
        .iter()
        .position(|e| e["type"] == "finish")
        .expect("first finish");
    all[first_finish + 1..].to_vec()
}

fn assert_stopped_for_the_ended_session(rest: &[Value]) {
    assert!(
        of_type(rest, "tool-output-available").is_empty(),
        "the tool ran: {rest:?}"
    );
    let err = of_type(rest, "error");
    assert_eq!(err.len(), 1, "{rest:?}");
    let text = err[0]["errorText"].as_str().unwrap_or_default();
    assert!(text.contains("browser session"), "{text}");
    assert_eq!(of_type(rest, "finish")[0]["finishReason"], "error");
}

/// L8: a turn started from a (stolen) session does not run once that session
/// signed out, even though an approver approves it.
#[tokio::test]
async fn a_paused_turn_stops_when_its_session_signs_out() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let owner = app.admin().await;
    let stolen = app.sign_in("admin@acme.test", PASSWORD).await;
    let (session, approval) = paused_turn(&stolen).await;
    assert_eq!(
        stolen.post("/api/auth/sign-out", json!({})).await.status(),
        200
    );
    let rest = approve_and_follow(&owner, &session, &approval).await;
    assert_stopped_for_the_ended_session(&rest);
}

/// L8: the same after the owner changes the password (which ends every other session).
#[tokio::test]
async fn a_paused_turn_stops_when_the_password_changes() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let owner = app.admin().await;
    let stolen = app.sign_in("admin@acme.test", PASSWORD).await;
    let (session, approval) = paused_turn(&stolen).await;
    let res = owner
        .post(
            "/api/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let rest = approve_and_follow(&owner, &session, &approval).await;
    assert_stopped_for_the_ended_session(&rest);
}

/// The control: a turn whose session is still signed in resumes and runs.
#[tokio::test]
async fn a_paused_turn_of_a_live_session_resumes() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let owner = app.admin().await;
    let (session, approval) = paused_turn(&owner).await;
    let rest = approve_and_follow(&owner, &session, &approval).await;
    assert_eq!(of_type(&rest, "tool-output-available").len(), 1, "{rest:?}");
}
