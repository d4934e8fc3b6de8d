//! Granting roles and enrolling people: no escalation through member
//! management, no enrolment without consent, no account-existence oracle.

use portal_testkit::{TestApp, PASSWORD};
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

/// The keys of a JSON value, recursively, as `a.b.c` paths (its shape).
fn shape(v: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(m) = v.as_object() {
        for (k, x) in m {
            let p = format!("{at}.{k}");
            out.push(p.clone());
            shape(x, &p, out);
        }
    }
}

fn shape_of(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    shape(v, "", &mut out);
    out.sort();
    out
}

/// M7: another organisation's admin adds an existing user. Before the fix the
/// user was enrolled at once, the answer named them (an existence oracle), and
/// the attacker's organisation became their default at the next sign-in.
#[tokio::test]
async fn enrolling_an_existing_account_needs_its_consent_and_reveals_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let _op = app.member(&admin, "op@acme.test", "operator").await;
    // The admin (a platform admin) makes a second organisation and works there.
    let res = admin
        .post("/api/admin/orgs", json!({"name": "Evil", "slug": "evil"}))
        .await;
    assert_eq!(res.status(), 201);
    let res = admin
        .post(
            "/api/auth/organization/set-active",
            json!({"organizationSlug": "evil"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let existing = admin
        .post(
            "/api/org/members",
            json!({"email": "op@acme.test", "role": "viewer"}),
        )
        .await;
    let fresh = admin
        .post(
            "/api/org/members",
            json!({"email": "nobody-here@acme.test", "role": "viewer"}),
        )
        .await;
    assert_eq!(existing.status(), 201);
    assert_eq!(fresh.status(), 201);
    let existing: Value = existing.json().await.unwrap();
    let fresh: Value = fresh.json().await.unwrap();
    assert_eq!(
        shape_of(&existing),
        shape_of(&fresh),
        "{existing} vs {fresh}"
    );
    for body in [&existing, &fresh] {
        assert_eq!(body["status"], "invited");
        assert_eq!(body["invitation"]["status"], "pending");
        assert_eq!(body["oneTimePassword"].as_str().unwrap().len(), 24);
        assert!(!body.to_string().contains("\"name\""), "{body}");
    }
    // Neither is a member yet.
    let members: Value = admin.get("/api/org/members").await.json().await.unwrap();
    assert!(!members.to_string().contains("op@acme.test"), "{members}");

    // The invited person's next sign-in stays in their own organisation…
    let op = app.sign_in("op@acme.test", PASSWORD).await;
    assert_eq!(op.who["activeOrganization"]["slug"], "acme");
    let orgs: Vec<&str> = op.who["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].as_str().unwrap())
        .collect();
    assert_eq!(orgs, ["acme"]);
    // …and they see the invitation, which only they can answer.
    let mine: Value = op.get("/api/invitations").await.json().await.unwrap();
    assert_eq!(mine["invitations"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["invitations"][0]["organization"]["slug"], "evil");
    let id = mine["invitations"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        admin
            .post(&format!("/api/invitations/{id}/accept"), json!({}))
            .await
            .status(),
        404,
        "not the inviter's to accept"
    );
    let (key, _) = admin.create_key("admin-key", &["sessions:read"]).await;
    assert_eq!(
        app.with_key(&key).get("/api/invitations").await.status(),
        403,
        "keys do not answer invitations for their owner"
    );
    let res = op
        .post(&format!("/api/invitations/{id}/accept"), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "accepted");
    assert_eq!(
        op.post(&format!("/api/invitations/{id}/accept"), json!({}))
            .await
            .status(),
        404,
        "answered once"
    );
    let members: Value = admin.get("/api/org/members").await.json().await.unwrap();
    assert!(members.to_string().contains("op@acme.test"), "{members}");
    // A membership never used is not the default at the next sign-in.
    let again = app.sign_in("op@acme.test", PASSWORD).await;
    assert_eq!(again.who["activeOrganization"]["slug"], "acme");
    assert_eq!(again.who["organizations"].as_array().unwrap().len(), 2);

    // Declining leaves no membership.
    let res = admin
        .post(
            "/api/org/members",
            json!({"email": "admin@acme.test", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), 409, "already a member of evil");
    let v = app.member(&admin, "v@acme.test", "viewer").await;
    // (v was created in evil, admin's active org.) Invite v to acme too, then decline.
    let res = admin
        .post(
            "/api/auth/organization/set-active",
            json!({"organizationSlug": "acme"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = admin
        .post(
            "/api/org/members",
            json!({"email": "v@acme.test", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = admin
        .post(
            "/api/org/members",
            json!({"email": "v@acme.test", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), 409, "one pending invitation at a time");
    let mine: Value = v.get("/api/invitations").await.json().await.unwrap();
    let id = mine["invitations"][0]["id"].as_str().unwrap().to_string();
    let res = v
        .post(&format!("/api/invitations/{id}/decline"), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let members: Value = admin.get("/api/org/members").await.json().await.unwrap();
    assert!(!members.to_string().contains("v@acme.test"), "{members}");
}

/// L7: the one-time password of a new member was a permanent password. Now a
/// session signed in with it can only change it.
#[tokio::test]
async fn a_one_time_password_must_be_changed_before_anything_else() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = admin
        .post(
            "/api/org/members",
            json!({"email": "new@acme.test", "role": "operator"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let otp = res.json::<Value>().await.unwrap()["oneTimePassword"]
        .as_str()
        .unwrap()
        .to_string();
    let c = app.sign_in("new@acme.test", &otp).await;
    assert_eq!(c.who["user"]["mustChangePassword"], true);
    assert_eq!(c.who["permissions"], json!([]));
    for (m, path) in [
        ("GET", "/api/sessions"),
        ("GET", "/api/v1/tools"),
        ("GET", "/api/invitations"),
        ("POST", "/api/sessions"),
        ("POST", "/api/api-keys"),
    ] {
        let res = c
            .request(reqwest::Method::from_bytes(m.as_bytes()).unwrap(), path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{m} {path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "PASSWORD_CHANGE_REQUIRED", "{m} {path}");
    }
    assert_eq!(c.get("/api/auth/get-session").await.status(), 200);
    let res = c
        .post(
            "/api/auth/change-password",
            json!({"currentPassword": otp, "newPassword": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(c.get("/api/sessions").await.status(), 200);
    let me: Value = c.get("/api/auth/get-session").await.json().await.unwrap();
    assert_eq!(me["user"]["mustChangePassword"], false);
    assert_eq!(me["activeOrganization"]["slug"], "acme");
    // The one-time password is gone.
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": "new@acme.test", "password": otp}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
