//! Single sign-on around the sign-in itself, through the real router against
//! the scripted fake OP: RP-initiated logout at sign-out (SSO sessions only),
//! password sign-in turned off per organisation once SSO works (with the
//! platform admins' break-glass path), and the portal's `jitProvisioning`
//! combined with the provider's JIT flag (the stricter wins).

use crate::sso_support;

use portal_testkit::fake_op::{FakeOp, CLIENT_ID};
use portal_testkit::web::{csrf_of, form_body};
use portal_testkit::{TestApp, PASSWORD};
use serde_json::{json, Value};
use sso_support::*;

/// The `href` of the element with `id` in a page (entities decoded).
fn href_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at + html[at..].find('>')?];
    let h = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(h.replace("&amp;", "&").replace("&quot;", "\""))
}

async fn sign_out(app: &TestApp, session_cookie: &str) -> reqwest::Response {
    let c = app.with_cookie(session_cookie);
    let (status, page) = c.page("/logout").await;
    assert_eq!(status, 200);
    c.post_form("/logout", &[("csrf", &csrf_of(&page))]).await
}

#[tokio::test]
async fn signing_out_of_an_sso_session_signs_out_at_the_op_too() {
    let app = portal().await;
    let admin = app.admin().await;
    let op = FakeOp::start().await;
    let org = org_id(&admin);
    let p = create_idp(&admin, &op, json!({"orgId": org, "jit": true})).await;
    let public = app.state.settings.http.public_url.clone();
    assert_eq!(p["postLogoutRedirectUri"], format!("{public}/login"));
    let idp = p["id"].as_str().unwrap();

    op.sign_in_as("op-1", "grace@acme.test", true, &["portal-operators"]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 303);
    let s = cookie(&res, "portal_session").expect("session");
    let id_token = op.script.lock().unwrap().id_token.clone().unwrap();
    // Kept with the session, sealed: neither the token nor its claims show.
    let stored = app
        .query_strings("SELECT id_token_sealed FROM sso_sessions")
        .await;
    assert_eq!(stored.len(), 1);
    let payload = id_token.split('.').nth(1).unwrap();
    assert!(!stored[0].contains(&payload[..24]), "sealed");

    let res = sign_out(&app, &s).await;
    assert_eq!(res.status(), 200);
    let cleared = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().contains("Max-Age=0"));
    assert!(cleared, "the session cookie is cleared");
    let html = res.text().await.unwrap();
    let to = href_of(&html, "sso-logout").unwrap_or_else(|| panic!("{html}"));
    assert!(html.contains("data-follow"), "{html}");
    let url = reqwest::Url::parse(&to).unwrap();
    assert_eq!(
        format!("{}", url).split('?').next().unwrap(),
        format!("{}/logout", op.issuer)
    );
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q.get("id_token_hint"), Some(&id_token));
    assert_eq!(q.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(
        q.get("post_logout_redirect_uri"),
        Some(&format!("{public}/login"))
    );
    // The portal session is over whatever the OP does.
    let who = app
        .client
        .get(app.at("/api/auth/get-session"))
        .header("cookie", &s)
        .send()
        .await
        .unwrap();
    let who: Value = who.json().await.unwrap_or(Value::Null);
    assert!(who.get("user").is_none_or(Value::is_null), "{who}");

    // A password session signs out as before: straight to the sign-in page.
    let (status, page) = admin.page("/logout").await;
    assert_eq!(status, 200);
    let res = admin
        .post_form("/logout", &[("csrf", &csrf_of(&page))])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login");

    // An OP without RP-initiated logout: a plain local sign-out.
    let plain = FakeOp::start().await;
    plain.set(|s| s.no_end_session = true);
    let p2 = create_idp(
        &admin_again(&app).await,
        &plain,
        json!({"orgId": org, "jit": true, "name": "Plain"}),
    )
    .await;
    plain.sign_in_as("op-2", "hopper@acme.test", true, &[]);
    let (res, _, _) = walk(&app, p2["id"].as_str().unwrap()).await;
    assert_eq!(res.status(), 303);
    let s = cookie(&res, "portal_session").expect("session");
    let res = sign_out(&app, &s).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login");
}

async fn admin_again(app: &TestApp) -> portal_testkit::Client {
    app.sign_in("admin@acme.test", PASSWORD).await
}

