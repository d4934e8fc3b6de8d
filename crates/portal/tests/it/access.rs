//! The auth contract on every identity route: 401 without credentials (before
//! validation), 403 without the permission, 400 on bad input, 404 for another
//! organisation's resources, and the happy paths; members, API keys, chat
//! sessions and the activity feed.

use std::time::{Duration, Instant};

use portal_core::model::Activity;
use portal_testkit::{Client, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// Every guarded route, with a body that is invalid for it.
const ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/api/auth/get-session", None),
    ("POST", "/api/auth/sign-out", Some("{}")),
    ("POST", "/api/auth/change-password", Some("{\"x\":1}")),
    ("POST", "/api/auth/organization/set-active", Some("[")),
    ("GET", "/api/org/members", None),
    ("POST", "/api/org/members", Some("{\"role\":\"king\"}")),
    ("PATCH", "/api/org/members/some-user", Some("{}")),
    ("DELETE", "/api/org/members/some-user", None),
    ("GET", "/api/invitations", None),
    (
        "POST",
        "/api/invitations/some-invitation/accept",
        Some("{}"),
    ),
    (
        "POST",
        "/api/invitations/some-invitation/decline",
        Some("{}"),
    ),
    ("GET", "/api/admin/orgs", None),
    ("POST", "/api/admin/orgs", Some("{}")),
    ("GET", "/api/api-keys", None),
    ("POST", "/api/api-keys", Some("{\"name\":5}")),
    ("DELETE", "/api/api-keys/some-key", None),
    ("GET", "/api/sessions?limit=abc", None),
    ("POST", "/api/sessions", Some("{\"title\":7}")),
    ("GET", "/api/sessions/some-session", None),
    (
        "PATCH",
        "/api/sessions/some-session",
        Some("{\"title\":[]}"),
    ),
    ("DELETE", "/api/sessions/some-session", None),
    ("GET", "/api/activity?limit=0", None),
    ("GET", "/api/audit?format=xml", None),
    ("GET", "/api/audit/verify", None),
    ("GET", "/api/v1/events?after=abc", None),
    ("GET", "/api/org/settings", None),
    ("PUT", "/api/org/settings", Some("{\"fourEyes\":\"x\"}")),
    ("POST", "/api/chat", Some("{\"message\":5}")),
    ("GET", "/api/chat/some-session/stream?after=x", None),
    ("GET", "/api/sessions/some-session/messages?limit=0", None),
    ("GET", "/api/models", None),
    ("GET", "/api/v1/tools", None),
    ("POST", "/api/v1/tools/listInstances/execute", Some("[")),
    ("GET", "/api/tools/approve", None),
    ("POST", "/api/tools/approve", Some("{}")),
    ("POST", "/api/mcp", Some("{}")),
];

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap()
}

