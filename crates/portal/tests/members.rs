//! Granting roles and enrolling people: no escalation through member
//! management, no enrolment without consent, no account-existence oracle.

use portal_testkit::TestApp;
use serde_json::{json, Value};

/// M6: a key holding only `admin:users` tried to create an admin member, sign
/// in as it and mint an `admin:all` key. The first step is now refused.
#[tokio::test]
async fn an_admin_users_key_cannot_mint_an_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (hr, _) = admin.create_key("hr-bot", &["admin:users"]).await;
    let hr = app.with_key(&hr);
    assert_eq!(hr.get("/api/org/settings").await.status(), 403);
    let res = hr
        .post(
            "/api/org/members",
            json!({"email": "mallory@acme.test", "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), 403, "step one of the escalation");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "FORBIDDEN");
    assert!(body.get("oneTimePassword").is_none());
    // Not even an operator or a viewer: the key lacks their permissions.
    for role in ["operator", "viewer"] {
        let res = hr
            .post(
                "/api/org/members",
                json!({"email": "mallory@acme.test", "role": role}),
            )
            .await;
        assert_eq!(res.status(), 403, "{role}");
    }
    // Nothing was created: the address can still be added by the admin later.
    let members: Value = admin.get("/api/org/members").await.json().await.unwrap();
    assert!(!members.to_string().contains("mallory"), "{members}");

    // A key listing every permission still cannot grant admin: that needs a person.
    let all = portal_core::rbac::ALL_PERMISSIONS.map(|p| p.as_str());
    let (full, _) = admin.create_key("full", &all).await;
    let full = app.with_key(&full);
    let res = full
        .post(
            "/api/org/members",
            json!({"email": "mallory@acme.test", "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    // It may grant what it holds.
    let res = full
        .post(
            "/api/org/members",
            json!({"email": "mallory@acme.test", "role": "operator"}),
        )
        .await;
    assert_eq!(res.status(), 201);
}

/// M6: promotion and demotion follow the same rule.
#[tokio::test]
async fn roles_are_changed_only_within_the_callers_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let (hr, _) = admin
        .create_key(
            "hr",
            &[
                "admin:users",
                "tools:read",
                "sessions:read",
                "workflows:read",
            ],
        )
        .await;
    let hr = app.with_key(&hr);
    let path = format!("/api/org/members/{}", op.user_id());
    assert_eq!(
        hr.patch(&path, json!({"role": "admin"})).await.status(),
        403,
        "no promotion to admin by key"
    );
    assert_eq!(
        hr.patch(&path, json!({"role": "viewer"})).await.status(),
        403,
        "an operator holds permissions the key lacks"
    );
    assert_eq!(
        hr.patch(
            &format!("/api/org/members/{}", admin.user_id()),
            json!({"role": "viewer"})
        )
        .await
        .status(),
        403,
        "nor can it demote an admin"
    );
    assert_eq!(
        hr.delete(&format!("/api/org/members/{}", admin.user_id()))
            .await
            .status(),
        403,
        "nor remove one"
    );
    // An admin signed in may.
    assert_eq!(
        admin.patch(&path, json!({"role": "admin"})).await.status(),
        200
    );
}
