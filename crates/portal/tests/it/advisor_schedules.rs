//! Advisor schedules: three replicas sharing one database run every tick
//! exactly once; a schedule whose runs keep failing pauses itself; bad
//! patterns are 400s.

use std::time::Duration;

use portal_testkit::TestApp;
use serde_json::{json, Value};

fn builder() -> portal_testkit::Builder {
    TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "50")
}

#[tokio::test]
async fn three_replicas_run_each_tick_exactly_once() {
    let a = builder().spawn().await;
    let b = builder().same_database_as(&a).spawn().await;
    let c = builder().same_database_as(&a).spawn().await;
    let admin = a.admin().await;
    // Every second (croner's optional seconds field), made up within a minute.
    let res = admin
        .post(
            "/api/v1/advisor/schedules",
            json!({"cron": "* * * * * *", "catchUpSeconds": 60, "overlap": "allow"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    let id = s["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let res = admin
        .patch(
            &format!("/api/v1/advisor/schedules/{id}"),
            json!({"paused": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ticks = a
        .query_strings(&format!(
            "SELECT CAST(tick_at AS TEXT) FROM advisor_runs WHERE schedule_id = '{id}' ORDER BY tick_at"
        ))
        .await;
    let ticks: Vec<i64> = ticks.iter().map(|t| t.parse().unwrap()).collect();
    assert!(ticks.len() >= 3, "{ticks:?}");
    // One run per tick, and no tick between the first and the last was lost.
    for w in ticks.windows(2) {
        assert_eq!(w[1] - w[0], 1000, "{ticks:?}");
    }
    // Each tick's job ran once: no tick job was claimed twice.
    let attempts = a
        .query_strings(&format!(
            "SELECT CAST(attempts AS TEXT) FROM jobs WHERE id LIKE 'advtick-{id}-%' AND state = 'done'"
        ))
        .await;
    assert!(attempts.iter().all(|n| n == "1"), "{attempts:?}");
    // Every replica sees the same runs.
    let (key, _) = admin.create_key("replicas", &["tools:read"]).await;
    for app in [&b, &c] {
        let runs: Value = app
            .client
            .get(format!("{}/api/v1/advisor/runs?limit=100", app.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(runs["total"], ticks.len() as i64, "{runs}");
    }
}

#[tokio::test]
async fn a_schedule_whose_runs_keep_failing_pauses_itself() {
    let app = builder().spawn().await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let res = op
        .post(
            "/api/v1/advisor/schedules",
            json!({"cron": "* * * * * *", "maxFailures": 2}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    let id = s["id"].as_str().unwrap().to_string();
    // Its runs read as the operator: once they are gone, every run fails.
    let res = admin
        .delete(&format!("/api/org/members/{}", op.user_id()))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let mut last = Value::Null;
    for _ in 0..100 {
        last = admin
            .get(&format!("/api/v1/advisor/schedules/{id}"))
            .await
            .json()
            .await
            .unwrap();
        if last["paused"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["paused"], true, "{last:#}");
    assert!(last["pausedReason"]
        .as_str()
        .unwrap()
        .contains("repeated failures"));
    assert_eq!(last["nextAt"], Value::Null);
    let failed = app
        .query_strings(&format!(
            "SELECT status FROM advisor_runs WHERE schedule_id = '{id}' AND status = 'failed'"
        ))
        .await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    // Bad input is a 400.
    for bad in [
        json!({"cron": "not a cron"}),
        json!({"cron": "* * * * *", "overlap": "sometimes"}),
        json!({"cron": "* * * * *", "jitterSeconds": -1}),
        json!({}),
    ] {
        let res = admin.post("/api/v1/advisor/schedules", bad.clone()).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
}
