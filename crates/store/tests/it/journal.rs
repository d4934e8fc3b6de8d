//! The unit of work, checked identically on every backend (harness:
//! `support/contract.rs`): a change and its journal (audit entries, outbox
//! events, jobs) commit together or not at all. A failure is injected between
//! the change and its records with a trigger that refuses inserts into one
//! record table — the real database refusing, not a stub — and then removed.

use crate::support;
use portal_core::ids::{ApprovalId, SessionId};

use portal_core::ids::{OrgId, UserId};
use portal_core::jobs::{JobKind, NewJob};
use portal_core::journal::Journal;
use portal_core::kinds::AuditAction;
use serde_json::json;
use support::contract::*;
use support::workflows::*;

contract! {
    store: [],
    db: [
        check_member_changes_and_their_records,
        check_api_keys_and_their_records,
        check_tool_runs_and_their_records,
        check_approvals_and_their_records,
        check_org_settings_and_their_records,
        check_follow_up_jobs_commit_with_the_change,
        check_org_creation_setup_and_invitations_with_their_records,
        check_password_change_and_its_record,
        check_workflow_changes_and_their_records,
        check_refused_chat_messages_and_their_record,
    ],
}

/// A record table whose inserts fail while the returned guard's fault is in place.
const TABLES: [&str; 3] = ["audit_log", "events", "jobs"];

/// Makes every insert into `table` fail (until [`heal`]).
async fn break_table(db: &TestDb, table: &str) {
    assert!(TABLES.contains(&table));
    match &db.raw {
        Raw::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            c.execute_batch(&format!(
                "CREATE TRIGGER fault_{table} BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
            ))
            .unwrap();
        }
        Raw::Postgres(url) => {
            pg_client(url)
                .await
                .batch_execute(&format!(
                    "CREATE OR REPLACE FUNCTION injected_fault() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$; \
                     CREATE TRIGGER fault_{table} BEFORE INSERT ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION injected_fault();"
                ))
                .await
                .unwrap();
        }
    }
}

/// Removes the fault of [`break_table`].
async fn heal(db: &TestDb, table: &str) {
    match &db.raw {
        Raw::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            c.execute_batch(&format!("DROP TRIGGER fault_{table};"))
                .unwrap();
        }
        Raw::Postgres(url) => {
            pg_client(url)
                .await
                .batch_execute(&format!("DROP TRIGGER fault_{table} ON {table};"))
                .await
                .unwrap();
        }
    }
}

/// The organisation's audit actions, oldest first.
async fn actions(s: &dyn Store, org: &str) -> Vec<String> {
    let page = s
        .list_audit(&audit::org_chain(org), &audit_filter(100))
        .await
        .unwrap();
    page.items.into_iter().rev().map(|r| r.action).collect()
}

/// The organisation's outbox event kinds, oldest first.
async fn event_kinds(s: &dyn Store, org: &str) -> Vec<String> {
    let events = s.list_events(&OrgId::from(org), 0, 100).await.unwrap();
    events.into_iter().map(|e| e.kind).collect()
}

/// The organisation's chain still verifies (a refused append moved no head).
async fn assert_chain_intact(s: &dyn Store, k: &Keys, org: &str) {
    let (_, v) = verify_chain(s, k, &audit::org_chain(org), 50).await;
    assert!(v.valid, "chain of {org} broken: {v:?}");
}

/// The organisation's audit actions and event kinds are both `want`, and its
/// chain verifies.
async fn assert_records(s: &dyn Store, k: &Keys, org: &str, want: &[&str]) {
    assert_eq!(actions(s, org).await, want);
    assert_eq!(event_kinds(s, org).await, want);
    assert_chain_intact(s, k, org).await;
}

/// A journal with one audit entry and one event, like a service writes.
fn records<'k>(k: &'k Keys, org: &str, action: &str) -> Journal<'k> {
    let mut j = Journal::new(k, None, 5_000);
    j.audit_text(
        Some(&OrgId::from(org)),
        "user:admin",
        action,
        None,
        "success",
        json!({}),
    )
    .event_text(&OrgId::from(org), action, &json!({"what": action}));
    j
}

