//! Webhook retries against a real receiver on loopback: the schedule on 500,
//! 429 (honouring Retry-After) and timeouts, with the same `webhook-id` every
//! time; no retry on 400; 410 and a used-up schedule disable the endpoint
//! (audited, `webhook.disabled` event); re-enabling resumes in order;
//! redelivery keeps the `webhook-id`. Delays come from a short test schedule.

use crate::webhook_receiver;

use std::time::Duration;

use serde_json::{json, Value};
use webhook_receiver::*;

fn outcomes(attempts: &[Value]) -> Vec<&str> {
    attempts
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn retries_on_500_429_and_timeouts_with_the_same_id_then_delivers() {
    // Retry delays 150, 300, 450 ms (+ up to 10 % jitter); calls time out after 400 ms.
    let app = portal("150,300,450,600", "400").await;
    let admin = app.admin().await;
    let r = Receiver::start().await;
    r.script(&[
        status(500),
        Reply {
            status: 429,
            retry_after: Some("1"),
            delay: Duration::ZERO,
        },
        Reply {
            status: 200,
            retry_after: None,
            delay: Duration::from_secs(2),
        },
        status(204),
    ]);
    let (id, secret) = subscribe(&admin, &r.url(), &["*"]).await;
    let d = send_test(&admin, &id).await;
    let hits = r.wait_for(4).await;
    let attempts = wait_attempts(&admin, &id, d, 4).await;
    assert_eq!(
        outcomes(&attempts),
        ["retry", "retry", "retry", "delivered"]
    );
    let codes: Vec<Option<i64>> = attempts.iter().map(|a| a["statusCode"].as_i64()).collect();
    assert_eq!(codes, [Some(500), Some(429), None, Some(204)]);
    assert_eq!(attempts[2]["response"], "timed out");
    assert_eq!(
        attempts[0]["response"], "answer 500",
        "the response is logged"
    );
    assert!(attempts[0]["nextAttemptAt"].is_string() && attempts[3]["nextAttemptAt"].is_null());
    assert!(
        hits.iter().all(|h| h.id == hits[0].id),
        "one webhook-id for every retry"
    );
    assert!(
        hits.iter().all(|h| verifies(&secret, h)),
        "each attempt signed afresh"
    );
    let gap = |i: usize| hits[i].at - hits[i - 1].at;
    assert!(
        gap(1) >= Duration::from_millis(150),
        "first retry waited: {:?}",
        gap(1)
    );
    assert!(
        gap(2) >= Duration::from_millis(1000),
        "Retry-After honoured: {:?}",
        gap(2)
    );
    assert!(
        gap(3) >= Duration::from_millis(450 + 400),
        "timeout, then the third delay: {:?}",
        gap(3)
    );
    let w = wait_webhook(&admin, &id, |w| w["failingSince"].is_null()).await;
    assert_eq!(w["status"], "active", "a success clears the failure streak");
    let log = deliveries(&admin, &id, "?state=delivered").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["attempts"], 4);
    let res = admin
        .get(&format!("/api/v1/webhooks/{id}/deliveries?limit=abc"))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("query/limit"));
    let res = admin
        .get(&format!("/api/v1/webhooks/{id}/deliveries?state=lost"))
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_400_is_not_retried_and_the_next_in_line_goes_out_in_order() {
    let app = portal("100,100", "2000").await;
    let admin = app.admin().await;
    let r = Receiver::start().await;
    r.script(&[status(400), status(302)]);
    let (id, _) = subscribe(&admin, &r.url(), &["*"]).await;
    let first = send_test(&admin, &id).await;
    let second = send_test(&admin, &id).await;
    let third = send_test(&admin, &id).await;
    let hits = r.wait_for(3).await;
    let log = wait_log(&admin, &id, |l| l.iter().all(|d| d["state"] != "pending")).await;
    let state = |d: i64| {
        log.iter()
            .find(|x| x["id"] == d)
            .map(|x| x["state"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(state(first), "failed", "400 is final");
    assert_eq!(
        state(second),
        "failed",
        "a redirect is a failure, not followed"
    );
    assert_eq!(state(third), "delivered");
    assert_eq!(outcomes(&attempts(&admin, &id, first).await), ["failed"]);
    // In queue order, each once.
    let msg = |d: i64| {
        log.iter()
            .find(|x| x["id"] == d)
            .map(|x| x["msgId"].as_str().unwrap().to_string())
            .unwrap()
    };
    let got: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
    assert_eq!(got, [msg(first), msg(second), msg(third)]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(r.hits().len(), 3, "nothing retried");
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_re_enabling_resumes_where_it_stopped() {
    let app = portal("100,100", "2000").await;
    let admin = app.admin().await;
    let r = Receiver::start().await;
    r.script(&[status(410)]);
    // Not `*`: its own `webhook.disabled` event would be queued to it too.
    let (id, _) = subscribe(&admin, &r.url(), &["tool.*"]).await;
    let first = send_test(&admin, &id).await;
    let w = wait_webhook(&admin, &id, |w| w["status"] == "disabled").await;
    assert!(w["disabledReason"].as_str().unwrap().contains("410"), "{w}");
    // Queued while disabled: a row, not sent.
    let second = send_test(&admin, &id).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(r.hits().len(), 1);
    let audit = admin
        .get("/api/audit?limit=100")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("webhook.disabled"), "{audit}");
    let events = admin.get("/api/v1/events").await.text().await.unwrap();
    assert!(events.contains("webhook.disabled"), "{events}");

    let res = admin
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let hits = r.wait_for(3).await;
    let log = wait_log(&admin, &id, |l| l.iter().all(|d| d["state"] == "delivered")).await;
    let msg = |d: i64| {
        log.iter()
            .find(|x| x["id"] == d)
            .map(|x| x["msgId"].as_str().unwrap().to_string())
            .unwrap()
    };
    let got: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
    assert_eq!(
        got,
        [msg(first), msg(first), msg(second)],
        "resumed at the head, in order"
    );
    assert_eq!(
        outcomes(&attempts(&admin, &id, first).await),
        ["disabled", "delivered"]
    );
}

#[tokio::test]
async fn failing_for_the_whole_schedule_disables_and_redelivery_keeps_the_id() {
    let app = portal("50,50", "2000").await;
    let admin = app.admin().await;
    let r = Receiver::start().await;
    r.forever(status(503));
    let (id, _) = subscribe(&admin, &r.url(), &["tool.*"]).await;
    let d = send_test(&admin, &id).await;
    let w = wait_webhook(&admin, &id, |w| w["status"] == "disabled").await;
    assert!(
        w["disabledReason"]
            .as_str()
            .unwrap()
            .contains("every attempt failed"),
        "{w}"
    );
    assert!(w["failingSince"].is_string());
    let a = wait_attempts(&admin, &id, d, 3).await;
    assert_eq!(outcomes(&a), ["retry", "retry", "disabled"]);
    assert_eq!(r.hits().len(), 3);

    // The receiver recovers; re-enable, then redeliver the same message.
    r.forever(status(200));
    admin
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"status": "active"}),
        )
        .await;
    r.wait_for(4).await;
    wait_log(&admin, &id, |l| l.iter().all(|x| x["state"] == "delivered")).await;
    let res = admin
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/{d}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let res = admin
        .post(
            &format!("/api/v1/webhooks/{id}/redeliver"),
            json!({"since": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        res.json::<Value>().await.unwrap()["queued"],
        1,
        "originals only"
    );
    let res = admin
        .post(
            &format!("/api/v1/webhooks/{id}/redeliver"),
            json!({"since": "yesterday"}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let hits = r.wait_for(6).await;
    assert!(
        hits.iter().all(|h| h.id == hits[0].id),
        "redeliveries keep the webhook-id"
    );
    assert_eq!(
        admin
            .post(
                &format!("/api/v1/webhooks/{id}/deliveries/999999/redeliver"),
                json!({})
            )
            .await
            .status(),
        404
    );
}
