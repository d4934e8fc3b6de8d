//! The storage contract for invitations, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_invitations,
    ],
    db: [
    ],
}

async fn check_invitations(s: &dyn Store) {
    let u = mk_user(s, "inv@example.test").await;
    let other = mk_user(s, "other-inv@example.test").await;
    let home = s.create_org("oh", "home", "Home", 1).await.unwrap();
    let o = s.create_org("oi", "inviting", "Inviting", 1).await.unwrap();
    let o2 = s.create_org("oj", "another", "Another", 1).await.unwrap();
    s.add_member(&home.id, &u.id, Role::Viewer, 100, Journal::NONE)
        .await
        .unwrap();

    s.create_invitation(&new_invitation("i1", &o.id, &u.id, 200), Journal::NONE)
        .await
        .unwrap();
    // One pending invitation per organisation and person.
    assert_conflict(
        s.create_invitation(&new_invitation("i1b", &o.id, &u.id, 300), Journal::NONE)
            .await,
    );
    s.create_invitation(&new_invitation("i2-new", &o2.id, &u.id, 250), Journal::NONE)
        .await
        .unwrap();
    let mine = s.user_invitations(&u.id, 300).await.unwrap();
    let ids: Vec<&str> = mine.iter().map(|(i, _)| i.id.as_str()).collect();
    assert_eq!(ids, ["i2-new", "i1"], "newest first");
    assert_eq!(mine[0].1, o2);
    assert!(mine[0].0.created_account && !mine[1].0.created_account);
    assert_eq!(mine[1].0.status, InvitationStatus::Pending);
    assert!(s.user_invitations(&other.id, 300).await.unwrap().is_empty());
    // Lapsed invitations are not listed and cannot be answered.
    assert!(s.user_invitations(&u.id, 1_250).await.unwrap().is_empty());
    assert!(matches!(
        s.decide_invitation("i1", &u.id, true, 1_200, Journal::NONE)
            .await,
        Err(StoreError::NotFound)
    ));
    // Only the invited person answers, once.
    assert!(matches!(
        s.decide_invitation("i1", &other.id, true, 300, Journal::NONE)
            .await,
        Err(StoreError::NotFound)
    ));
    let accepted = s
        .decide_invitation("i1", &u.id, true, 300, Journal::NONE)
        .await
        .unwrap();
    assert_eq!(accepted.status, InvitationStatus::Accepted);
    assert_eq!(accepted.org_id, o.id);
    assert!(matches!(
        s.decide_invitation("i1", &u.id, false, 301, Journal::NONE)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.member_role(&o.id, &u.id).await.unwrap(),
        Some(Role::Operator)
    );
    // The accepted membership, never used, is not the default: home stays first.
    let order: Vec<String> = s
        .user_orgs(&u.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(o, _)| o.slug)
        .collect();
    assert_eq!(order, ["home", "inviting"]);
    s.touch_membership(&o.id, &u.id, 400).await.unwrap();
    assert_eq!(s.user_orgs(&u.id).await.unwrap()[0].0, o, "used: first");
    // Declining adds nothing.
    let declined = s
        .decide_invitation("i2-new", &u.id, false, 300, Journal::NONE)
        .await
        .unwrap();
    assert_eq!(declined.status, InvitationStatus::Declined);
    assert_eq!(s.member_role(&o2.id, &u.id).await.unwrap(), None);
    // After an answer, or once lapsed, a new invitation may be made.
    s.create_invitation(&new_invitation("i3", &o2.id, &u.id, 500), Journal::NONE)
        .await
        .unwrap();
    s.create_invitation(&new_invitation("i4", &o2.id, &other.id, 500), Journal::NONE)
        .await
        .unwrap();
    s.create_invitation(
        &new_invitation("i5", &o2.id, &other.id, 1_600),
        Journal::NONE,
    )
    .await
    .unwrap();
    let theirs = s.user_invitations(&other.id, 1_600).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].0.id, "i5");
    // Unknown organisation or user.
    assert_conflict(
        s.create_invitation(
            &new_invitation("i6", "no-such-org", &u.id, 500),
            Journal::NONE,
        )
        .await,
    );
    assert_conflict(
        s.create_invitation(
            &new_invitation("i7", &o.id, "no-such-user", 500),
            Journal::NONE,
        )
        .await,
    );
}