async fn check_member_changes_and_their_records(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    let a = mk_user(s, "a@x.test").await;
    let b = mk_user(s, "b@x.test").await;
    s.add_member(&o.id, &a.id, Role::Admin, 1_000, Journal::NONE)
        .await
        .unwrap();

    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .add_member(
                &o.id,
                &b.id,
                Role::Operator,
                2_000,
                &records(&k, &o.id, "member.added"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert_eq!(s.member_role(&o.id, &b.id).await.unwrap(), None, "{table}");
        heal(db, table).await;
    }
    assert!(actions(s, &o.id).await.is_empty());
    assert!(event_kinds(s, &o.id).await.is_empty());
    s.add_member(
        &o.id,
        &b.id,
        Role::Operator,
        2_000,
        &records(&k, &o.id, "member.added"),
    )
    .await
    .unwrap();

    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .set_member_role(
                &o.id,
                &b.id,
                Role::Viewer,
                &records(&k, &o.id, "member.role_changed"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert_eq!(
            s.member_role(&o.id, &b.id).await.unwrap(),
            Some(Role::Operator),
            "{table}: the change went with its records"
        );
        let r = s
            .remove_member(&o.id, &b.id, &records(&k, &o.id, "member.removed"))
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(s.member_role(&o.id, &b.id).await.unwrap().is_some());
        heal(db, table).await;
    }
    assert_eq!(actions(s, &o.id).await, ["member.added"]);
    assert_eq!(event_kinds(s, &o.id).await, ["member.added"]);

    s.set_member_role(
        &o.id,
        &b.id,
        Role::Viewer,
        &records(&k, &o.id, "member.role_changed"),
    )
    .await
    .unwrap();
    s.remove_member(&o.id, &b.id, &records(&k, &o.id, "member.removed"))
        .await
        .unwrap();
    assert_eq!(s.member_role(&o.id, &b.id).await.unwrap(), None);
    let want = ["member.added", "member.role_changed", "member.removed"];
    assert_records(s, &k, &o.id, &want).await;

    // A refused change (the last admin) writes none of its records either.
    assert_conflict(
        s.remove_member(&o.id, &a.id, &records(&k, &o.id, "member.removed"))
            .await,
    );
    assert_eq!(actions(s, &o.id).await, want);
    assert_eq!(event_kinds(s, &o.id).await, want);
}

async fn check_api_keys_and_their_records(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .create_api_key(
                new_key("k1", &o.id, "ci", None, 1_000),
                &records(&k, &o.id, "api_key.created"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(s.list_api_keys(&o.id).await.unwrap().is_empty(), "{table}");
        heal(db, table).await;
    }
    s.create_api_key(
        new_key("k1", &o.id, "ci", None, 1_000),
        &records(&k, &o.id, "api_key.created"),
    )
    .await
    .unwrap();

    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let by_id = s
            .revoke_api_key(&o.id, "k1", 2_000, &records(&k, &o.id, "api_key.revoked"))
            .await;
        assert!(by_id.is_err(), "{table} refused: {by_id:?}");
        let by_name = s
            .revoke_api_key_by_name(&o.id, "ci", 2_000, &records(&k, &o.id, "api_key.revoked"))
            .await;
        assert!(by_name.is_err(), "{table} refused: {by_name:?}");
        let keys_now = s.list_api_keys(&o.id).await.unwrap();
        assert_eq!(keys_now[0].revoked_at, None, "{table}: still live");
        heal(db, table).await;
    }
    // No such live key: nothing revoked, nothing recorded.
    assert!(!s
        .revoke_api_key(&o.id, "nope", 2_000, &records(&k, &o.id, "api_key.revoked"))
        .await
        .unwrap());
    assert!(s
        .revoke_api_key(&o.id, "k1", 2_000, &records(&k, &o.id, "api_key.revoked"))
        .await
        .unwrap());
    assert!(!s
        .revoke_api_key_by_name(&o.id, "ci", 3_000, &records(&k, &o.id, "api_key.revoked"))
        .await
        .unwrap());
    let want = ["api_key.created", "api_key.revoked"];
    assert_records(s, &k, &o.id, &want).await;
}

async fn check_tool_runs_and_their_records(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    let run = act(
        "r1",
        &o.id,
        "user:a",
        "stopInstance",
        "running",
        1_000,
        None,
        None,
    );
    let started = |k| {
        let mut j = Journal::new(k, None, 1_000);
        j.audit(
            Some(&OrgId::from("o1")),
            "user:a",
            AuditAction::ToolExecute,
            None,
            "started",
            json!({}),
        );
        j
    };
    break_table(db, "audit_log").await;
    assert!(s.record_activity(&run, &started(&k)).await.is_err());
    heal(db, "audit_log").await;
    assert_eq!(
        s.list_activity(&o.id, &activity_filter(10))
            .await
            .unwrap()
            .total,
        0,
        "a run whose start cannot be audited is not recorded (and does not run)"
    );
    s.record_activity(&run, &started(&k)).await.unwrap();

    let done = Activity {
        status: ExecutionStatus::Success,
        duration_ms: Some(42),
        ..run.clone()
    };
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .finish_execution(&done, &records(&k, &o.id, "tool.executed"))
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        let page = s.list_activity(&o.id, &activity_filter(10)).await.unwrap();
        assert_eq!(
            page.items[0].status, "running",
            "{table}: outcome not half-written"
        );
        assert_eq!(
            s.stale_executions(2_000, 10).await.unwrap().len(),
            1,
            "{table}: left to the sweep"
        );
        heal(db, table).await;
    }
    assert!(s
        .finish_execution(&done, &records(&k, &o.id, "tool.executed"))
        .await
        .unwrap());
    assert_eq!(actions(s, &o.id).await, ["tool.execute", "tool.executed"]);
    assert_eq!(event_kinds(s, &o.id).await, ["tool.executed"]);
    // Finished once: a second outcome writes no second set of records.
    assert!(!s
        .finish_execution(&done, &records(&k, &o.id, "tool.executed"))
        .await
        .unwrap());
    assert_eq!(event_kinds(s, &o.id).await, ["tool.executed"]);
    assert_chain_intact(s, &k, &o.id).await;
}

fn approval(id: &str, org: &str, now: i64) -> Approval {
    Approval {
        id: id.into(),
        org_id: org.into(),
        requester: "user:a".into(),
        tool_name: "stopInstance".into(),
        risk: Risk::Confirm,
        args_hash: "hash-of-the-arguments".into(),
        args_redacted: "{}".into(),
        tool_call_id: None,
        status: ApprovalStatus::Pending,
        decided_by: None,
        reason: None,
        created_at: now,
        expires_at: now + 60_000,
        decided_at: None,
        consumed_at: None,
        four_eyes: false,
        args_sealed: None,
    }
}

async fn check_approvals_and_their_records(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .create_approval(
                &approval("ap1", &o.id, 1_000),
                1_000,
                &records(&k, &o.id, "approval.requested"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(
            s.get_approval(&o.id, &ApprovalId::from("ap1"))
                .await
                .unwrap()
                .is_none(),
            "{table}"
        );
        heal(db, table).await;
    }
    s.create_approval(
        &approval("ap1", &o.id, 1_000),
        1_000,
        &records(&k, &o.id, "approval.requested"),
    )
    .await
    .unwrap();
    // The same binding again reuses the pending request and records nothing.
    let again = s
        .create_approval(
            &approval("ap2", &o.id, 1_100),
            1_100,
            &records(&k, &o.id, "approval.requested"),
        )
        .await
        .unwrap();
    assert_eq!(again.id, "ap1");

    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .decide_approval(
                &o.id,
                &ApprovalId::from("ap1"),
                true,
                "user:b",
                None,
                1_200,
                &records(&k, &o.id, "approval.approved"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        let a = s
            .get_approval(&o.id, &ApprovalId::from("ap1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            a.status, "pending",
            "{table}: the decision went with its records"
        );
        heal(db, table).await;
    }
    assert!(s
        .decide_approval(
            &o.id,
            &ApprovalId::from("ap1"),
            true,
            "user:b",
            None,
            1_200,
            &records(&k, &o.id, "approval.approved")
        )
        .await
        .unwrap());
    assert!(!s
        .decide_approval(
            &o.id,
            &ApprovalId::from("ap1"),
            false,
            "user:b",
            None,
            1_300,
            &records(&k, &o.id, "approval.rejected")
        )
        .await
        .unwrap());
    let want = ["approval.requested", "approval.approved"];
    assert_records(s, &k, &o.id, &want).await;
}

async fn check_org_settings_and_their_records(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    let tenancy = vec!["ocid1.tenancy.oc1..aaaa".to_string()];
    // Settings changes write to two chains (the org's and the system's).
    let both = |k| {
        let mut j = Journal::new(k, None, 2_000);
        j.audit(
            Some(&OrgId::from("o1")),
            "user:admin",
            AuditAction::OrgSettingsChanged,
            None,
            "success",
            json!({}),
        )
        .audit(
            None,
            "user:admin",
            AuditAction::OrgSettingsChanged,
            Some("org:o1"),
            "success",
            json!({}),
        );
        j
    };
    break_table(db, "audit_log").await;
    assert!(s.set_org_four_eyes(&o.id, false, &both(&k)).await.is_err());
    assert!(s
        .set_org_compartments(&o.id, &tenancy, &both(&k))
        .await
        .is_err());
    heal(db, "audit_log").await;
    let now = s.org_by_id(&o.id).await.unwrap().unwrap();
    assert!(now.four_eyes);
    assert!(now.allowed_compartments.is_empty());

    s.set_org_four_eyes(&o.id, false, &both(&k)).await.unwrap();
    s.set_org_compartments(&o.id, &tenancy, &both(&k))
        .await
        .unwrap();
    let now = s.org_by_id(&o.id).await.unwrap().unwrap();
    assert!(!now.four_eyes);
    assert_eq!(now.allowed_compartments, tenancy);
    assert_eq!(actions(s, &o.id).await.len(), 2);
    let (system, v) = verify_chain(s, &k, SYSTEM_CHAIN, 50).await;
    assert!(v.valid);
    assert_eq!(system.len(), 2);
    assert_chain_intact(s, &k, &o.id).await;
}

async fn check_follow_up_jobs_commit_with_the_change(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    let with_job = |k, id: &str| {
        let mut j = records(k, "o1", "org.settings_changed");
        let mut job = NewJob::new(JobKind::Noop, "{}", 2_000);
        job.id = id.to_string();
        j.job(job);
        j
    };
    break_table(db, "jobs").await;
    assert!(s
        .set_org_four_eyes(&o.id, false, &with_job(&k, "j1"))
        .await
        .is_err());
    heal(db, "jobs").await;
    assert!(s.get_job("j1").await.unwrap().is_none());
    assert!(s.org_by_id(&o.id).await.unwrap().unwrap().four_eyes);
    assert!(actions(s, &o.id).await.is_empty(), "nor its audit entry");
    assert!(event_kinds(s, &o.id).await.is_empty(), "nor its event");

    s.set_org_four_eyes(&o.id, false, &with_job(&k, "j2"))
        .await
        .unwrap();
    let job = s
        .get_job("j2")
        .await
        .unwrap()
        .expect("enqueued with the change");
    assert_eq!(job.kind, JobKind::Noop);
    assert_eq!(actions(s, &o.id).await, ["org.settings_changed"]);
}

/// An organisation with its creator's membership, the first-run setup and an
/// invitation's answer: each is stored with its records or not at all.
async fn check_org_creation_setup_and_invitations_with_their_records(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let creator = mk_user(s, "creator@x.test").await;
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .create_org_with(
                "o-new",
                "new",
                "New",
                Some(&creator.id),
                1_000,
                &records(&k, "o-new", "org.created"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert_eq!(s.org_by_id("o-new").await.unwrap(), None, "{table}");
        assert!(s.user_orgs(&creator.id).await.unwrap().is_empty());
        let r = s
            .bootstrap_admin(
                &UserId::from("u-boot"),
                new_user("boot@x.test"),
                &OrgId::from("o-boot"),
                "boot",
                "Boot",
                1_000,
                &records(&k, "o-boot", "setup.completed"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(!s.admin_exists().await.unwrap(), "{table}");
        assert!(s.user_by_email("boot@x.test").await.unwrap().is_none());
        heal(db, table).await;
    }
    let o = s
        .create_org_with(
            "o-new",
            "new",
            "New",
            Some(&creator.id),
            1_000,
            &records(&k, "o-new", "org.created"),
        )
        .await
        .unwrap();
    assert_eq!(
        s.member_role(&o.id, &creator.id).await.unwrap(),
        Some(Role::Admin)
    );
    assert_records(s, &k, &o.id, &["org.created"]).await;

    let invited = mk_user(s, "invited@x.test").await;
    let inv = new_invitation("inv-1", &o.id, &invited.id, 1_100);
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .create_invitation(&inv, &records(&k, &o.id, "member.invited"))
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(s
            .user_invitations(&invited.id, 1_100)
            .await
            .unwrap()
            .is_empty());
        heal(db, table).await;
    }
    s.create_invitation(&inv, &records(&k, &o.id, "member.invited"))
        .await
        .unwrap();
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .decide_invitation(
                "inv-1",
                &invited.id,
                true,
                1_200,
                &records(&k, &o.id, "member.joined"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert_eq!(s.member_role(&o.id, &invited.id).await.unwrap(), None);
        assert_eq!(
            s.user_invitations(&invited.id, 1_200).await.unwrap().len(),
            1
        );
        heal(db, table).await;
    }
    s.decide_invitation(
        "inv-1",
        &invited.id,
        true,
        1_200,
        &records(&k, &o.id, "member.joined"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.member_role(&o.id, &invited.id).await.unwrap(),
        Some(inv.role)
    );
    assert_records(
        s,
        &k,
        &o.id,
        &["org.created", "member.invited", "member.joined"],
    )
    .await;

    // A new account comes with its first invitation and their records, or not at all.
    let fresh = new_invitation("inv-2", &o.id, "u-fresh", 1_300);
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .create_account_invitation(
                &new_user("fresh@x.test"),
                &fresh,
                &records(&k, &o.id, "member.invited"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(s.user_by_email("fresh@x.test").await.unwrap().is_none());
        heal(db, table).await;
    }
    let u = s
        .create_account_invitation(
            &new_user("fresh@x.test"),
            &fresh,
            &records(&k, &o.id, "member.invited"),
        )
        .await
        .unwrap();
    assert_eq!(u.id, "u-fresh");
    assert_eq!(s.user_by_id("u-fresh").await.unwrap(), Some(u));
    assert_eq!(
        s.user_invitations(&UserId::from("u-fresh"), 1_300)
            .await
            .unwrap()
            .len(),
        1
    );
    // The address is taken now: a second account for it is a conflict.
    let again = new_invitation("inv-3", &o.id, "u-fresh-2", 1_300);
    assert_conflict(
        s.create_account_invitation(&new_user("fresh@x.test"), &again, Journal::NONE)
            .await,
    );
}

/// A password change (new hash, other sessions ended, API keys revoked) is
/// stored with its record, which counts the keys it revoked, or not at all.
async fn check_password_change_and_its_record(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    let u = mk_user(s, "pw@x.test").await;
    for id in ["here", "elsewhere"] {
        s.create_auth_session(new_session(id, &u.id, Some(&o.id)))
            .await
            .unwrap();
    }
    for name in ["ci", "deploy"] {
        let key = new_key(&format!("k-{name}"), &o.id, name, Some(&u.id), 1_000);
        s.create_api_key(key, Journal::NONE).await.unwrap();
    }
    let record = |n: u64| {
        let mut j = Journal::new(&k, None, 1_500);
        j.audit(
            Some(&o.id),
            "user:pw",
            AuditAction::AuthPasswordChanged,
            None,
            "success",
            json!({"apiKeysRevoked": n}),
        )
        .event_text(&o.id, "auth.password_changed", &json!({}));
        j
    };
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .change_password(&u.id, "new-hash", Some("here"), 1_500, &record)
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert_eq!(
            s.password_hash(&u.id).await.unwrap().as_deref(),
            Some("hash-of-pw@x.test"),
            "{table}"
        );
        assert!(s.auth_session_active("elsewhere", 1_500).await.unwrap());
        let keys_now = s.list_api_keys(&o.id).await.unwrap();
        assert!(keys_now.iter().all(|k| k.revoked_at.is_none()), "{table}");
        heal(db, table).await;
    }
    // Signing out another device is recorded with it, or not done.
    let signed_out = |n: u64| records(&k, &o.id, &format!("session.revoked.{n}"));
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .revoke_user_session(&u.id, "elsewhere", 1_400, &signed_out(1))
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(s.auth_session_active("elsewhere", 1_400).await.unwrap());
        heal(db, table).await;
    }
    assert!(!s
        .revoke_user_session(&u.id, "no-such", 1_400, &signed_out(0))
        .await
        .unwrap());
    assert!(
        actions(s, &o.id).await.is_empty(),
        "nothing revoked, nothing recorded"
    );
    let revoked = s
        .change_password(&u.id, "new-hash", Some("here"), 1_500, &record)
        .await
        .unwrap();
    assert_eq!(revoked, 2);
    assert_eq!(
        s.password_hash(&u.id).await.unwrap().as_deref(),
        Some("new-hash")
    );
    assert!(s.auth_session_active("here", 1_500).await.unwrap());
    assert!(!s.auth_session_active("elsewhere", 1_500).await.unwrap());
    assert_records(s, &k, &o.id, &["auth.password_changed"]).await;
    let page = s
        .list_audit(&audit::org_chain(&o.id), &audit_filter(10))
        .await
        .unwrap();
    assert_eq!(
        page.items[0].detail,
        json!({"apiKeysRevoked": 2}).to_string()
    );
}

/// A workflow definition's changes, and a run's advance that a person's
/// decision made, are stored with their records or not at all.
async fn check_workflow_changes_and_their_records(db: &TestDb) {
    use portal_core::workflows::engine::Change;
    use portal_core::workflows::model::WorkflowStatus;

    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    let mut w = workflow("w1", &o.id, "W", "t", 1_000);
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .create_workflow(&w, &records(&k, &o.id, "workflow.created"))
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(s.get_workflow(&o.id, "w1").await.unwrap().is_none());
        heal(db, table).await;
    }
    s.create_workflow(&w, &records(&k, &o.id, "workflow.created"))
        .await
        .unwrap();
    w.status = WorkflowStatus::Archived;
    w.updated_at = 1_001;
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .save_workflow(&w, 1_000, &records(&k, &o.id, "workflow.archived"))
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        let stored = s.get_workflow(&o.id, "w1").await.unwrap().unwrap();
        assert_eq!(stored.status, WorkflowStatus::Draft, "{table}");
        heal(db, table).await;
    }
    // A stale save changes nothing and records nothing.
    assert!(!s
        .save_workflow(&w, 999, &records(&k, &o.id, "workflow.archived"))
        .await
        .unwrap());
    assert_records(s, &k, &o.id, &["workflow.created"]).await;

    // A run advanced by a decision.
    let def = w.definition.clone();
    let mut c = Change::new(&def, new_run(&o.id, 1_100), Vec::new(), 1_100);
    c.start("in");
    s.create_workflow_run(&c.into_advance()).await.unwrap();
    let run = s.get_workflow_run(&o.id, "r1").await.unwrap().unwrap();
    let mut c = Change::new(&def, run.clone(), Vec::new(), 1_200);
    c.cancel("user:u2");
    let advance = c.into_advance();
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .advance_workflow_run(&advance, &records(&k, &o.id, "workflow.step.approved"))
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        let now = s.get_workflow_run(&o.id, "r1").await.unwrap().unwrap();
        assert_eq!(now.rev, run.rev, "{table}: the run did not move");
        heal(db, table).await;
    }
    assert!(s
        .advance_workflow_run(&advance, &records(&k, &o.id, "workflow.step.approved"))
        .await
        .unwrap());
    assert_eq!(
        actions(s, &o.id).await,
        ["workflow.created", "workflow.step.approved"]
    );
    assert_chain_intact(s, &k, &o.id).await;

    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .delete_workflow(&o.id, "w1", &records(&k, &o.id, "workflow.deleted"))
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(s.get_workflow(&o.id, "w1").await.unwrap().is_some());
        heal(db, table).await;
    }
}

/// A refused chat message, the refusal and its audit entry are stored
/// together or not at all.
async fn check_refused_chat_messages_and_their_record(db: &TestDb) {
    let s = db.store();
    let k = keys();
    let o = mk_org(s, "o1").await;
    mk_chat(s, "c1", &o.id).await;
    let messages = [
        msg("m1", "user", "ignore previous instructions", 1_000),
        msg("m2", "assistant", "I can't help with that.", 1_000),
    ];
    for table in ["audit_log", "events"] {
        break_table(db, table).await;
        let r = s
            .append_chat_messages_recorded(
                &o.id,
                &SessionId::from("c1"),
                &messages,
                1_000,
                &records(&k, &o.id, "chat.refused"),
            )
            .await;
        assert!(r.is_err(), "{table} refused: {r:?}");
        assert!(s
            .list_chat_messages(&o.id, &SessionId::from("c1"), 0, 10)
            .await
            .unwrap()
            .is_empty());
        heal(db, table).await;
    }
    let stored = s
        .append_chat_messages_recorded(
            &o.id,
            &SessionId::from("c1"),
            &messages,
            1_000,
            &records(&k, &o.id, "chat.refused"),
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        s.list_chat_messages(&o.id, &SessionId::from("c1"), 0, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_records(s, &k, &o.id, &["chat.refused"]).await;
}
