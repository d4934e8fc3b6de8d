//! Webhook subscriptions over the API (both path forms), and delivery of
//! outbox events to a real receiver on loopback: signed (Standard Webhooks),
//! in order, through secret rotation. Captures feed `.ci/webhooks`, which
//! verifies them with the official `standardwebhooks` libraries.

use crate::webhook_receiver;

use serde_json::{json, Value};
use webhook_receiver::*;

#[tokio::test]
async fn subscriptions_are_validated_audited_tenant_scoped_and_show_the_secret_once() {
    let app = portal("100", "2000").await;
    let admin = app.admin().await;
    let r = Receiver::start().await;

    // Forbidden destinations and bad filters: 400 naming the field.
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706434/",
        "http://0x7f.0.0.2/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.2]/",
        "http://localhost/",
        "ftp://example.com/",
        "not a url",
    ] {
        let res = admin
            .post("/api/v1/webhooks", json!({"url": url, "eventTypes": ["*"]}))
            .await;
        assert_eq!(res.status(), 400, "{url}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "VALIDATION_ERROR", "{body}");
        assert!(
            body["error"].as_str().unwrap().starts_with("url: "),
            "{body}"
        );
    }
    let res = admin
        .post(
            "/api/v1/webhooks",
            json!({"url": r.url(), "eventTypes": ["Tool.Executed"]}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().starts_with("eventTypes: "),
        "{body}"
    );
    let res = admin
        .post(
            "/api/v1/webhooks",
            json!({"url": r.url(), "eventTypes": ["*"], "status": "gone"}),
        )
        .await;
    assert_eq!(res.status(), 400);

    // Created through the source architecture's path; the secret shows once.
    let res = admin
        .post(
            "/api/webhooks",
            json!({"url": r.url(), "eventTypes": ["tool.executed", "approval.*"], "description": "ops"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    let id = created["webhook"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["webhook"]["status"], "active");
    let listed = admin.get("/api/v1/webhooks").await.text().await.unwrap();
    assert!(
        listed.contains(&id) && !listed.contains(&secret[6..]),
        "{listed}"
    );
    let stored = app
        .query_strings("SELECT secret_sealed FROM webhooks")
        .await
        .join(" ");
    assert!(!stored.contains(&secret[6..]), "sealed at rest");

    // Changes, through both forms.
    let res = admin
        .patch(
            &format!("/api/webhooks/{id}"),
            json!({"status": "paused", "description": "paused for now"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let w: Value = admin
        .get(&format!("/api/v1/webhooks/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (w["status"].as_str(), w["description"].as_str()),
        (Some("paused"), Some("paused for now"))
    );
    let res = admin
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"url": "http://192.168.0.1/"}),
        )
        .await;
    assert_eq!(res.status(), 400);

    // Least privilege: an operator cannot see or manage them.
    let op = app.member(&admin, "op@acme.test", "operator").await;
    assert_eq!(op.get("/api/v1/webhooks").await.status(), 403);
    assert_eq!(op.get(&format!("/api/webhooks/{id}")).await.status(), 403);

    // Audited.
    let audit = admin
        .get("/api/audit?limit=100")
        .await
        .text()
        .await
        .unwrap();
    for action in ["webhook.created", "webhook.updated"] {
        assert!(audit.contains(action), "{action} audited: {audit}");
    }
    assert!(!audit.contains(&secret[6..]));

    // Another organisation's subscription is not found.
    let res = admin
        .post(
            "/api/admin/orgs",
            json!({"name": "Other Org", "slug": "other"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    admin.set_active("other").await;
    assert_eq!(
        admin.get(&format!("/api/v1/webhooks/{id}")).await.status(),
        404
    );
    assert_eq!(
        admin
            .delete(&format!("/api/v1/webhooks/{id}"))
            .await
            .status(),
        404
    );
    admin.set_active("acme").await;
    assert_eq!(
        admin
            .delete(&format!("/api/v1/webhooks/{id}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        admin.get(&format!("/api/v1/webhooks/{id}")).await.status(),
        404
    );
    assert!(admin
        .get("/api/audit?limit=100")
        .await
        .text()
        .await
        .unwrap()
        .contains("webhook.deleted"));

    // Both forms are documented.
    let doc = app.get("/api/v1/openapi.json").await.text().await.unwrap();
    assert!(
        doc.contains("\"/api/v1/webhooks/{id}/deliveries\"")
            && doc.contains("\"/api/webhooks/{id}/deliveries\"")
    );
}

async fn run_tool(admin: &portal_testkit::Client) {
    let res = admin
        .post(
            "/api/tools/execute",
            json!({"toolName": "listCompartments", "args": {}}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn outbox_events_are_delivered_signed_in_order_and_filtered() {
    let app = portal("100", "2000").await;
    let admin = app.admin().await;
    let tools = Receiver::start().await;
    let approvals_only = Receiver::start().await;
    let (id, secret) = subscribe(&admin, &tools.url(), &["tool.*"]).await;
    let (other, _) = subscribe(&admin, &approvals_only.url(), &["approval.*"]).await;
    for _ in 0..3 {
        run_tool(&admin).await;
    }
    let hits = tools.wait_for(3).await;
    assert_eq!(hits.len(), 3);
    let mut seen = Vec::new();
    for h in &hits {
        assert!(verifies(&secret, h), "signature verifies: {h:?}");
        assert!(h.id.starts_with("msg_"));
        let body: Value = serde_json::from_str(&h.body).unwrap();
        assert_eq!(body["type"], "tool.executed", "{body}");
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(body["data"]["tool"], "listCompartments", "{body}");
        seen.push(h.id.clone());
    }
    // In order: the log (newest first) reversed is the order of arrival.
    let log = wait_log(&admin, &id, |log| {
        log.len() == 3 && log.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let mut ids: Vec<String> = log
        .iter()
        .map(|d| d["msgId"].as_str().unwrap().to_string())
        .collect();
    ids.reverse();
    assert_eq!(ids, seen);
    let events: Vec<i64> = log
        .iter()
        .rev()
        .map(|d| d["eventId"].as_i64().unwrap())
        .collect();
    assert!(events.windows(2).all(|w| w[0] < w[1]), "{events:?}");
    // The other subscription's filter matched nothing.
    assert!(approvals_only.hits().is_empty());
    assert!(deliveries(&admin, &other, "").await.is_empty());
    capture("outbox", &[&secret], &[], &hits);

    let metrics = app.get("/api/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("webhook_deliveries_total{outcome=\"delivered\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("webhook_delivery_duration_seconds_bucket"));
    assert!(metrics.contains("webhook_deliveries_pending"));
    assert!(metrics.contains("webhook_oldest_pending_age_seconds"));
}

#[tokio::test]
async fn both_secrets_sign_during_rotation_then_only_the_new_one() {
    let app = portal("100", "2000").await;
    let admin = app.admin().await;
    let r = Receiver::start().await;
    let (id, first) = subscribe(&admin, &r.url(), &["*"]).await;
    send_test(&admin, &id).await;
    let before = r.wait_for(1).await;
    assert!(verifies(&first, &before[0]));
    let body: Value = serde_json::from_str(&before[0].body).unwrap();
    assert_eq!(body["type"], "webhook.test");

    let res = admin
        .post(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            json!({"graceSeconds": 3600}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let second = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second);
    send_test(&admin, &id).await;
    let during = r.wait_for(2).await;
    let h = &during[1];
    assert_eq!(h.signature.split(' ').count(), 2, "{h:?}");
    assert!(verifies(&first, h) && verifies(&second, h));

    let res = admin
        .post(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            json!({"graceSeconds": 0}),
        )
        .await;
    let third = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    send_test(&admin, &id).await;
    let after = r.wait_for(3).await;
    assert!(verifies(&third, &after[2]));
    assert!(
        !verifies(&second, &after[2]),
        "grace 0: the old secret stopped signing"
    );
    let res = admin
        .post(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            json!({"graceSeconds": -1}),
        )
        .await;
    assert_eq!(res.status(), 400);
    capture("before_rotation", &[&first], &[], &before[..1]);
    capture("during_rotation", &[&first, &second], &[], &during[1..2]);
    capture("after_rotation", &[&third], &[&second], &after[2..3]);
}
