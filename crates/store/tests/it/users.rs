//! The storage contract for users, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ids::UserId;
#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_basics,
        check_users,
        check_credential_revocation,
    ],
    db: [
    ],
}

async fn check_basics(s: &dyn Store) {
    assert!(matches!(s.backend(), Backend::Sqlite | Backend::Postgres));
    assert!(s.availability().is_up());
    s.ping().await.expect("ping");
    assert_eq!(
        s.schema_version().await.unwrap(),
        portal_store::MIGRATIONS.last().unwrap().version
    );
    let stats = s.pool_stats();
    assert_eq!(stats.max, 4);
    assert!(stats.in_use <= stats.max);
}

async fn check_users(s: &dyn Store) {
    let u = s
        .create_user(new_user("ada@example.test"), 1_000)
        .await
        .unwrap();
    assert!(!u.id.is_empty());
    assert_eq!(
        (
            u.email.as_str(),
            u.name.as_str(),
            u.platform_admin,
            u.created_at
        ),
        ("ada@example.test", "User ada@example.test", false, 1_000)
    );

    // Duplicate email.
    assert_conflict(s.create_user(new_user("ada@example.test"), 2_000).await);

    let (by_email, hash) = s.user_by_email("ada@example.test").await.unwrap().unwrap();
    assert_eq!(by_email, u);
    assert_eq!(hash.as_deref(), Some("hash-of-ada@example.test"));
    assert!(s
        .user_by_email("nobody@example.test")
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.user_by_id(&u.id).await.unwrap(), Some(u.clone()));
    assert!(s.user_by_id("no-such-id").await.unwrap().is_none());

    // Passwords.
    assert_eq!(
        s.password_hash(&u.id).await.unwrap().as_deref(),
        Some("hash-of-ada@example.test")
    );
    s.set_password(&u.id, "new-hash", 2_000).await.unwrap();
    assert_eq!(
        s.password_hash(&u.id).await.unwrap().as_deref(),
        Some("new-hash")
    );
    assert_eq!(
        s.user_by_email("ada@example.test")
            .await
            .unwrap()
            .unwrap()
            .1
            .as_deref(),
        Some("new-hash")
    );
    assert_not_found(
        s.set_password(&UserId::from("no-such-id"), "h", 2_000)
            .await,
    );
    assert!(s
        .password_hash(&UserId::from("no-such-id"))
        .await
        .unwrap()
        .is_none());

    // A user without a password.
    let mut nopw = new_user("sso@example.test");
    nopw.password_hash = None;
    let sso = s.create_user(nopw, 1_500).await.unwrap();
    assert!(s.password_hash(&sso.id).await.unwrap().is_none());
    assert!(s
        .user_by_email("sso@example.test")
        .await
        .unwrap()
        .unwrap()
        .1
        .is_none());

    // Platform admin flag.
    s.set_platform_admin(&u.id, true, 3_000).await.unwrap();
    assert!(s.user_by_id(&u.id).await.unwrap().unwrap().platform_admin);
    s.set_platform_admin(&u.id, false, 3_000).await.unwrap();
    assert!(!s.user_by_id(&u.id).await.unwrap().unwrap().platform_admin);
    assert_not_found(
        s.set_platform_admin(&UserId::from("no-such-id"), true, 3_000)
            .await,
    );

    // Created as platform admin.
    let mut pa = new_user("root@example.test");
    pa.platform_admin = true;
    let root = s.create_user(pa, 1_000).await.unwrap();
    assert!(root.platform_admin);
    assert!(
        s.user_by_id(&root.id)
            .await
            .unwrap()
            .unwrap()
            .platform_admin
    );
}

async fn check_credential_revocation(s: &dyn Store) {
    let u = mk_user(s, "rev@example.test").await;
    let other = mk_user(s, "rev-other@example.test").await;
    let o1 = mk_org(s, "r1").await;
    let o2 = mk_org(s, "r2").await;
    // Sessions: live until revoked or expired.
    s.create_auth_session(new_session("rs1", &u.id, None))
        .await
        .unwrap();
    assert!(s.auth_session_active("rs1", 1_500).await.unwrap());
    assert!(
        !s.auth_session_active("rs1", 2_000).await.unwrap(),
        "expired"
    );
    assert!(!s.auth_session_active("nope", 1_500).await.unwrap());
    s.revoke_auth_session("rs1", 1_600).await.unwrap();
    assert!(!s.auth_session_active("rs1", 1_500).await.unwrap());
    // Keys acting as the user, in every organisation; not others' nor service keys.
    for k in [
        new_key("rk1", &o1.id, "mine1", Some(&u.id), 100),
        new_key("rk2", &o2.id, "mine2", Some(&u.id), 100),
        new_key("rk3", &o1.id, "theirs", Some(&other.id), 100),
        new_key("rk4", &o1.id, "service", None, 100),
    ] {
        s.create_api_key(k, Journal::NONE).await.unwrap();
    }
    assert_eq!(s.revoke_user_api_keys(&u.id, 700).await.unwrap(), 2);
    assert_eq!(s.revoke_user_api_keys(&u.id, 800).await.unwrap(), 0);
    let revoked = |keys: Vec<ApiKey>| {
        keys.into_iter()
            .map(|k| (k.id, k.revoked_at))
            .collect::<Vec<_>>()
    };
    let mut all = revoked(s.list_api_keys(&o1.id).await.unwrap());
    all.extend(revoked(s.list_api_keys(&o2.id).await.unwrap()));
    all.sort();
    assert_eq!(
        all,
        vec![
            ("rk1".to_string(), Some(700)),
            ("rk2".to_string(), Some(700)),
            ("rk3".to_string(), None),
            ("rk4".to_string(), None)
        ]
    );
    // A one-time password is flagged until replaced.
    let mut nu = new_user("otp@example.test");
    nu.must_change_password = true;
    let created = s.create_user(nu, 10).await.unwrap();
    assert!(created.must_change_password);
    assert!(
        s.user_by_id(&created.id)
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    s.set_password(&created.id, "new-hash", 20).await.unwrap();
    let (after, hash) = s.user_by_email("otp@example.test").await.unwrap().unwrap();
    assert!(!after.must_change_password);
    assert_eq!(hash.as_deref(), Some("new-hash"));
}
