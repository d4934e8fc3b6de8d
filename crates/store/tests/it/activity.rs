//! The storage contract for activity, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ids::OrgId;
#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;

contract! {
    store: [
        check_activity,
        check_execution_finish,
    ],
    db: [
    ],
}

/// A `running` execution is finished once, with its event in the same
/// transaction; the sweep finds only stale `running` ones.
async fn check_execution_finish(s: &dyn Store) {
    let o = mk_org(s, "ex").await;
    let other = mk_org(s, "ex2").await;
    let run = act(
        "r1",
        &o.id,
        "user:a",
        "stopInstance",
        "running",
        100,
        None,
        None,
    );
    s.record_activity(&run, Journal::NONE).await.unwrap();
    let late = act(
        "r2",
        &other.id,
        "user:b",
        "stopInstance",
        "running",
        500,
        None,
        None,
    );
    s.record_activity(&late, Journal::NONE).await.unwrap();
    assert_eq!(
        s.stale_executions(400, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec!["r1".to_string()],
        "only those started before the cut-off"
    );
    let done = Activity {
        status: ExecutionStatus::Success,
        duration_ms: Some(42),
        ..run.clone()
    };
    let k = keys();
    assert!(s
        .finish_execution(&done, &outcome(&k, &done, 150))
        .await
        .unwrap());
    assert!(
        !s.finish_execution(&done, &outcome(&k, &done, 160))
            .await
            .unwrap(),
        "finished once"
    );
    let wrong_org = Activity {
        org_id: other.id.clone(),
        ..late.clone()
    };
    let wrong_org = Activity {
        id: "r1".into(),
        status: ExecutionStatus::Error,
        ..wrong_org
    };
    assert!(
        !s.finish_execution(&wrong_org, &outcome(&k, &wrong_org, 170))
            .await
            .unwrap(),
        "tenancy"
    );
    let events = s.list_events(&o.id, 0, 10).await.unwrap();
    assert_eq!(events.len(), 1, "one event, written with the outcome");
    assert_eq!(events[0].kind, "tool.executed");
    let page = s.list_activity(&o.id, &activity_filter(10)).await.unwrap();
    assert_eq!(
        (page.items[0].status.as_str(), page.items[0].duration_ms),
        ("success", Some(42))
    );
    assert!(s.stale_executions(400, 10).await.unwrap().is_empty());
    assert!(s.list_events(&other.id, 0, 10).await.unwrap().is_empty());
}

/// The journal the gateway writes with an outcome: its event.
fn outcome<'k>(k: &'k portal_core::crypto::Keys, a: &Activity, now: i64) -> Journal<'k> {
    let mut j = Journal::new(k, None, now);
    j.event(
        &a.org_id,
        portal_core::kinds::EventKind::ToolExecuted,
        &serde_json::json!({"executionId": a.id}),
    );
    j
}

async fn check_activity(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    let rows = vec![
        act(
            "a1",
            &o1.id,
            "user:a",
            "list_instances",
            "success",
            100,
            None,
            Some(12),
        ),
        act(
            "a2",
            &o1.id,
            "user:b",
            "list_instances",
            "error",
            200,
            Some("boom"),
            Some(5),
        ),
        act(
            "a3",
            &o1.id,
            "user:a",
            "stop_instance",
            "denied",
            300,
            None,
            None,
        ),
        act(
            "a4",
            &o1.id,
            "key:c",
            "stop_instance",
            "success",
            300,
            None,
            Some(40),
        ),
        act(
            "a5",
            &o1.id,
            "user:a",
            "list_buckets",
            "pending",
            400,
            None,
            None,
        ),
    ];
    for a in &rows {
        s.record_activity(a, Journal::NONE).await.unwrap();
    }
    let foreign = act(
        "z1",
        &o2.id,
        "user:a",
        "list_instances",
        "success",
        250,
        None,
        None,
    );
    s.record_activity(&foreign, Journal::NONE).await.unwrap();
    assert_conflict(s.record_activity(&rows[0], Journal::NONE).await);
    assert_conflict(
        s.record_activity(
            &act("z9", "no-such-org", "user:a", "t", "success", 1, None, None),
            Journal::NONE,
        )
        .await,
    );

    let ids = |p: Page<Activity>| {
        (
            p.total,
            p.items.into_iter().map(|a| a.id).collect::<Vec<_>>(),
        )
    };
    let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    // Everything, newest first (ties by id), rows intact.
    let page = s.list_activity(&o1.id, &activity_filter(50)).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.items,
        vec![
            rows[4].clone(),
            rows[2].clone(),
            rows[3].clone(),
            rows[1].clone(),
            rows[0].clone()
        ]
    );

    // Filters, alone and combined.
    let f = ActivityFilter {
        tool: Some("list_instances".into()),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (2, v(&["a2", "a1"]))
    );
    let f = ActivityFilter {
        principal: Some("user:a".into()),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (3, v(&["a5", "a3", "a1"]))
    );
    let f = ActivityFilter {
        status: Some("success".into()),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (2, v(&["a4", "a1"]))
    );
    let f = ActivityFilter {
        from: Some(200),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (4, v(&["a5", "a3", "a4", "a2"]))
    );
    let f = ActivityFilter {
        to: Some(300),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (2, v(&["a2", "a1"]))
    );
    let f = ActivityFilter {
        from: Some(200),
        to: Some(400),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (3, v(&["a3", "a4", "a2"]))
    );
    let f = ActivityFilter {
        tool: Some("stop_instance".into()),
        principal: Some("user:a".into()),
        status: Some("denied".into()),
        from: Some(300),
        to: Some(301),
        limit: 50,
        offset: 0,
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (1, v(&["a3"]))
    );
    let f = ActivityFilter {
        tool: Some("nope".into()),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(ids(s.list_activity(&o1.id, &f).await.unwrap()), (0, v(&[])));

    // Paging keeps the total.
    let f = ActivityFilter {
        limit: 2,
        offset: 1,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (5, v(&["a3", "a4"]))
    );
    let f = ActivityFilter {
        principal: Some("user:a".into()),
        limit: 2,
        offset: 2,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_activity(&o1.id, &f).await.unwrap()),
        (3, v(&["a1"]))
    );
    let f = ActivityFilter {
        limit: 0,
        ..Default::default()
    };
    assert_eq!(ids(s.list_activity(&o1.id, &f).await.unwrap()), (5, v(&[])));

    // Organisation scoping.
    let page = s.list_activity(&o2.id, &activity_filter(50)).await.unwrap();
    assert_eq!((page.total, page.items), (1, vec![foreign]));
    assert_eq!(
        ids(s
            .list_activity(&OrgId::from("no-such-org"), &activity_filter(50))
            .await
            .unwrap()),
        (0, v(&[]))
    );
}
