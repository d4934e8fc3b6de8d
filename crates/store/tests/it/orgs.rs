//! The storage contract for orgs, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ids::{OrgId, UserId};
#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_orgs,
        check_admin_exists_platform_admin,
        check_bootstrap_once,
        check_bootstrap_after_other_admin,
        check_password_sign_in_per_org,
    ],
    db: [
        check_concurrent_bootstraps,
    ],
}

async fn check_orgs(s: &dyn Store) {
    let o = s
        .create_org("o-1", "acme", "Acme Corp", 1_000)
        .await
        .unwrap();
    assert_eq!(
        o,
        Org {
            id: "o-1".into(),
            slug: "acme".into(),
            name: "Acme Corp".into(),
            four_eyes: true,
            allowed_compartments: Vec::new(),
            password_sign_in: true,
            created_at: 1_000
        }
    );
    assert_conflict(s.create_org("o-2", "acme", "Other", 1_000).await);
    assert_conflict(s.create_org("o-1", "other-slug", "Other", 1_000).await);

    assert_eq!(s.org_by_slug("acme").await.unwrap(), Some(o.clone()));
    assert_eq!(s.org_by_id("o-1").await.unwrap(), Some(o.clone()));
    assert!(s.org_by_slug("nope").await.unwrap().is_none());
    assert!(s.org_by_id("nope").await.unwrap().is_none());

    // Listed by slug in byte order ("a-c" < "ab" < "acme" < "b"), whatever the collation.
    s.create_org("o-3", "b", "B", 1_000).await.unwrap();
    s.create_org("o-4", "ab", "AB", 1_000).await.unwrap();
    s.create_org("o-5", "a-c", "A-C", 1_000).await.unwrap();
    let slugs: Vec<String> = s
        .list_orgs()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.slug)
        .collect();
    assert_eq!(slugs, ["a-c", "ab", "acme", "b"]);

    // Four-eyes.
    s.set_org_four_eyes(&OrgId::from("o-1"), false, Journal::NONE)
        .await
        .unwrap();
    assert!(!s.org_by_id("o-1").await.unwrap().unwrap().four_eyes);
    s.set_org_four_eyes(&OrgId::from("o-1"), true, Journal::NONE)
        .await
        .unwrap();
    assert!(s.org_by_slug("acme").await.unwrap().unwrap().four_eyes);
    assert_not_found(
        s.set_org_four_eyes(&OrgId::from("nope"), false, Journal::NONE)
            .await,
    );
    // The compartment policy round-trips, and clearing it means no restriction.
    let allowed = vec![
        "ocid1.compartment.oc1..aaaa".to_string(),
        "ocid1.compartment.oc1..bbbb".to_string(),
    ];
    s.set_org_compartments(&OrgId::from("o-1"), &allowed, Journal::NONE)
        .await
        .unwrap();
    assert_eq!(
        s.org_by_id("o-1")
            .await
            .unwrap()
            .unwrap()
            .allowed_compartments,
        allowed
    );
    s.set_org_compartments(&OrgId::from("o-1"), &[], Journal::NONE)
        .await
        .unwrap();
    assert!(s
        .org_by_slug("acme")
        .await
        .unwrap()
        .unwrap()
        .allowed_compartments
        .is_empty());
    assert_not_found(
        s.set_org_compartments(&OrgId::from("nope"), &allowed, Journal::NONE)
            .await,
    );
}

async fn check_admin_exists_platform_admin(s: &dyn Store) {
    assert!(!s.admin_exists().await.unwrap());
    let u = mk_user(s, "p@example.test").await;
    let o = mk_org(s, "o").await;
    s.add_member(&o.id, &u.id, Role::Operator, 1, Journal::NONE)
        .await
        .unwrap();
    assert!(!s.admin_exists().await.unwrap());
    s.set_platform_admin(&u.id, true, 2).await.unwrap();
    assert!(s.admin_exists().await.unwrap());
    s.set_platform_admin(&u.id, false, 3).await.unwrap();
    assert!(!s.admin_exists().await.unwrap());
}