async fn password_sign_in(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn set_password_sign_in(c: &portal_testkit::Client, on: bool) -> (u16, Value) {
    let res = c
        .put("/api/org/settings", json!({"passwordSignIn": on}))
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn password_sign_in_is_turned_off_per_org_only_once_sso_works() {
    let app = portal().await;
    let admin = app.admin().await;
    let op = FakeOp::start().await;
    let org = org_id(&admin);
    let bob = app.member(&admin, "bob@acme.test", "operator").await;
    let p = create_idp(&admin, &op, json!({"orgId": org, "jit": true})).await;
    let idp = p["id"].as_str().unwrap();

    // Nobody has signed in through the provider yet: refused.
    let (status, body) = set_password_sign_in(&admin, false).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("once single sign-on works"),
        "{body}"
    );
    // The settings page says the same when the box is unticked.
    let (status, page) = admin.page("/admin/settings").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"id="password-sign-in""#), "{page}");
    let res = admin
        .post_form(
            "/admin/settings/password-sign-in",
            &[("csrf", &csrf_of(&page))],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("once single sign-on works"));
    op.sign_in_as("op-1", "grace@acme.test", true, &["portal-operators"]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 303);
    // The provider fails its connection test now: still refused.
    op.set(|s| s.jwks_missing = true);
    assert_eq!(set_password_sign_in(&admin, false).await.0, 400);
    op.set(|s| s.jwks_missing = false);
    // An operator may not change it at all.
    assert_eq!(set_password_sign_in(&bob, false).await.0, 403);
    let (status, body) = set_password_sign_in(&admin, false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["passwordSignIn"], false);

    // A member: the right password is refused with a clear 403; a wrong one
    // is the usual 401 (the refusal tells nothing without the password).
    let (status, body) = password_sign_in(&app, "bob@acme.test", PASSWORD).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("single sign-on"),
        "{body}"
    );
    assert_eq!(
        password_sign_in(&app, "bob@acme.test", "wrong password!")
            .await
            .0,
        401
    );
    // Someone added now, with a one-time password, is refused alike.
    let res = admin
        .post(
            "/api/org/members",
            json!({"email": "late@acme.test", "name": "Late", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let otp: Value = res.json().await.unwrap();
    let otp = otp["oneTimePassword"].as_str().unwrap();
    assert_eq!(password_sign_in(&app, "late@acme.test", otp).await.0, 403);
    // The sign-in page says the same, above the "Sign in with" button.
    let res = app
        .client
        .post(app.at("/login"))
        .header("origin", &app.state.settings.http.public_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("email", "bob@acme.test"),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let html = res.text().await.unwrap();
    assert!(html.contains("single sign-on only"), "{html}");
    assert!(html.contains("Sign in with Corp"), "{html}");
    // Bob signs in through the IdP instead (linked by verified email).
    op.sign_in_as("sub-bob", "bob@acme.test", true, &["portal-operators"]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 303);

    // Break-glass: a platform admin keeps password sign-in, audited as such.
    let (status, _) = password_sign_in(&app, "admin@acme.test", PASSWORD).await;
    assert_eq!(status, 200);
    let audit = app
        .query_strings(
            "SELECT action FROM audit_log WHERE action IN \
             ('auth.break_glass_sign_in', 'auth.sign_in_refused') ORDER BY id",
        )
        .await;
    assert_eq!(
        audit,
        vec![
            "auth.sign_in_refused",
            "auth.sign_in_refused",
            "auth.sign_in_refused",
            "auth.break_glass_sign_in"
        ]
    );

    // Back on (from the settings page): passwords work again.
    let admin = admin_again(&app).await;
    let (_, page) = admin.page("/admin/settings").await;
    let res = admin
        .post_form(
            "/admin/settings/password-sign-in",
            &[("csrf", &csrf_of(&page)), ("passwordSignIn", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = admin.page("/admin/settings?done=password").await;
    assert!(page.contains("Password sign-in is on"), "{page}");
    let body: Value = admin.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(body["passwordSignIn"], true);
    assert_eq!(
        password_sign_in(&app, "bob@acme.test", PASSWORD).await.0,
        200
    );
    let changes = app
        .query_strings(
            "SELECT detail FROM audit_log WHERE action = 'org.settings_changed' \
             AND detail LIKE '%passwordSignIn%' ORDER BY id",
        )
        .await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        changes[0].contains(idp),
        "names the provider that proved it"
    );
}

#[tokio::test]
async fn the_portal_jit_setting_and_the_providers_combine_strictly() {
    let app = portal().await;
    let admin = app.admin().await;
    let op = FakeOp::start().await;
    let org = org_id(&admin);
    app.member(&admin, "bob@acme.test", "viewer").await;
    let p = create_idp(&admin, &op, json!({"orgId": org, "jit": true})).await;
    let idp = p["id"].as_str().unwrap();

    let res = admin
        .patch("/api/admin/settings", json!({"jitProvisioning": false}))
        .await;
    assert_eq!(res.status(), 200);
    // Portal off, provider on: an unknown person is refused, clearly.
    op.sign_in_as("sub-new", "new@acme.test", true, &["portal-operators"]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 403);
    assert!(cookie(&res, "portal_session").is_none());
    let html = res.text().await.unwrap();
    assert!(
        html.contains("this portal does not create accounts at sign-in"),
        "{html}"
    );
    let made = app
        .query_strings("SELECT id FROM users WHERE email = 'new@acme.test'")
        .await;
    assert!(made.is_empty());
    let refused = app
        .query_strings("SELECT detail FROM audit_log WHERE action = 'auth.sso_refused'")
        .await;
    assert!(
        refused[0].contains("this portal does not create"),
        "{refused:?}"
    );
    // An existing account still signs in (linked by verified email).
    op.sign_in_as("sub-bob", "bob@acme.test", true, &[]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 303);

    // Both on: created.
    let res = admin
        .patch("/api/admin/settings", json!({"jitProvisioning": true}))
        .await;
    assert_eq!(res.status(), 200);
    op.sign_in_as("sub-new", "new@acme.test", true, &["portal-operators"]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 303);
    let s = cookie(&res, "portal_session").expect("session");
    assert_eq!(session(&app, &s).await["role"], "operator");

    // Portal on, provider off: refused again, naming the provider.
    let res = admin
        .patch(&format!("/api/admin/idp/{idp}"), json!({"jit": false}))
        .await;
    assert_eq!(res.status(), 200);
    op.sign_in_as("sub-other", "other@acme.test", true, &[]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("this provider does not create accounts"));
}
