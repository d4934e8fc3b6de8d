//! A burst of sign-ins against the process-wide password-hashing bound. In its
//! own test binary: it saturates the bound on purpose, which would make the
//! sign-ins of tests running beside it wait or be refused.

use portal_testkit::TestApp;
use serde_json::json;

async fn attempt(app: &TestApp, email: &str, password: &str, from: Option<&str>) -> u16 {
    let mut rb = app
        .client
        .post(app.at("/api/auth/sign-in/email"))
        .json(&json!({"email": email, "password": password}));
    if let Some(ip) = from {
        rb = rb.header("x-forwarded-for", ip);
    }
    rb.send().await.unwrap().status().as_u16()
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.split(' ').next() == Some(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// M1: a burst of sign-ins for different accounts from many addresses never
/// runs more password verifications at once than the hashing gate allows.
#[tokio::test]
async fn a_burst_of_sign_ins_never_hashes_more_than_the_slots_at_once() {
    let app = TestApp::builder()
        .env("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32")
        .spawn()
        .await;
    let burst: Vec<_> = (0..60)
        .map(|i| {
            let app = &app;
            async move {
                let ip = format!("198.51.100.{}", i + 1);
                attempt(
                    app,
                    &format!("nobody{i}@acme.test"),
                    "not a password at all",
                    Some(&ip),
                )
                .await
            }
        })
        .collect();
    let statuses = futures_util::future::join_all(burst).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    let text = app.get("/api/metrics").await.text().await.unwrap();
    let slots = metric(&text, "password_hash_slots").expect("password_hash_slots");
    let peak = metric(&text, "password_hash_inflight_max").expect("password_hash_inflight_max");
    assert!(slots >= 1.0);
    assert!(peak >= 1.0, "hashes ran");
    assert!(peak <= slots, "{peak} hashes ran at once, {slots} allowed");
    assert!(metric(&text, "password_hash_rejected_total").is_some());
    assert!(metric(&text, "password_hash_inflight").is_some());
}
