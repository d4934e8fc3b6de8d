//! The storage contract for chat turns, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;
use portal_core::ids::{ApprovalId, SessionId};

#[allow(unused_imports)]
use support::contract::*;

use portal_core::jobs::chat_turn::job_id as chat_turn_job_id;
use portal_core::jobs::JobKind;

contract! {
    store: [
        check_chat_turns,
        check_chat_turn_wake,
        check_chat_turn_supersede,
    ],
    db: [check_no_turn_holds_an_unknown_status],
}

async fn check_no_turn_holds_an_unknown_status(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    mk_chat(s, "c1", &o.id).await;
    s.create_chat_turn(&chat_turn("t1", &o.id, "c1", "running"))
        .await
        .unwrap();
    let sql = "UPDATE chat_turns SET status = 'paused' WHERE id = 't1'";
    let refused = match &db.raw {
        Raw::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .execute(sql, [])
            .is_err(),
        Raw::Postgres(url) => pg_client(url).await.execute(sql, &[]).await.is_err(),
    };
    assert!(refused, "the schema refuses an unknown turn status");
    let t = s.get_chat_turn(&o.id, "t1").await.unwrap().unwrap();
    assert_eq!(t.status, TurnStatus::Running);
}

async fn check_chat_turns(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    mk_chat(s, "c1", &o1.id).await;
    mk_chat(s, "c2", &o1.id).await;
    mk_chat(s, "x1", &o2.id).await;

    let t1 = chat_turn("t1", &o1.id, "c1", "running");
    s.create_chat_turn(&t1).await.unwrap();
    assert_eq!(
        s.get_chat_turn(&o1.id, "t1").await.unwrap(),
        Some(t1.clone())
    );
    assert!(
        s.get_chat_turn(&o2.id, "t1").await.unwrap().is_none(),
        "tenancy"
    );
    assert!(s.get_chat_turn(&o1.id, "nope").await.unwrap().is_none());

    // One unfinished turn per session.
    for status in ["running", "awaiting_approval", "resumable"] {
        assert_conflict(
            s.create_chat_turn(&chat_turn("t2", &o1.id, "c1", status))
                .await,
        );
    }
    assert_conflict(
        s.create_chat_turn(&chat_turn("t1", &o1.id, "c2", "running"))
            .await,
    );
    s.create_chat_turn(&chat_turn("t2", &o1.id, "c2", "running"))
        .await
        .unwrap();
    // The session must belong to the turn's organisation.
    assert_not_found(
        s.create_chat_turn(&chat_turn("t3", &o1.id, "x1", "running"))
            .await,
    );
    assert_not_found(
        s.create_chat_turn(&chat_turn("t3", &o1.id, "nope", "running"))
            .await,
    );
    // An unknown status cannot be created: `TurnStatus` has no such value,
    // and the schema refuses one (`check_no_turn_holds_an_unknown_status`).

    // Saving is fenced by the lease owner, and scoped to the organisation.
    let paused = ChatTurn {
        status: TurnStatus::AwaitingApproval,
        approval_id: Some("ap-1".into()),
        state: r#"{"pending":"tc1"}"#.into(),
        lease_owner: Some("whatever the caller says".into()),
        ..t1.clone()
    };
    assert!(!s.save_chat_turn(&paused, "r2", 2_000, 50).await.unwrap());
    assert!(!s
        .save_chat_turn(
            &ChatTurn {
                org_id: o2.id.clone(),
                ..paused.clone()
            },
            "r1",
            2_000,
            50
        )
        .await
        .unwrap());
    assert_eq!(
        s.get_chat_turn(&o1.id, "t1").await.unwrap(),
        Some(t1.clone())
    );
    assert!(s.save_chat_turn(&paused, "r1", 2_000, 50).await.unwrap());
    let got = s.get_chat_turn(&o1.id, "t1").await.unwrap().unwrap();
    assert_eq!(
        got,
        ChatTurn {
            lease_owner: Some("r1".into()),
            lease_until: 2_000,
            updated_at: 50,
            ..paused.clone()
        }
    );
    // A status outside the contract cannot be saved: `TurnStatus` has no such
    // value, and the schema refuses one written behind the store's back
    // (`check_no_turn_holds_an_unknown_status`).

    // Finishing releases the lease; a finished turn is never saved again, and
    // frees the session for the next turn.
    let done = ChatTurn {
        status: TurnStatus::Done,
        approval_id: None,
        ..paused.clone()
    };
    assert!(s.save_chat_turn(&done, "r1", 3_000, 60).await.unwrap());
    let got = s.get_chat_turn(&o1.id, "t1").await.unwrap().unwrap();
    assert_eq!(
        (
            got.status.as_str(),
            got.lease_owner,
            got.lease_until,
            got.updated_at
        ),
        ("done", None, 0, 60)
    );
    assert!(!s.save_chat_turn(&paused, "r1", 3_000, 70).await.unwrap());
    assert_eq!(
        s.get_chat_turn(&o1.id, "t1").await.unwrap().unwrap().status,
        "done"
    );
    s.create_chat_turn(&chat_turn("t4", &o1.id, "c1", "running"))
        .await
        .unwrap();
    let failed = ChatTurn {
        status: TurnStatus::Failed,
        ..chat_turn("t4", &o1.id, "c1", "running")
    };
    assert!(s.save_chat_turn(&failed, "r1", 3_000, 80).await.unwrap());
    let got = s.get_chat_turn(&o1.id, "t4").await.unwrap().unwrap();
    assert_eq!(
        (got.status.as_str(), got.lease_owner, got.lease_until),
        ("failed", None, 0)
    );
    s.create_chat_turn(&chat_turn("t5", &o1.id, "c1", "resumable"))
        .await
        .unwrap();
}

