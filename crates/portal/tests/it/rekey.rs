//! `portal admin rekey`: every sealed secret still opens after the master
//! secret rotates, the old key is no longer needed (nor accepted), and what the
//! old key protected indirectly (the audit ledger, approval bindings) keeps
//! working under the new one.

use crate::sso_support;

use std::io::Write;
use std::process::Stdio;

use portal_core::crypto::Keys;
use portal_core::Secret;
use portal_testkit::fake_op::FakeOp;
use portal_testkit::{Client, TestApp, PASSWORD};
use serde_json::{json, Value};

const OLD: &str = "old-master-secret-old-master-secret-0001";
const NEW: &str = "new-master-secret-new-master-secret-0002";

fn rekey(app: &TestApp, key_env: &str, new_key: &str) -> (bool, String) {
    let mut child = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .env("PORTAL_SECRET_KEY", key_env)
        .args(["admin", "rekey", "--new-key-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(new_key.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every sealed value in the database with the context it is bound to.
async fn sealed(app: &TestApp) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (sql, prefix) in [
        (
            "SELECT id || '|' || secret_sealed FROM webhooks",
            "webhook-secret:",
        ),
        (
            "SELECT id || '|' || previous_secret_sealed FROM webhooks WHERE previous_secret_sealed IS NOT NULL",
            "webhook-secret:",
        ),
        (
            "SELECT id || '|' || args_sealed FROM approvals WHERE args_sealed IS NOT NULL",
            "approval-args:",
        ),
        (
            "SELECT id || '|' || client_secret_sealed FROM identity_providers \
             WHERE client_secret_sealed IS NOT NULL",
            "idp-client-secret:",
        ),
        (
            "SELECT session_id || '|' || id_token_sealed FROM sso_sessions",
            "sso-id-token:",
        ),
        (
            "SELECT id || '|' || api_key_sealed FROM ai_providers WHERE api_key_sealed IS NOT NULL",
            "ai-provider-key:",
        ),
        (
            "SELECT id || '|' || credentials_sealed FROM mcp_servers WHERE credentials_sealed IS NOT NULL",
            "mcp-credentials:",
        ),
    ] {
        let mut rows: Vec<(String, String)> = app
            .query_strings(sql)
            .await
            .iter()
            .map(|row| {
                let (id, value) = row.split_once('|').unwrap();
                (format!("{prefix}{id}"), value.to_string())
            })
            .collect();
        // Ordered by row within each column, so before and after line up.
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(rows);
    }
    out
}

async fn call(c: &Client, body: Value) -> (u16, Value) {
    let res = c.post("/api/tools/execute", body).await;
    let s = res.status().as_u16();
    (s, res.json().await.unwrap())
}

#[tokio::test]
async fn rekey_reseals_everything_and_retires_the_old_key() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_SECRET_KEY", OLD)
        .env("PORTAL_OUTBOUND_ALLOW", "127.0.0.1")
        .env("PORTAL_OUTBOUND_ALLOW_HTTP", "true")
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let instance = admin.running_instance().await;

    // Sealed things of every kind: two webhook secrets (one rotated, so a
    // previous secret too) and an approval's arguments.
    let mut hooks = Vec::new();
    for n in 0..2 {
        let res = admin
            .post(
                "/api/v1/webhooks",
                json!({"url": format!("http://127.0.0.1:9/hook{n}"), "eventTypes": ["*"]}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        hooks.push(body["webhook"]["id"].as_str().unwrap().to_string());
    }
    let res = admin
        .post(
            &format!("/api/v1/webhooks/{}/rotate-secret", hooks[0]),
            json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let (_, inst) = call(
        &admin,
        json!({"toolName": "getInstance", "args": {"instanceId": instance}}),
    )
    .await;
    let compartment = inst["result"]["compartmentId"].as_str().unwrap();
    let args = json!({"compartmentId": compartment, "dbName": "rekeyeddb", "adminPassword": "Summer2026Pw#x"});
    let req = json!({"toolCallId": "c1", "toolName": "createAutonomousDatabase", "args": args});
    let (status, body) = call(&op, req.clone()).await;
    assert_eq!(body["code"], "APPROVAL_REQUIRED", "{status} {body}");
    let approval = body["approvalId"].as_str().unwrap().to_string();
    // And an AI provider's API key.
    let res = admin
        .post(
            "/api/admin/ai-providers",
            json!({"name": "Rekeyed", "type": "openai-compatible", "baseUrl": "http://127.0.0.1:9/v1",
                   "apiKey": "sk-rekeyed-provider-key-0001", "defaultModel": "m"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    // A remote MCP server's credentials (stored even though it does not answer).
    let res = admin
        .post(
            "/api/admin/mcp-servers",
            json!({"name": "rekeyed", "url": "http://127.0.0.1:9/mcp",
                   "bearer": "mcp-rekeyed-bearer-0001", "headers": {"X-Key": "k"}}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    // An identity provider's client secret, and the ID token an SSO sign-in
    // keeps with its session.
    let op = FakeOp::start().await;
    let org = sso_support::org_id(&admin);
    let idp = sso_support::create_idp(&admin, &op, json!({"orgId": org, "jit": true})).await;
    let idp = idp["id"].as_str().unwrap().to_string();
    op.sign_in_as("sub-1", "sso@acme.test", true, &["portal-operators"]);
    let (res, _, _) = sso_support::walk(&app, &idp).await;
    assert_eq!(res.status(), 303);

    let before = sealed(&app).await;
    assert_eq!(before.len(), 8, "{before:?}");
    assert!(before
        .iter()
        .any(|(ctx, _)| ctx == &format!("idp-client-secret:{idp}")));
    let old_keys = Keys::derive(&Secret::new(OLD.as_bytes().to_vec()));
    let plain: Vec<Vec<u8>> = before
        .iter()
        .map(|(ctx, v)| old_keys.open(ctx, v).expect("opens under the old key"))
        .collect();

    // A wrong key and a too-short one are refused, and change nothing.
    let (ok, err) = rekey(&app, "not-the-key-not-the-key-not-the-key-0000", NEW);
    assert!(!ok, "{err}");
    assert_eq!(sealed(&app).await, before);
    let (ok, err) = rekey(&app, OLD, "short");
    assert!(!ok && err.contains("at least 32"), "{err}");
    assert_eq!(sealed(&app).await, before);

    let (ok, err) = rekey(&app, OLD, NEW);
    assert!(ok, "{err}");
    assert!(
        err.contains("re-sealed 8 secret(s) under key version 2"),
        "{err}"
    );

    let after = sealed(&app).await;
    assert_eq!(after.len(), before.len());
    // A replica started with the new key opens every value to what it was.
    let replica = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .same_database_as(&app)
        .env("PORTAL_SECRET_KEY", NEW)
        .env("PORTAL_OUTBOUND_ALLOW", "127.0.0.1")
        .env("PORTAL_OUTBOUND_ALLOW_HTTP", "true")
        .spawn()
        .await;
    let keys = &replica.state.app.keys;
    assert_eq!(keys.version(), 2);
    for (((ctx, value), (ctx0, old)), p) in after.iter().zip(&before).zip(&plain) {
        assert_eq!(ctx, ctx0);
        assert_ne!(value, old, "re-sealed");
        assert!(value.starts_with("v2:"), "{value}");
        assert_eq!(keys.open(ctx, value).as_ref(), Some(p), "{ctx}");
        assert_eq!(old_keys.open(ctx, value), None, "the old key opens nothing");
    }
    let secret = after
        .iter()
        .find(|(ctx, _)| ctx.starts_with("idp-client-secret:"))
        .and_then(|(ctx, v)| keys.open(ctx, v))
        .unwrap();
    assert_eq!(
        secret, b"s3cret",
        "the client secret opens to what was sent"
    );
    // And the replica signs in through the provider with it (the secret is
    // opened for the code exchange), and keeps the new ID token under v2.
    op.set(|s| s.client_secret = Some("s3cret".into()));
    op.sign_in_as("sub-1", "sso@acme.test", true, &["portal-operators"]);
    let (res, _, _) = sso_support::walk(&replica, &idp).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );

    // The old key is refused with a clear message (a second rotation from it too).
    let (ok, err) = rekey(&app, OLD, "another-master-secret-another-master-0003");
    assert!(!ok, "{err}");
    assert!(
        err.contains("not the current key (version 2)") && err.contains("version 1"),
        "{err}"
    );

    // The ledger still verifies and the approval made under the old key still
    // binds: approve on the new replica, the call runs there.
    let admin2 = replica.sign_in("admin@acme.test", PASSWORD).await;
    let v: Value = admin2.get("/api/audit/verify").await.json().await.unwrap();
    assert_eq!(v["valid"], true, "{v}");
    let rotated = replica
        .query_strings("SELECT detail FROM audit_log WHERE action = 'keyring.rotated'")
        .await;
    assert_eq!(rotated.len(), 1, "audited once: {rotated:?}");
    assert!(rotated[0].contains("\"toVersion\":2"), "{rotated:?}");
    let review: Value = admin2
        .get(&format!("/api/tools/approve/{approval}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        review["reviewArgs"]["adminPassword"], "Summer2026Pw#x",
        "the re-sealed arguments open for the approver: {review}"
    );
    let res = admin2
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true, "reason": "ok"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let op2 = replica.sign_in("op@acme.test", PASSWORD).await;
    let (status, ran) = call(&op2, req).await;
    assert_eq!(status, 200, "{ran}");

    // Rotating again moves on to version 3.
    let (ok, err) = rekey(&replica, NEW, "third-master-secret-third-master-secret-3");
    assert!(ok, "{err}");
    assert!(err.contains("key version 3"), "{err}");
}
