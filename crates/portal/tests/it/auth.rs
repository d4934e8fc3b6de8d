//! Accounts and sign-in: setup, sessions (expiry, revocation, refresh), CSRF,
//! throttling, password changes, organisation switching, the CLI.

use std::process::Stdio;
use std::time::Duration;

use portal_testkit::{TestApp, PASSWORD};
use serde_json::{json, Value};

#[tokio::test]
async fn setup_token_works_once_then_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.setup_token().expect("token written at start");
    assert_eq!(token.len(), 64);
    let status: Value = app.get("/api/setup/status").await.json().await.unwrap();
    assert_eq!(status["setupRequired"], true);
    let body =
        json!({"email": "a@acme.test", "password": PASSWORD, "name": "A", "orgName": "Acme Corp"});
    // Wrong token, no token: 401 (before the body is even looked at).
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .bearer_auth("0".repeat(64))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "authentication before validation");
    // Right token, bad body: 400 naming the field.
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .bearer_auth(&token)
        .json(&json!({"email": "a@acme.test", "password": "short", "name": "A", "orgName": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .starts_with("password:"));
    // Right token: 201, the token is retired.
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["user"]["platformAdmin"], true);
    assert_eq!(done["organization"]["slug"], "acme-corp");
    assert!(app.setup_token().is_none(), "token file removed");
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "FORBIDDEN");
    let status: Value = app.get("/api/setup/status").await.json().await.unwrap();
    assert_eq!(status["setupRequired"], false);
}

