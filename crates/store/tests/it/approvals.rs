//! The storage contract for approvals, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ids::{ApprovalId, OrgId};
#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_approvals,
        check_decided_history,
    ],
    db: [
    ],
}

async fn check_approvals(s: &dyn Store) {
    let o = mk_org(s, "ap").await;
    let a = portal_core::model::Approval {
        id: "a1".into(),
        org_id: o.id.clone(),
        requester: "user:u1".into(),
        tool_name: "stopInstance".into(),
        risk: Risk::Confirm,
        args_hash: "h1".into(),
        args_redacted: "{}".into(),
        tool_call_id: Some("tc1".into()),
        status: ApprovalStatus::Pending,
        decided_by: None,
        reason: None,
        created_at: 1_000,
        expires_at: 2_000,
        decided_at: None,
        consumed_at: None,
        four_eyes: true,
        args_sealed: Some("sealed-hex".into()),
    };
    assert_eq!(
        s.create_approval(&a, 1_000, Journal::NONE)
            .await
            .unwrap()
            .id,
        "a1"
    );
    let stored = s
        .get_approval(&o.id, &ApprovalId::from("a1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.four_eyes, stored.args_sealed.as_deref()),
        (true, Some("sealed-hex")),
        "the four-eyes flag and the sealed arguments round-trip"
    );
    // An identical pending request wins the race: the stored one comes back.
    let dup = portal_core::model::Approval {
        id: "a2".into(),
        ..a.clone()
    };
    assert_eq!(
        s.create_approval(&dup, 1_000, Journal::NONE)
            .await
            .unwrap()
            .id,
        "a1"
    );
    assert_eq!(
        s.open_approval(&o.id, "user:u1", "stopInstance", "h1", 1_500)
            .await
            .unwrap()
            .unwrap()
            .id,
        "a1"
    );
    assert!(
        s.open_approval(&o.id, "user:u2", "stopInstance", "h1", 1_500)
            .await
            .unwrap()
            .is_none(),
        "bound to the requester"
    );
    assert!(
        s.open_approval(&o.id, "user:u1", "stopInstance", "h2", 1_500)
            .await
            .unwrap()
            .is_none(),
        "bound to the arguments"
    );
    assert!(
        s.open_approval(&o.id, "user:u1", "stopInstance", "h1", 2_000)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert_eq!(
        s.approval_by_tool_call(&o.id, "user:u1", "tc1")
            .await
            .unwrap()
            .unwrap()
            .id,
        "a1"
    );
    assert!(
        s.get_approval(&OrgId::from("other-org"), &ApprovalId::from("a1"))
            .await
            .unwrap()
            .is_none(),
        "tenancy"
    );
    let page = s.list_pending_approvals(&o.id, 1_500, 10, 0).await.unwrap();
    assert_eq!((page.items.len(), page.total), (1, 1));
    assert_eq!(
        s.count_pending_approvals_of(&o.id, "user:u1", 1_500)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.count_pending_approvals_of(&o.id, "user:u2", 1_500)
            .await
            .unwrap(),
        0,
        "counted per requester"
    );
    assert_eq!(
        s.count_pending_approvals_of(&OrgId::from("other-org"), "user:u1", 1_500)
            .await
            .unwrap(),
        0,
        "tenancy"
    );
    assert_eq!(s.count_pending_approvals(1_500).await.unwrap(), 1);
    assert_eq!(
        s.oldest_pending_approval(1_500).await.unwrap(),
        Some(1_000),
        "the oldest pending approval's age feeds a gauge"
    );
    assert_eq!(
        s.oldest_pending_approval(2_500).await.unwrap(),
        None,
        "an expired approval is not pending"
    );
    // Single-use: not before approval, once after, never twice; only the requester.
    assert!(!s
        .consume_approval(&o.id, &ApprovalId::from("a1"), "user:u1", 1_500)
        .await
        .unwrap());
    assert!(!s
        .decide_approval(
            &OrgId::from("other-org"),
            &ApprovalId::from("a1"),
            true,
            "user:boss",
            None,
            1_500,
            Journal::NONE
        )
        .await
        .unwrap());
    assert!(s
        .decide_approval(
            &o.id,
            &ApprovalId::from("a1"),
            true,
            "user:boss",
            Some("ok"),
            1_500,
            Journal::NONE
        )
        .await
        .unwrap());
    assert!(
        !s.decide_approval(
            &o.id,
            &ApprovalId::from("a1"),
            false,
            "user:boss",
            None,
            1_500,
            Journal::NONE
        )
        .await
        .unwrap(),
        "decided once"
    );
    assert!(!s
        .consume_approval(&o.id, &ApprovalId::from("a1"), "user:u2", 1_600)
        .await
        .unwrap());
    assert!(s
        .consume_approval(&o.id, &ApprovalId::from("a1"), "user:u1", 1_600)
        .await
        .unwrap());
    assert!(!s
        .consume_approval(&o.id, &ApprovalId::from("a1"), "user:u1", 1_700)
        .await
        .unwrap());
    let spent = s
        .get_approval(&o.id, &ApprovalId::from("a1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            spent.status.as_str(),
            spent.decided_by.as_deref(),
            spent.consumed_at
        ),
        ("consumed", Some("user:boss"), Some(1_600))
    );
    // An expired pending request makes way for a new one.
    let b = portal_core::model::Approval {
        id: "b1".into(),
        tool_call_id: None,
        args_hash: "h3".into(),
        ..a.clone()
    };
    s.create_approval(&b, 1_000, Journal::NONE).await.unwrap();
    let c = portal_core::model::Approval {
        id: "c1".into(),
        created_at: 3_000,
        expires_at: 4_000,
        ..b.clone()
    };
    assert_eq!(
        s.create_approval(&c, 3_000, Journal::NONE)
            .await
            .unwrap()
            .id,
        "c1"
    );
    assert_eq!(
        s.get_approval(&o.id, &ApprovalId::from("b1"))
            .await
            .unwrap()
            .unwrap()
            .status,
        "expired"
    );
    assert!(!s
        .decide_approval(
            &o.id,
            &ApprovalId::from("b1"),
            true,
            "user:boss",
            None,
            3_000,
            Journal::NONE
        )
        .await
        .unwrap());
}

async fn check_decided_history(s: &dyn Store) {
    let o = mk_org(s, "dh").await;
    let other = mk_org(s, "dx").await;
    let base = portal_core::model::Approval {
        id: ApprovalId::from(String::new()),
        org_id: o.id.clone(),
        requester: "user:u1".into(),
        tool_name: "stopInstance".into(),
        risk: Risk::Confirm,
        args_hash: String::new(),
        args_redacted: "{}".into(),
        tool_call_id: None,
        status: ApprovalStatus::Pending,
        decided_by: None,
        reason: None,
        created_at: 1_000,
        expires_at: 9_000,
        decided_at: None,
        consumed_at: None,
        four_eyes: false,
        args_sealed: None,
    };
    for (id, org) in [
        ("d1", &o.id),
        ("d2", &o.id),
        ("d3", &o.id),
        ("d4", &o.id),
        ("x1", &other.id),
    ] {
        let a = portal_core::model::Approval {
            id: id.into(),
            org_id: org.clone(),
            args_hash: format!("h-{id}"),
            ..base.clone()
        };
        s.create_approval(&a, 1_000, Journal::NONE).await.unwrap();
    }
    assert!(
        s.list_decided_approvals(&o.id, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing decided yet"
    );
    // d1 approved then spent, d3 rejected later, d2 approved last; d4 stays pending;
    // the other organisation's decision never shows.
    for (org, id, approve, at) in [
        (&o.id, "d1", true, 2_000),
        (&o.id, "d3", false, 3_000),
        (&other.id, "x1", true, 3_500),
        (&o.id, "d2", true, 4_000),
    ] {
        assert!(s
            .decide_approval(
                org,
                &ApprovalId::from(id),
                approve,
                "user:boss",
                None,
                at,
                Journal::NONE
            )
            .await
            .unwrap());
    }
    assert!(s
        .consume_approval(&o.id, &ApprovalId::from("d1"), "user:u1", 2_500)
        .await
        .unwrap());
    let ids =
        |v: Vec<portal_core::model::Approval>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_decided_approvals(&o.id, 10).await.unwrap()),
        ["d2", "d3", "d1"],
        "most recently decided first, spent ones included, pending and other orgs' excluded"
    );
    assert_eq!(
        ids(s.list_decided_approvals(&o.id, 2).await.unwrap()),
        ["d2", "d3"]
    );
    assert_eq!(
        ids(s.list_decided_approvals(&other.id, 10).await.unwrap()),
        ["x1"]
    );
}
