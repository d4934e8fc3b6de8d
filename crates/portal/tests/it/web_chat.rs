//! The chat page over HTTP: the sessions sidebar (search, rename, delete),
//! stored conversations rendered as safe markdown with a card per tool call,
//! a turn that waits for an approval left to the page to follow live, and
//! everyone else's sessions and forms refused.

use portal_testkit::sse::{finish, read_sse, Ev};
use portal_testkit::web::{csrf_of, page};
use portal_testkit::{with_operator, Client};
use serde_json::{json, Value};

async fn say(c: &Client, body: Value) -> (String, Vec<Ev>) {
    let evs = read_sse(c.post("/api/chat", body).await).await;
    let session = evs[0].data["messageMetadata"]["sessionId"]
        .as_str()
        .expect("the first event names the session")
        .to_string();
    (session, evs)
}

/// An HTML fragment (no page shell, so no scripts): status and body.
async fn fragment(c: &Client, path: &str) -> (u16, String) {
    let res = c.get(path).await;
    let status = res.status().as_u16();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
    (status, res.text().await.unwrap())
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_chat_page_lists_renders_searches_renames_and_deletes_sessions() {
    let (app, admin, op, _) = with_operator().await;
    let (listed, _) = say(&op, json!({"message": "/tool listInstances {}"})).await;
    let (words, _) = say(&op, json!({"message": "what is <b>running</b>?"})).await;

    // The sidebar lists both, newest first; the new-chat page has the composer.
    let (status, body) = op.page("/chat").await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"aria-current="page">Chat</a>"#),
        "nav: {body}"
    );
    let (a, b) = (
        body.find(&format!(r#"href="/chat/{words}""#)),
        body.find(&format!(r#"href="/chat/{listed}""#)),
    );
    assert!(a.is_some() && b.is_some() && a < b, "{body}");
    assert!(body.contains(r#"id="composer""#) && body.contains(r#"id="chat-empty""#));
    assert!(!body.contains("data-follow="), "nothing to follow: {body}");

    // The direct call as a card, done, with its result; the session is current.
    let (status, body) = op.page(&format!("/chat/{listed}")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"<h1 id="chat-h">listInstances {}</h1>"#),
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"href="/chat/{listed}" aria-current="page""#)),
        "{body}"
    );
    assert!(body.contains(r#"data-state="done""#), "{body}");
    assert!(body.contains("listInstances") && body.contains("lifecycleState"));
    assert!(body.contains(r#"class="result-json""#), "{body}");

    // The user's words escaped; the assistant's markdown (no model here: it says
    // so, naming `/tool` in code) rendered as HTML.
    let (_, body) = op.page(&format!("/chat/{words}")).await;
    assert!(
        body.contains("what is &lt;b&gt;running&lt;/b&gt;?"),
        "{body}"
    );
    assert!(!body.contains("<b>running</b>"), "{body}");
    assert!(
        body.contains("<code>/tool NAME {json arguments}</code>"),
        "{body}"
    );

    // The home page's ask box links here with the question filled in.
    let (_, asked) = op
        .page("/chat?prompt=which%20%3Cb%3Einstances%3C/b%3E%3F")
        .await;
    assert!(
        asked.contains("which &lt;b&gt;instances&lt;/b&gt;?</textarea>"),
        "{asked}"
    );

    // Search by title, either case; nothing matching says so.
    let (_, found) = op.page("/chat?q=LISTinst").await;
    assert!(found.contains(&format!(r#"href="/chat/{listed}""#)));
    assert!(!found.contains(&format!(r#"href="/chat/{words}""#)));
    let (_, none) = op.page("/chat?q=nothing-like-this").await;
    assert!(none.contains("No chat matches."), "{none}");

    // Rename: the form token is required; an empty title is a 400.
    let (_, body) = op.page(&format!("/chat/{listed}")).await;
    let token = csrf_of(&body);
    let rename = format!("/chat/{listed}/rename");
    let (status, _) = page(op.post_form(&rename, &[("title", "x")]).await).await;
    assert_eq!(status, 403);
    let (status, bad) = page(
        op.post_form(&rename, &[("csrf", &token), ("title", "  ")])
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(bad.contains("title: must not be empty"), "{bad}");
    let res = op
        .post_form(&rename, &[("csrf", &token), ("title", "Fleet check")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/chat/{listed}"));
    let (_, body) = op.page(&format!("/chat/{listed}")).await;
    assert!(
        body.contains(r#"<h1 id="chat-h">Fleet check</h1>"#),
        "{body}"
    );

    // Another member's session is not found, to read or to change.
    let (status, _) = admin.page(&format!("/chat/{listed}")).await;
    assert_eq!(status, 404);
    let (_, mine) = admin.page("/chat").await;
    let (status, _) = page(
        admin
            .post_form(
                &format!("/chat/{listed}/delete"),
                &[("csrf", &csrf_of(&mine))],
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);

    // Delete: back to a new chat, and the session is gone.
    let res = op
        .post_form(&format!("/chat/{listed}/delete"), &[("csrf", &token)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/chat");
    let (status, _) = op.page(&format!("/chat/{listed}")).await;
    assert_eq!(status, 404);
    let (_, body) = op.page("/chat").await;
    assert!(!body.contains(&format!(r#"href="/chat/{listed}""#)));

    // Not signed in: to the sign-in page, and back here afterwards.
    let res = app.get("/chat/abc").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=/chat/abc");
}

#[tokio::test]
async fn a_viewer_reads_chats_but_gets_no_composer_and_cannot_change_them() {
    let (app, admin, _, _) = with_operator().await;
    let viewer = app.member(&admin, "viewer@acme.test", "viewer").await;
    let (status, body) = viewer.page("/chat").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="read-only""#), "{body}");
    assert!(!body.contains(r#"id="composer""#) && !body.contains(r#"id="new-chat""#));
    let (status, _) = page(
        viewer
            .post_form(
                "/chat/any/rename",
                &[("csrf", &csrf_of(&body)), ("title", "x")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_turn_waiting_for_an_approval_is_left_to_the_page_to_follow() {
    let (_app, _admin, op, instance) = with_operator().await;
    let ask = format!(r#"/tool stopInstance {{"instanceId": "{instance}"}}"#);
    let (session, evs) = say(&op, json!({"message": ask})).await;
    assert_eq!(
        finish(&evs)["messageMetadata"]["reason"],
        "awaiting-approval"
    );

    // The page shows the conversation up to the question and marks the turn to
    // follow; the waiting call itself comes from the stream (no duplicate card).
    let (status, body) = op.page(&format!("/chat/{session}")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"data-follow="awaiting_approval""#),
        "{body}"
    );
    assert!(body.contains("/tool stopInstance"), "{body}");
    assert!(!body.contains("tool-card"), "{body}");
}

#[tokio::test]
async fn the_inline_approval_card_shows_controls_only_to_who_may_decide() {
    let (app, admin, op, instance) = with_operator().await;
    let ask = format!(r#"/tool stopInstance {{"instanceId": "{instance}"}}"#);
    let (_, evs) = say(&op, json!({"message": ask})).await;
    let required = evs
        .iter()
        .find(|e| e.data["type"] == "data-approval-required")
        .expect("the stream names the approval");
    let id = required.data["data"]["approvalId"]
        .as_str()
        .unwrap()
        .to_string();
    let card = format!("/approvals/{id}/card");

    // An approver: risk, redacted arguments, the link, and the decision form
    // posting to the approval page's own form (with this session's token).
    let (status, html) = fragment(&admin, &card).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"class="approval-card""#) && html.contains("Waiting for approval"));
    assert!(
        html.contains(&instance) && html.contains(r#"class="badge confirm""#),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"action="/approvals/{id}""#)),
        "{html}"
    );
    assert!(
        html.contains(&format!("/approvals/{id}\" data-copy")),
        "{html}"
    );
    let token = csrf_of(&html);
    let res = admin
        .post_form(
            &format!("/approvals/{id}"),
            &[("csrf", &token), ("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, decided) = fragment(&admin, &card).await;
    assert!(
        !decided.contains("<form") && !decided.contains("Waiting for approval"),
        "{decided}"
    );

    // Someone who cannot approve: waiting, the link, no form.
    let (_, evs) = say(
        &op,
        json!({"message": format!(r#"/tool stopInstance {{"instanceId": "{instance}"}}"#)}),
    )
    .await;
    let again = evs
        .iter()
        .find(|e| e.data["type"] == "data-approval-required")
        .map(|e| e.data["data"]["approvalId"].as_str().unwrap().to_string())
        .expect("a second approval");
    let viewer = app.member(&admin, "viewer@acme.test", "viewer").await;
    let (status, html) = fragment(&viewer, &format!("/approvals/{again}/card")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Waiting for approval") && html.contains("cannot approve"),
        "{html}"
    );
    assert!(!html.contains("<form"), "{html}");

    // An unknown approval is not found.
    let (status, _) = fragment(&admin, "/approvals/nope/card").await;
    assert_eq!(status, 404);
}
