//! The storage contract for chat turns on the job queue: each unfinished turn
//! has a `chat.turn` job that its writes keep in step; a job's claimer takes
//! the turn. Checked identically on every backend (harness:
//! `support/contract.rs`).

use crate::support;
use portal_core::ids::{ApprovalId, SessionId};

#[allow(unused_imports)]
use support::contract::*;

use portal_core::jobs::chat_turn::{self, job_id as chat_turn_job_id};
use portal_core::jobs::{Failure, JobKind, JobState};

contract! {
    store: [
        check_chat_turn_claim,
        check_chat_turn_job_follows_turn,
        check_a_turn_given_up_on_frees_its_session,
    ],
    db: [
        check_chat_turn_claim_concurrent,
    ],
}

/// The turn's job, claimed like any job, and the turn taken by its claimer.
async fn claim_turn(s: &dyn Store, owner: &str, lease_until: i64, now: i64) -> Option<ChatTurn> {
    let job = s
        .claim_job(owner, &[JobKind::ChatTurn], lease_until, now)
        .await
        .unwrap()?;
    let p: chat_turn::Payload = serde_json::from_str(&job.payload).unwrap();
    assert_eq!(job.id, chat_turn_job_id(&p.turn_id));
    s.take_chat_turn(&p.org_id, &p.turn_id, owner, lease_until, now)
        .await
        .unwrap()
}

async fn check_chat_turn_claim(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    for c in ["c1", "c2", "c3", "c4"] {
        mk_chat(s, c, &o1.id).await;
    }
    mk_chat(s, "c5", &o2.id).await;
    // Not claimable: running under a live lease, finished, waiting for approval.
    s.create_chat_turn(&chat_turn("live", &o1.id, "c1", "running"))
        .await
        .unwrap();
    s.create_chat_turn(&chat_turn("done", &o1.id, "c2", "done"))
        .await
        .unwrap();
    s.create_chat_turn(&chat_turn("wait", &o1.id, "c3", "awaiting_approval"))
        .await
        .unwrap();
    assert!(claim_turn(s, "w1", 900, 500).await.is_none());
    assert!(
        claim_turn(s, "w1", 900, 999).await.is_none(),
        "lease holds until its end"
    );
    // Nothing to take for a turn that waits or ended, even by its job's holder.
    for id in ["done", "wait"] {
        assert!(s
            .take_chat_turn(&o1.id, id, "w1", 900, 500)
            .await
            .unwrap()
            .is_none());
    }

    // Resumable turns, oldest first, across organisations; each turn only in
    // its own organisation.
    let ra = ChatTurn {
        updated_at: 30,
        ..chat_turn("ra", &o1.id, "c4", "resumable")
    };
    let rb = ChatTurn {
        updated_at: 20,
        ..chat_turn("rb", &o2.id, "c5", "resumable")
    };
    s.create_chat_turn(&ra).await.unwrap();
    s.create_chat_turn(&rb).await.unwrap();
    assert!(s
        .take_chat_turn(&o1.id, "rb", "w1", 900, 500)
        .await
        .unwrap()
        .is_none());
    let got = claim_turn(s, "w1", 900, 500).await.expect("rb");
    assert_eq!(
        got,
        ChatTurn {
            status: TurnStatus::Running,
            lease_owner: Some("w1".into()),
            lease_until: 900,
            updated_at: 500,
            ..rb.clone()
        }
    );
    assert_eq!(s.get_chat_turn(&o2.id, "rb").await.unwrap(), Some(got));
    assert_eq!(claim_turn(s, "w2", 900, 500).await.expect("ra").id, "ra");
    assert!(claim_turn(s, "w3", 900, 500).await.is_none());

    // Lapsed leases (dead replicas) are claimable again: the running turn whose
    // lease ran out, and the jobs whose runners' leases ran out.
    let mut lapsed = Vec::new();
    while let Some(t) = claim_turn(s, "w4", 2_000, 1_001).await {
        assert_eq!(
            (t.status.as_str(), t.lease_owner.as_deref(), t.lease_until),
            ("running", Some("w4"), 2_000)
        );
        lapsed.push(t.id);
    }
    lapsed.sort();
    assert_eq!(lapsed, ["live", "ra", "rb"]);
    // The replica that lost the lease is fenced; the new holder is not.
    let live = s.get_chat_turn(&o1.id, "live").await.unwrap().unwrap();
    assert!(!s.save_chat_turn(&live, "r1", 3_000, 1_100).await.unwrap());
    assert!(!s.save_chat_turn(&ra, "w2", 3_000, 1_100).await.unwrap());
    assert!(s.save_chat_turn(&live, "w4", 3_000, 1_100).await.unwrap());
    // A renewed job lease holds again.
    let job = s.get_job(&chat_turn_job_id("live")).await.unwrap().unwrap();
    assert!(s.renew_job(&job.lease(), 9_000, 1_100).await.unwrap());
    assert!(claim_turn(s, "w5", 9_000, 2_500).await.map(|t| t.id) != Some("live".into()));
    assert_eq!(
        s.get_chat_turn(&o1.id, "live")
            .await
            .unwrap()
            .unwrap()
            .lease_owner
            .as_deref(),
        Some("w4")
    );
}

