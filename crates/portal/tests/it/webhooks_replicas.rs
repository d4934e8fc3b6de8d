//! Webhook delivery across replicas and receivers: a replica killed
//! mid-delivery leaves its job to another, which delivers the event with the
//! same `webhook-id` (at least once); a slow receiver holds one worker and
//! cannot starve another subscription.

use crate::webhook_receiver;

use std::time::{Duration, Instant};

use portal_testkit::PASSWORD;
use webhook_receiver::*;

#[tokio::test]
async fn a_replica_killed_mid_delivery_leaves_it_to_another_with_the_same_id() {
    let a = portal("100", "30000").await;
    let admin = a.admin().await;
    let r = Receiver::start().await;
    // The first attempt hangs (replica A dies during it); the next is answered.
    r.script(&[Reply {
        status: 200,
        retry_after: None,
        delay: Duration::from_secs(30),
    }]);
    let (id, secret) = subscribe(&admin, &r.url(), &["*"]).await;
    let d = send_test(&admin, &id).await;
    r.wait_for(1).await;

    let b = builder("100", "30000").same_database_as(&a).spawn().await;
    let admin_b = b.sign_in("admin@acme.test", PASSWORD).await;
    // Kill A's workers mid-request (its job task is aborted, nothing recorded)
    // and let its lease lapse rather than wait out the minute it holds.
    a.state.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.sql("UPDATE jobs SET lease_until = 1 WHERE kind = 'webhook.deliver' AND state = 'running'")
        .await;

    let hits = r.wait_for(2).await;
    assert_eq!(
        hits[0].id, hits[1].id,
        "the same webhook-id from the other replica"
    );
    assert!(verifies(&secret, &hits[1]));
    let log = wait_log(&admin_b, &id, |l| {
        l.iter().all(|x| x["state"] == "delivered")
    })
    .await;
    assert_eq!(log.len(), 1);
    let attempts = attempts(&admin_b, &id, d).await;
    assert_eq!(
        attempts.len(),
        1,
        "the killed attempt recorded nothing: {attempts:?}"
    );
    assert_eq!(attempts[0]["outcome"], "delivered");
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_another_subscription() {
    let app = portal("100", "5000").await;
    let admin = app.admin().await;
    let slow = Receiver::start().await;
    slow.forever(Reply {
        status: 200,
        retry_after: None,
        delay: Duration::from_secs(2),
    });
    let fast = Receiver::start().await;
    let (slow_id, _) = subscribe(&admin, &slow.url(), &["*"]).await;
    let (fast_id, _) = subscribe(&admin, &fast.url(), &["*"]).await;
    for _ in 0..3 {
        send_test(&admin, &slow_id).await;
    }
    let started = Instant::now();
    for _ in 0..5 {
        send_test(&admin, &fast_id).await;
    }
    fast.wait_for(5).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the fast receiver waited on the slow one: {:?}",
        started.elapsed()
    );
    // The slow one is served one at a time, in order.
    let hits = slow.wait_for(3).await;
    assert!(
        hits[1].at - hits[0].at >= Duration::from_secs(2),
        "one in flight per subscription"
    );
}