#[tokio::test]
async fn every_route_answers_401_without_credentials_before_validation() {
    let app = TestApp::spawn().await;
    for (m, path, body) in ROUTES {
        let mut rb = app.client.request(method(m), app.at(path));
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), 401, "{m} {path}");
        assert!(
            res.headers().get("www-authenticate").is_some(),
            "{m} {path}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "AUTH_REQUIRED", "{m} {path}");
        // A bad key or a bad cookie is the same 401.
        let res = app
            .client
            .request(method(m), app.at(path))
            .bearer_auth(format!("portal_{}", "0".repeat(64)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{m} {path} with an unknown key");
        let res = app
            .client
            .request(method(m), app.at(path))
            .header("cookie", "portal_session=nope")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{m} {path} with an unknown cookie");
    }
}

#[tokio::test]
async fn viewers_get_403_on_what_they_may_not_do() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let viewer = app.member(&admin, "viewer@acme.test", "viewer").await;
    let forbidden: &[(&str, &str, Value)] = &[
        ("GET", "/api/org/members", Value::Null),
        (
            "POST",
            "/api/org/members",
            json!({"email": "x@acme.test", "role": "admin"}),
        ),
        (
            "PATCH",
            &format!("/api/org/members/{}", admin.user_id()),
            json!({"role": "viewer"}),
        ),
        (
            "DELETE",
            &format!("/api/org/members/{}", admin.user_id()),
            Value::Null,
        ),
        ("GET", "/api/api-keys", Value::Null),
        (
            "POST",
            "/api/api-keys",
            json!({"name": "k", "permissions": ["tools:read"]}),
        ),
        ("DELETE", "/api/api-keys/x", Value::Null),
        ("POST", "/api/sessions", json!({"title": "t"})),
        ("PATCH", "/api/sessions/x", json!({"title": "t"})),
        ("DELETE", "/api/sessions/x", Value::Null),
        ("GET", "/api/audit", Value::Null),
        ("GET", "/api/audit/verify", Value::Null),
        ("GET", "/api/v1/events", Value::Null),
        ("POST", "/api/chat", json!({"message": "hi"})),
        ("GET", "/api/org/settings", Value::Null),
        ("PUT", "/api/org/settings", json!({"fourEyes": false})),
        ("POST", "/api/admin/orgs", json!({"name": "X"})),
    ];
    for (m, path, body) in forbidden {
        let mut rb = viewer.request(method(m), path);
        if !body.is_null() {
            rb = rb.json(body);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), 403, "{m} {path}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["code"],
            "FORBIDDEN",
            "{m} {path}"
        );
    }
    // 403 comes before validation too.
    let res = viewer
        .request(Method::POST, "/api/sessions")
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // What viewers may do.
    assert_eq!(viewer.get("/api/sessions").await.status(), 200);
    assert_eq!(viewer.get("/api/activity").await.status(), 200);
    assert_eq!(viewer.get("/api/auth/get-session").await.status(), 200);
}

#[tokio::test]
async fn bad_input_is_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cases: &[(&str, &str, Value, &str)] = &[
        (
            "POST",
            "/api/org/members",
            json!({"email": "not-an-email", "role": "viewer"}),
            "email",
        ),
        (
            "POST",
            "/api/org/members",
            json!({"email": "a@acme.test", "role": "king"}),
            "role",
        ),
        ("PATCH", "/api/org/members/u", json!({"role": 3}), "role"),
        (
            "POST",
            "/api/api-keys",
            json!({"name": "k", "permissions": ["tools:fly"]}),
            "permissions",
        ),
        (
            "POST",
            "/api/api-keys",
            json!({"name": "k", "permissions": []}),
            "permissions",
        ),
        (
            "POST",
            "/api/api-keys",
            json!({"name": "k", "permissions": ["tools:read"], "expiresInDays": 0}),
            "expiresInDays",
        ),
        (
            "POST",
            "/api/api-keys",
            json!({"name": "", "permissions": ["tools:read"]}),
            "name",
        ),
        (
            "POST",
            "/api/sessions",
            json!({"title": "x".repeat(201)}),
            "title",
        ),
        ("POST", "/api/sessions", json!({"unknown": true}), "unknown"),
        ("GET", "/api/sessions?limit=0", Value::Null, "limit"),
        ("GET", "/api/sessions?offset=-1", Value::Null, "offset"),
        ("GET", "/api/activity?status=weird", Value::Null, "status"),
        ("GET", "/api/activity?from=yesterday", Value::Null, "from"),
        ("GET", "/api/audit?format=xml", Value::Null, "format"),
        ("GET", "/api/audit?limit=100000", Value::Null, "limit"),
        ("GET", "/api/v1/events?after=x", Value::Null, "after"),
        (
            "POST",
            "/api/auth/organization/set-active",
            json!({}),
            "organization",
        ),
    ];
    for (m, path, body, field) in cases {
        let mut rb = admin.request(method(m), path);
        if !body.is_null() {
            rb = rb.json(body);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), 400, "{m} {path} {body}");
        let b: Value = res.json().await.unwrap();
        assert_eq!(b["code"], "VALIDATION_ERROR");
        assert!(
            b["error"].as_str().unwrap().contains(field),
            "{m} {path}: {b} should name {field}"
        );
    }
}