/// A turn's job follows the turn in the same write: it waits for the lease
/// while the turn runs, moves with each renewal, settles when the turn pauses
/// or ends, and is due at once, with fresh attempts, when its approval is decided.
async fn check_chat_turn_job_follows_turn(s: &dyn Store) {
    let o = mk_org(s, "o1").await;
    mk_chat(s, "c1", &o.id).await;
    let t = chat_turn("t1", &o.id, "c1", "running");
    s.create_chat_turn(&t).await.unwrap();
    let id = chat_turn_job_id("t1");
    let job = s.get_job(&id).await.unwrap().expect("queued with the turn");
    assert_eq!(
        (job.kind, job.state, job.run_after, job.attempts),
        (JobKind::ChatTurn, JobState::Queued, 1_000, 0)
    );
    // A renewal moves it.
    assert!(s.save_chat_turn(&t, "r1", 5_000, 700).await.unwrap());
    assert_eq!(s.get_job(&id).await.unwrap().unwrap().run_after, 5_000);
    // A fenced save moves nothing.
    assert!(!s.save_chat_turn(&t, "r2", 9_000, 800).await.unwrap());
    assert_eq!(s.get_job(&id).await.unwrap().unwrap().run_after, 5_000);
    // Paused: nothing to take over, however long it waits.
    let paused = ChatTurn {
        status: TurnStatus::AwaitingApproval,
        approval_id: Some("ap-1".into()),
        ..t.clone()
    };
    assert!(s.save_chat_turn(&paused, "r1", 5_000, 900).await.unwrap());
    assert_eq!(s.get_job(&id).await.unwrap().unwrap().state, JobState::Done);
    assert!(s
        .claim_job("w", &[JobKind::ChatTurn], 99_000, 90_000)
        .await
        .unwrap()
        .is_none());
    // Decided: due now, attempts reset.
    s.wake_chat_turn(&o.id, &ApprovalId::from("ap-1"), 1_200)
        .await
        .unwrap()
        .expect("woken");
    let job = s.get_job(&id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.run_after, job.attempts),
        (JobState::Queued, 1_200, 0)
    );
    let claimed = s
        .claim_job("w", &[JobKind::ChatTurn], 9_000, 1_200)
        .await
        .unwrap()
        .expect("due");
    assert_eq!(claimed.id, id);
    let taken = s
        .take_chat_turn(&o.id, "t1", "w#1", 9_000, 1_200)
        .await
        .unwrap()
        .expect("taken");
    // Renewals of a turn run under its job leave the claimed job alone.
    assert!(s.save_chat_turn(&taken, "w#1", 9_500, 1_300).await.unwrap());
    let job = s.get_job(&id).await.unwrap().unwrap();
    assert_eq!((job.state, job.run_after), (JobState::Running, 1_200));
    // Ended while the job's runner holds it: the runner records the end.
    let done = ChatTurn {
        status: TurnStatus::Done,
        ..taken.clone()
    };
    assert!(s.save_chat_turn(&done, "w#1", 0, 1_400).await.unwrap());
    assert!(s.complete_job(&claimed.lease(), 1_400).await.unwrap());
    assert_eq!(s.get_job(&id).await.unwrap().unwrap().state, JobState::Done);

    // A superseded turn's job stays settled.
    mk_chat(s, "c2", &o.id).await;
    let w = ChatTurn {
        approval_id: Some("ap-2".into()),
        ..chat_turn("t2", &o.id, "c2", "running")
    };
    s.create_chat_turn(&w).await.unwrap();
    let w = ChatTurn {
        status: TurnStatus::AwaitingApproval,
        ..w
    };
    assert!(s.save_chat_turn(&w, "r1", 1_000, 100).await.unwrap());
    s.supersede_chat_turn(&o.id, &SessionId::from("c2"), 200)
        .await
        .unwrap()
        .expect("superseded");
    assert_eq!(
        s.get_job(&chat_turn_job_id("t2"))
            .await
            .unwrap()
            .unwrap()
            .state,
        JobState::Done
    );
}

