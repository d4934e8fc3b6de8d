//! Sign-in under attack: parallel guessing, hashing floods, lockouts of other
//! people, and the audit ledger growing from anonymous noise.

use std::time::Duration;

use portal_testkit::{TestApp, PASSWORD};
use serde_json::{json, Value};

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

fn audit_rows(app: &TestApp) -> i64 {
    let out = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["rowCount"].as_i64().unwrap()
}

/// M1: 59 wrong guesses in parallel, then the right password while they are
/// still being judged. Before the fix every guess passed the check before the
/// first failure was recorded (59 × 401, then 200).
#[tokio::test]
async fn parallel_guesses_are_bounded_and_the_right_password_waits() {
    let app = TestApp::spawn().await;
    let _admin = app.admin().await;
    let wrong: Vec<_> =
        (0..59)
            .map(|i| {
                let app = &app;
                async move {
                    attempt(app, "admin@acme.test", &format!("wrong guess {i:03}"), None).await
                }
            })
            .collect();
    let right = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        attempt(&app, "admin@acme.test", PASSWORD, None).await
    };
    let (statuses, right) = tokio::join!(futures_util::future::join_all(wrong), right);
    let judged = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        judged <= portal_core::throttle::PER_PAIR,
        "{judged} guesses were verified: {statuses:?}"
    );
    assert_eq!(judged + refused, 59, "{statuses:?}");
    assert_eq!(right, 429, "the limit was used up by wrong guesses");
}

/// L16: five wrong passwords from an attacker's address lock out only that
/// address, not the owner signing in from theirs.
#[tokio::test]
async fn an_attacker_cannot_lock_the_owner_out_from_another_address() {
    let app = TestApp::builder()
        .env("PORTAL_TRUSTED_PROXIES", "127.0.0.1/32")
        .spawn()
        .await;
    let _admin = app.admin().await;
    let evil = Some("203.0.113.9");
    for i in 0..5 {
        let s = attempt(&app, "admin@acme.test", &format!("guess number {i}"), evil).await;
        assert_eq!(s, 401);
    }
    assert_eq!(
        attempt(&app, "admin@acme.test", PASSWORD, evil).await,
        429,
        "the attacker's address is throttled"
    );
    assert_eq!(
        attempt(&app, "admin@acme.test", PASSWORD, Some("198.51.100.7")).await,
        200,
        "the owner's address is not"
    );
    // The account-wide limit is much higher, but exists: guesses from many
    // addresses still stop.
    let per_account = portal_core::throttle::PER_ACCOUNT;
    let mut refused = false;
    for i in 0..=per_account {
        let ip = format!("10.1.{}.{}", i / 200, i % 200 + 1);
        if attempt(&app, "admin@acme.test", "still guessing!", Some(&ip)).await == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "a distributed guess is throttled per account");
}

/// L3: throttled attempts add one audit record per window, not one each.
#[tokio::test]
async fn throttled_sign_ins_are_audited_once_per_window() {
    let app = TestApp::spawn().await;
    let _admin = app.admin().await;
    for i in 0..5 {
        assert_eq!(
            attempt(&app, "admin@acme.test", &format!("guess number {i}"), None).await,
            401
        );
    }
    let before = audit_rows(&app);
    for _ in 0..30 {
        assert_eq!(
            attempt(&app, "admin@acme.test", "another guess", None).await,
            429
        );
    }
    assert_eq!(
        audit_rows(&app),
        before + 1,
        "only the first throttled attempt is audited"
    );
}