async fn check_bootstrap_once(s: &dyn Store) {
    let (u, o) = s
        .bootstrap_admin(
            &UserId::from("u-first"),
            new_user("first@example.test"),
            &OrgId::from("org-1"),
            "first",
            "First Org",
            5_000,
            Journal::NONE,
        )
        .await
        .unwrap();
    assert_eq!(u.id, "u-first");
    assert!(u.platform_admin);
    assert_eq!(
        (u.email.as_str(), u.created_at),
        ("first@example.test", 5_000)
    );
    assert_eq!(
        o,
        Org {
            id: "org-1".into(),
            slug: "first".into(),
            name: "First Org".into(),
            four_eyes: true,
            allowed_compartments: Vec::new(),
            password_sign_in: true,
            created_at: 5_000
        }
    );
    let (stored, hash) = s
        .user_by_email("first@example.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, u);
    assert_eq!(hash.as_deref(), Some("hash-of-first@example.test"));
    assert_eq!(s.org_by_slug("first").await.unwrap(), Some(o.clone()));
    assert_eq!(
        s.member_role(&o.id, &u.id).await.unwrap(),
        Some(Role::Admin)
    );
    assert_eq!(
        s.user_orgs(&u.id).await.unwrap(),
        vec![(o.clone(), Role::Admin)]
    );
    assert!(s.admin_exists().await.unwrap());

    // A second run is refused and leaves nothing behind.
    assert_conflict(
        s.bootstrap_admin(
            &UserId::from("u-second"),
            new_user("second@example.test"),
            &OrgId::from("org-2"),
            "second",
            "Second",
            6_000,
            Journal::NONE,
        )
        .await,
    );
    assert!(s
        .user_by_email("second@example.test")
        .await
        .unwrap()
        .is_none());
    assert!(s.org_by_id("org-2").await.unwrap().is_none());
    assert_eq!(s.list_orgs().await.unwrap().len(), 1);
}

async fn check_bootstrap_after_other_admin(s: &dyn Store) {
    // A platform admin created another way.
    let mut pa = new_user("cli@example.test");
    pa.platform_admin = true;
    let cli = s.create_user(pa, 1).await.unwrap();
    assert_conflict(
        s.bootstrap_admin(
            &UserId::from("u-x"),
            new_user("x@example.test"),
            &OrgId::from("ox"),
            "x",
            "X",
            2,
            Journal::NONE,
        )
        .await,
    );
    assert!(s.user_by_email("x@example.test").await.unwrap().is_none());
    s.set_platform_admin(&cli.id, false, 3).await.unwrap();

    // A failing bootstrap (slug taken) is rolled back as a whole.
    let taken = s.create_org("taken-id", "taken", "Taken", 4).await.unwrap();
    assert_conflict(
        s.bootstrap_admin(
            &UserId::from("u-y"),
            new_user("y@example.test"),
            &OrgId::from("oy"),
            "taken",
            "Y",
            5,
            Journal::NONE,
        )
        .await,
    );
    assert!(s.user_by_email("y@example.test").await.unwrap().is_none());
    assert!(!s.admin_exists().await.unwrap());

    // An organisation admin created another way.
    s.add_member(&taken.id, &cli.id, Role::Admin, 6, Journal::NONE)
        .await
        .unwrap();
    assert_conflict(
        s.bootstrap_admin(
            &UserId::from("u-z"),
            new_user("z@example.test"),
            &OrgId::from("oz"),
            "z",
            "Z",
            7,
            Journal::NONE,
        )
        .await,
    );
    assert!(s.user_by_email("z@example.test").await.unwrap().is_none());
    assert!(s.org_by_id("oz").await.unwrap().is_none());
}

/// Several first-run setups racing: exactly one wins, the rest are refused
/// and leave nothing behind.
async fn check_concurrent_bootstraps(db: &TestDb) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = db.store.clone();
        tasks.spawn(async move {
            store
                .bootstrap_admin(
                    &UserId::from(format!("u-boot-{i}")),
                    new_user(&format!("boot{i}@example.test")),
                    &OrgId::from(format!("org-{i}")),
                    &format!("boot-{i}"),
                    "Boot",
                    1,
                    Journal::NONE,
                )
                .await
        });
    }
    let mut won = 0;
    while let Some(r) = tasks.join_next().await {
        match r.expect("task") {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(won, 1);
    let s = db.store();
    assert_eq!(s.list_orgs().await.unwrap().len(), 1);
    let mut users = 0;
    for i in 0..8 {
        users += s
            .user_by_email(&format!("boot{i}@example.test"))
            .await
            .unwrap()
            .is_some() as usize;
    }
    assert_eq!(users, 1);
}

async fn check_password_sign_in_per_org(s: &dyn Store) {
    let a = mk_org(s, "o-a").await;
    let b = mk_org(s, "o-b").await;
    assert!(a.password_sign_in, "on by default");
    let u = mk_user(s, "pw@example.test").await;
    let loner = mk_user(s, "loner@example.test").await;
    for o in [&a, &b] {
        s.add_member(
            &o.id,
            &u.id,
            portal_core::rbac::Role::Viewer,
            1_000,
            Journal::NONE,
        )
        .await
        .unwrap();
    }
    assert_eq!(s.password_sign_in_refused_by(&u.id).await.unwrap(), None);
    s.set_org_password_sign_in(&b.id, false, Journal::NONE)
        .await
        .unwrap();
    assert!(!s.org_by_id(&b.id).await.unwrap().unwrap().password_sign_in);
    // One of the person's organisations refusing is enough; others' members are untouched.
    assert_eq!(
        s.password_sign_in_refused_by(&u.id).await.unwrap(),
        Some(b.name.clone())
    );
    assert_eq!(
        s.password_sign_in_refused_by(&loner.id).await.unwrap(),
        None
    );
    s.set_org_password_sign_in(&b.id, true, Journal::NONE)
        .await
        .unwrap();
    assert_eq!(s.password_sign_in_refused_by(&u.id).await.unwrap(), None);
    assert_not_found(
        s.set_org_password_sign_in(&OrgId::from("nope"), false, Journal::NONE)
            .await,
    );
}
