//! The session's active turn and stop requests, on every backend: only an
//! unfinished turn is active, its first event is found, a stop request is
//! seen by the turn's runner, and another organisation sees none of it.

use crate::support;

use portal_core::ids::{OrgId, SessionId};
use std::sync::Arc;

use portal_core::model::{ChatEvent, ChatSession, ChatTurn, TurnStatus};
use portal_core::Store;

async fn setup(s: &dyn Store, org: &str, session: &str) {
    s.create_org(org, org, org, 1).await.expect("org");
    s.create_chat_session(&ChatSession {
        id: session.into(),
        org_id: org.into(),
        principal_id: "user:alice".into(),
        title: None,
        model: "m".into(),
        status: "active".into(),
        message_count: 0,
        created_at: 1,
        updated_at: 1,
    })
    .await
    .expect("session");
}

fn turn(id: &str, org: &str, session: &str, status: &str) -> ChatTurn {
    ChatTurn {
        id: id.into(),
        org_id: org.into(),
        session_id: session.into(),
        principal_id: "user:alice".into(),
        status: TurnStatus::parse(status).expect("a turn status"),
        approval_id: None,
        state: format!("{{\"turn\":\"{id}\"}}"),
        lease_owner: Some("r1".into()),
        lease_until: 1_000,
        created_at: 2,
        updated_at: 2,
    }
}

fn event(session: &str, turn: &str, seq: i64) -> ChatEvent {
    ChatEvent {
        session_id: session.into(),
        seq,
        turn_id: turn.into(),
        body: format!("{{\"n\":{seq}}}"),
        created_at: 3,
    }
}

async fn check_active_turn_and_stop(s: Arc<dyn Store>) {
    setup(s.as_ref(), "o1", "c1").await;
    setup(s.as_ref(), "o2", "x1").await;
    assert_eq!(
        s.active_chat_turn(&OrgId::from("o1"), &SessionId::from("c1"))
            .await
            .unwrap(),
        None
    );

    // A finished turn with events, then the active one.
    let mut old = turn("t1", "o1", "c1", "running");
    s.create_chat_turn(&old).await.unwrap();
    s.append_chat_events(&[event("c1", "t1", 1), event("c1", "t1", 2)])
        .await
        .unwrap();
    old.status = TurnStatus::Done;
    assert!(s.save_chat_turn(&old, "r1", 0, 4).await.unwrap());
    assert_eq!(
        s.active_chat_turn(&OrgId::from("o1"), &SessionId::from("c1"))
            .await
            .unwrap(),
        None
    );
    s.create_chat_turn(&turn("t2", "o1", "c1", "running"))
        .await
        .unwrap();
    let fresh = s
        .active_chat_turn(&OrgId::from("o1"), &SessionId::from("c1"))
        .await
        .unwrap()
        .expect("active");
    assert_eq!((fresh.id.as_str(), fresh.first_event), ("t2", None));
    s.append_chat_events(&[event("c1", "t2", 3), event("c1", "t2", 4)])
        .await
        .unwrap();
    let active = s
        .active_chat_turn(&OrgId::from("o1"), &SessionId::from("c1"))
        .await
        .unwrap()
        .expect("active");
    assert_eq!(active.id, "t2");
    assert_eq!(active.status, "running");
    assert_eq!(active.state, "{\"turn\":\"t2\"}");
    assert_eq!(active.first_event, Some(3));
    assert!(!active.stop_requested);
    assert_eq!(
        s.active_chat_turn(&OrgId::from("o2"), &SessionId::from("c1"))
            .await
            .unwrap(),
        None,
        "tenancy"
    );

    // A stop request: only by the turn's organisation, seen by its runner.
    assert!(!s
        .request_chat_turn_stop(&OrgId::from("o2"), "t2", 5)
        .await
        .unwrap());
    assert!(!s
        .chat_turn_stop_requested(&OrgId::from("o1"), "t2")
        .await
        .unwrap());
    assert!(s
        .request_chat_turn_stop(&OrgId::from("o1"), "t2", 5)
        .await
        .unwrap());
    assert!(s
        .chat_turn_stop_requested(&OrgId::from("o1"), "t2")
        .await
        .unwrap());
    assert!(!s
        .chat_turn_stop_requested(&OrgId::from("o2"), "t2")
        .await
        .unwrap());
    assert!(s
        .active_chat_turn(&OrgId::from("o1"), &SessionId::from("c1"))
        .await
        .unwrap()
        .is_some_and(|t| t.stop_requested));
    // Its runner can still record how it ended; a finished turn takes no stop.
    let mut t2 = turn("t2", "o1", "c1", "done");
    t2.state = "{}".into();
    assert!(s.save_chat_turn(&t2, "r1", 0, 6).await.unwrap());
    assert!(!s
        .request_chat_turn_stop(&OrgId::from("o1"), "t2", 7)
        .await
        .unwrap());
    assert!(!s
        .request_chat_turn_stop(&OrgId::from("o1"), "nope", 7)
        .await
        .unwrap());
}

on_both_backends!(check_active_turn_and_stop);
