//! The admin console over HTTP: members (add with a one-time password shown
//! once, role change, the last-admin rule, remove), API keys (permissions
//! ticked, the secret shown once, revoke), settings (four-eyes, compartments as
//! platform admin), organisations and the switcher; a viewer sees none of it
//! and is refused (403) when posting anyway.

use portal_testkit::web::{csrf_of, page};
use portal_testkit::{TestApp, PASSWORD};
use serde_json::Value;

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let at = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let rest = &body[at..];
    &rest[..rest.find(end).unwrap()]
}

#[tokio::test]
async fn members_are_added_changed_and_removed_and_the_last_admin_stays() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = admin.get("/admin").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/members".into())
    );
    let (status, body) = admin.page("/admin/members").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="last-admin-rule""#));
    assert!(body.contains(r#"href="/admin/keys""#) && body.contains(r#"href="/admin/orgs""#));
    let token = csrf_of(&body);

    // Add: the one-time password is on this response only.
    let (status, body) = page(
        admin
            .post_form(
                "/admin/members",
                &[
                    ("csrf", &token),
                    ("email", "op@acme.test"),
                    ("name", "Olive Op"),
                    ("role", "viewer"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let otp = between(&body, r#"<code id="one-time-password">"#, "</code>").to_string();
    assert_eq!(otp.len(), 24);
    let (_, again) = admin.page("/admin/members").await;
    assert!(!again.contains(&otp), "shown once");
    // A bad address: 400 on the field; the same address again: 409, said above the form.
    let (status, body) = page(
        admin
            .post_form(
                "/admin/members",
                &[
                    ("csrf", &token),
                    ("email", "not-an-email"),
                    ("role", "viewer"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"id="email-error""#), "{body}");
    let (status, body) = page(
        admin
            .post_form(
                "/admin/members",
                &[
                    ("csrf", &token),
                    ("email", "op@acme.test"),
                    ("role", "viewer"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 409);
    assert!(body.contains("already pending"), "{body}");

    // The newcomer accepts by signing in; then the admin changes their role.
    let op = app.sign_in("op@acme.test", &otp).await;
    let res = op
        .post(
            "/api/auth/change-password",
            serde_json::json!({"currentPassword": otp, "newPassword": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let op_id = op.user_id();
    let (_, body) = admin.page("/admin/members").await;
    assert!(
        body.contains(&format!(r#"action="/admin/members/{op_id}/role""#)),
        "{body}"
    );
    let res = admin
        .post_form(
            &format!("/admin/members/{op_id}/role"),
            &[("csrf", &token), ("role", "operator")],
        )
        .await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/members?done=role".into())
    );
    let who: Value = op.get("/api/auth/get-session").await.json().await.unwrap();
    assert_eq!(who["role"], "operator", "{who}");

    // The last admin: no controls for them, and a forged demotion is refused (409) with the rule.
    let admin_id = admin.user_id();
    let (_, body) = admin.page("/admin/members").await;
    assert!(!body.contains(&format!(r#"action="/admin/members/{admin_id}/role""#)));
    assert!(body.contains("last admin"));
    let (status, body) = page(
        admin
            .post_form(
                &format!("/admin/members/{admin_id}/role"),
                &[("csrf", &token), ("role", "viewer")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_lowercase().contains("admin"), "{body}");
    // Without the form token: 403.
    let res = admin
        .post_form(&format!("/admin/members/{op_id}/remove"), &[])
        .await;
    assert_eq!(res.status(), 403);

    let res = admin
        .post_form(
            &format!("/admin/members/{op_id}/remove"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, body) = admin.page("/admin/members?done=removed").await;
    assert!(!body.contains("op@acme.test"));
}

#[tokio::test]
async fn an_api_key_is_shown_once_works_and_is_revoked() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (status, body) = admin.page("/admin/keys").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"value="tools:read""#) && body.contains(r#"value="admin:all""#));
    let token = csrf_of(&body);
    // No permission ticked: 400 on the permissions.
    let (status, body) = page(
        admin
            .post_form("/admin/keys", &[("csrf", &token), ("name", "ci")])
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"id="permissions-error""#), "{body}");
    let (status, body) = page(
        admin
            .post_form(
                "/admin/keys",
                &[
                    ("csrf", &token),
                    ("name", "ci"),
                    ("permissions", "tools:read"),
                    ("permissions", "sessions:read"),
                    ("expiresInDays", "30"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let key = between(&body, r#"<code id="new-key">"#, "</code>").to_string();
    assert!(key.starts_with("portal_"), "{key}");
    assert!(body.contains(r##"data-copy="#new-key""##));
    let client = app.with_key(&key);
    assert_eq!(client.get("/api/sessions").await.status(), 200);
    assert_eq!(
        client.get("/api/org/members").await.status(),
        403,
        "only what was ticked"
    );
    let (_, list) = admin.page("/admin/keys").await;
    assert!(!list.contains(&key), "never shown again");
    assert!(list.contains("tools:read") && list.contains("sessions:read"));
    // A taken name: said on the page.
    let (status, _) = page(
        admin
            .post_form(
                "/admin/keys",
                &[
                    ("csrf", &token),
                    ("name", "ci"),
                    ("permissions", "tools:read"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);

    let keys: Value = admin.get("/api/api-keys").await.json().await.unwrap();
    let id = keys["keys"][0]["id"].as_str().unwrap().to_string();
    assert!(list.contains(&format!(r#"action="/admin/keys/{id}/revoke""#)));
    let res = admin
        .post_form(&format!("/admin/keys/{id}/revoke"), &[("csrf", &token)])
        .await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/keys?done=revoked".into())
    );
    assert_eq!(client.get("/api/sessions").await.status(), 401);
    let (_, list) = admin.page("/admin/keys?done=revoked").await;
    assert!(
        list.contains("revoked") && !list.contains(&format!(r#"action="/admin/keys/{id}/revoke""#))
    );
}

#[tokio::test]
async fn a_viewer_sees_no_admin_controls_and_is_refused_anyway() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let viewer = app.member(&admin, "viewer@acme.test", "viewer").await;
    let (status, home) = viewer.page("/").await;
    assert_eq!(status, 200);
    assert!(
        !home.contains(r#"href="/admin""#) && !home.contains(r#"href="/audit""#),
        "{home}"
    );
    let token = csrf_of(&home);
    for path in [
        "/admin",
        "/admin/members",
        "/admin/keys",
        "/admin/settings",
        "/admin/orgs",
    ] {
        let (status, body) = viewer.page(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(body.contains("You can't do that here"), "{path}");
    }
    let admin_id = admin.user_id();
    for (path, fields) in [
        (
            "/admin/members",
            vec![("email", "x@acme.test"), ("role", "viewer")],
        ),
        (
            &format!("/admin/members/{admin_id}/role") as &str,
            vec![("role", "viewer")],
        ),
        (&format!("/admin/members/{admin_id}/remove"), vec![]),
        (
            "/admin/keys",
            vec![("name", "mine"), ("permissions", "tools:read")],
        ),
        ("/admin/settings/four-eyes", vec![]),
        ("/admin/settings/compartments", vec![]),
        ("/admin/orgs", vec![("name", "Mine")]),
    ] {
        let mut fields = fields.clone();
        fields.push(("csrf", &token));
        let (status, _) = page(viewer.post_form(path, &fields).await).await;
        assert_eq!(status, 403, "{path}");
    }
    let members: Value = admin.get("/api/org/members").await.json().await.unwrap();
    assert_eq!(members["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        admin
            .get("/api/org/settings")
            .await
            .json::<Value>()
            .await
            .unwrap()["fourEyes"],
        true
    );
}

#[tokio::test]
async fn settings_organisations_and_the_switcher() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let (status, body) = admin.page("/admin/settings").await;
    assert_eq!(status, 200);
    assert!(body.contains("The whole tenancy."), "{body}");
    assert!(
        body.contains(r#"id="compartments-form""#),
        "a platform admin gets the picker"
    );
    let token = csrf_of(&body);
    // Four-eyes off (the box unticked), then on again.
    let res = admin
        .post_form("/admin/settings/four-eyes", &[("csrf", &token)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        admin
            .get("/api/org/settings")
            .await
            .json::<Value>()
            .await
            .unwrap()["fourEyes"],
        false
    );
    let res = admin
        .post_form(
            "/admin/settings/four-eyes",
            &[("csrf", &token), ("fourEyes", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        admin
            .get("/api/org/settings")
            .await
            .json::<Value>()
            .await
            .unwrap()["fourEyes"],
        true
    );

    // The tree offers the tenancy's compartments; pick one, then a bad value.
    let marker = r#"name="compartment" value="ocid1.compartment"#;
    let at = body.find(marker).expect("a compartment in the tree");
    let rest = &body[at + r#"name="compartment" value=""#.len()..];
    let comp = rest[..rest.find('"').unwrap()].to_string();
    let res = admin
        .post_form(
            "/admin/settings/compartments",
            &[("csrf", &token), ("compartment", &comp)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let settings: Value = admin.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(settings["allowedCompartments"], serde_json::json!([comp]));
    let (status, body) = page(
        admin
            .post_form(
                "/admin/settings/compartments",
                &[("csrf", &token), ("compartment", "nope")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("notice error"));

    // A second organisation; the switcher moves the session there.
    let (status, body) = page(
        admin
            .post_form(
                "/admin/orgs",
                &[("csrf", &token), ("name", "Beta Org"), ("slug", "beta")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body.contains("Beta Org") && body.contains(r#"action="/org/switch""#),
        "{body}"
    );
    let (status, body) = page(
        admin
            .post_form(
                "/admin/orgs",
                &[("csrf", &token), ("name", "Again"), ("slug", "beta")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"id="slug-error""#), "{body}");
    let orgs: Value = admin.get("/api/admin/orgs").await.json().await.unwrap();
    let beta = orgs["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["slug"] == "beta")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = admin
        .post_form(
            "/org/switch",
            &[("csrf", &token), ("org", &beta), ("next", "/account")],
        )
        .await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/account".into())
    );
    let (_, body) = admin.page("/account").await;
    assert!(body.contains("Beta Org (admin)"), "{body}");
    let (_, settings) = admin.page("/admin/settings").await;
    assert!(
        settings.contains("None yet"),
        "a new organisation has no compartments"
    );
    // An organisation the user is not in: 404.
    let (status, _) = page(
        admin
            .post_form("/org/switch", &[("csrf", &token), ("org", "nowhere")])
            .await,
    )
    .await;
    assert_eq!(status, 404);
}
