//! Portal-wide settings (`/api/v1/admin/settings`, also `/api/admin/settings`;
//! the `/admin/portal` page): platform admins only, each field checked, and
//! each one enforced or shown — maintenance mode refuses writes with 503 (the
//! standard error shape) while reads work and every page shows the banner, on
//! every replica within seconds; name, logo and colours in the page shell;
//! terms/privacy links in the footer; the session lifetime on new sign-ins.

use std::time::{Duration, Instant};

use portal_testkit::web::{csrf_of, page};
use portal_testkit::{Client, TestApp, PASSWORD};
use serde_json::{json, Value};

async fn patch(c: &Client, path: &str, body: Value) -> (u16, Value) {
    let res = c.patch(path, body).await;
    let s = res.status().as_u16();
    (s, res.json().await.unwrap())
}

#[tokio::test]
async fn only_platform_admins_change_them_and_each_field_is_checked() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member = app.member(&admin, "org-admin@acme.test", "admin").await;
    for path in ["/api/v1/admin/settings", "/api/admin/settings"] {
        assert_eq!(app.get(path).await.status(), 401);
        assert_eq!(
            member.get(path).await.status(),
            403,
            "an org admin is not a platform admin"
        );
        let (s, b) = patch(&member, path, json!({"maintenance": true})).await;
        assert_eq!((s, b["code"].as_str()), (403, Some("FORBIDDEN")));
        let got: Value = admin.get(path).await.json().await.unwrap();
        assert_eq!(got["name"], "OCI Self-Service Portal");
        assert_eq!(got["maintenance"], false);
        assert_eq!(got["sessionHours"], 720);
    }
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(61)}), "name"),
        (json!({"accentColor": "blue"}), "accentColor"),
        (json!({"accentColorDark": "#12345"}), "accentColorDark"),
        (json!({"logo": "https://evil.example/logo.png"}), "logo"),
        (json!({"logo": "data:text/html;base64,PGI+"}), "logo"),
        (json!({"sessionHours": 0}), "sessionHours"),
        (json!({"sessionHours": 721}), "sessionHours"),
        (json!({"termsUrl": "javascript:alert(1)"}), "termsUrl"),
        (json!({"privacyUrl": "not a url"}), "privacyUrl"),
        (
            json!({"maintenanceMessage": "a\u{7}b"}),
            "maintenanceMessage",
        ),
    ] {
        let (s, b) = patch(&admin, "/api/v1/admin/settings", body.clone()).await;
        assert_eq!(s, 400, "{body} → {b}");
        assert_eq!(b["code"], "VALIDATION_ERROR");
        assert!(b["error"].as_str().unwrap().starts_with(field), "{b}");
    }
    let (s, b) = patch(&admin, "/api/v1/admin/settings", json!({"colour": "x"})).await;
    assert_eq!(s, 400, "unknown fields are refused: {b}");

    let logo = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmcnLz4=";
    let (s, b) = patch(
        &admin,
        "/api/admin/settings",
        json!({"name": "Acme Cloud Desk", "logo": logo, "accentColor": "#1A5E20",
               "termsUrl": "https://acme.example/terms", "privacyUrl": "https://acme.example/privacy"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["accentColor"], "#1a5e20");
    let got: Value = admin
        .get("/api/v1/admin/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, b, "both paths are the same settings");
    assert!(got["updatedAt"].as_i64().unwrap() > 0);

    // Shown: the shell's name, logo, colours and links, signed in or not.
    let (_, home) = admin.page("/").await;
    assert!(
        home.contains("<title>Home · Acme Cloud Desk</title>"),
        "{home}"
    );
    assert!(
        home.contains(&format!(r#"<img class="logo" src="{logo}""#)),
        "{home}"
    );
    assert!(home.contains("/branding/theme.css?v="));
    assert!(
        home.contains(r#"id="terms-link""#)
            && home.contains(r#"href="https://acme.example/terms""#)
    );
    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains("Acme Cloud Desk") && login.contains(r#"id="privacy-link""#));
    let css = app.get("/branding/theme.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.unwrap();
    assert!(
        css.contains("--accent: light-dark(#1a5e20, #6cb2ff)"),
        "{css}"
    );

    // Clearing a field with "".
    let (_, b) = patch(&admin, "/api/v1/admin/settings", json!({"logo": ""})).await;
    assert_eq!(b["logo"], "");
    assert_eq!(b["name"], "Acme Cloud Desk", "other fields stay");
    let (_, home) = admin.page("/").await;
    assert!(!home.contains(r#"class="logo""#));
}

#[tokio::test]
async fn the_session_lifetime_applies_to_new_sign_ins() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (s, _) = patch(&admin, "/api/v1/admin/settings", json!({"sessionHours": 2})).await;
    assert_eq!(s, 200);
    let res = reqwest::Client::new()
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": "admin@acme.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    let age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{cookie}"));
    assert!((7190..=7200).contains(&age), "{cookie}");
}

#[tokio::test]
async fn maintenance_refuses_writes_on_every_replica_reads_work_and_pages_say_so() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let replica = TestApp::builder().same_database_as(&app).spawn().await;
    let admin2 = replica.sign_in("admin@acme.test", PASSWORD).await;
    // Warm the replica's copy of the settings (off), so the change must reach it.
    assert_eq!(
        admin2
            .post("/api/sessions", json!({"title": "before"}))
            .await
            .status(),
        201
    );

    let (s, b) = patch(
        &admin,
        "/api/v1/admin/settings",
        json!({"maintenance": true, "maintenanceMessage": "Upgrading the database until 14:00 UTC"}),
    )
    .await;
    assert_eq!((s, b["maintenance"].as_bool()), (200, Some(true)), "{b}");

    // This replica at once: writes 503 in the standard shape, reads work.
    let res = admin
        .post("/api/sessions", json!({"title": "during"}))
        .await;
    assert_eq!(res.status(), 503);
    let rid = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "MAINTENANCE");
    assert_eq!(body["error"], "Upgrading the database until 14:00 UTC");
    assert_eq!(body["requestId"], rid.as_str());
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    for path in [
        "/api/sessions",
        "/api/v1/webhooks",
        "/api/org/members",
        "/health",
    ] {
        assert_eq!(admin.get(path).await.status(), 200, "{path}");
    }
    let res = admin.delete("/api/sessions/anything").await;
    assert_eq!(res.status(), 503);

    // The other replica within 5 s.
    let t = Instant::now();
    loop {
        let res = admin2
            .post("/api/sessions", json!({"title": "during"}))
            .await;
        if res.status() == 503 {
            break;
        }
        assert_eq!(res.status(), 201);
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "not applied within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let took = t.elapsed();
    eprintln!("maintenance reached the second replica in {took:?}");

    // Pages: the banner everywhere, a form post is a 503 page.
    for c in [&admin, &admin2] {
        let (status, home) = c.page("/").await;
        assert_eq!(status, 200);
        assert!(home.contains(r#"id="maintenance-banner""#), "{home}");
        assert!(home.contains("Upgrading the database until 14:00 UTC"));
    }
    let login = replica.get("/login").await.text().await.unwrap();
    assert!(login.contains(r#"id="maintenance-banner""#));
    let (_, settings_page) = admin.page("/admin/settings").await;
    let token = csrf_of(&settings_page);
    let (status, body) = page(
        admin
            .post_form("/admin/settings/four-eyes", &[("csrf", &token)])
            .await,
    )
    .await;
    assert_eq!(status, 503);
    assert!(body.contains("Upgrading the database"), "{body}");

    // Signing in still works; a platform admin ends it from the page.
    let again = app.sign_in("admin@acme.test", PASSWORD).await;
    let (_, form) = again.page("/admin/portal").await;
    assert!(
        form.contains(r#"id="maintenance" type="checkbox" name="maintenance" value="on" checked"#),
        "{form}"
    );
    let token = csrf_of(&form);
    let res = again
        .post_form(
            "/admin/portal",
            &[
                ("csrf", &token),
                ("name", "OCI Self-Service Portal"),
                ("sessionHours", "720"),
                ("jitProvisioning", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        admin
            .post("/api/sessions", json!({"title": "after"}))
            .await
            .status(),
        201
    );
    let (_, home) = admin.page("/").await;
    assert!(!home.contains("maintenance-banner"));
}

#[tokio::test]
async fn the_page_shows_a_refused_value_on_its_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member = app.member(&admin, "viewer@acme.test", "viewer").await;
    let (status, _) = member.page("/admin/portal").await;
    assert_eq!(status, 403);
    let (status, form) = admin.page("/admin/portal").await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"href="/admin/portal" aria-current="page""#));
    let token = csrf_of(&form);
    let (status, body) = page(
        admin
            .post_form(
                "/admin/portal",
                &[
                    ("csrf", &token),
                    ("name", "Acme"),
                    ("accentColor", "green"),
                    ("sessionHours", "24"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"id="accentColor-error""#), "{body}");
    assert!(body.contains(r#"value="green""#), "what was typed is kept");
    let got: Value = admin
        .get("/api/v1/admin/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["name"], "OCI Self-Service Portal", "nothing was saved");
}
