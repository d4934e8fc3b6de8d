//! The job runner inside the server: its gauges are on /api/metrics from
//! start-up, and a job enqueued in the database runs on the spawned runner.

use std::time::Duration;

use portal_core::jobs::{JobKind, JobState, NewJob};
use portal_testkit::TestApp;

async fn metrics(app: &TestApp) -> String {
    let res = app.get("/api/metrics").await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn job_gauges_are_present_from_start_up() {
    let app = TestApp::spawn().await;
    let text = metrics(&app).await;
    for state in ["queued", "running", "done", "dead"] {
        assert!(
            text.contains(&format!(r#"jobs{{kind="noop",state="{state}"}} 0"#)),
            "{state}: {text}"
        );
    }
    assert!(
        text.contains("jobs_oldest_runnable_age_seconds 0"),
        "{text}"
    );
}

#[tokio::test]
async fn the_spawned_runner_runs_jobs_and_counts_them() {
    let app = TestApp::spawn().await;
    let now = portal_core::identity::now_ms();
    let job = app
        .state
        .store
        .enqueue(&NewJob::new(JobKind::Noop, "{}", now), now)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let state = app
            .state
            .store
            .get_job(&job.id)
            .await
            .unwrap()
            .unwrap()
            .state;
        let text = metrics(&app).await;
        if state == JobState::Done && text.contains(r#"jobs{kind="noop",state="done"} 1"#) {
            assert!(
                text.contains(r#"jobs{kind="noop",state="queued"} 0"#),
                "{text}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job {state}; metrics: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_replica_with_jobs_off_leaves_them_to_one_with_them_on() {
    let off = TestApp::builder()
        .env("PORTAL_JOBS_ENABLED", "false")
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "20")
        .spawn()
        .await;
    let now = portal_core::identity::now_ms();
    let job = off
        .state
        .store
        .enqueue(&NewJob::new(JobKind::Noop, "{}", now), now)
        .await
        .unwrap();
    let state = |app: &TestApp| {
        let store = app.state.store.clone();
        let id = job.id.clone();
        async move { store.get_job(&id).await.unwrap().unwrap().state }
    };
    // Fifty of its poll intervals: a runner would long have taken it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(state(&off).await, JobState::Queued);
    let on = TestApp::builder()
        .same_database_as(&off)
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "20")
        .spawn()
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while state(&on).await != JobState::Done {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replica with jobs on never ran it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
