//! The storage contract for members, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ids::{OrgId, UserId};
#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_membership,
        check_user_orgs_order,
    ],
    db: [
        check_concurrent_demotions_keep_an_admin,
    ],
}

async fn check_membership(s: &dyn Store) {
    let a = mk_user(s, "a@example.test").await;
    let b = mk_user(s, "b@example.test").await;
    let c = mk_user(s, "c@example.test").await;
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;

    assert!(!s.admin_exists().await.unwrap());
    s.add_member(&o1.id, &a.id, Role::Admin, 100, Journal::NONE)
        .await
        .unwrap();
    assert!(s.admin_exists().await.unwrap());
    assert_conflict(
        s.add_member(&o1.id, &a.id, Role::Viewer, 100, Journal::NONE)
            .await,
    );
    // Unknown organisation or user: the foreign key refuses.
    assert_conflict(
        s.add_member(
            &OrgId::from("no-such-org"),
            &a.id,
            Role::Viewer,
            100,
            Journal::NONE,
        )
        .await,
    );
    assert_conflict(
        s.add_member(
            &o1.id,
            &UserId::from("no-such-user"),
            Role::Viewer,
            100,
            Journal::NONE,
        )
        .await,
    );

    s.add_member(&o1.id, &b.id, Role::Viewer, 110, Journal::NONE)
        .await
        .unwrap();
    assert_eq!(
        s.member_role(&o1.id, &a.id).await.unwrap(),
        Some(Role::Admin)
    );
    assert_eq!(
        s.member_role(&o1.id, &b.id).await.unwrap(),
        Some(Role::Viewer)
    );
    assert_eq!(s.member_role(&o1.id, &c.id).await.unwrap(), None);
    assert_eq!(s.member_role(&o2.id, &a.id).await.unwrap(), None);

    let members = s.list_members(&o1.id).await.unwrap();
    assert_eq!(
        members,
        vec![
            Member {
                user: a.clone(),
                role: Role::Admin,
                joined_at: 100
            },
            Member {
                user: b.clone(),
                role: Role::Viewer,
                joined_at: 110
            },
        ]
    );
    assert!(s.list_members(&o2.id).await.unwrap().is_empty());

    // Role changes.
    s.set_member_role(&o1.id, &b.id, Role::Operator, Journal::NONE)
        .await
        .unwrap();
    assert_eq!(
        s.member_role(&o1.id, &b.id).await.unwrap(),
        Some(Role::Operator)
    );
    assert_not_found(
        s.set_member_role(&o1.id, &c.id, Role::Viewer, Journal::NONE)
            .await,
    );
    assert_not_found(
        s.set_member_role(
            &OrgId::from("no-such-org"),
            &a.id,
            Role::Viewer,
            Journal::NONE,
        )
        .await,
    );

    // The last admin can neither be demoted nor removed ...
    assert_conflict(
        s.set_member_role(&o1.id, &a.id, Role::Operator, Journal::NONE)
            .await,
    );
    assert_conflict(
        s.set_member_role(&o1.id, &a.id, Role::Viewer, Journal::NONE)
            .await,
    );
    assert_conflict(s.remove_member(&o1.id, &a.id, Journal::NONE).await);
    assert_eq!(
        s.member_role(&o1.id, &a.id).await.unwrap(),
        Some(Role::Admin)
    );
    // ... but may be "changed" to admin again.
    s.set_member_role(&o1.id, &a.id, Role::Admin, Journal::NONE)
        .await
        .unwrap();
    // An admin of another organisation does not count.
    s.add_member(&o2.id, &c.id, Role::Admin, 120, Journal::NONE)
        .await
        .unwrap();
    assert_conflict(
        s.set_member_role(&o1.id, &a.id, Role::Viewer, Journal::NONE)
            .await,
    );

    assert_not_found(s.remove_member(&o1.id, &c.id, Journal::NONE).await);
    assert_not_found(
        s.remove_member(&OrgId::from("no-such-org"), &c.id, Journal::NONE)
            .await,
    );

    // With a second admin, the first may step down; then the second is the last one.
    s.set_member_role(&o1.id, &b.id, Role::Admin, Journal::NONE)
        .await
        .unwrap();
    s.set_member_role(&o1.id, &a.id, Role::Viewer, Journal::NONE)
        .await
        .unwrap();
    assert_conflict(
        s.set_member_role(&o1.id, &b.id, Role::Operator, Journal::NONE)
            .await,
    );
    assert_conflict(s.remove_member(&o1.id, &b.id, Journal::NONE).await);
    s.remove_member(&o1.id, &a.id, Journal::NONE).await.unwrap();
    assert_eq!(s.member_role(&o1.id, &a.id).await.unwrap(), None);
    assert_not_found(s.remove_member(&o1.id, &a.id, Journal::NONE).await);
    // Removing a non-admin member is always fine.
    s.add_member(&o1.id, &c.id, Role::Operator, 130, Journal::NONE)
        .await
        .unwrap();
    s.remove_member(&o1.id, &c.id, Journal::NONE).await.unwrap();
    let left: Vec<_> = s
        .list_members(&o1.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user.id, m.role))
        .collect();
    assert_eq!(left, vec![(b.id.clone(), Role::Admin)]);
}