#[tokio::test]
async fn setup_token_is_refused_once_the_cli_made_an_admin() {
    let app = TestApp::spawn().await;
    let token = app.setup_token().unwrap();
    let mut child = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args([
            "admin",
            "create-user",
            "--email",
            "ops@acme.test",
            "--name",
            "Ops",
            "--org",
            "acme",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("admin of acme (organisation created)"));
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .bearer_auth(&token)
        .json(&json!({"email": "b@acme.test", "password": PASSWORD, "name": "B", "orgName": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "an admin exists");
    // And the CLI-made admin can sign in.
    let ops = app.sign_in("ops@acme.test", PASSWORD).await;
    assert_eq!(ops.who["role"], "admin");
    assert_eq!(ops.who["activeOrganization"]["slug"], "acme");
}

#[tokio::test]
async fn sign_in_get_session_sign_out() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_eq!(admin.who["role"], "admin");
    assert_eq!(admin.who["authMethod"], "session");
    assert!(admin.who["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "tools:danger"));
    let me: Value = admin
        .get("/api/auth/get-session")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "admin@acme.test");
    assert_eq!(me["organizations"][0]["role"], "admin");

    // Wrong password and unknown user look the same.
    for (email, pw) in [
        ("admin@acme.test", "wrong password!!"),
        ("nobody@acme.test", PASSWORD),
    ] {
        let res = app
            .client
            .post(app.at("/api/auth/sign-in/email"))
            .json(&json!({"email": email, "password": pw}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert!(res.headers().get("set-cookie").is_none());
        assert_eq!(
            res.json::<Value>().await.unwrap()["code"],
            "INVALID_CREDENTIALS"
        );
    }
    // Bad body: 400 naming the field.
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": "x@y.io"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("password"));

    // No credentials: 401 with WWW-Authenticate.
    let res = app.get("/api/auth/get-session").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("www-authenticate").is_some());

    let res = admin.post("/api/auth/sign-out", json!({})).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        admin.get("/api/auth/get-session").await.status(),
        401,
        "revoked session refused at once"
    );
}

#[tokio::test]
async fn session_cookie_attributes_and_expiry() {
    let app = TestApp::spawn().await;
    let token = app.setup_token().unwrap();
    app.client
        .post(app.at("/api/setup/admin"))
        .bearer_auth(token)
        .json(
            &json!({"email": "a@acme.test", "password": PASSWORD, "name": "A", "orgName": "Acme"}),
        )
        .send()
        .await
        .unwrap();
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": "a@acme.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "not Secure in development over http"
    );
    let a = app.sign_in("a@acme.test", PASSWORD).await;
    assert_eq!(a.get("/api/auth/get-session").await.status(), 200);
    // Expire every session in the database: refused (after the short cache).
    app.sql("UPDATE auth_sessions SET expires_at = 1").await;
    let b = app.sign_in("a@acme.test", PASSWORD).await;
    app.sql("UPDATE auth_sessions SET expires_at = 1").await;
    assert_eq!(
        b.get("/api/auth/get-session").await.status(),
        401,
        "expired session refused"
    );
    tokio::time::sleep(Duration::from_millis(4200)).await;
    assert_eq!(
        a.get("/api/auth/get-session").await.status(),
        401,
        "expired session refused once the cache lapses"
    );
}

#[tokio::test]
async fn sessions_are_refreshed_on_use() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Pretend the session is 10 days old: 20 days left.
    let left = 20_i64 * 24 * 3600 * 1000;
    app.sql(&format!(
        "UPDATE auth_sessions SET expires_at = {} ",
        portal_core::identity::now_ms() + left
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(4200)).await;
    let res = admin.get("/api/auth/get-session").await;
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get("set-cookie")
        .expect("cookie re-issued")
        .to_str()
        .unwrap();
    assert!(cookie.contains("Max-Age=2592000"), "{cookie}");
}

#[tokio::test]
async fn csrf_refuses_cross_site_cookie_writes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let portal_testkit::Auth::Cookie(cookie, origin) = admin.auth.clone() else {
        panic!()
    };
    let post = |o: Option<&str>| {
        let mut rb = app
            .client
            .post(app.at("/api/sessions"))
            .header("cookie", &cookie)
            .json(&json!({"title": "t"}));
        if let Some(o) = o {
            rb = rb.header("origin", o);
        }
        rb.send()
    };
    let res = post(Some("https://evil.example")).await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("Cross-site"));
    assert_eq!(
        post(None).await.unwrap().status(),
        403,
        "no Origin and no Referer: refused"
    );
    assert_eq!(post(Some(&origin)).await.unwrap().status(), 201);
    let res = app
        .client
        .post(app.at("/api/sessions"))
        .header("cookie", &cookie)
        .header("referer", format!("{origin}/chat"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "same-origin Referer accepted");
    // Reads are not CSRF-checked; API keys are not cookies.
    assert_eq!(
        app.client
            .get(app.at("/api/sessions"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (key, _) = admin.create_key("k", &["sessions:write"]).await;
    let res = app
        .client
        .post(app.at("/api/sessions"))
        .bearer_auth(&key)
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // Cross-site sign-in is refused too.
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .header("origin", "https://evil.example")
        .json(&json!({"email": "admin@acme.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn sign_in_is_throttled_per_account() {
    let app = TestApp::spawn().await;
    let _admin = app.admin().await;
    for _ in 0..5 {
        let res = app
            .client
            .post(app.at("/api/auth/sign-in/email"))
            .json(&json!({"email": "admin@acme.test", "password": "not the password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": "admin@acme.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429, "even the right password waits");
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "RATE_LIMITED");
    // Failed sign-ins are in the system audit chain.
    let out = cli(&app, &["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["rowCount"].as_i64().unwrap() >= 6, "{v}");
}

#[tokio::test]
async fn sign_in_is_throttled_per_address() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        let res = app
            .client
            .post(app.at("/api/auth/sign-in/email"))
            .json(&json!({"email": format!("u{i}@acme.test"), "password": "whatever!!!!"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": "fresh@acme.test", "password": "whatever!!!!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn change_password_revokes_other_sessions() {
    let app = TestApp::spawn().await;
    let a1 = app.admin().await;
    let a2 = app.sign_in("admin@acme.test", PASSWORD).await;
    let res = a1
        .post(
            "/api/auth/change-password",
            json!({"currentPassword": "wrong one here", "newPassword": "another long password"}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let res = a1
        .post(
            "/api/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": "short"}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let res = a1
        .post(
            "/api/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": "another long password"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        a1.get("/api/auth/get-session").await.status(),
        200,
        "this session stays"
    );
    assert_eq!(
        a2.get("/api/auth/get-session").await.status(),
        401,
        "others are revoked"
    );
    app.sign_in("admin@acme.test", "another long password")
        .await;
}

#[tokio::test]
async fn organizations_switch_and_platform_admins_create_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // A viewer of Acme only.
    let viewer = app.member(&admin, "v@acme.test", "viewer").await;
    let res = admin
        .post("/api/admin/orgs", json!({"name": "Beta Labs"}))
        .await;
    assert_eq!(res.status(), 201);
    let beta: Value = res.json().await.unwrap();
    assert_eq!(beta["slug"], "beta-labs");
    assert_eq!(
        admin
            .post(
                "/api/admin/orgs",
                json!({"name": "Again", "slug": "beta-labs"})
            )
            .await
            .status(),
        409
    );
    assert_eq!(
        admin
            .post(
                "/api/admin/orgs",
                json!({"name": "Bad", "slug": "Bad Slug"})
            )
            .await
            .status(),
        400
    );
    let orgs: Value = admin.get("/api/admin/orgs").await.json().await.unwrap();
    assert_eq!(orgs["organizations"].as_array().unwrap().len(), 2);

    let res = admin
        .post(
            "/api/auth/organization/set-active",
            json!({"organizationSlug": "beta-labs"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = admin
        .get("/api/auth/get-session")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["activeOrganization"]["slug"], "beta-labs");
    // Sessions now land in beta.
    assert_eq!(
        admin
            .post("/api/sessions", json!({"title": "in beta"}))
            .await
            .status(),
        201
    );

    // An org the user does not belong to is "not found".
    let res = viewer
        .post(
            "/api/auth/organization/set-active",
            json!({"organizationSlug": "beta-labs"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    // Not a platform admin: cannot create or list orgs.
    assert_eq!(
        viewer
            .post("/api/admin/orgs", json!({"name": "Nope"}))
            .await
            .status(),
        403
    );
    assert_eq!(viewer.get("/api/admin/orgs").await.status(), 403);
    // Most recently used org is the one chosen at the next sign-in.
    let again = app.sign_in("admin@acme.test", PASSWORD).await;
    assert_eq!(again.who["activeOrganization"]["slug"], "beta-labs");
}

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    app.command(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .output()
        .unwrap()
}
