//! The storage contract for workflows, checked identically on every backend
//! (harness: `support/contract.rs`): definitions and versions per
//! organisation, and runs changed only at the revision they were read at, with
//! their steps, events, jobs and outbox events in the same transaction.

use crate::support;
use portal_core::ids::ApprovalId;

#[allow(unused_imports)]
use portal_core::journal::Journal;
use support::contract::*;
use support::workflows::*;

use portal_core::jobs::{JobKind, JobState};
use portal_core::workflows::engine::Change;
use portal_core::workflows::model::*;
use serde_json::json;

contract! {
    store: [check_definitions, check_runs_advance_at_their_revision],
    db: [],
}

fn filter() -> WorkflowFilter {
    WorkflowFilter {
        limit: 50,
        ..WorkflowFilter::default()
    }
}

async fn check_definitions(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    let w1 = workflow("w1", &o1.id, "Nightly_Backup 100%", "ops", 10);
    s.create_workflow(&w1, Journal::NONE).await.unwrap();
    s.create_workflow(
        &workflow("w2", &o1.id, "Scale web", "web", 20),
        Journal::NONE,
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_workflow(&o1.id, "w1").await.unwrap(),
        Some(w1.clone())
    );
    assert!(
        s.get_workflow(&o2.id, "w1").await.unwrap().is_none(),
        "tenancy"
    );
    assert_eq!(s.list_workflows(&o2.id, &filter()).await.unwrap().total, 0);

    let page = s.list_workflows(&o1.id, &filter()).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["w2", "w1"], "most recently changed first");
    let find = |search: &str| {
        let mut f = filter();
        f.search = Some(search.into());
        f
    };
    // Case-insensitive, with LIKE's wildcards taken literally.
    assert_eq!(
        s.list_workflows(&o1.id, &find("backup 1"))
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        s.list_workflows(&o1.id, &find("100%")).await.unwrap().total,
        1
    );
    assert_eq!(s.list_workflows(&o1.id, &find("_")).await.unwrap().total, 1);
    assert_eq!(s.list_workflows(&o1.id, &find("%")).await.unwrap().total, 1);
    let mut by_tag = filter();
    by_tag.tag = Some("web".into());
    assert_eq!(
        s.list_workflows(&o1.id, &by_tag).await.unwrap().items[0].id,
        "w2"
    );

    // Saves are fenced by the last change they read.
    let mut edited = w1.clone();
    edited.definition.name = "Renamed".into();
    edited.updated_at = 30;
    assert!(
        !s.save_workflow(&edited, 9, Journal::NONE).await.unwrap(),
        "stale"
    );
    assert!(s.save_workflow(&edited, 10, Journal::NONE).await.unwrap());
    assert_eq!(
        s.get_workflow(&o1.id, "w1")
            .await
            .unwrap()
            .unwrap()
            .definition
            .name,
        "Renamed"
    );

    // Publishing freezes a version; the same number twice is a conflict.
    let mut published = edited.clone();
    published.status = WorkflowStatus::Published;
    published.version = 1;
    published.updated_at = 40;
    let v1 = WorkflowVersion {
        workflow_id: "w1".into(),
        org_id: o1.id.clone(),
        version: 1,
        definition: edited.definition.clone(),
        published_by: "user:u1".into(),
        created_at: 40,
    };
    s.publish_workflow(&published, &v1, Journal::NONE)
        .await
        .unwrap();
    assert_conflict(s.publish_workflow(&published, &v1, Journal::NONE).await);
    assert_eq!(
        s.get_workflow_version(&o1.id, "w1", 1).await.unwrap(),
        Some(v1.clone())
    );
    assert!(s
        .get_workflow_version(&o2.id, "w1", 1)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.list_workflow_versions(&o1.id, "w1").await.unwrap(),
        vec![v1]
    );

    assert!(
        !s.delete_workflow(&o2.id, "w1", Journal::NONE)
            .await
            .unwrap(),
        "tenancy"
    );
    assert!(s
        .delete_workflow(&o1.id, "w1", Journal::NONE)
        .await
        .unwrap());
    assert!(s
        .get_workflow_version(&o1.id, "w1", 1)
        .await
        .unwrap()
        .is_none());
}

