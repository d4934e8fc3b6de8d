//! The storage contract for api keys, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ids::OrgId;
#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_api_keys,
        check_api_key_touch,
    ],
    db: [
    ],
}

async fn check_api_keys(s: &dyn Store) {
    let u = mk_user(s, "k@example.test").await;
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;

    let k1 = s
        .create_api_key(new_key("k1", &o1.id, "ci", Some(&u.id), 100), Journal::NONE)
        .await
        .unwrap();
    assert_eq!(
        k1,
        ApiKey {
            id: "k1".into(),
            org_id: "o1".into(),
            name: "ci".into(),
            prefix: "pfxk1".into(),
            permissions: vec!["tools:read".into(), "tools:execute".into()],
            owner_user_id: Some(u.id.clone()),
            created_by: "user:creator".into(),
            created_at: 100,
            expires_at: Some(10_100),
            revoked_at: None,
            last_used_at: None,
        }
    );
    assert_eq!(
        s.api_key_by_hash("key-hash-k1").await.unwrap(),
        Some(k1.clone())
    );
    assert!(s.api_key_by_hash("nope").await.unwrap().is_none());

    // Name unique per organisation only; hash and id unique everywhere.
    assert_conflict(
        s.create_api_key(new_key("k1b", &o1.id, "ci", None, 100), Journal::NONE)
            .await,
    );
    let k2 = s
        .create_api_key(new_key("k2", &o2.id, "ci", None, 100), Journal::NONE)
        .await
        .unwrap();
    let mut dup_hash = new_key("k9", &o1.id, "other", None, 100);
    dup_hash.key_hash = "key-hash-k1".into();
    assert_conflict(s.create_api_key(dup_hash, Journal::NONE).await);
    assert_conflict(
        s.create_api_key(new_key("k1", &o2.id, "fresh", None, 100), Journal::NONE)
            .await,
    );
    assert_conflict(
        s.create_api_key(new_key("k8", "no-such-org", "x", None, 100), Journal::NONE)
            .await,
    );

    // A service key: no owner, no expiry, no permissions.
    let mut svc = new_key("k3", &o1.id, "svc", None, 300);
    svc.permissions = vec![];
    svc.expires_at = None;
    let k3 = s.create_api_key(svc, Journal::NONE).await.unwrap();
    assert_eq!(
        s.api_key_by_hash("key-hash-k3").await.unwrap(),
        Some(k3.clone())
    );
    let k4 = s
        .create_api_key(new_key("k4", &o1.id, "alpha", None, 100), Journal::NONE)
        .await
        .unwrap();

    // Newest first, then by name.
    assert_eq!(
        s.list_api_keys(&o1.id).await.unwrap(),
        vec![k3.clone(), k4.clone(), k1.clone()]
    );
    assert_eq!(s.list_api_keys(&o2.id).await.unwrap(), vec![k2.clone()]);
    assert!(s
        .list_api_keys(&OrgId::from("no-such-org"))
        .await
        .unwrap()
        .is_empty());

    // Revocation by id only within the key's organisation.
    assert!(!s
        .revoke_api_key(&o2.id, "k1", 500, Journal::NONE)
        .await
        .unwrap());
    assert!(s
        .api_key_by_hash("key-hash-k1")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
    assert!(s
        .revoke_api_key(&o1.id, "k1", 500, Journal::NONE)
        .await
        .unwrap());
    assert!(!s
        .revoke_api_key(&o1.id, "k1", 600, Journal::NONE)
        .await
        .unwrap());
    assert!(!s
        .revoke_api_key(&o1.id, "nope", 600, Journal::NONE)
        .await
        .unwrap());
    assert_eq!(
        s.api_key_by_hash("key-hash-k1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(500)
    );

    // By name, likewise.
    assert!(!s
        .revoke_api_key_by_name(&o1.id, "ci", 700, Journal::NONE)
        .await
        .unwrap());
    assert!(!s
        .revoke_api_key_by_name(&o2.id, "alpha", 700, Journal::NONE)
        .await
        .unwrap());
    assert!(!s
        .revoke_api_key_by_name(&o1.id, "nope", 700, Journal::NONE)
        .await
        .unwrap());
    assert!(s
        .revoke_api_key_by_name(&o1.id, "alpha", 700, Journal::NONE)
        .await
        .unwrap());
    assert!(!s
        .revoke_api_key_by_name(&o1.id, "alpha", 800, Journal::NONE)
        .await
        .unwrap());
    assert!(s
        .revoke_api_key_by_name(&o2.id, "ci", 800, Journal::NONE)
        .await
        .unwrap());
    assert_eq!(
        s.api_key_by_hash("key-hash-k2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(800)
    );
    assert_eq!(
        s.api_key_by_hash("key-hash-k4")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(700)
    );
    assert!(s
        .api_key_by_hash("key-hash-k3")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());

    // Revoked keys are still listed, marked.
    let listed: Vec<_> = s
        .list_api_keys(&o1.id)
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.id, k.revoked_at))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("k3".into(), None),
            ("k4".into(), Some(700)),
            ("k1".into(), Some(500))
        ]
    );

    // A revoked key's name stays taken (the constraint covers every row).
    assert_conflict(
        s.create_api_key(new_key("k5", &o1.id, "ci", None, 900), Journal::NONE)
            .await,
    );
}

async fn check_api_key_touch(s: &dyn Store) {
    let o = mk_org(s, "o").await;
    s.create_api_key(new_key("k1", &o.id, "one", None, 1), Journal::NONE)
        .await
        .unwrap();
    s.create_api_key(new_key("k2", &o.id, "two", None, 1), Journal::NONE)
        .await
        .unwrap();
    let used =
        |h: &'static str| async move { s.api_key_by_hash(h).await.unwrap().unwrap().last_used_at };

    s.touch_api_keys(&[]).await.unwrap();
    assert_eq!(used("key-hash-k1").await, None);
    s.touch_api_keys(&[("k1".into(), 100), ("k2".into(), 50), ("nope".into(), 70)])
        .await
        .unwrap();
    assert_eq!(
        (used("key-hash-k1").await, used("key-hash-k2").await),
        (Some(100), Some(50))
    );
    // Never moves backwards, also within one batch.
    s.touch_api_keys(&[("k1".into(), 80)]).await.unwrap();
    assert_eq!(used("key-hash-k1").await, Some(100));
    s.touch_api_keys(&[("k1".into(), 200), ("k1".into(), 150), ("k2".into(), 60)])
        .await
        .unwrap();
    assert_eq!(
        (used("key-hash-k1").await, used("key-hash-k2").await),
        (Some(200), Some(60))
    );
}
