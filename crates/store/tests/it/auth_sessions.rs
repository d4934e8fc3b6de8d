//! The storage contract for auth sessions, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_auth_sessions,
    ],
    db: [
    ],
}

async fn check_auth_sessions(s: &dyn Store) {
    let u = mk_user(s, "s@example.test").await;
    let other = mk_user(s, "t@example.test").await;
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;

    s.create_auth_session(new_session("s1", &u.id, Some(&o1.id)))
        .await
        .unwrap();
    let got = s
        .auth_session_by_hash("token-hash-s1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, "s1");
    assert_eq!(got.user, u);
    assert_eq!(got.active_org_id.as_deref(), Some("o1"));
    assert_eq!((got.expires_at, got.revoked_at), (2_000, None));
    assert!(s.auth_session_by_hash("nope").await.unwrap().is_none());

    // Same id or same token hash; unknown user or organisation.
    assert_conflict(s.create_auth_session(new_session("s1", &u.id, None)).await);
    let mut same_hash = new_session("s-dup", &u.id, None);
    same_hash.token_hash = "token-hash-s1".into();
    assert_conflict(s.create_auth_session(same_hash).await);
    assert_conflict(
        s.create_auth_session(new_session("s-bad", "no-such-user", None))
            .await,
    );
    assert_conflict(
        s.create_auth_session(new_session("s-bad2", &u.id, Some("no-such-org")))
            .await,
    );

    // A session without an organisation.
    s.create_auth_session(new_session("s2", &u.id, None))
        .await
        .unwrap();
    assert!(s
        .auth_session_by_hash("token-hash-s2")
        .await
        .unwrap()
        .unwrap()
        .active_org_id
        .is_none());

    s.extend_auth_session("s1", 5_000, 1_500).await.unwrap();
    assert_eq!(
        s.auth_session_by_hash("token-hash-s1")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        5_000
    );
    s.set_session_org("s1", &o2.id).await.unwrap();
    assert_eq!(
        s.auth_session_by_hash("token-hash-s1")
            .await
            .unwrap()
            .unwrap()
            .active_org_id
            .as_deref(),
        Some("o2")
    );
    // The user's live sessions, newest first; another user's are not theirs to revoke.
    let mut later = new_session("s5", &u.id, None);
    later.created_at = 1_200;
    s.create_auth_session(later).await.unwrap();
    s.create_auth_session(new_session("t0", &other.id, None))
        .await
        .unwrap();
    let mine = s.list_user_sessions(&u.id, 1_500).await.unwrap();
    let ids: Vec<&str> = mine.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(
        ids,
        ["s5", "s1", "s2"],
        "s1 extended, s2 not yet expired at 1500"
    );
    assert_eq!(mine[1].ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(mine[1].user_agent.as_deref(), Some("test-agent"));
    assert_eq!(mine[1].last_seen_at, 1_500, "the extension counts as use");
    let at_3000: Vec<String> = s
        .list_user_sessions(&u.id, 3_000)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(at_3000, ["s1"], "expired sessions are not listed");
    assert!(!s
        .revoke_user_session(&other.id, "s5", 1_600, Journal::NONE)
        .await
        .unwrap());
    assert!(s
        .revoke_user_session(&u.id, "s5", 1_600, Journal::NONE)
        .await
        .unwrap());
    assert!(
        !s.revoke_user_session(&u.id, "s5", 1_700, Journal::NONE)
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(
        s.auth_session_by_hash("token-hash-s5")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(1_600)
    );
    assert!(!s
        .list_user_sessions(&u.id, 1_650)
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == "s5"));

    // Unknown sessions: no-ops.
    s.extend_auth_session("nope", 1, 1).await.unwrap();
    s.revoke_auth_session("nope", 1).await.unwrap();
    s.set_session_org("nope", &o1.id).await.unwrap();

    // Revoke all but one.
    s.create_auth_session(new_session("s3", &u.id, None))
        .await
        .unwrap();
    s.create_auth_session(new_session("t1", &other.id, None))
        .await
        .unwrap();
    s.revoke_user_sessions(&u.id, Some("s2"), 3_000)
        .await
        .unwrap();
    let revoked = |h: &'static str| async move {
        s.auth_session_by_hash(h).await.unwrap().unwrap().revoked_at
    };
    assert_eq!(revoked("token-hash-s1").await, Some(3_000));
    assert_eq!(revoked("token-hash-s2").await, None);
    assert_eq!(revoked("token-hash-s3").await, Some(3_000));
    assert_eq!(revoked("token-hash-t1").await, None);

    // A revoked session is not extended and keeps its first revocation time.
    s.extend_auth_session("s1", 9_000, 3_500).await.unwrap();
    assert_eq!(
        s.auth_session_by_hash("token-hash-s1")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        5_000
    );
    s.revoke_auth_session("s2", 4_000).await.unwrap();
    assert_eq!(revoked("token-hash-s2").await, Some(4_000));
    s.revoke_auth_session("s2", 4_500).await.unwrap();
    assert_eq!(revoked("token-hash-s2").await, Some(4_000));

    // Revoke all (no exception) leaves other users alone and earlier times in place.
    s.create_auth_session(new_session("s4", &u.id, None))
        .await
        .unwrap();
    s.revoke_user_sessions(&u.id, None, 6_000).await.unwrap();
    assert_eq!(revoked("token-hash-s4").await, Some(6_000));
    assert_eq!(revoked("token-hash-s1").await, Some(3_000));
    assert_eq!(revoked("token-hash-t1").await, None);
}