async fn check_runs_advance_at_their_revision(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    let mut w = workflow("w1", &o1.id, "W", "t", 1);
    w.status = WorkflowStatus::Published;
    w.version = 1;
    s.create_workflow(&w, Journal::NONE).await.unwrap();
    let def = w.definition.clone();
    let mut c = Change::new(&def, new_run(&o1.id, 5), Vec::new(), 5);
    c.start("in");
    let a = c.into_advance();
    s.create_workflow_run(&a).await.unwrap();
    assert!(
        s.get_workflow_run(&o2.id, "r1").await.unwrap().is_none(),
        "tenancy"
    );
    let run = s.get_workflow_run(&o1.id, "r1").await.unwrap().unwrap();
    assert_eq!(run.principal, a.run.principal);
    let steps = s.list_workflow_steps(&o1.id, "r1").await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].status, StepStatus::Pending);
    let job = s.get_job(&a.jobs[0].id).await.unwrap().unwrap();
    assert_eq!(
        (job.kind, job.state),
        (JobKind::WorkflowStep, JobState::Queued)
    );
    let outbox = s.list_events(&o1.id, 0, 100).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].kind, "workflow.run.started");

    // Two writers read revision 0; only the first one's change lands.
    let mut first = Change::new(&def, run.clone(), steps.clone(), 6);
    first.begin("in");
    first.complete("in", json!({"x": 1}));
    let first = first.into_advance();
    let mut second = Change::new(&def, run.clone(), steps.clone(), 6);
    second.cancel("user:u2");
    let second = second.into_advance();
    assert!(s.advance_workflow_run(&first, Journal::NONE).await.unwrap());
    assert!(
        !s.advance_workflow_run(&second, Journal::NONE)
            .await
            .unwrap(),
        "stale revision"
    );
    let run = s.get_workflow_run(&o1.id, "r1").await.unwrap().unwrap();
    assert_eq!((run.rev, run.status), (1, RunStatus::Running));
    let events = s.list_run_events(&o1.id, "r1", 0, 100).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["run.started", "step.started", "step.completed"]);
    assert_eq!(
        s.list_run_events(&o1.id, "r1", 2, 100).await.unwrap().len(),
        1
    );
    assert!(s
        .list_run_events(&o2.id, "r1", 0, 100)
        .await
        .unwrap()
        .is_empty());
    let steps = s.list_workflow_steps(&o1.id, "r1").await.unwrap();
    let ok = steps.iter().find(|x| x.node_id == "ok").unwrap();
    assert_eq!(ok.status, StepStatus::Pending, "the next step became due");
    assert_eq!(
        s.list_events(&o1.id, 0, 100).await.unwrap().len(),
        1,
        "no cancel event"
    );

    // A step parked on a tool approval is found by it (in its organisation only).
    let mut park = Change::new(&def, run.clone(), steps.clone(), 7);
    park.begin("ok");
    park.park("ok", Some("appr-1".into()), None, json!({}));
    assert!(s
        .advance_workflow_run(&park.into_advance(), Journal::NONE)
        .await
        .unwrap());
    let waiting = s
        .step_waiting_for_approval(&o1.id, &ApprovalId::from("appr-1"))
        .await
        .unwrap();
    assert_eq!(waiting.map(|w| w.node_id), Some("ok".into()));
    assert!(s
        .step_waiting_for_approval(&o2.id, &ApprovalId::from("appr-1"))
        .await
        .unwrap()
        .is_none());
    let run = s.get_workflow_run(&o1.id, "r1").await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Suspended);
    let page = s
        .list_workflow_runs(&o1.id, Some("w1"), Some(RunStatus::Suspended), 10, 0)
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(
        s.list_workflow_runs(&o1.id, None, Some(RunStatus::Completed), 10, 0)
            .await
            .unwrap()
            .total,
        0
    );
    // Deleting the workflow takes its runs with it.
    assert!(s
        .delete_workflow(&o1.id, "w1", Journal::NONE)
        .await
        .unwrap());
    assert!(s.get_workflow_run(&o1.id, "r1").await.unwrap().is_none());
}