async fn check_user_orgs_order(s: &dyn Store) {
    let u = mk_user(s, "u@example.test").await;
    let other = mk_user(s, "other@example.test").await;
    let x = s.create_org("ox", "x-org", "X", 1).await.unwrap();
    let y = s.create_org("oy", "y-org", "Y", 1).await.unwrap();
    let z = s.create_org("oz", "z-org", "Z", 1).await.unwrap();
    s.add_member(&x.id, &u.id, Role::Viewer, 100, Journal::NONE)
        .await
        .unwrap();
    s.add_member(&y.id, &u.id, Role::Admin, 300, Journal::NONE)
        .await
        .unwrap();
    s.add_member(&z.id, &u.id, Role::Operator, 200, Journal::NONE)
        .await
        .unwrap();
    s.add_member(&x.id, &other.id, Role::Admin, 999, Journal::NONE)
        .await
        .unwrap();
    assert!(s
        .user_orgs(&UserId::from("nobody"))
        .await
        .unwrap()
        .is_empty());

    let order = |v: Vec<(Org, Role)>| v.into_iter().map(|(o, r)| (o.slug, r)).collect::<Vec<_>>();
    assert_eq!(
        order(s.user_orgs(&u.id).await.unwrap()),
        vec![
            ("y-org".into(), Role::Admin),
            ("z-org".into(), Role::Operator),
            ("x-org".into(), Role::Viewer)
        ]
    );
    // Using an organisation moves it to the front.
    s.touch_membership(&x.id, &u.id, 400).await.unwrap();
    let orgs = s.user_orgs(&u.id).await.unwrap();
    assert_eq!(orgs[0], (x.clone(), Role::Viewer));
    assert_eq!(
        order(orgs),
        vec![
            ("x-org".into(), Role::Viewer),
            ("y-org".into(), Role::Admin),
            ("z-org".into(), Role::Operator)
        ]
    );
    // Ties are broken by slug.
    s.touch_membership(&z.id, &u.id, 400).await.unwrap();
    assert_eq!(
        order(s.user_orgs(&u.id).await.unwrap()),
        vec![
            ("x-org".into(), Role::Viewer),
            ("z-org".into(), Role::Operator),
            ("y-org".into(), Role::Admin)
        ]
    );
    // Touching a non-membership is a no-op.
    s.touch_membership(&y.id, &other.id, 500).await.unwrap();
    assert_eq!(
        order(s.user_orgs(&other.id).await.unwrap()),
        vec![("x-org".into(), Role::Admin)]
    );
}

/// Two admins demoting each other at the same time must not leave the
/// organisation without one (repeated to give a race a chance to show).
async fn check_concurrent_demotions_keep_an_admin(db: &TestDb) {
    let s = db.store();
    for round in 0..10 {
        let a = mk_user(s, &format!("a{round}@example.test")).await;
        let b = mk_user(s, &format!("b{round}@example.test")).await;
        let o = mk_org(s, &format!("o{round}")).await;
        s.add_member(&o.id, &a.id, Role::Admin, 1, Journal::NONE)
            .await
            .unwrap();
        s.add_member(&o.id, &b.id, Role::Admin, 1, Journal::NONE)
            .await
            .unwrap();
        let (s1, s2) = (db.store.clone(), db.store.clone());
        let (oa, ob) = (o.id.clone(), o.id.clone());
        let (ua, ub) = (a.id.clone(), b.id.clone());
        let t1 = tokio::spawn(async move {
            s1.set_member_role(&oa, &ua, Role::Viewer, Journal::NONE)
                .await
        });
        let t2 = tokio::spawn(async move {
            if round % 2 == 0 {
                s2.set_member_role(&ob, &ub, Role::Operator, Journal::NONE)
                    .await
            } else {
                s2.remove_member(&ob, &ub, Journal::NONE).await
            }
        });
        let (r1, r2) = (t1.await.unwrap(), t2.await.unwrap());
        let ok = [&r1, &r2].iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "exactly one step-down succeeds: {r1:?} {r2:?}");
        assert!(
            matches!(r1, Ok(()) | Err(StoreError::Conflict(_))),
            "{r1:?}"
        );
        assert!(
            matches!(r2, Ok(()) | Err(StoreError::Conflict(_))),
            "{r2:?}"
        );
        let admins = s
            .list_members(&o.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.role == Role::Admin)
            .count();
        assert_eq!(admins, 1);
    }
}