/// Many replicas claiming at once: each claimable turn goes to exactly one.
async fn check_chat_turn_claim_concurrent(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    mk_chat(s, "busy", &o.id).await;
    mk_chat(s, "held", &o.id).await;
    s.create_chat_turn(&ChatTurn {
        lease_until: 1_000_000,
        ..chat_turn("busy", &o.id, "busy", "running")
    })
    .await
    .unwrap();
    s.create_chat_turn(&chat_turn("held", &o.id, "held", "awaiting_approval"))
        .await
        .unwrap();
    for round in 0..3 {
        let mut expected = Vec::new();
        for i in 0..5 {
            let id = format!("r{round}-{i}");
            mk_chat(s, &id, &o.id).await;
            s.create_chat_turn(&chat_turn(&id, &o.id, &id, "resumable"))
                .await
                .unwrap();
            expected.push(id);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..20 {
            let store = db.store.clone();
            tasks.spawn(async move {
                let owner = format!("w{w}");
                let got = claim_turn(store.as_ref(), &owner, 100_000, 100).await;
                (owner, got)
            });
        }
        let mut won = Vec::new();
        while let Some(r) = tasks.join_next().await {
            let (owner, got) = r.expect("task");
            if let Some(t) = got {
                assert_eq!(
                    (t.status.as_str(), t.lease_owner.as_deref()),
                    ("running", Some(owner.as_str()))
                );
                won.push((t.id, owner));
            }
        }
        won.sort();
        assert_eq!(
            won.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
            expected,
            "round {round}"
        );
        for (id, owner) in &won {
            let t = s.get_chat_turn(&o.id, id).await.unwrap().unwrap();
            assert_eq!(
                t.lease_owner.as_ref(),
                Some(owner),
                "the stored owner is the one told"
            );
        }
        assert!(claim_turn(s, "late", 100_000, 100).await.is_none());
    }
}

/// A turn whose job died (every attempt to run it failed) no longer holds its
/// session: the next message supersedes it. A turn with a live job does.
async fn check_a_turn_given_up_on_frees_its_session(s: &dyn Store) {
    let o = mk_org(s, "o1").await;
    mk_chat(s, "c1", &o.id).await;
    s.create_chat_turn(&chat_turn("t1", &o.id, "c1", "running"))
        .await
        .unwrap();
    assert!(
        s.supersede_chat_turn(&o.id, &SessionId::from("c1"), 500)
            .await
            .unwrap()
            .is_none(),
        "running, its job alive"
    );
    let job = s
        .claim_job("w", &[JobKind::ChatTurn], 2_000, 1_001)
        .await
        .unwrap()
        .expect("lapsed");
    assert_eq!(
        s.fail_job(&job.lease(), "broken", Failure::Permanent, 1_100)
            .await
            .unwrap(),
        Some(JobState::Dead)
    );
    let ended = s
        .supersede_chat_turn(&o.id, &SessionId::from("c1"), 1_200)
        .await
        .unwrap()
        .expect("given up on");
    assert_eq!((ended.id.as_str(), ended.status.as_str()), ("t1", "failed"));
    s.create_chat_turn(&chat_turn("t2", &o.id, "c1", "running"))
        .await
        .expect("the session takes a new turn");
}