async fn check_chat_turn_wake(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    for c in ["c1", "c2"] {
        mk_chat(s, c, &o1.id).await;
    }
    mk_chat(s, "x1", &o2.id).await;
    let waiting = ChatTurn {
        approval_id: Some("ap-1".into()),
        lease_owner: Some("r1".into()),
        lease_until: 5_000,
        ..chat_turn("ta", &o1.id, "c1", "awaiting_approval")
    };
    let running = ChatTurn {
        approval_id: Some("ap-2".into()),
        ..chat_turn("tb", &o1.id, "c2", "running")
    };
    let elsewhere = ChatTurn {
        approval_id: Some("ap-3".into()),
        ..chat_turn("tx", &o2.id, "x1", "awaiting_approval")
    };
    for t in [&waiting, &running, &elsewhere] {
        s.create_chat_turn(t).await.unwrap();
    }

    assert!(
        s.wake_chat_turn(&o2.id, &ApprovalId::from("ap-1"), 70)
            .await
            .unwrap()
            .is_none(),
        "tenancy"
    );
    assert!(
        s.wake_chat_turn(&o1.id, &ApprovalId::from("ap-3"), 70)
            .await
            .unwrap()
            .is_none(),
        "tenancy"
    );
    assert!(s
        .wake_chat_turn(&o1.id, &ApprovalId::from("ap-nope"), 70)
        .await
        .unwrap()
        .is_none());
    assert!(
        s.wake_chat_turn(&o1.id, &ApprovalId::from("ap-2"), 70)
            .await
            .unwrap()
            .is_none(),
        "only turns awaiting approval"
    );
    assert_eq!(
        s.get_chat_turn(&o1.id, "ta").await.unwrap(),
        Some(waiting.clone())
    );
    assert_eq!(
        s.get_chat_turn(&o1.id, "tb").await.unwrap(),
        Some(running.clone())
    );
    assert_eq!(
        s.get_chat_turn(&o2.id, "tx").await.unwrap(),
        Some(elsewhere.clone())
    );

    let woken = s
        .wake_chat_turn(&o1.id, &ApprovalId::from("ap-1"), 77)
        .await
        .unwrap()
        .expect("woken");
    let expected = ChatTurn {
        status: TurnStatus::Resumable,
        lease_owner: None,
        lease_until: 0,
        updated_at: 77,
        ..waiting.clone()
    };
    assert_eq!(woken, expected);
    assert_eq!(s.get_chat_turn(&o1.id, "ta").await.unwrap(), Some(expected));
    assert!(
        s.wake_chat_turn(&o1.id, &ApprovalId::from("ap-1"), 80)
            .await
            .unwrap()
            .is_none(),
        "once"
    );
    // The replica that paused it no longer holds it: its job, due now, must
    // be claimed, and the claimer takes the turn.
    assert!(!s.save_chat_turn(&waiting, "r1", 9_000, 90).await.unwrap());
    let job = s
        .claim_job("r9", &[JobKind::ChatTurn], 9_000, 100)
        .await
        .unwrap()
        .expect("the woken turn's job");
    assert_eq!(job.id, chat_turn_job_id("ta"));
    let claimed = s
        .take_chat_turn(&o1.id, "ta", "r9", 9_000, 100)
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(
        (
            claimed.id.as_str(),
            claimed.status.as_str(),
            claimed.lease_owner.as_deref()
        ),
        ("ta", "running", Some("r9"))
    );
}

async fn check_chat_turn_supersede(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    for c in ["c1", "c2"] {
        mk_chat(s, c, &o1.id).await;
    }
    let waiting = ChatTurn {
        approval_id: Some("ap-1".into()),
        lease_owner: Some("r1".into()),
        lease_until: 5_000,
        ..chat_turn("ta", &o1.id, "c1", "awaiting_approval")
    };
    let running = chat_turn("tb", &o1.id, "c2", "running");
    for t in [&waiting, &running] {
        s.create_chat_turn(t).await.unwrap();
    }
    assert!(
        s.supersede_chat_turn(&o2.id, &SessionId::from("c1"), 50)
            .await
            .unwrap()
            .is_none(),
        "tenancy"
    );
    assert!(
        s.supersede_chat_turn(&o1.id, &SessionId::from("c2"), 50)
            .await
            .unwrap()
            .is_none(),
        "only a turn waiting for an approval"
    );
    let ended = s
        .supersede_chat_turn(&o1.id, &SessionId::from("c1"), 60)
        .await
        .unwrap()
        .expect("superseded");
    assert_eq!(ended.id, "ta");
    assert_eq!(ended.status, "failed");
    assert_eq!(ended.lease_owner, None);
    // A decision arriving afterwards wakes nothing; the session takes a new turn.
    assert!(s
        .wake_chat_turn(&o1.id, &ApprovalId::from("ap-1"), 70)
        .await
        .unwrap()
        .is_none());
    s.create_chat_turn(&chat_turn("tc", &o1.id, "c1", "running"))
        .await
        .unwrap();
    assert!(s
        .supersede_chat_turn(&o1.id, &SessionId::from("c1"), 80)
        .await
        .unwrap()
        .is_none());
}
