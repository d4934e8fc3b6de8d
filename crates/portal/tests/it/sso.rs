//! Single sign-on through the real router: identity providers over the
//! admin API (platform admins; the secret write-only; test connection by
//! step), and the browser's sign-in against a scripted fake OP (authorization
//! code + PKCE): JIT provisioning, groups → role, linking only by verified
//! email, roles managed by the IdP, and a replayed state refused.

use crate::sso_support;

use portal_testkit::fake_op::FakeOp;
use serde_json::{json, Value};
use sso_support::*;

#[tokio::test]
async fn identity_providers_are_platform_data_with_a_write_only_secret() {
    let app = portal().await;
    let admin = app.admin().await;
    let op = FakeOp::start().await;
    let org = org_id(&admin);

    for bad in [
        json!({"name": "X", "issuer": "ftp://op.example", "clientId": "c"}),
        json!({"name": "X", "issuer": "http://10.0.0.1", "clientId": "c"}),
        json!({"issuer": op.issuer, "clientId": "c"}),
        json!({"name": "X", "issuer": op.issuer, "clientId": "c", "orgId": "nope"}),
        json!({"name": "X", "issuer": op.issuer, "clientId": "c", "groupsSource": "cookie"}),
        json!({"name": "X", "issuer": op.issuer, "clientId": "c", "allowedDomains": ["not a domain"]}),
        json!({"name": "X", "issuer": op.issuer, "clientId": "c", "unknown": 1}),
    ] {
        let res = admin.post("/api/admin/idp", bad.clone()).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let p = create_idp(&admin, &op, json!({"orgId": org})).await;
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["hasClientSecret"], true);
    assert!(p.get("clientSecret").is_none());
    assert!(!p.to_string().contains("s3cret"));
    assert_eq!(
        p["redirectUri"],
        format!("{}/auth/sso/callback", app.state.settings.http.public_url)
    );
    assert_eq!(p["groupsClaim"], "groups");

    let listed: Value = admin.get("/api/admin/idp").await.json().await.unwrap();
    assert_eq!(listed["providers"].as_array().unwrap().len(), 1);
    let stored = app
        .query_strings("SELECT client_secret_sealed FROM identity_providers")
        .await;
    assert!(!stored[0].contains("s3cret"));

    let res = admin
        .patch(
            &format!("/api/admin/idp/{id}"),
            json!({"clientSecret": "", "jit": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["hasClientSecret"], false);
    assert_eq!(p["jit"], true);

    let t: Value = admin
        .post(&format!("/api/admin/idp/{id}/test"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["ok"], true, "{t}");
    assert_eq!(t["keys"], 1);
    op.set(|s| s.jwks_missing = true);
    let t: Value = admin
        .post(&format!("/api/admin/idp/{id}/test"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["ok"], false);
    assert_eq!(t["failedStep"], "jwks");

    // Org admins who are not platform admins, and API keys: 403.
    let member = app.member(&admin, "org-admin@acme.test", "admin").await;
    assert_eq!(member.get("/api/admin/idp").await.status(), 403);
    let (key, _) = admin.create_key("k", &["admin:users"]).await;
    assert_eq!(app.with_key(&key).get("/api/admin/idp").await.status(), 403);

    let audit = app
        .query_strings("SELECT action FROM audit_log WHERE action LIKE 'idp.%' ORDER BY id")
        .await;
    assert_eq!(audit, vec!["idp.created", "idp.updated"]);
    assert_eq!(
        admin.delete(&format!("/api/admin/idp/{id}")).await.status(),
        204
    );
    assert_eq!(
        admin.get(&format!("/api/admin/idp/{id}")).await.status(),
        404
    );
}

#[tokio::test]
async fn a_new_person_signs_in_by_pkce_and_lands_as_operator_by_group() {
    let app = portal().await;
    let admin = app.admin().await;
    let op = FakeOp::start().await;
    let org = org_id(&admin);
    let p = create_idp(
        &admin,
        &op,
        json!({"orgId": org, "jit": true, "rolesManaged": true}),
    )
    .await;
    let idp = p["id"].as_str().unwrap();

    let login = app.client.get(app.at("/login")).send().await.unwrap();
    let html = login.text().await.unwrap();
    assert!(html.contains("Sign in with Corp"), "{html}");
    assert!(html.contains(&format!("/auth/sso/{idp}/start")));

    op.sign_in_as(
        "op-1",
        "grace@acme.test",
        true,
        &["portal-operators", "other"],
    );
    let (res, back, pending) = walk(&app, idp).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/chat");
    let s = cookie(&res, "portal_session").expect("session");
    assert_eq!(cookie(&res, "portal_sso").as_deref(), Some("portal_sso="));
    let who = session(&app, &s).await;
    assert_eq!(who["user"]["email"], "grace@acme.test");
    assert_eq!(who["role"], "operator");
    assert_eq!(who["activeOrganization"]["id"], org);

    let detail = app
        .query_strings(
            "SELECT detail FROM audit_log WHERE action = 'auth.sso_sign_in' ORDER BY id DESC",
        )
        .await;
    let d: Value = serde_json::from_str(&detail[0]).unwrap();
    assert_eq!(d["mappedRole"], "operator");
    assert_eq!(d["group"], "portal-operators");

    // The same callback again, with the same cookie: the state is spent.
    let again = app
        .client
        .get(&back)
        .header("cookie", &pending)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403);
    assert!(cookie(&again, "portal_session").is_none());
    // And without the browser's cookie at all.
    let res = app.client.get(&back).send().await.unwrap();
    assert_eq!(res.status(), 403);

    // Roles managed by the IdP: a manual change is refused, and the next
    // sign-in follows the groups.
    let uid = who["user"]["id"].as_str().unwrap();
    let res = admin
        .patch(
            &format!("/api/org/members/{uid}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    op.sign_in_as("op-1", "grace@acme.test", true, &["portal-admins"]);
    let (res, _, _) = walk(&app, idp).await;
    let s = cookie(&res, "portal_session").expect("session");
    assert_eq!(session(&app, &s).await["role"], "admin");

    // The flag turned off: a manual change goes through again, and the next
    // sign-in (groups now saying operator) leaves it alone.
    let res = admin
        .patch(
            &format!("/api/admin/idp/{idp}"),
            json!({"rolesManaged": false}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = admin
        .patch(
            &format!("/api/org/members/{uid}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    op.sign_in_as("op-1", "grace@acme.test", true, &["portal-operators"]);
    let (res, _, _) = walk(&app, idp).await;
    let s = cookie(&res, "portal_session").expect("session");
    assert_eq!(session(&app, &s).await["role"], "viewer");
}

#[tokio::test]
async fn an_existing_account_is_linked_only_through_a_verified_email() {
    let app = portal().await;
    let admin = app.admin().await;
    let op = FakeOp::start().await;
    let org = org_id(&admin);
    let p = create_idp(
        &admin,
        &op,
        json!({"orgId": org, "allowedDomains": ["acme.test"]}),
    )
    .await;
    let idp = p["id"].as_str().unwrap();
    let member = app.member(&admin, "bob@acme.test", "viewer").await;

    // Unverified email of an existing account: refused, nothing linked.
    op.sign_in_as("sub-bob", "bob@acme.test", false, &["portal-admins"]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("not verified"));
    // A domain not allowed.
    op.sign_in_as("sub-eve", "eve@evil.test", true, &[]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 403);
    // No JIT: an unknown person is refused.
    op.sign_in_as("sub-new", "new@acme.test", true, &[]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 403);

    // Verified: linked to the same account; roles not managed, so the
    // groups do not overwrite the manual role.
    op.sign_in_as("sub-bob", "bob@acme.test", true, &["portal-admins"]);
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 303);
    let s = cookie(&res, "portal_session").expect("session");
    let who = session(&app, &s).await;
    assert_eq!(who["user"]["id"], member.who["user"]["id"]);
    assert_eq!(who["role"], "viewer");
    // A manual change stays possible.
    let uid = who["user"]["id"].as_str().unwrap();
    let res = admin
        .patch(
            &format!("/api/org/members/{uid}"),
            json!({"role": "operator"}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_token_that_fails_its_checks_signs_nobody_in() {
    let app = portal().await;
    let admin = app.admin().await;
    let op = FakeOp::start().await;
    let org = org_id(&admin);
    let p = create_idp(&admin, &op, json!({"orgId": org, "jit": true})).await;
    let idp = p["id"].as_str().unwrap();
    // The OP signs with a key it does not publish.
    let forged = portal_testkit::fake_op::key(portal_testkit::fake_op::KEY_B, Some("k1"));
    let issuer = op.issuer.clone();
    op.set(move |s| {
        s.on_authorize = Some(Box::new(move |nonce| {
            let c = portal_testkit::fake_op::FakeOp {
                issuer: issuer.clone(),
                script: Default::default(),
            }
            .claims(nonce);
            portal_testkit::fake_op::sign(&c, &forged)
        }))
    });
    let (res, _, _) = walk(&app, idp).await;
    assert_eq!(res.status(), 403);
    assert!(cookie(&res, "portal_session").is_none());
    let n = app
        .query_strings("SELECT email FROM users WHERE email = 'ada@example.com'")
        .await;
    assert!(n.is_empty());
}
