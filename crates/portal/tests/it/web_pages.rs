//! The web UI over HTTP: the layout gate, the setup wizard, sign-in and
//! sign-out (same session cookie as the API), CSRF refusals, error pages,
//! and the hashed, immutable assets. Every page is checked for its strict CSP.

use portal_testkit::web::{csrf_of, form_body, page};
use portal_testkit::{Client, TestApp, PASSWORD};

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

/// A form POST without credentials, from the portal's own origin.
async fn post_anon(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.at(path))
        .header("origin", &app.state.settings.http.public_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(fields))
        .send()
        .await
        .unwrap()
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("portal_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn first_run_goes_through_the_setup_wizard_and_lands_signed_in_at_home() {
    let app = TestApp::spawn().await;
    for path in ["/", "/login", "/approvals", "/approvals/x", "/logout"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(location(&res), "/setup", "{path}");
    }
    let (status, body) = page(app.get("/setup").await).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"name="token""#) && body.contains(r#"type="password""#));

    // The printed link carries the token: the form keeps it hidden.
    let token = app.setup_token().unwrap();
    let (_, linked) = page(app.get(&format!("/setup?token={token}")).await).await;
    assert!(linked.contains(&format!(r#"type="hidden" name="token" value="{token}""#)));

    let wizard = |t: &str| -> Vec<(&'static str, String)> {
        vec![
            ("token", t.to_string()),
            ("name", "Ada Admin".into()),
            ("email", "ada@acme.test".into()),
            ("password", PASSWORD.into()),
            ("orgName", "Acme".into()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_anon(app, "/setup", &fields).await
        }
    };
    // A wrong token: 401, the form again, nothing created.
    let (status, body) = page(post(wizard("wrong")).await).await;
    assert_eq!(status, 401);
    assert!(body.contains("setup-error"));
    // Cross-site: refused by the Origin rule, as a page.
    let fields = wizard(&token);
    let as_refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app
        .client
        .post(app.at("/setup"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&as_refs))
        .send()
        .await
        .unwrap();
    let (status, _) = page(res).await;
    assert_eq!(status, 403);
    // A bad field: 400 naming it.
    let mut short = wizard(&token);
    short[3].1 = "short".into();
    let (status, body) = page(post(short).await).await;
    assert_eq!(status, 400);
    assert!(body.contains("password"), "{body}");

    let res = post(wizard(&token)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/");
    let cookie = session_cookie(&res).expect("signed in by setup");
    let home = app
        .client
        .get(app.at("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let (status, body) = page(home).await;
    assert_eq!(status, 200);
    assert!(body.contains("Hello, Ada Admin"), "{body}");
    assert!(body.contains("Acme (admin)"));
    // Setup is over: the wizard sends people to sign in, and the token is spent.
    let res = app.get("/setup").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login".into())
    );
    assert!(app.setup_token().is_none());
    let res = post(wizard(&token)).await;
    assert_eq!(res.status(), 303, "a replay of the wizard creates nothing");
    assert_eq!(location(&res), "/login");
}

#[tokio::test]
async fn the_gate_sends_visitors_to_sign_in_and_back_only_to_local_paths() {
    let app = TestApp::spawn().await;
    let _admin = app.admin().await;
    let res = app.get("/").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login".into())
    );
    let res = app.get("/approvals/abc?x=1").await;
    assert_eq!(location(&res), "/login?next=/approvals/abc%3Fx%3D1");
    for path in ["/approvals", "/logout"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(location(&res), format!("/login?next={path}"));
    }
    // Posting without a session is refused (as a page), whatever the form says.
    for path in ["/logout", "/approvals/abc"] {
        let (status, body) =
            page(post_anon(&app, path, &[("csrf", "x"), ("decision", "approve")]).await).await;
        assert_eq!(status, 401, "{path}: {body}");
    }

    let (status, body) = page(app.get("/login?next=https://evil.example/").await).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"name="next" value="/""#), "{body}");

    let sign_in = |next: &'static str| {
        let app = &app;
        async move {
            post_anon(
                app,
                "/login",
                &[
                    ("email", "admin@acme.test"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await
        }
    };
    for (next, expected) in [
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/approvals?x=1", "/approvals?x=1"),
    ] {
        let res = sign_in(next).await;
        assert_eq!(res.status(), 303, "{next}");
        assert_eq!(location(&res), expected, "{next}");
        assert!(session_cookie(&res).is_some());
    }
    // The cookie is the API's: it works on /api/auth/get-session.
    let res = sign_in("/").await;
    let cookie = session_cookie(&res).unwrap();
    let me = app
        .client
        .get(app.at("/api/auth/get-session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // Signed in, /login goes home (or to a safe next).
    for (path, expected) in [("/login", "/"), ("/login?next=/approvals", "/approvals")] {
        let res = app
            .client
            .get(app.at(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), expected);
    }

    // A wrong password: 401 and the form again, the email kept.
    let res = post_anon(
        &app,
        "/login",
        &[
            ("email", "admin@acme.test"),
            ("password", "wrong password!"),
        ],
    )
    .await;
    let (status, body) = page(res).await;
    assert_eq!(status, 401);
    assert!(body.contains("Invalid email or password"));
    assert!(body.contains(r#"value="admin@acme.test""#));
    // Without the portal's Origin, sign-in is refused.
    let res = app
        .client
        .post(app.at("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("email", "admin@acme.test"),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_throttled_account_gets_a_clear_page() {
    let app = TestApp::spawn().await;
    let _admin = app.admin().await;
    let mut last = None;
    for _ in 0..10 {
        let res = post_anon(
            &app,
            "/login",
            &[
                ("email", "admin@acme.test"),
                ("password", "not the password"),
            ],
        )
        .await;
        if res.status() == 429 {
            last = Some(res);
            break;
        }
        assert_eq!(res.status(), 401);
    }
    let res = last.expect("sign-in is throttled after repeated failures");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0);
    let (status, body) = page(res).await;
    assert_eq!(status, 429);
    assert!(body.contains("Sign-in paused"), "{body}");
    assert!(body.contains("try again in about"));
    // Even the right password waits now.
    let res = post_anon(
        &app,
        "/login",
        &[("email", "admin@acme.test"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn sign_out_needs_the_sessions_form_token() {
    let app = TestApp::spawn().await;
    let admin: Client = app.admin().await;
    let (status, body) = admin.page("/logout").await;
    assert_eq!(status, 200);
    let token = csrf_of(&body);
    for bad in [vec![], vec![("csrf", "0".repeat(64))]] {
        let fields: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = page(admin.post_form("/logout", &fields).await).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("did not come from your current session"));
    }
    // Another session's token does not fit this one.
    let other = app.sign_in("admin@acme.test", PASSWORD).await;
    let (_, other_page) = other.page("/").await;
    let other_token = csrf_of(&other_page);
    assert_ne!(other_token, token);
    let res = admin.post_form("/logout", &[("csrf", &other_token)]).await;
    assert_eq!(res.status(), 403);
    // A foreign Origin is refused before the token is looked at.
    let res = admin
        .http
        .post(app.at("/logout"))
        .header("cookie", cookie_of(&admin))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("csrf", &token)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let res = admin.post_form("/logout", &[("csrf", &token)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login");
    let cleared = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let res = admin.get("/").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login".into())
    );
    assert_eq!(admin.get("/api/auth/get-session").await.status(), 401);
    // The other session lives on.
    assert_eq!(other.page("/").await.0, 200);
}

fn cookie_of(c: &Client) -> String {
    match &c.auth {
        portal_testkit::Auth::Cookie(cookie, _) => cookie.clone(),
        _ => panic!("a cookie client"),
    }
}

#[tokio::test]
async fn assets_are_served_by_content_hash_and_cached_for_good() {
    let app = TestApp::spawn().await;
    let (_, body) = page(app.get("/setup").await).await;
    let mut urls = Vec::new();
    for marker in [r#"href="/assets/"#, r#"src="/assets/"#] {
        let at = body.find(marker).expect("asset link");
        let rest = &body[at + marker.len() - "/assets/".len()..];
        urls.push(rest[..rest.find('"').unwrap()].to_string());
    }
    for url in &urls {
        let res = app.get(url).await;
        assert_eq!(res.status(), 200, "{url}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            ct.starts_with("text/css") || ct.starts_with("text/javascript"),
            "{ct}"
        );
        let text = res.text().await.unwrap();
        // The name carries the first 16 hex digits of the content's SHA-256.
        let name = url.rsplit('/').next().unwrap();
        let hash = name.split('.').nth(1).unwrap();
        assert_eq!(hash.len(), 16);
        assert!(portal_core::crypto::sha256_hex(text.as_bytes()).starts_with(hash));
        // The app module imports its siblings by their hashed names too.
        if name.starts_with("app.") && name.ends_with(".js") {
            let import = text.split("from './").nth(1).unwrap();
            let dep = &import[..import.find('\'').unwrap()];
            let res = app.get(&format!("/assets/{dep}")).await;
            assert_eq!(res.status(), 200, "{dep}");
        }
    }
    for missing in [
        "/assets/app.css",
        "/assets/app.0000000000000000.css",
        "/assets/../Cargo.toml",
    ] {
        let res = app.get(missing).await;
        assert_eq!(res.status(), 404, "{missing}");
        assert_ne!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
    }
}

#[tokio::test]
async fn errors_are_pages_for_browsers_and_json_for_the_api() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let html = |path: &str| {
        app.client
            .get(app.at(path))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
    };
    let res = html("/no/such/page").await.unwrap();
    let rid = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let (status, body) = page(res).await;
    assert_eq!(status, 404);
    assert!(
        body.contains("Page not found") && body.contains(&rid),
        "{body}"
    );
    // The API and clients that do not ask for HTML keep the JSON error shape.
    for res in [
        html("/api/nope").await.unwrap(),
        app.get("/no/such/page").await,
    ] {
        assert_eq!(res.status(), 404);
        let v: serde_json::Value = res.json().await.unwrap();
        assert_eq!(v["code"], "NOT_FOUND");
    }
    // A page route's error is always a page, with the request id.
    let (status, body) = admin.page("/approvals/does-not-exist").await;
    assert_eq!(status, 404);
    assert!(body.contains("Request id"));
    let res = admin
        .request(reqwest::Method::DELETE, "/approvals")
        .send()
        .await
        .unwrap();
    let (status, _) = page(res).await;
    assert_eq!(status, 405);
}