async fn second_org(app: &TestApp, admin: &Client) -> Client {
    // A second organisation with its own admin.
    let res = admin
        .post(
            "/api/admin/orgs",
            json!({"name": "Other Org", "slug": "other"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        admin
            .post(
                "/api/auth/organization/set-active",
                json!({"organizationSlug": "other"})
            )
            .await
            .status(),
        200
    );
    let other = app.member(admin, "boss@other.test", "admin").await;
    assert_eq!(
        admin
            .post(
                "/api/auth/organization/set-active",
                json!({"organizationSlug": "acme"})
            )
            .await
            .status(),
        200
    );
    other
}

#[tokio::test]
async fn another_orgs_resources_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let other = second_org(&app, &admin).await;
    assert_eq!(other.who["activeOrganization"]["slug"], "other");

    // Their session, key and member are invisible to us, and ours to them.
    let s: Value = other
        .post("/api/sessions", json!({"title": "theirs"}))
        .await
        .json()
        .await
        .unwrap();
    let sid = s["session"]["id"].as_str().unwrap();
    let (_, kid) = other.create_key("their-key", &["tools:read"]).await;
    for (m, path, body) in [
        ("GET", format!("/api/sessions/{sid}"), Value::Null),
        (
            "PATCH",
            format!("/api/sessions/{sid}"),
            json!({"title": "mine now"}),
        ),
        ("DELETE", format!("/api/sessions/{sid}"), Value::Null),
        ("GET", format!("/api/sessions/{sid}/messages"), Value::Null),
        ("GET", format!("/api/chat/{sid}/stream"), Value::Null),
        (
            "POST",
            "/api/chat".to_string(),
            json!({"sessionId": sid, "message": "hello"}),
        ),
        ("DELETE", format!("/api/api-keys/{kid}"), Value::Null),
        (
            "PATCH",
            format!("/api/org/members/{}", other.user_id()),
            json!({"role": "viewer"}),
        ),
        (
            "DELETE",
            format!("/api/org/members/{}", other.user_id()),
            Value::Null,
        ),
    ] {
        let mut rb = admin.request(method(m), &path);
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(res.status(), 404, "{m} {path}");
        assert_eq!(res.json::<Value>().await.unwrap()["code"], "NOT_FOUND");
    }
    // Nothing changed on their side.
    let theirs: Value = other
        .get(&format!("/api/sessions/{sid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["session"]["title"], "theirs");
    let keys: Value = other.get("/api/api-keys").await.json().await.unwrap();
    assert_eq!(keys["keys"][0]["status"], "active");
    // Lists never show the other org's data.
    let ours: Value = admin.get("/api/sessions").await.json().await.unwrap();
    assert_eq!(ours["total"], 0);
    let members: Value = admin.get("/api/org/members").await.json().await.unwrap();
    assert!(members["members"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["email"] != "boss@other.test"));
}

#[tokio::test]
async fn chat_sessions_crud_and_paging() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let res = op
        .post(
            "/api/sessions",
            json!({"title": "First", "model": "gpt-4o"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["session"]["model"], "gpt-4o");
    assert_eq!(first["session"]["messageCount"], 0);
    let id = first["session"]["id"].as_str().unwrap().to_string();
    for i in 0..4 {
        tokio::time::sleep(Duration::from_millis(3)).await;
        assert_eq!(
            op.post("/api/sessions", json!({"title": format!("S{i}")}))
                .await
                .status(),
            201
        );
    }
    let page: Value = op
        .get("/api/sessions?limit=2&offset=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 5);
    let titles: Vec<&str> = page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["S2", "S1"], "newest first");
    // Another member of the same org sees none of them: sessions belong to a principal.
    let admin_list: Value = admin.get("/api/sessions").await.json().await.unwrap();
    assert_eq!(admin_list["total"], 0);
    assert_eq!(
        admin.get(&format!("/api/sessions/{id}")).await.status(),
        404
    );

    let renamed: Value = op
        .patch(&format!("/api/sessions/{id}"), json!({"title": "Renamed"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["session"]["title"], "Renamed");
    let cleared: Value = op
        .patch(&format!("/api/sessions/{id}"), json!({"title": null}))
        .await
        .json()
        .await
        .unwrap();
    assert!(cleared["session"].get("title").is_none());
    assert_eq!(
        op.delete(&format!("/api/sessions/{id}")).await.status(),
        204
    );
    assert_eq!(op.get(&format!("/api/sessions/{id}")).await.status(), 404);
    assert_eq!(
        op.delete(&format!("/api/sessions/{id}")).await.status(),
        404
    );
}

#[tokio::test]
async fn members_and_the_last_admin_guard() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = admin
        .post(
            "/api/org/members",
            json!({"email": "new@acme.test", "name": "New", "role": "operator"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let added: Value = res.json().await.unwrap();
    let otp = added["oneTimePassword"].as_str().unwrap();
    assert!(otp.len() >= 16);
    // The answer no longer names the account (M7): its first sign-in accepts the invitation.
    let new_id = app.sign_in("new@acme.test", otp).await.user_id();
    assert_eq!(
        admin
            .post(
                "/api/org/members",
                json!({"email": "new@acme.test", "role": "viewer"})
            )
            .await
            .status(),
        409
    );
    let list: Value = admin.get("/api/org/members").await.json().await.unwrap();
    assert_eq!(list["members"].as_array().unwrap().len(), 2);

    // The only admin cannot demote or remove themselves.
    let me = admin.user_id();
    let res = admin
        .patch(
            &format!("/api/org/members/{me}"),
            json!({"role": "operator"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "CONFLICT");
    assert_eq!(
        admin
            .delete(&format!("/api/org/members/{me}"))
            .await
            .status(),
        409
    );
    // With a second admin, they can.
    assert_eq!(
        admin
            .patch(
                &format!("/api/org/members/{new_id}"),
                json!({"role": "admin"})
            )
            .await
            .status(),
        200
    );
    assert_eq!(
        admin
            .patch(
                &format!("/api/org/members/{me}"),
                json!({"role": "operator"})
            )
            .await
            .status(),
        200
    );
    let new_admin = app.sign_in("new@acme.test", otp).await;
    assert_eq!(new_admin.who["role"], "admin");
    // A one-time password must be changed before anything else (L7).
    let res = new_admin
        .post(
            "/api/auth/change-password",
            json!({"currentPassword": otp, "newPassword": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        new_admin
            .delete(&format!("/api/org/members/{me}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        new_admin
            .delete(&format!("/api/org/members/{me}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        new_admin
            .delete(&format!("/api/org/members/{}", new_admin.user_id()))
            .await
            .status(),
        409
    );
    // The removed user has no organisation any more: org routes are refused.
    let removed = app.sign_in("admin@acme.test", PASSWORD).await;
    assert!(removed.who["activeOrganization"].is_null());
    assert_eq!(removed.get("/api/sessions").await.status(), 403);
}

#[tokio::test]
async fn api_keys_act_as_their_owner_and_die_on_revocation_or_expiry() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    // Operators are not key admins.
    assert_eq!(
        op.post(
            "/api/api-keys",
            json!({"name": "k", "permissions": ["tools:read"]})
        )
        .await
        .status(),
        403
    );

    let (key, kid) = admin
        .create_key(
            "automation",
            &["sessions:read", "sessions:write", "admin:users"],
        )
        .await;
    assert!(portal_core::identity::looks_like_api_key(&key));
    assert_eq!(
        admin
            .post(
                "/api/api-keys",
                json!({"name": "automation", "permissions": ["tools:read"]})
            )
            .await
            .status(),
        409
    );
    let k = app.with_key(&key);
    let me: Value = k.get("/api/auth/get-session").await.json().await.unwrap();
    assert_eq!(me["authMethod"], "apiKey");
    assert_eq!(
        me["principalId"],
        format!("user:{}", admin.user_id()),
        "the key acts as its creator"
    );
    assert_eq!(
        me["permissions"],
        json!(["sessions:read", "sessions:write", "admin:users"])
    );
    // X-API-Key works too; sessions made with the key belong to the owner.
    let res = app
        .client
        .post(app.at("/api/sessions"))
        .header("x-api-key", &key)
        .json(&json!({"title": "via key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mine: Value = admin.get("/api/sessions").await.json().await.unwrap();
    assert_eq!(mine["sessions"][0]["title"], "via key");
    // Keys cannot manage keys, and get exactly their permissions (no admin:all wildcard).
    assert_eq!(
        k.post(
            "/api/api-keys",
            json!({"name": "k2", "permissions": ["tools:read"]})
        )
        .await
        .status(),
        403
    );
    assert_eq!(k.get("/api/audit").await.status(), 403);
    assert_eq!(k.get("/api/org/members").await.status(), 200);

    // The owner is demoted: the key's permissions shrink with them.
    let op_admin = {
        assert_eq!(
            admin
                .patch(
                    &format!("/api/org/members/{}", op.user_id()),
                    json!({"role": "admin"})
                )
                .await
                .status(),
            200
        );
        app.sign_in("op@acme.test", PASSWORD).await
    };
    assert_eq!(
        op_admin
            .patch(
                &format!("/api/org/members/{}", admin.user_id()),
                json!({"role": "viewer"})
            )
            .await
            .status(),
        200
    );
    let start = Instant::now();
    loop {
        let me: Value = k.get("/api/auth/get-session").await.json().await.unwrap();
        if me["permissions"] == json!(["sessions:read"]) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "permissions did not shrink: {me}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(k.get("/api/org/members").await.status(), 403);
    assert_eq!(k.post("/api/sessions", json!({})).await.status(), 403);

    // last_used_at is recorded (in batches).
    let start = Instant::now();
    loop {
        let keys: Value = op_admin.get("/api/api-keys").await.json().await.unwrap();
        let k = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == kid.as_str())
            .cloned()
            .unwrap();
        if !k["lastUsedAt"].is_null() {
            assert_eq!(k["prefix"], key[7..15]);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "lastUsedAt never written"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Revocation: immediate on this replica.
    assert_eq!(
        op_admin
            .delete(&format!("/api/api-keys/{kid}"))
            .await
            .status(),
        204
    );
    assert_eq!(k.get("/api/sessions").await.status(), 401);
    assert_eq!(
        op_admin
            .delete(&format!("/api/api-keys/{kid}"))
            .await
            .status(),
        404
    );
    let keys: Value = op_admin.get("/api/api-keys").await.json().await.unwrap();
    assert_eq!(
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == kid.as_str())
            .unwrap()["status"],
        "revoked"
    );
    // The secret is never listed.
    assert!(!keys.to_string().contains(&key[7..]));

    // Expiry.
    let (key2, kid2) = op_admin.create_key("short-lived", &["sessions:read"]).await;
    let k2 = app.with_key(&key2);
    assert_eq!(k2.get("/api/sessions").await.status(), 200);
    app.sql(&format!(
        "UPDATE api_keys SET expires_at = 1 WHERE id = '{kid2}'"
    ))
    .await;
    let start = Instant::now();
    while k2.get("/api/sessions").await.status() != 401 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "expired key still accepted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn revocation_reaches_another_replica_within_five_seconds() {
    let a = TestApp::spawn().await;
    let admin = a.admin().await;
    let (key, kid) = admin.create_key("shared", &["sessions:read"]).await;
    let b = TestApp::builder().same_database_as(&a).spawn().await;
    let kb = b.with_key(&key);
    assert_eq!(
        kb.get("/api/sessions").await.status(),
        200,
        "replica B accepts (and caches) the key"
    );
    assert_eq!(
        admin.delete(&format!("/api/api-keys/{kid}")).await.status(),
        204
    );
    let start = Instant::now();
    while kb.get("/api/sessions").await.status() != 401 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "replica B still accepts a revoked key"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn cli_keys_are_service_principals_or_act_as_a_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let run = |args: &[&str]| {
        app.command(env!("CARGO_BIN_EXE_portal"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "api-key",
        "create",
        "--org",
        "acme",
        "--name",
        "robot",
        "--permissions",
        "sessions:read,sessions:write",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        portal_core::identity::looks_like_api_key(&key),
        "only the key on stdout: {key}"
    );
    let robot = app.with_key(&key);
    let me: Value = robot
        .get("/api/auth/get-session")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        me["principalId"].as_str().unwrap().starts_with("key:"),
        "{me}"
    );
    assert!(me["user"].is_null());
    let s: Value = robot
        .post("/api/sessions", json!({"title": "robot's"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        robot
            .get(&format!(
                "/api/sessions/{}",
                s["session"]["id"].as_str().unwrap()
            ))
            .await
            .status(),
        200
    );
    assert_eq!(
        admin
            .get("/api/sessions")
            .await
            .json::<Value>()
            .await
            .unwrap()["total"],
        0,
        "the robot's sessions are its own"
    );

    let out = run(&[
        "api-key",
        "create",
        "--org",
        "acme",
        "--name",
        "as-admin",
        "--permissions",
        "admin:audit",
        "--user",
        "admin@acme.test",
    ]);
    assert!(out.status.success());
    let as_admin = app.with_key(String::from_utf8(out.stdout).unwrap().trim());
    let me: Value = as_admin
        .get("/api/auth/get-session")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["principalId"], format!("user:{}", admin.user_id()));
    assert_eq!(as_admin.get("/api/audit/verify").await.status(), 200);

    assert!(!run(&[
        "api-key",
        "create",
        "--org",
        "nope",
        "--name",
        "x",
        "--permissions",
        "tools:read"
    ])
    .status
    .success());
    assert!(!run(&[
        "api-key",
        "create",
        "--org",
        "acme",
        "--name",
        "x",
        "--permissions",
        "tools:fly"
    ])
    .status
    .success());
    let out = run(&["api-key", "revoke", "--org", "acme", "--name", "robot"]);
    assert!(out.status.success());
    let start = Instant::now();
    while robot.get("/api/sessions").await.status() != 401 {
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !run(&["api-key", "revoke", "--org", "acme", "--name", "robot"])
            .status
            .success(),
        "already revoked"
    );
}

#[tokio::test]
async fn activity_feed_lists_the_orgs_executions_with_filters() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let me: Value = admin
        .get("/api/auth/get-session")
        .await
        .json()
        .await
        .unwrap();
    let org_id = me["activeOrganization"]["id"].as_str().unwrap().to_string();
    let other = second_org(&app, &admin).await;
    let other_org = other.who["activeOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ctx = app.state.app.ctx(None, None);
    ctx.now = 0;
    let base = portal_core::identity::now_ms();
    for (i, (tool, status, org)) in [
        ("listInstances", "success", &org_id),
        ("stopInstance", "error", &org_id),
        ("listInstances", "success", &org_id),
        ("listBuckets", "success", &other_org),
    ]
    .iter()
    .enumerate()
    {
        portal_core::service::activity::record(
            &ctx,
            &Activity {
                id: format!("a{i}"),
                org_id: org.as_str().into(),
                principal_id: format!("user:{}", admin.user_id()),
                tool_name: tool.to_string(),
                category: "compute".into(),
                risk: portal_core::model::Risk::Read,
                status: portal_core::model::ExecutionStatus::parse(status).expect("a status"),
                args: r#"{"compartmentId":"ocid1.compartment.oc1..x"}"#.into(),
                error: None,
                duration_ms: Some(12),
                approval_id: None,
                created_at: base + i as i64,
            },
        )
        .await
        .unwrap();
    }
    let all: Value = admin.get("/api/activity").await.json().await.unwrap();
    assert_eq!(all["total"], 3, "only this org's executions");
    assert_eq!(all["items"][0]["id"], "a2", "newest first");
    assert_eq!(
        all["items"][0]["args"]["compartmentId"],
        "ocid1.compartment.oc1..x"
    );
    let f: Value = admin
        .get("/api/activity?tool=listInstances")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["total"], 2);
    let f: Value = admin
        .get("/api/activity?status=error")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["items"][0]["toolName"], "stopInstance");
    let f: Value = admin
        .get(&format!(
            "/api/activity?principal=user:{}&limit=1&offset=1",
            admin.user_id()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (f["total"].as_i64(), f["items"].as_array().unwrap().len()),
        (Some(3), 1)
    );
    let future = "2999-01-01T00:00:00Z";
    let f: Value = admin
        .get(&format!("/api/activity?from={future}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["total"], 0);
}
