//! My account: a one-time password is replaced before anything else, the
//! password change shows the server's message on its field, the sessions list
//! shows this browser and signs others out (only the user's own), every form
//! needs the session's token.

use portal_testkit::web::{csrf_of, page};
use portal_testkit::{Client, TestApp, PASSWORD};
use serde_json::{json, Value};

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_one_time_password_is_replaced_first_and_the_field_names_what_is_wrong() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = admin
        .post(
            "/api/org/members",
            json!({"email": "new@acme.test", "name": "Newcomer", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let otp = res.json::<Value>().await.unwrap()["oneTimePassword"]
        .as_str()
        .unwrap()
        .to_string();
    let newcomer = app.sign_in("new@acme.test", &otp).await;
    // Every page leads to the account page first.
    for path in ["/", "/activity", "/approvals"] {
        let res = newcomer.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(location(&res), "/account", "{path}");
    }
    let (status, body) = newcomer.page("/account").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="must-change""#), "{body}");
    assert!(
        !body.contains(r#"id="sessions""#),
        "nothing else until it is changed"
    );
    let token = csrf_of(&body);

    // Too short: 400, the message on the new password's field.
    let (status, body) = page(
        newcomer
            .post_form(
                "/account/password",
                &[
                    ("csrf", &token),
                    ("currentPassword", &otp),
                    ("newPassword", "short"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"id="newPassword-error""#), "{body}");
    assert!(body.contains(r#"aria-invalid="true""#));
    // The wrong current password: on that field.
    let (status, body) = page(
        newcomer
            .post_form(
                "/account/password",
                &[
                    ("csrf", &token),
                    ("currentPassword", "not it at all"),
                    ("newPassword", PASSWORD),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"id="currentPassword-error""#), "{body}");
    // Without the token: 403, nothing changed.
    let res = newcomer
        .post_form(
            "/account/password",
            &[("currentPassword", &otp), ("newPassword", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 403);

    let res = newcomer
        .post_form(
            "/account/password",
            &[
                ("csrf", &token),
                ("currentPassword", &otp),
                ("newPassword", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account?done=password");
    let (status, body) = newcomer.page("/account?done=password").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="done""#) && !body.contains("must-change"));
    assert_eq!(newcomer.page("/").await.0, 200, "the portal is open now");
    // The new password signs in; the one-time one no longer does.
    app.sign_in("new@acme.test", PASSWORD).await;
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": "new@acme.test", "password": otp}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

fn session_rows(body: &str) -> usize {
    let table = &body[body.find(r#"id="sessions""#).expect("sessions table")..];
    let table = &table[..table.find("</table>").unwrap()];
    table.matches("<tr>").count() - 1
}

#[tokio::test]
async fn my_sessions_show_this_browser_and_sign_out_the_others() {
    let app = TestApp::spawn().await;
    let admin: Client = app.admin().await;
    let laptop = app.sign_in("admin@acme.test", PASSWORD).await;
    let (status, body) = admin.page("/account").await;
    assert_eq!(status, 200);
    assert_eq!(session_rows(&body), 2, "{body}");
    assert!(body.contains("this browser"));
    assert!(body.contains("admin@acme.test") && body.contains("Acme (admin)"));
    let token = csrf_of(&body);
    // The other session's revoke form.
    let marker = r#"action="/account/sessions/"#;
    let at = body
        .find(marker)
        .expect("a revoke form for the other browser");
    let rest = &body[at + marker.len()..];
    let other_id = rest[..rest.find('/').unwrap()].to_string();

    // Someone else cannot sign my browsers out: a viewer posting my session id gets 404.
    let viewer = app.member(&admin, "viewer@acme.test", "viewer").await;
    let (_, vbody) = viewer.page("/account").await;
    let vtoken = csrf_of(&vbody);
    let (status, _) = page(
        viewer
            .post_form(
                &format!("/account/sessions/{other_id}/revoke"),
                &[("csrf", &vtoken)],
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(laptop.get("/api/auth/get-session").await.status(), 200);
    // Without the form token: 403.
    let res = admin
        .post_form(&format!("/account/sessions/{other_id}/revoke"), &[])
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(laptop.get("/api/auth/get-session").await.status(), 200);

    let res = admin
        .post_form(
            &format!("/account/sessions/{other_id}/revoke"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account?done=revoked");
    assert_eq!(laptop.get("/api/auth/get-session").await.status(), 401);
    let (_, body) = admin.page("/account?done=revoked").await;
    assert_eq!(session_rows(&body), 1);
    assert!(body.contains("That browser is signed out"));
    // Twice: it is gone.
    let (status, _) = page(
        admin
            .post_form(
                &format!("/account/sessions/{other_id}/revoke"),
                &[("csrf", &token)],
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);
    // The ledger says so.
    let audit: Value = admin
        .get("/api/audit?action=auth.session_revoked")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["total"], 1, "{audit}");
}

#[tokio::test]
async fn an_invited_member_accepts_on_the_account_page_and_can_switch() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let viewer = app.member(&admin, "viewer@acme.test", "viewer").await;
    let other = app.member(&admin, "other@acme.test", "viewer").await;
    let res = admin
        .post("/api/admin/orgs", json!({"name": "Beta", "slug": "beta"}))
        .await;
    assert_eq!(res.status(), 201);
    admin.set_active("beta").await;
    for email in ["viewer@acme.test", "other@acme.test"] {
        let res = admin
            .post(
                "/api/org/members",
                json!({"email": email, "role": "operator"}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let (_, body) = viewer.page("/account").await;
    assert!(
        body.contains(r#"id="invitations""#) && body.contains("Beta"),
        "{body}"
    );
    assert!(
        !body.contains(r#"action="/org/switch""#),
        "one organisation: no switcher"
    );
    let token = csrf_of(&body);
    let marker = r#"action="/account/invitations/"#;
    let at = body.find(marker).unwrap();
    let id = body[at + marker.len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // Someone else's invitation: not found.
    let (_, obody) = other.page("/account").await;
    let (status, _) = page(
        other
            .post_form(
                &format!("/account/invitations/{id}/accept"),
                &[("csrf", &csrf_of(&obody))],
            )
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let res = viewer
        .post_form(
            &format!("/account/invitations/{id}/accept"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/account?done=joined".into())
    );
    let (_, body) = viewer.page("/account?done=joined").await;
    assert!(!body.contains(r#"id="invitations""#));
    assert!(
        body.contains(r#"action="/org/switch""#) && body.contains("Beta (operator)"),
        "{body}"
    );
    // Declining works for the other one.
    let res = other
        .post_form(
            &format!(
                "/account/invitations/{}/decline",
                other_invitation(&other).await
            ),
            &[("csrf", &csrf_of(&obody))],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        other
            .get("/api/invitations")
            .await
            .json::<Value>()
            .await
            .unwrap()["invitations"],
        json!([])
    );
}

async fn other_invitation(c: &Client) -> String {
    let v: Value = c.get("/api/invitations").await.json().await.unwrap();
    v["invitations"][0]["id"].as_str().unwrap().to_string()
}
