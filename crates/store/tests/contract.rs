//! The storage contract, checked identically on every backend.
//!
//! Each check is written once (`check_*`) and run twice: on SQLite (a file in
//! a temporary folder) always, and on PostgreSQL when `PORTAL_TEST_DATABASE_URL`
//! is set (a fresh database per test, dropped afterwards). Without the variable
//! the PostgreSQL variants pass without doing anything.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_core::audit::{self, AuditRecord, NewAuditEntry, Verifier, SYSTEM_CHAIN};
use portal_core::crypto::Keys;
use portal_core::model::*;
use portal_core::rbac::Role;
use portal_core::store::ChatEventRepo;
use portal_core::{Backend, Secret, Store, StoreError};
use portal_store::{PgStore, SqliteStore};
use tokio_postgres::NoTls;

const PG_ENV: &str = "PORTAL_TEST_DATABASE_URL";

// ---------------------------------------------------------------- harness

/// How to reach the test database behind the store's back.
enum Raw {
    Sqlite(PathBuf),
    Postgres(String),
}

/// A migrated, empty store plus whatever keeps its database alive.
/// Fields drop in order: the store (and its pool) before the database.
struct TestDb {
    store: Arc<dyn Store>,
    raw: Raw,
    _pg: Option<PgDatabase>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("portal.db");
        let store = SqliteStore::open(&path, 4).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        Self {
            store: Arc::new(store),
            raw: Raw::Sqlite(path),
            _pg: None,
            _dir: Some(dir),
        }
    }

    /// `None` when `PORTAL_TEST_DATABASE_URL` is not set.
    async fn postgres() -> Option<Self> {
        let admin_url = std::env::var(PG_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())?;
        let db = PgDatabase::create(&admin_url).await;
        let store = PgStore::connect(&db.url, 4, Duration::from_secs(60)).expect("pool");
        store.migrate().await.expect("migrate postgres");
        Some(Self {
            store: Arc::new(store),
            raw: Raw::Postgres(db.url.clone()),
            _pg: Some(db),
            _dir: None,
        })
    }

    fn store(&self) -> &dyn Store {
        &*self.store
    }
}

/// Replaces the database name in a connection URL.
fn with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is not reachable: {e}"));
    tokio::spawn(conn);
    client
}

/// A throwaway PostgreSQL database, dropped (forcefully) with this value.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> Self {
        let name = format!("portal_store_test_{}", uuid::Uuid::new_v4().simple());
        pg_client(admin_url)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        Self {
            admin_url: admin_url.to_string(),
            url: with_db(admin_url, &name),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop may run while the test's runtime is shutting down (or panicking):
        // use a private runtime on a helper thread.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let (client, conn) = tokio_postgres::connect(&admin_url, NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!(
                "could not drop test database {}: helper panicked",
                self.name
            ),
        }
    }
}

/// Runs each listed check once per backend: `mod sqlite { fn check_x }` and
/// `mod postgres { fn check_x }`. Checks in `store:` take `&dyn Store`; checks
/// in `db:` take the whole [`TestDb`] (raw access, shared ownership).
macro_rules! contract {
    (store: [$($s:ident),* $(,)?], db: [$($d:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    let db = super::TestDb::sqlite().await;
                    super::$s(db.store()).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $d() {
                    let db = super::TestDb::sqlite().await;
                    super::$d(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $s() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$s(db.store()).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $d() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$d(&db).await;
                }
            )*
        }
    };
}

contract! {
    store: [
        check_basics,
        check_users,
        check_orgs,
        check_membership,
        check_user_orgs_order,
        check_invitations,
        check_credential_revocation,
        check_admin_exists_platform_admin,
        check_bootstrap_once,
        check_bootstrap_after_other_admin,
        check_auth_sessions,
        check_api_keys,
        check_api_key_touch,
        check_chat_sessions,
        check_activity,
        check_execution_finish,
        check_audit_chains,
        check_audit_filters,
        check_audit_records_after,
        check_approvals,
        check_chat_messages,
        check_chat_turns,
        check_chat_turn_wake,
        check_chat_turn_supersede,
        check_chat_turn_claim,
        check_chat_events,
        check_events,
    ],
    db: [
        check_audit_concurrent_appends,
        check_audit_append_only,
        check_concurrent_demotions_keep_an_admin,
        check_concurrent_bootstraps,
        check_chat_messages_concurrent,
        check_chat_turn_claim_concurrent,
        check_chat_event_wait,
        check_chat_cascade,
        check_events_concurrent_appends_are_seen_in_order,
        check_events_cascade_and_ids_never_reused,
    ],
}

// ---------------------------------------------------------------- helpers

fn keys() -> Keys {
    Keys::derive(&Secret::new(vec![7u8; 32]))
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        name: format!("User {email}"),
        password_hash: Some(format!("hash-of-{email}")),
        platform_admin: false,
        must_change_password: false,
    }
}

async fn mk_user(s: &dyn Store, email: &str) -> User {
    s.create_user(new_user(email), 1_000)
        .await
        .expect("create user")
}

async fn mk_org(s: &dyn Store, id: &str) -> Org {
    s.create_org(id, &format!("slug-{id}"), &format!("Org {id}"), 1_000)
        .await
        .expect("create org")
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::Conflict(_))),
        "expected Conflict, got {r:?}"
    );
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "expected NotFound, got {r:?}"
    );
}

fn entry(org: Option<&str>, actor: &str, action: &str, at: i64) -> NewAuditEntry {
    NewAuditEntry {
        org_id: org.map(Into::into),
        actor: actor.into(),
        action: action.into(),
        target: Some(format!("target-of-{action}")),
        outcome: "success".into(),
        detail: serde_json::json!({"b": 1, "a": [1, 2], "note": action}),
        ip: Some("192.0.2.1".into()),
        created_at: at,
    }
}

/// Every record of the chain, fetched in pages of `page`, checked with the verifier.
async fn verify_chain(
    s: &dyn Store,
    keys: &Keys,
    chain: &str,
    page: i64,
) -> (Vec<AuditRecord>, audit::Verification) {
    let mut v = Verifier::new(keys, chain);
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let batch = s
            .audit_records_after(chain, after, page)
            .await
            .expect("records after");
        assert!(batch.len() as i64 <= page);
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for r in &batch {
            v.push(r);
        }
        rows.extend(batch);
    }
    let head = s.audit_head(chain).await.expect("head");
    (rows, v.finish(head.as_ref()))
}

fn audit_filter(limit: i64) -> AuditFilter {
    AuditFilter {
        limit,
        ..Default::default()
    }
}

fn activity_filter(limit: i64) -> ActivityFilter {
    ActivityFilter {
        limit,
        ..Default::default()
    }
}

// ---------------------------------------------------------------- checks

async fn check_basics(s: &dyn Store) {
    assert!(matches!(s.backend(), Backend::Sqlite | Backend::Postgres));
    assert!(s.availability().is_up());
    s.ping().await.expect("ping");
    assert_eq!(
        s.schema_version().await.unwrap(),
        portal_store::MIGRATIONS.last().unwrap().version
    );
    let stats = s.pool_stats();
    assert_eq!(stats.max, 4);
    assert!(stats.in_use <= stats.max);
}

async fn check_users(s: &dyn Store) {
    let u = s
        .create_user(new_user("ada@example.test"), 1_000)
        .await
        .unwrap();
    assert!(!u.id.is_empty());
    assert_eq!(
        (
            u.email.as_str(),
            u.name.as_str(),
            u.platform_admin,
            u.created_at
        ),
        ("ada@example.test", "User ada@example.test", false, 1_000)
    );

    // Duplicate email.
    assert_conflict(s.create_user(new_user("ada@example.test"), 2_000).await);

    let (by_email, hash) = s.user_by_email("ada@example.test").await.unwrap().unwrap();
    assert_eq!(by_email, u);
    assert_eq!(hash.as_deref(), Some("hash-of-ada@example.test"));
    assert!(s
        .user_by_email("nobody@example.test")
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.user_by_id(&u.id).await.unwrap(), Some(u.clone()));
    assert!(s.user_by_id("no-such-id").await.unwrap().is_none());

    // Passwords.
    assert_eq!(
        s.password_hash(&u.id).await.unwrap().as_deref(),
        Some("hash-of-ada@example.test")
    );
    s.set_password(&u.id, "new-hash", 2_000).await.unwrap();
    assert_eq!(
        s.password_hash(&u.id).await.unwrap().as_deref(),
        Some("new-hash")
    );
    assert_eq!(
        s.user_by_email("ada@example.test")
            .await
            .unwrap()
            .unwrap()
            .1
            .as_deref(),
        Some("new-hash")
    );
    assert_not_found(s.set_password("no-such-id", "h", 2_000).await);
    assert!(s.password_hash("no-such-id").await.unwrap().is_none());

    // A user without a password.
    let mut nopw = new_user("sso@example.test");
    nopw.password_hash = None;
    let sso = s.create_user(nopw, 1_500).await.unwrap();
    assert!(s.password_hash(&sso.id).await.unwrap().is_none());
    assert!(s
        .user_by_email("sso@example.test")
        .await
        .unwrap()
        .unwrap()
        .1
        .is_none());

    // Platform admin flag.
    s.set_platform_admin(&u.id, true, 3_000).await.unwrap();
    assert!(s.user_by_id(&u.id).await.unwrap().unwrap().platform_admin);
    s.set_platform_admin(&u.id, false, 3_000).await.unwrap();
    assert!(!s.user_by_id(&u.id).await.unwrap().unwrap().platform_admin);
    assert_not_found(s.set_platform_admin("no-such-id", true, 3_000).await);

    // Created as platform admin.
    let mut pa = new_user("root@example.test");
    pa.platform_admin = true;
    let root = s.create_user(pa, 1_000).await.unwrap();
    assert!(root.platform_admin);
    assert!(
        s.user_by_id(&root.id)
            .await
            .unwrap()
            .unwrap()
            .platform_admin
    );
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
    s.set_org_four_eyes("o-1", false).await.unwrap();
    assert!(!s.org_by_id("o-1").await.unwrap().unwrap().four_eyes);
    s.set_org_four_eyes("o-1", true).await.unwrap();
    assert!(s.org_by_slug("acme").await.unwrap().unwrap().four_eyes);
    assert_not_found(s.set_org_four_eyes("nope", false).await);
    // The compartment policy round-trips, and clearing it means no restriction.
    let allowed = vec![
        "ocid1.compartment.oc1..aaaa".to_string(),
        "ocid1.compartment.oc1..bbbb".to_string(),
    ];
    s.set_org_compartments("o-1", &allowed).await.unwrap();
    assert_eq!(
        s.org_by_id("o-1")
            .await
            .unwrap()
            .unwrap()
            .allowed_compartments,
        allowed
    );
    s.set_org_compartments("o-1", &[]).await.unwrap();
    assert!(s
        .org_by_slug("acme")
        .await
        .unwrap()
        .unwrap()
        .allowed_compartments
        .is_empty());
    assert_not_found(s.set_org_compartments("nope", &allowed).await);
}

async fn check_membership(s: &dyn Store) {
    let a = mk_user(s, "a@example.test").await;
    let b = mk_user(s, "b@example.test").await;
    let c = mk_user(s, "c@example.test").await;
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;

    assert!(!s.admin_exists().await.unwrap());
    s.add_member(&o1.id, &a.id, Role::Admin, 100).await.unwrap();
    assert!(s.admin_exists().await.unwrap());
    assert_conflict(s.add_member(&o1.id, &a.id, Role::Viewer, 100).await);
    // Unknown organisation or user: the foreign key refuses.
    assert_conflict(s.add_member("no-such-org", &a.id, Role::Viewer, 100).await);
    assert_conflict(
        s.add_member(&o1.id, "no-such-user", Role::Viewer, 100)
            .await,
    );

    s.add_member(&o1.id, &b.id, Role::Viewer, 110)
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
    s.set_member_role(&o1.id, &b.id, Role::Operator)
        .await
        .unwrap();
    assert_eq!(
        s.member_role(&o1.id, &b.id).await.unwrap(),
        Some(Role::Operator)
    );
    assert_not_found(s.set_member_role(&o1.id, &c.id, Role::Viewer).await);
    assert_not_found(s.set_member_role("no-such-org", &a.id, Role::Viewer).await);

    // The last admin can neither be demoted nor removed ...
    assert_conflict(s.set_member_role(&o1.id, &a.id, Role::Operator).await);
    assert_conflict(s.set_member_role(&o1.id, &a.id, Role::Viewer).await);
    assert_conflict(s.remove_member(&o1.id, &a.id).await);
    assert_eq!(
        s.member_role(&o1.id, &a.id).await.unwrap(),
        Some(Role::Admin)
    );
    // ... but may be "changed" to admin again.
    s.set_member_role(&o1.id, &a.id, Role::Admin).await.unwrap();
    // An admin of another organisation does not count.
    s.add_member(&o2.id, &c.id, Role::Admin, 120).await.unwrap();
    assert_conflict(s.set_member_role(&o1.id, &a.id, Role::Viewer).await);

    assert_not_found(s.remove_member(&o1.id, &c.id).await);
    assert_not_found(s.remove_member("no-such-org", &c.id).await);

    // With a second admin, the first may step down; then the second is the last one.
    s.set_member_role(&o1.id, &b.id, Role::Admin).await.unwrap();
    s.set_member_role(&o1.id, &a.id, Role::Viewer)
        .await
        .unwrap();
    assert_conflict(s.set_member_role(&o1.id, &b.id, Role::Operator).await);
    assert_conflict(s.remove_member(&o1.id, &b.id).await);
    s.remove_member(&o1.id, &a.id).await.unwrap();
    assert_eq!(s.member_role(&o1.id, &a.id).await.unwrap(), None);
    assert_not_found(s.remove_member(&o1.id, &a.id).await);
    // Removing a non-admin member is always fine.
    s.add_member(&o1.id, &c.id, Role::Operator, 130)
        .await
        .unwrap();
    s.remove_member(&o1.id, &c.id).await.unwrap();
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
    s.add_member(&x.id, &u.id, Role::Viewer, 100).await.unwrap();
    s.add_member(&y.id, &u.id, Role::Admin, 300).await.unwrap();
    s.add_member(&z.id, &u.id, Role::Operator, 200)
        .await
        .unwrap();
    s.add_member(&x.id, &other.id, Role::Admin, 999)
        .await
        .unwrap();
    assert!(s.user_orgs("nobody").await.unwrap().is_empty());

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

fn new_invitation(id: &str, org: &str, user: &str, at: i64) -> Invitation {
    Invitation {
        id: id.into(),
        org_id: org.into(),
        user_id: user.into(),
        role: Role::Operator,
        invited_by: "user:inviter".into(),
        created_account: id.ends_with("-new"),
        status: InvitationStatus::Pending,
        created_at: at,
        expires_at: at + 1_000,
    }
}

async fn check_invitations(s: &dyn Store) {
    let u = mk_user(s, "inv@example.test").await;
    let other = mk_user(s, "other-inv@example.test").await;
    let home = s.create_org("oh", "home", "Home", 1).await.unwrap();
    let o = s.create_org("oi", "inviting", "Inviting", 1).await.unwrap();
    let o2 = s.create_org("oj", "another", "Another", 1).await.unwrap();
    s.add_member(&home.id, &u.id, Role::Viewer, 100)
        .await
        .unwrap();

    s.create_invitation(&new_invitation("i1", &o.id, &u.id, 200))
        .await
        .unwrap();
    // One pending invitation per organisation and person.
    assert_conflict(
        s.create_invitation(&new_invitation("i1b", &o.id, &u.id, 300))
            .await,
    );
    s.create_invitation(&new_invitation("i2-new", &o2.id, &u.id, 250))
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
        s.decide_invitation("i1", &u.id, true, 1_200).await,
        Err(StoreError::NotFound)
    ));
    // Only the invited person answers, once.
    assert!(matches!(
        s.decide_invitation("i1", &other.id, true, 300).await,
        Err(StoreError::NotFound)
    ));
    let accepted = s.decide_invitation("i1", &u.id, true, 300).await.unwrap();
    assert_eq!(accepted.status, InvitationStatus::Accepted);
    assert_eq!(accepted.org_id, o.id);
    assert!(matches!(
        s.decide_invitation("i1", &u.id, false, 301).await,
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
        .decide_invitation("i2-new", &u.id, false, 300)
        .await
        .unwrap();
    assert_eq!(declined.status, InvitationStatus::Declined);
    assert_eq!(s.member_role(&o2.id, &u.id).await.unwrap(), None);
    // After an answer, or once lapsed, a new invitation may be made.
    s.create_invitation(&new_invitation("i3", &o2.id, &u.id, 500))
        .await
        .unwrap();
    s.create_invitation(&new_invitation("i4", &o2.id, &other.id, 500))
        .await
        .unwrap();
    s.create_invitation(&new_invitation("i5", &o2.id, &other.id, 1_600))
        .await
        .unwrap();
    let theirs = s.user_invitations(&other.id, 1_600).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].0.id, "i5");
    // Unknown organisation or user.
    assert_conflict(
        s.create_invitation(&new_invitation("i6", "no-such-org", &u.id, 500))
            .await,
    );
    assert_conflict(
        s.create_invitation(&new_invitation("i7", &o.id, "no-such-user", 500))
            .await,
    );
}

async fn check_credential_revocation(s: &dyn Store) {
    let u = mk_user(s, "rev@example.test").await;
    let other = mk_user(s, "rev-other@example.test").await;
    let o1 = mk_org(s, "r1").await;
    let o2 = mk_org(s, "r2").await;
    // Sessions: live until revoked or expired.
    s.create_auth_session(new_session("rs1", &u.id, None))
        .await
        .unwrap();
    assert!(s.auth_session_active("rs1", 1_500).await.unwrap());
    assert!(
        !s.auth_session_active("rs1", 2_000).await.unwrap(),
        "expired"
    );
    assert!(!s.auth_session_active("nope", 1_500).await.unwrap());
    s.revoke_auth_session("rs1", 1_600).await.unwrap();
    assert!(!s.auth_session_active("rs1", 1_500).await.unwrap());
    // Keys acting as the user, in every organisation; not others' nor service keys.
    for k in [
        new_key("rk1", &o1.id, "mine1", Some(&u.id), 100),
        new_key("rk2", &o2.id, "mine2", Some(&u.id), 100),
        new_key("rk3", &o1.id, "theirs", Some(&other.id), 100),
        new_key("rk4", &o1.id, "service", None, 100),
    ] {
        s.create_api_key(k).await.unwrap();
    }
    assert_eq!(s.revoke_user_api_keys(&u.id, 700).await.unwrap(), 2);
    assert_eq!(s.revoke_user_api_keys(&u.id, 800).await.unwrap(), 0);
    let revoked = |keys: Vec<ApiKey>| {
        keys.into_iter()
            .map(|k| (k.id, k.revoked_at))
            .collect::<Vec<_>>()
    };
    let mut all = revoked(s.list_api_keys(&o1.id).await.unwrap());
    all.extend(revoked(s.list_api_keys(&o2.id).await.unwrap()));
    all.sort();
    assert_eq!(
        all,
        vec![
            ("rk1".to_string(), Some(700)),
            ("rk2".to_string(), Some(700)),
            ("rk3".to_string(), None),
            ("rk4".to_string(), None)
        ]
    );
    // A one-time password is flagged until replaced.
    let mut nu = new_user("otp@example.test");
    nu.must_change_password = true;
    let created = s.create_user(nu, 10).await.unwrap();
    assert!(created.must_change_password);
    assert!(
        s.user_by_id(&created.id)
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    s.set_password(&created.id, "new-hash", 20).await.unwrap();
    let (after, hash) = s.user_by_email("otp@example.test").await.unwrap().unwrap();
    assert!(!after.must_change_password);
    assert_eq!(hash.as_deref(), Some("new-hash"));
}

async fn check_admin_exists_platform_admin(s: &dyn Store) {
    assert!(!s.admin_exists().await.unwrap());
    let u = mk_user(s, "p@example.test").await;
    let o = mk_org(s, "o").await;
    s.add_member(&o.id, &u.id, Role::Operator, 1).await.unwrap();
    assert!(!s.admin_exists().await.unwrap());
    s.set_platform_admin(&u.id, true, 2).await.unwrap();
    assert!(s.admin_exists().await.unwrap());
    s.set_platform_admin(&u.id, false, 3).await.unwrap();
    assert!(!s.admin_exists().await.unwrap());
}

async fn check_bootstrap_once(s: &dyn Store) {
    let (u, o) = s
        .bootstrap_admin(
            new_user("first@example.test"),
            "org-1",
            "first",
            "First Org",
            5_000,
        )
        .await
        .unwrap();
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
            new_user("second@example.test"),
            "org-2",
            "second",
            "Second",
            6_000,
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
        s.bootstrap_admin(new_user("x@example.test"), "ox", "x", "X", 2)
            .await,
    );
    assert!(s.user_by_email("x@example.test").await.unwrap().is_none());
    s.set_platform_admin(&cli.id, false, 3).await.unwrap();

    // A failing bootstrap (slug taken) is rolled back as a whole.
    let taken = s.create_org("taken-id", "taken", "Taken", 4).await.unwrap();
    assert_conflict(
        s.bootstrap_admin(new_user("y@example.test"), "oy", "taken", "Y", 5)
            .await,
    );
    assert!(s.user_by_email("y@example.test").await.unwrap().is_none());
    assert!(!s.admin_exists().await.unwrap());

    // An organisation admin created another way.
    s.add_member(&taken.id, &cli.id, Role::Admin, 6)
        .await
        .unwrap();
    assert_conflict(
        s.bootstrap_admin(new_user("z@example.test"), "oz", "z", "Z", 7)
            .await,
    );
    assert!(s.user_by_email("z@example.test").await.unwrap().is_none());
    assert!(s.org_by_id("oz").await.unwrap().is_none());
}

fn new_session(id: &str, user_id: &str, org: Option<&str>) -> NewAuthSession {
    NewAuthSession {
        id: id.into(),
        token_hash: format!("token-hash-{id}"),
        user_id: user_id.into(),
        active_org_id: org.map(Into::into),
        created_at: 1_000,
        expires_at: 2_000,
        ip: Some("198.51.100.7".into()),
        user_agent: Some("test-agent".into()),
    }
}

async fn check_auth_sessions(s: &dyn Store) {
    let u = mk_user(s, "s@example.test").await;
    let other = mk_user(s, "t@example.test").await;
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;

    s.create_auth_session(new_session("s1", &u.id, Some(&o1.id)))
        .await
        .unwrap();
    let got = s
        .auth_session_by_hash("token-hash-s1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, "s1");
    assert_eq!(got.user, u);
    assert_eq!(got.active_org_id.as_deref(), Some("o1"));
    assert_eq!((got.expires_at, got.revoked_at), (2_000, None));
    assert!(s.auth_session_by_hash("nope").await.unwrap().is_none());

    // Same id or same token hash; unknown user or organisation.
    assert_conflict(s.create_auth_session(new_session("s1", &u.id, None)).await);
    let mut same_hash = new_session("s-dup", &u.id, None);
    same_hash.token_hash = "token-hash-s1".into();
    assert_conflict(s.create_auth_session(same_hash).await);
    assert_conflict(
        s.create_auth_session(new_session("s-bad", "no-such-user", None))
            .await,
    );
    assert_conflict(
        s.create_auth_session(new_session("s-bad2", &u.id, Some("no-such-org")))
            .await,
    );

    // A session without an organisation.
    s.create_auth_session(new_session("s2", &u.id, None))
        .await
        .unwrap();
    assert!(s
        .auth_session_by_hash("token-hash-s2")
        .await
        .unwrap()
        .unwrap()
        .active_org_id
        .is_none());

    s.extend_auth_session("s1", 5_000, 1_500).await.unwrap();
    assert_eq!(
        s.auth_session_by_hash("token-hash-s1")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        5_000
    );
    s.set_session_org("s1", &o2.id).await.unwrap();
    assert_eq!(
        s.auth_session_by_hash("token-hash-s1")
            .await
            .unwrap()
            .unwrap()
            .active_org_id
            .as_deref(),
        Some("o2")
    );
    // Unknown sessions: no-ops.
    s.extend_auth_session("nope", 1, 1).await.unwrap();
    s.revoke_auth_session("nope", 1).await.unwrap();
    s.set_session_org("nope", &o1.id).await.unwrap();

    // Revoke all but one.
    s.create_auth_session(new_session("s3", &u.id, None))
        .await
        .unwrap();
    s.create_auth_session(new_session("t1", &other.id, None))
        .await
        .unwrap();
    s.revoke_user_sessions(&u.id, Some("s2"), 3_000)
        .await
        .unwrap();
    let revoked = |h: &'static str| async move {
        s.auth_session_by_hash(h).await.unwrap().unwrap().revoked_at
    };
    assert_eq!(revoked("token-hash-s1").await, Some(3_000));
    assert_eq!(revoked("token-hash-s2").await, None);
    assert_eq!(revoked("token-hash-s3").await, Some(3_000));
    assert_eq!(revoked("token-hash-t1").await, None);

    // A revoked session is not extended and keeps its first revocation time.
    s.extend_auth_session("s1", 9_000, 3_500).await.unwrap();
    assert_eq!(
        s.auth_session_by_hash("token-hash-s1")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        5_000
    );
    s.revoke_auth_session("s2", 4_000).await.unwrap();
    assert_eq!(revoked("token-hash-s2").await, Some(4_000));
    s.revoke_auth_session("s2", 4_500).await.unwrap();
    assert_eq!(revoked("token-hash-s2").await, Some(4_000));

    // Revoke all (no exception) leaves other users alone and earlier times in place.
    s.create_auth_session(new_session("s4", &u.id, None))
        .await
        .unwrap();
    s.revoke_user_sessions(&u.id, None, 6_000).await.unwrap();
    assert_eq!(revoked("token-hash-s4").await, Some(6_000));
    assert_eq!(revoked("token-hash-s1").await, Some(3_000));
    assert_eq!(revoked("token-hash-t1").await, None);
}

fn new_key(id: &str, org: &str, name: &str, owner: Option<&str>, at: i64) -> NewApiKey {
    NewApiKey {
        id: id.into(),
        org_id: org.into(),
        name: name.into(),
        key_hash: format!("key-hash-{id}"),
        prefix: format!("pfx{id}"),
        permissions: vec!["tools:read".into(), "tools:execute".into()],
        owner_user_id: owner.map(Into::into),
        created_by: "user:creator".into(),
        created_at: at,
        expires_at: Some(at + 10_000),
    }
}

async fn check_api_keys(s: &dyn Store) {
    let u = mk_user(s, "k@example.test").await;
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;

    let k1 = s
        .create_api_key(new_key("k1", &o1.id, "ci", Some(&u.id), 100))
        .await
        .unwrap();
    assert_eq!(
        k1,
        ApiKey {
            id: "k1".into(),
            org_id: "o1".into(),
            name: "ci".into(),
            prefix: "pfxk1".into(),
            permissions: vec!["tools:read".into(), "tools:execute".into()],
            owner_user_id: Some(u.id.clone()),
            created_by: "user:creator".into(),
            created_at: 100,
            expires_at: Some(10_100),
            revoked_at: None,
            last_used_at: None,
        }
    );
    assert_eq!(
        s.api_key_by_hash("key-hash-k1").await.unwrap(),
        Some(k1.clone())
    );
    assert!(s.api_key_by_hash("nope").await.unwrap().is_none());

    // Name unique per organisation only; hash and id unique everywhere.
    assert_conflict(
        s.create_api_key(new_key("k1b", &o1.id, "ci", None, 100))
            .await,
    );
    let k2 = s
        .create_api_key(new_key("k2", &o2.id, "ci", None, 100))
        .await
        .unwrap();
    let mut dup_hash = new_key("k9", &o1.id, "other", None, 100);
    dup_hash.key_hash = "key-hash-k1".into();
    assert_conflict(s.create_api_key(dup_hash).await);
    assert_conflict(
        s.create_api_key(new_key("k1", &o2.id, "fresh", None, 100))
            .await,
    );
    assert_conflict(
        s.create_api_key(new_key("k8", "no-such-org", "x", None, 100))
            .await,
    );

    // A service key: no owner, no expiry, no permissions.
    let mut svc = new_key("k3", &o1.id, "svc", None, 300);
    svc.permissions = vec![];
    svc.expires_at = None;
    let k3 = s.create_api_key(svc).await.unwrap();
    assert_eq!(
        s.api_key_by_hash("key-hash-k3").await.unwrap(),
        Some(k3.clone())
    );
    let k4 = s
        .create_api_key(new_key("k4", &o1.id, "alpha", None, 100))
        .await
        .unwrap();

    // Newest first, then by name.
    assert_eq!(
        s.list_api_keys(&o1.id).await.unwrap(),
        vec![k3.clone(), k4.clone(), k1.clone()]
    );
    assert_eq!(s.list_api_keys(&o2.id).await.unwrap(), vec![k2.clone()]);
    assert!(s.list_api_keys("no-such-org").await.unwrap().is_empty());

    // Revocation by id only within the key's organisation.
    assert!(!s.revoke_api_key(&o2.id, "k1", 500).await.unwrap());
    assert!(s
        .api_key_by_hash("key-hash-k1")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
    assert!(s.revoke_api_key(&o1.id, "k1", 500).await.unwrap());
    assert!(!s.revoke_api_key(&o1.id, "k1", 600).await.unwrap());
    assert!(!s.revoke_api_key(&o1.id, "nope", 600).await.unwrap());
    assert_eq!(
        s.api_key_by_hash("key-hash-k1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(500)
    );

    // By name, likewise.
    assert!(!s.revoke_api_key_by_name(&o1.id, "ci", 700).await.unwrap());
    assert!(!s
        .revoke_api_key_by_name(&o2.id, "alpha", 700)
        .await
        .unwrap());
    assert!(!s.revoke_api_key_by_name(&o1.id, "nope", 700).await.unwrap());
    assert!(s
        .revoke_api_key_by_name(&o1.id, "alpha", 700)
        .await
        .unwrap());
    assert!(!s
        .revoke_api_key_by_name(&o1.id, "alpha", 800)
        .await
        .unwrap());
    assert!(s.revoke_api_key_by_name(&o2.id, "ci", 800).await.unwrap());
    assert_eq!(
        s.api_key_by_hash("key-hash-k2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(800)
    );
    assert_eq!(
        s.api_key_by_hash("key-hash-k4")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(700)
    );
    assert!(s
        .api_key_by_hash("key-hash-k3")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());

    // Revoked keys are still listed, marked.
    let listed: Vec<_> = s
        .list_api_keys(&o1.id)
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.id, k.revoked_at))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("k3".into(), None),
            ("k4".into(), Some(700)),
            ("k1".into(), Some(500))
        ]
    );

    // A revoked key's name stays taken (the constraint covers every row).
    assert_conflict(
        s.create_api_key(new_key("k5", &o1.id, "ci", None, 900))
            .await,
    );
}

async fn check_api_key_touch(s: &dyn Store) {
    let o = mk_org(s, "o").await;
    s.create_api_key(new_key("k1", &o.id, "one", None, 1))
        .await
        .unwrap();
    s.create_api_key(new_key("k2", &o.id, "two", None, 1))
        .await
        .unwrap();
    let used =
        |h: &'static str| async move { s.api_key_by_hash(h).await.unwrap().unwrap().last_used_at };

    s.touch_api_keys(&[]).await.unwrap();
    assert_eq!(used("key-hash-k1").await, None);
    s.touch_api_keys(&[("k1".into(), 100), ("k2".into(), 50), ("nope".into(), 70)])
        .await
        .unwrap();
    assert_eq!(
        (used("key-hash-k1").await, used("key-hash-k2").await),
        (Some(100), Some(50))
    );
    // Never moves backwards, also within one batch.
    s.touch_api_keys(&[("k1".into(), 80)]).await.unwrap();
    assert_eq!(used("key-hash-k1").await, Some(100));
    s.touch_api_keys(&[("k1".into(), 200), ("k1".into(), 150), ("k2".into(), 60)])
        .await
        .unwrap();
    assert_eq!(
        (used("key-hash-k1").await, used("key-hash-k2").await),
        (Some(200), Some(60))
    );
}

fn chat_session(id: &str, org: &str, principal: &str, updated: i64) -> ChatSession {
    ChatSession {
        id: id.into(),
        org_id: org.into(),
        principal_id: principal.into(),
        title: Some(format!("Title {id}")),
        model: "model-x".into(),
        status: "active".into(),
        message_count: 0,
        created_at: 10,
        updated_at: updated,
    }
}

async fn check_chat_sessions(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    let (alice, bob) = ("user:alice", "key:bob");

    let c1 = chat_session("c1", &o1.id, alice, 100);
    let c2 = chat_session("c2", &o1.id, alice, 300);
    let mut c3 = chat_session("c3", &o1.id, alice, 200);
    c3.title = None;
    c3.status = "completed".into();
    let c4 = chat_session("c4", &o1.id, alice, 200);
    for c in [&c1, &c2, &c3, &c4] {
        s.create_chat_session(c).await.unwrap();
    }
    s.create_chat_session(&chat_session("b1", &o1.id, bob, 500))
        .await
        .unwrap();
    s.create_chat_session(&chat_session("x1", &o2.id, alice, 500))
        .await
        .unwrap();
    assert_conflict(
        s.create_chat_session(&chat_session("c1", &o1.id, alice, 1))
            .await,
    );
    assert_conflict(
        s.create_chat_session(&chat_session("c9", "no-such-org", alice, 1))
            .await,
    );

    // Newest first (ties by id), scoped to organisation and principal.
    let page = s.list_chat_sessions(&o1.id, alice, 50, 0).await.unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(
        page.items,
        vec![c2.clone(), c3.clone(), c4.clone(), c1.clone()]
    );
    assert!(page.items.iter().all(|c| c.message_count == 0));
    let page = s.list_chat_sessions(&o1.id, alice, 2, 1).await.unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(page.items, vec![c3.clone(), c4.clone()]);
    let page = s.list_chat_sessions(&o1.id, alice, 10, 10).await.unwrap();
    assert_eq!((page.total, page.items.len()), (4, 0));
    let ids = |p: Page<ChatSession>| {
        (
            p.total,
            p.items.into_iter().map(|c| c.id).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        ids(s.list_chat_sessions(&o1.id, bob, 50, 0).await.unwrap()),
        (1, vec!["b1".to_string()])
    );
    assert_eq!(
        ids(s.list_chat_sessions(&o2.id, alice, 50, 0).await.unwrap()),
        (1, vec!["x1".to_string()])
    );
    assert_eq!(
        ids(s.list_chat_sessions(&o2.id, bob, 50, 0).await.unwrap()),
        (0, vec![])
    );

    // Get, scoped.
    assert_eq!(
        s.get_chat_session(&o1.id, alice, "c1").await.unwrap(),
        Some(c1.clone())
    );
    assert_eq!(
        s.get_chat_session(&o1.id, alice, "c3").await.unwrap(),
        Some(c3.clone())
    );
    assert!(s
        .get_chat_session(&o2.id, alice, "c1")
        .await
        .unwrap()
        .is_none());
    assert!(s
        .get_chat_session(&o1.id, bob, "c1")
        .await
        .unwrap()
        .is_none());
    assert!(s
        .get_chat_session(&o1.id, alice, "nope")
        .await
        .unwrap()
        .is_none());

    // Rename, scoped; it counts as an update.
    assert!(!s
        .rename_chat_session(&o2.id, alice, "c1", Some("Hijack"), 900)
        .await
        .unwrap());
    assert!(!s
        .rename_chat_session(&o1.id, bob, "c1", Some("Hijack"), 900)
        .await
        .unwrap());
    assert!(!s
        .rename_chat_session(&o1.id, alice, "nope", Some("X"), 900)
        .await
        .unwrap());
    assert!(s
        .rename_chat_session(&o1.id, alice, "c1", Some("Renamed"), 1_000)
        .await
        .unwrap());
    let got = s
        .get_chat_session(&o1.id, alice, "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.title.as_deref(), got.updated_at),
        (Some("Renamed"), 1_000)
    );
    assert_eq!(
        ids(s.list_chat_sessions(&o1.id, alice, 1, 0).await.unwrap()),
        (4, vec!["c1".to_string()])
    );
    assert!(s
        .rename_chat_session(&o1.id, alice, "c1", None, 1_100)
        .await
        .unwrap());
    assert!(s
        .get_chat_session(&o1.id, alice, "c1")
        .await
        .unwrap()
        .unwrap()
        .title
        .is_none());

    // Delete, scoped.
    assert!(!s.delete_chat_session(&o2.id, alice, "c1").await.unwrap());
    assert!(!s.delete_chat_session(&o1.id, bob, "c1").await.unwrap());
    assert!(s.delete_chat_session(&o1.id, alice, "c1").await.unwrap());
    assert!(!s.delete_chat_session(&o1.id, alice, "c1").await.unwrap());
    assert!(s
        .get_chat_session(&o1.id, alice, "c1")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.list_chat_sessions(&o1.id, alice, 50, 0)
            .await
            .unwrap()
            .total,
        3
    );
    assert!(s
        .get_chat_session(&o1.id, bob, "b1")
        .await
        .unwrap()
        .is_some());
}

#[allow(clippy::too_many_arguments)]
fn act(
    id: &str,
    org: &str,
    principal: &str,
    tool: &str,
    status: &str,
    at: i64,
    error: Option<&str>,
    dur: Option<i64>,
) -> Activity {
    Activity {
        id: id.into(),
        org_id: org.into(),
        principal_id: principal.into(),
        tool_name: tool.into(),
        category: "compute".into(),
        risk: "read".into(),
        status: status.into(),
        args: format!(r#"{{"id":"{id}"}}"#),
        error: error.map(Into::into),
        duration_ms: dur,
        approval_id: (status == "success").then(|| format!("appr-{id}")),
        created_at: at,
    }
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
    s.record_activity(&run).await.unwrap();
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
    s.record_activity(&late).await.unwrap();
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
        status: "success".into(),
        duration_ms: Some(42),
        ..run.clone()
    };
    assert!(s
        .finish_execution(&done, "tool.executed", r#"{"executionId":"r1"}"#, 150)
        .await
        .unwrap());
    assert!(
        !s.finish_execution(&done, "tool.executed", r#"{"executionId":"r1"}"#, 160)
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
        status: "error".into(),
        ..wrong_org
    };
    assert!(
        !s.finish_execution(&wrong_org, "tool.executed", "{}", 170)
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
        s.record_activity(a).await.unwrap();
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
    s.record_activity(&foreign).await.unwrap();
    assert_conflict(s.record_activity(&rows[0]).await);
    assert_conflict(
        s.record_activity(&act(
            "z9",
            "no-such-org",
            "user:a",
            "t",
            "success",
            1,
            None,
            None,
        ))
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
            .list_activity("no-such-org", &activity_filter(50))
            .await
            .unwrap()),
        (0, v(&[]))
    );
}

async fn check_audit_chains(s: &dyn Store) {
    let keys = keys();
    let org_chain = audit::org_chain("o1");
    assert!(s.audit_head(&org_chain).await.unwrap().is_none());
    assert!(s.audit_head(SYSTEM_CHAIN).await.unwrap().is_none());

    // Interleave two chains.
    let plan: [(Option<&str>, &str); 6] = [
        (Some("o1"), "org.created"),
        (None, "auth.sign_in_failed"),
        (Some("o1"), "member.added"),
        (Some("o1"), "member.role_changed"),
        (None, "setup.completed"),
        (Some("o1"), "tool.executed"),
    ];
    let mut appended: Vec<AuditRecord> = Vec::new();
    for (i, (org, action)) in plan.iter().enumerate() {
        let e = entry(*org, "user:u1", action, 1_000 + i as i64);
        let r = s.append_audit(&keys, &e).await.unwrap();
        let chain = e.chain();
        let prev = appended.iter().rev().find(|p| p.chain == chain);
        assert_eq!(r.chain, chain);
        assert_eq!(r.seq, prev.map_or(1, |p| p.seq + 1));
        assert_eq!(
            r.prev_mac,
            prev.map_or_else(|| audit::genesis(&keys, &chain), |p| p.mac.clone())
        );
        assert_ne!(r.mac, r.prev_mac);
        if let Some(last) = appended.last() {
            assert!(r.id > last.id, "ids increase globally");
        }
        assert_eq!(r.org_id.as_deref(), *org);
        assert_eq!(
            r.detail,
            format!(r#"{{"a":[1,2],"b":1,"note":"{action}"}}"#)
        );
        assert_eq!(
            (
                r.actor.as_str(),
                r.action.as_str(),
                r.target.clone(),
                r.outcome.as_str(),
                r.ip.as_deref(),
                r.created_at
            ),
            (
                "user:u1",
                *action,
                Some(format!("target-of-{action}")),
                "success",
                Some("192.0.2.1"),
                1_000 + i as i64
            )
        );
        // The head follows every append.
        let head = s.audit_head(&chain).await.unwrap().unwrap();
        assert_eq!(
            (head.chain.as_str(), head.seq, head.mac.as_str()),
            (chain.as_str(), r.seq, r.mac.as_str())
        );
        assert_eq!(head.head_mac, audit::head_mac(&keys, &chain, r.seq, &r.mac));
        appended.push(r);
    }
    let org_rows: Vec<_> = appended
        .iter()
        .filter(|r| r.chain == org_chain)
        .cloned()
        .collect();
    let sys_rows: Vec<_> = appended
        .iter()
        .filter(|r| r.chain == SYSTEM_CHAIN)
        .cloned()
        .collect();
    assert_eq!(
        org_rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(sys_rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);

    // Stored exactly as returned, newest first, per chain.
    let page = s.list_audit(&org_chain, &audit_filter(50)).await.unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(
        page.items,
        org_rows.iter().rev().cloned().collect::<Vec<_>>()
    );
    let page = s.list_audit(SYSTEM_CHAIN, &audit_filter(50)).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        page.items,
        sys_rows.iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        s.list_audit("org:nope", &audit_filter(50))
            .await
            .unwrap()
            .total,
        0
    );

    // Both chains verify.
    for chain in [org_chain.as_str(), SYSTEM_CHAIN] {
        let (rows, v) = verify_chain(s, &keys, chain, 100).await;
        assert!(v.valid, "{chain}: {v:?}");
        assert_eq!(v.row_count, rows.len() as i64);
    }
}

async fn check_audit_filters(s: &dyn Store) {
    let keys = keys();
    let chain = audit::org_chain("o1");
    let plan = [
        ("user:a", "auth.sign_in", 100),
        ("user:b", "auth.sign_out", 200),
        ("user:a", "authz.check", 300),
        ("user:a", "tool_x.run", 400),
        ("user:b", "toolyx.run", 500),
        ("key:k", "50%.done", 600),
        ("key:k", "50x.done", 700),
        ("user:a", "auth.sign_in", 800),
    ];
    let mut recs = Vec::new();
    for (actor, action, at) in plan {
        recs.push(
            s.append_audit(&keys, &entry(Some("o1"), actor, action, at))
                .await
                .unwrap(),
        );
    }
    // Another organisation's chain with matching rows must never leak in.
    s.append_audit(&keys, &entry(Some("o2"), "user:a", "auth.sign_in", 150))
        .await
        .unwrap();

    let seqs = |p: Page<AuditRecord>| {
        (
            p.total,
            p.items.into_iter().map(|r| r.seq).collect::<Vec<_>>(),
        )
    };
    let with = |action: Option<&str>, actor: Option<&str>, from: Option<i64>, to: Option<i64>| {
        AuditFilter {
            action: action.map(Into::into),
            actor: actor.map(Into::into),
            from,
            to,
            limit: 50,
            offset: 0,
        }
    };

    assert_eq!(
        seqs(s.list_audit(&chain, &audit_filter(50)).await.unwrap()),
        (8, vec![8, 7, 6, 5, 4, 3, 2, 1])
    );
    // Exact action.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("auth.sign_in"), None, None, None))
                .await
                .unwrap()
        ),
        (2, vec![8, 1])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("auth"), None, None, None))
                .await
                .unwrap()
        ),
        (0, vec![])
    );
    // Prefix.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("auth.*"), None, None, None))
                .await
                .unwrap()
        ),
        (3, vec![8, 2, 1])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("auth*"), None, None, None))
                .await
                .unwrap()
        ),
        (4, vec![8, 3, 2, 1])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("*"), None, None, None))
                .await
                .unwrap()
        )
        .0,
        8
    );
    // LIKE wildcards in the prefix are literal.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("tool_*"), None, None, None))
                .await
                .unwrap()
        ),
        (1, vec![4])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("50%*"), None, None, None))
                .await
                .unwrap()
        ),
        (1, vec![6])
    );
    // Matching is case-sensitive on both backends.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("AUTH.*"), None, None, None))
                .await
                .unwrap()
        ),
        (0, vec![])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("AUTH.sign_in"), None, None, None))
                .await
                .unwrap()
        ),
        (0, vec![])
    );
    // Actor and time.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(None, Some("user:b"), None, None))
                .await
                .unwrap()
        ),
        (2, vec![5, 2])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(None, None, Some(300), Some(600)))
                .await
                .unwrap()
        ),
        (3, vec![5, 4, 3])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(None, None, Some(700), None))
                .await
                .unwrap()
        ),
        (2, vec![8, 7])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(None, None, None, Some(200)))
                .await
                .unwrap()
        ),
        (1, vec![1])
    );
    // Combined.
    assert_eq!(
        seqs(
            s.list_audit(
                &chain,
                &with(Some("auth.*"), Some("user:a"), Some(100), Some(800))
            )
            .await
            .unwrap()
        ),
        (1, vec![1])
    );
    // Paging keeps the total.
    let f = AuditFilter {
        limit: 3,
        offset: 2,
        ..Default::default()
    };
    assert_eq!(
        seqs(s.list_audit(&chain, &f).await.unwrap()),
        (8, vec![6, 5, 4])
    );
    let f = AuditFilter {
        action: Some("auth*".into()),
        limit: 2,
        offset: 1,
        ..Default::default()
    };
    assert_eq!(
        seqs(s.list_audit(&chain, &f).await.unwrap()),
        (4, vec![3, 2])
    );
    let page = s
        .list_audit(&chain, &with(Some("auth.sign_out"), None, None, None))
        .await
        .unwrap();
    assert_eq!(page.items, vec![recs[1].clone()]);

    // Pattern characters of either dialect (LIKE: % _ \, GLOB: * ? [) are literal in a prefix.
    let chain3 = &audit::org_chain("o3");
    for (i, action) in [
        "q?.run", "qx.run", "r[1].x", "r1.x", "s*.t", "sx.t", "u\\v.w", "u\\\\v.w",
    ]
    .iter()
    .enumerate()
    {
        s.append_audit(&keys, &entry(Some("o3"), "user:a", action, i as i64))
            .await
            .unwrap();
    }
    let only = |prefix: &str| {
        let f = with(Some(prefix), None, None, None);
        async move {
            s.list_audit(chain3, &f)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| r.action)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(only("q?*").await, ["q?.run"]);
    assert_eq!(only("r[1]*").await, ["r[1].x"]);
    assert_eq!(only("r[*").await, ["r[1].x"]);
    assert_eq!(only("s**").await, ["s*.t"]);
    assert_eq!(only("u\\v*").await, ["u\\v.w"]);
    assert_eq!(only("u\\*").await, ["u\\\\v.w", "u\\v.w"]);
    assert_eq!(only("q*").await, ["qx.run", "q?.run"]);
}

async fn check_audit_records_after(s: &dyn Store) {
    let keys = keys();
    let chain = audit::org_chain("o1");
    let mut recs = Vec::new();
    for i in 0..7 {
        recs.push(
            s.append_audit(&keys, &entry(Some("o1"), "user:a", "x.y", i))
                .await
                .unwrap(),
        );
        s.append_audit(&keys, &entry(None, "system", "sys.tick", i))
            .await
            .unwrap();
    }
    assert_eq!(
        s.audit_records_after(&chain, 0, 3).await.unwrap(),
        recs[0..3].to_vec()
    );
    assert_eq!(
        s.audit_records_after(&chain, 3, 3).await.unwrap(),
        recs[3..6].to_vec()
    );
    assert_eq!(
        s.audit_records_after(&chain, 6, 3).await.unwrap(),
        recs[6..7].to_vec()
    );
    assert!(s
        .audit_records_after(&chain, 7, 3)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .audit_records_after("org:nope", 0, 3)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .audit_records_after(&chain, 0, 0)
        .await
        .unwrap()
        .is_empty());

    for page in [1, 2, 3, 100] {
        let (rows, v) = verify_chain(s, &keys, &chain, page).await;
        assert!(v.valid, "{v:?}");
        assert_eq!(rows, recs);
        let (rows, v) = verify_chain(s, &keys, SYSTEM_CHAIN, page).await;
        assert!(v.valid, "{v:?}");
        assert_eq!(rows.len(), 7);
    }

    // With other keys the chain does not verify.
    let other = Keys::derive(&Secret::new(vec![8u8; 32]));
    let (_, v) = verify_chain(s, &other, &chain, 100).await;
    assert!(!v.valid);
}

async fn check_audit_concurrent_appends(db: &TestDb) {
    let keys = Arc::new(keys());
    let chain = audit::org_chain("busy");
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..10 {
        let store = db.store.clone();
        let keys = keys.clone();
        tasks.spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..5 {
                let e = entry(
                    Some("busy"),
                    &format!("user:t{t}"),
                    "load.append",
                    t * 100 + i,
                );
                seqs.push(store.append_audit(&keys, &e).await.expect("append").seq);
                // Another chain at the same time must not interfere.
                if i == 2 {
                    store
                        .append_audit(&keys, &entry(None, "system", "sys.tick", t))
                        .await
                        .expect("append system");
                }
            }
            seqs
        });
    }
    let mut all_seqs = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let seqs = r.expect("task");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "a task's own appends are ordered: {seqs:?}"
        );
        all_seqs.extend(seqs);
    }
    all_seqs.sort_unstable();
    assert_eq!(all_seqs, (1..=50).collect::<Vec<i64>>());

    let s = db.store();
    let (rows, v) = verify_chain(s, &keys, &chain, 1_000).await;
    assert!(v.valid, "{v:?}");
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=50).collect::<Vec<i64>>()
    );
    assert_eq!(s.audit_head(&chain).await.unwrap().unwrap().seq, 50);
    assert_eq!(
        s.list_audit(&chain, &audit_filter(1)).await.unwrap().total,
        50
    );
    let (rows, v) = verify_chain(s, &keys, SYSTEM_CHAIN, 1_000).await;
    assert!(v.valid, "{v:?}");
    assert_eq!(rows.len(), 10);
}

async fn check_audit_append_only(db: &TestDb) {
    let s = db.store();
    let keys = keys();
    let chain = audit::org_chain("o1");
    for i in 0..3 {
        s.append_audit(&keys, &entry(Some("o1"), "user:a", "x.y", i))
            .await
            .unwrap();
    }
    let before = s.audit_records_after(&chain, 0, 100).await.unwrap();

    match &db.raw {
        Raw::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            for sql in [
                "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
                "UPDATE audit_log SET detail = '{}'",
                "DELETE FROM audit_log WHERE seq = 3",
                "DELETE FROM audit_log",
            ] {
                let err = c.execute(sql, []).expect_err(sql);
                assert!(err.to_string().contains("append-only"), "{sql}: {err}");
            }
        }
        Raw::Postgres(url) => {
            let c = pg_client(url).await;
            for sql in [
                "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
                "UPDATE audit_log SET detail = '{}'",
                "DELETE FROM audit_log WHERE seq = 3",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
            ] {
                let err = c.batch_execute(sql).await.expect_err(sql);
                let msg = err
                    .as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| err.to_string());
                assert!(msg.contains("append-only"), "{sql}: {msg}");
            }
        }
    }

    assert_eq!(s.audit_records_after(&chain, 0, 100).await.unwrap(), before);
    let (_, v) = verify_chain(s, &keys, &chain, 100).await;
    assert!(v.valid, "{v:?}");
}

/// Two admins demoting each other at the same time must not leave the
/// organisation without one (repeated to give a race a chance to show).
async fn check_concurrent_demotions_keep_an_admin(db: &TestDb) {
    let s = db.store();
    for round in 0..10 {
        let a = mk_user(s, &format!("a{round}@example.test")).await;
        let b = mk_user(s, &format!("b{round}@example.test")).await;
        let o = mk_org(s, &format!("o{round}")).await;
        s.add_member(&o.id, &a.id, Role::Admin, 1).await.unwrap();
        s.add_member(&o.id, &b.id, Role::Admin, 1).await.unwrap();
        let (s1, s2) = (db.store.clone(), db.store.clone());
        let (oa, ob) = (o.id.clone(), o.id.clone());
        let (ua, ub) = (a.id.clone(), b.id.clone());
        let t1 = tokio::spawn(async move { s1.set_member_role(&oa, &ua, Role::Viewer).await });
        let t2 = tokio::spawn(async move {
            if round % 2 == 0 {
                s2.set_member_role(&ob, &ub, Role::Operator).await
            } else {
                s2.remove_member(&ob, &ub).await
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

/// Several first-run setups racing: exactly one wins, the rest are refused
/// and leave nothing behind.
async fn check_concurrent_bootstraps(db: &TestDb) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = db.store.clone();
        tasks.spawn(async move {
            store
                .bootstrap_admin(
                    new_user(&format!("boot{i}@example.test")),
                    &format!("org-{i}"),
                    &format!("boot-{i}"),
                    "Boot",
                    1,
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

async fn check_approvals(s: &dyn Store) {
    let o = mk_org(s, "ap").await;
    let a = portal_core::model::Approval {
        id: "a1".into(),
        org_id: o.id.clone(),
        requester: "user:u1".into(),
        tool_name: "stopInstance".into(),
        risk: "confirm".into(),
        args_hash: "h1".into(),
        args_redacted: "{}".into(),
        tool_call_id: Some("tc1".into()),
        status: "pending".into(),
        decided_by: None,
        reason: None,
        created_at: 1_000,
        expires_at: 2_000,
        decided_at: None,
        consumed_at: None,
        four_eyes: true,
        args_sealed: Some("sealed-hex".into()),
    };
    assert_eq!(s.create_approval(&a, 1_000).await.unwrap().id, "a1");
    let stored = s.get_approval(&o.id, "a1").await.unwrap().unwrap();
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
    assert_eq!(s.create_approval(&dup, 1_000).await.unwrap().id, "a1");
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
        s.get_approval("other-org", "a1").await.unwrap().is_none(),
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
        s.count_pending_approvals_of("other-org", "user:u1", 1_500)
            .await
            .unwrap(),
        0,
        "tenancy"
    );
    assert_eq!(s.count_pending_approvals(1_500).await.unwrap(), 1);
    // Single-use: not before approval, once after, never twice; only the requester.
    assert!(!s
        .consume_approval(&o.id, "a1", "user:u1", 1_500)
        .await
        .unwrap());
    assert!(!s
        .decide_approval("other-org", "a1", true, "user:boss", None, 1_500)
        .await
        .unwrap());
    assert!(s
        .decide_approval(&o.id, "a1", true, "user:boss", Some("ok"), 1_500)
        .await
        .unwrap());
    assert!(
        !s.decide_approval(&o.id, "a1", false, "user:boss", None, 1_500)
            .await
            .unwrap(),
        "decided once"
    );
    assert!(!s
        .consume_approval(&o.id, "a1", "user:u2", 1_600)
        .await
        .unwrap());
    assert!(s
        .consume_approval(&o.id, "a1", "user:u1", 1_600)
        .await
        .unwrap());
    assert!(!s
        .consume_approval(&o.id, "a1", "user:u1", 1_700)
        .await
        .unwrap());
    let spent = s.get_approval(&o.id, "a1").await.unwrap().unwrap();
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
    s.create_approval(&b, 1_000).await.unwrap();
    let c = portal_core::model::Approval {
        id: "c1".into(),
        created_at: 3_000,
        expires_at: 4_000,
        ..b.clone()
    };
    assert_eq!(s.create_approval(&c, 3_000).await.unwrap().id, "c1");
    assert_eq!(
        s.get_approval(&o.id, "b1").await.unwrap().unwrap().status,
        "expired"
    );
    assert!(!s
        .decide_approval(&o.id, "b1", true, "user:boss", None, 3_000)
        .await
        .unwrap());
}

// ---------------------------------------------------------------- chat messages, turns and events

const ALICE: &str = "user:alice";

/// An untitled session of Alice's.
async fn mk_chat(s: &dyn Store, id: &str, org: &str) {
    let mut c = chat_session(id, org, ALICE, 10);
    c.title = None;
    s.create_chat_session(&c)
        .await
        .expect("create chat session");
}

/// A message as a caller hands it in (`session_id` and `seq` are the store's to set).
fn msg(id: &str, role: &str, content: &str, at: i64) -> ChatMessage {
    ChatMessage {
        id: id.into(),
        session_id: "ignored".into(),
        seq: 99,
        role: role.into(),
        content: content.into(),
        meta: None,
        created_at: at,
    }
}

fn chat_turn(id: &str, org: &str, session: &str, status: &str) -> ChatTurn {
    let running = status == "running";
    ChatTurn {
        id: id.into(),
        org_id: org.into(),
        session_id: session.into(),
        principal_id: ALICE.into(),
        status: status.into(),
        approval_id: None,
        state: format!("{{\"turn\":\"{id}\"}}"),
        lease_owner: running.then(|| "r1".to_string()),
        lease_until: if running { 1_000 } else { 0 },
        created_at: 10,
        updated_at: 10,
    }
}

fn chat_event(session: &str, seq: i64) -> ChatEvent {
    ChatEvent {
        session_id: session.into(),
        seq,
        turn_id: "t1".into(),
        body: format!("{{\"type\":\"text-delta\",\"delta\":\"{session}-{seq}\"}}"),
        created_at: 100 + seq,
    }
}

fn seqs_of<T>(items: &[T], seq: impl Fn(&T) -> i64) -> Vec<i64> {
    items.iter().map(seq).collect()
}

async fn check_chat_messages(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    mk_chat(s, "c1", &o1.id).await;
    mk_chat(s, "c2", &o1.id).await;
    mk_chat(s, "x1", &o2.id).await;

    // Seq is assigned by the store, per session, continuing across appends.
    let mut m2 = msg("m2", "assistant", "Hi", 21);
    m2.meta =
        Some(r#"{"toolCalls":[{"id":"tc1","name":"listInstances","arguments":"{}"}]}"#.into());
    let first = s
        .append_chat_messages(&o1.id, "c1", &[msg("m1", "user", "Hello", 20), m2], 500)
        .await
        .unwrap();
    assert_eq!(seqs_of(&first, |m| m.seq), vec![1, 2]);
    assert!(first.iter().all(|m| m.session_id == "c1"));
    assert_eq!(
        first[1].meta.as_deref(),
        Some(r#"{"toolCalls":[{"id":"tc1","name":"listInstances","arguments":"{}"}]}"#)
    );
    let second = s
        .append_chat_messages(&o1.id, "c1", &[msg("m3", "tool", "[]", 22)], 600)
        .await
        .unwrap();
    assert_eq!(second[0].seq, 3);
    let other = s
        .append_chat_messages(&o1.id, "c2", &[msg("n1", "user", "Other", 30)], 550)
        .await
        .unwrap();
    assert_eq!(other[0].seq, 1);

    // Tenancy: another organisation's session is not found, and not listed.
    assert_not_found(
        s.append_chat_messages(&o2.id, "c1", &[msg("evil", "user", "x", 1)], 700)
            .await,
    );
    assert_not_found(
        s.append_chat_messages(&o1.id, "nope", &[msg("m9", "user", "x", 1)], 700)
            .await,
    );
    assert_not_found(s.append_chat_messages(&o2.id, "c1", &[], 700).await);
    assert!(s
        .append_chat_messages(&o1.id, "c1", &[], 700)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .list_chat_messages(&o2.id, "c1", 0, 100)
        .await
        .unwrap()
        .is_empty());

    // Listing: oldest first, `after` exclusive, `limit` honoured.
    let all = s.list_chat_messages(&o1.id, "c1", 0, 100).await.unwrap();
    let expected: Vec<ChatMessage> = first.iter().chain(&second).cloned().collect();
    assert_eq!(all, expected);
    assert_eq!(
        seqs_of(
            &s.list_chat_messages(&o1.id, "c1", 1, 100).await.unwrap(),
            |m| m.seq
        ),
        vec![2, 3]
    );
    assert_eq!(
        seqs_of(
            &s.list_chat_messages(&o1.id, "c1", 1, 1).await.unwrap(),
            |m| m.seq
        ),
        vec![2]
    );
    assert!(s
        .list_chat_messages(&o1.id, "c1", 3, 100)
        .await
        .unwrap()
        .is_empty());

    // The session's counter and update time follow the appends.
    let c1 = s
        .get_chat_session(&o1.id, ALICE, "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c1.message_count, c1.updated_at), (3, 600));
    let c2 = s
        .get_chat_session(&o1.id, ALICE, "c2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c2.message_count, c2.updated_at), (1, 550));
    let x1 = s
        .get_chat_session(&o2.id, ALICE, "x1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((x1.message_count, x1.updated_at), (0, 10));

    // A failing batch stores nothing of itself.
    assert_conflict(
        s.append_chat_messages(
            &o1.id,
            "c1",
            &[msg("m4", "user", "new", 40), msg("m1", "user", "dup", 41)],
            800,
        )
        .await,
    );
    assert_eq!(
        s.list_chat_messages(&o1.id, "c1", 0, 100).await.unwrap(),
        expected
    );
    let c1 = s
        .get_chat_session(&o1.id, ALICE, "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c1.message_count, c1.updated_at), (3, 600));

    // Title: set once, only when unset, only within the organisation.
    assert!(!s
        .set_chat_title_if_unset(&o2.id, "c1", "Hijack", 900)
        .await
        .unwrap());
    assert!(!s
        .set_chat_title_if_unset(&o1.id, "nope", "X", 900)
        .await
        .unwrap());
    assert!(s
        .set_chat_title_if_unset(&o1.id, "c1", "First", 900)
        .await
        .unwrap());
    assert!(!s
        .set_chat_title_if_unset(&o1.id, "c1", "Second", 950)
        .await
        .unwrap());
    let c1 = s
        .get_chat_session(&o1.id, ALICE, "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c1.title.as_deref(), c1.updated_at), (Some("First"), 900));
    assert!(s
        .get_chat_session(&o1.id, ALICE, "c2")
        .await
        .unwrap()
        .unwrap()
        .title
        .is_none());

    // Deleting a message-bearing session keeps the other sessions' counts.
    assert!(s.delete_chat_session(&o1.id, ALICE, "c1").await.unwrap());
    assert!(s
        .list_chat_messages(&o1.id, "c1", 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.get_chat_session(&o1.id, ALICE, "c2")
            .await
            .unwrap()
            .unwrap()
            .message_count,
        1
    );
}

/// Concurrent appends to one session get distinct, gap-free positions.
async fn check_chat_messages_concurrent(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    mk_chat(s, "c1", &o.id).await;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let store = db.store.clone();
        let org = o.id.clone();
        tasks.spawn(async move {
            let mut batches = Vec::new();
            for i in 0..5 {
                let batch = [
                    msg(&format!("t{t}-{i}-a"), "user", "q", 1),
                    msg(&format!("t{t}-{i}-b"), "assistant", "a", 2),
                ];
                let stored = store
                    .append_chat_messages(&org, "c1", &batch, 100)
                    .await
                    .expect("append");
                batches.push(seqs_of(&stored, |m| m.seq));
            }
            batches
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        for batch in r.expect("task") {
            assert_eq!(batch.len(), 2);
            assert_eq!(batch[1], batch[0] + 1, "a batch is contiguous");
            all.extend(batch);
        }
    }
    all.sort_unstable();
    assert_eq!(all, (1..=80).collect::<Vec<i64>>());
    let listed = s.list_chat_messages(&o.id, "c1", 0, 1_000).await.unwrap();
    assert_eq!(seqs_of(&listed, |m| m.seq), (1..=80).collect::<Vec<i64>>());
    assert_eq!(
        s.get_chat_session(&o.id, ALICE, "c1")
            .await
            .unwrap()
            .unwrap()
            .message_count,
        80
    );
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
    assert!(matches!(
        s.create_chat_turn(&chat_turn("t3", &o2.id, "x1", "bogus"))
            .await,
        Err(StoreError::Other(_))
    ));

    // Saving is fenced by the lease owner, and scoped to the organisation.
    let paused = ChatTurn {
        status: "awaiting_approval".into(),
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
    assert!(matches!(
        s.save_chat_turn(
            &ChatTurn {
                status: "paused".into(),
                ..paused.clone()
            },
            "r1",
            2_000,
            55
        )
        .await,
        Err(StoreError::Other(_))
    ));

    // Finishing releases the lease; a finished turn is never saved again, and
    // frees the session for the next turn.
    let done = ChatTurn {
        status: "done".into(),
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
        status: "failed".into(),
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
        s.wake_chat_turn(&o2.id, "ap-1", 70)
            .await
            .unwrap()
            .is_none(),
        "tenancy"
    );
    assert!(
        s.wake_chat_turn(&o1.id, "ap-3", 70)
            .await
            .unwrap()
            .is_none(),
        "tenancy"
    );
    assert!(s
        .wake_chat_turn(&o1.id, "ap-nope", 70)
        .await
        .unwrap()
        .is_none());
    assert!(
        s.wake_chat_turn(&o1.id, "ap-2", 70)
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
        .wake_chat_turn(&o1.id, "ap-1", 77)
        .await
        .unwrap()
        .expect("woken");
    let expected = ChatTurn {
        status: "resumable".into(),
        lease_owner: None,
        lease_until: 0,
        updated_at: 77,
        ..waiting.clone()
    };
    assert_eq!(woken, expected);
    assert_eq!(s.get_chat_turn(&o1.id, "ta").await.unwrap(), Some(expected));
    assert!(
        s.wake_chat_turn(&o1.id, "ap-1", 80)
            .await
            .unwrap()
            .is_none(),
        "once"
    );
    // The replica that paused it no longer holds it: it must be claimed.
    assert!(!s.save_chat_turn(&waiting, "r1", 9_000, 90).await.unwrap());
    let claimed = s
        .claim_chat_turn("r9", 9_000, 100)
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
    assert!(s.claim_chat_turn("w1", 900, 500).await.unwrap().is_none());
    assert!(
        s.claim_chat_turn("w1", 900, 1_000).await.unwrap().is_none(),
        "lease holds until its end"
    );

    // Resumable turns, oldest update first, across organisations.
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
    let got = s
        .claim_chat_turn("w1", 900, 500)
        .await
        .unwrap()
        .expect("rb");
    assert_eq!(
        got,
        ChatTurn {
            status: "running".into(),
            lease_owner: Some("w1".into()),
            lease_until: 900,
            updated_at: 500,
            ..rb.clone()
        }
    );
    assert_eq!(s.get_chat_turn(&o2.id, "rb").await.unwrap(), Some(got));
    assert_eq!(
        s.claim_chat_turn("w2", 900, 500)
            .await
            .unwrap()
            .expect("ra")
            .id,
        "ra"
    );
    assert!(s.claim_chat_turn("w3", 900, 500).await.unwrap().is_none());

    // Lapsed leases (dead replicas) are claimable again, oldest first (ties by id).
    let got = s
        .claim_chat_turn("w4", 2_000, 1_001)
        .await
        .unwrap()
        .expect("live");
    assert_eq!(
        (got.id.as_str(), got.lease_owner.as_deref(), got.lease_until),
        ("live", Some("w4"), 2_000)
    );
    assert_eq!(
        s.claim_chat_turn("w4", 2_000, 1_001)
            .await
            .unwrap()
            .expect("ra")
            .id,
        "ra"
    );
    assert_eq!(
        s.claim_chat_turn("w4", 2_000, 1_001)
            .await
            .unwrap()
            .expect("rb")
            .id,
        "rb"
    );
    assert!(s
        .claim_chat_turn("w4", 2_000, 1_001)
        .await
        .unwrap()
        .is_none());
    // The replica that lost the lease is fenced; the new holder is not.
    let live = s.get_chat_turn(&o1.id, "live").await.unwrap().unwrap();
    assert!(!s.save_chat_turn(&live, "r1", 3_000, 1_100).await.unwrap());
    assert!(!s.save_chat_turn(&ra, "w2", 3_000, 1_100).await.unwrap());
    assert!(s.save_chat_turn(&live, "w4", 3_000, 1_100).await.unwrap());
    // A renewed lease holds again.
    assert!(
        s.claim_chat_turn("w5", 9_000, 2_500)
            .await
            .unwrap()
            .map(|t| t.id)
            != Some("live".into())
    );
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
                let got = store
                    .claim_chat_turn(&owner, 100_000, 100)
                    .await
                    .expect("claim");
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
        assert!(s
            .claim_chat_turn("late", 100_000, 100)
            .await
            .unwrap()
            .is_none());
    }
}

async fn check_chat_events(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    mk_chat(s, "c1", &o1.id).await;
    mk_chat(s, "c2", &o1.id).await;
    mk_chat(s, "x1", &o2.id).await;
    assert_eq!(s.last_chat_event("c1").await.unwrap(), 0);
    assert!(s
        .list_chat_events(&o1.id, "c1", 0, 100)
        .await
        .unwrap()
        .is_empty());
    s.append_chat_events(&[]).await.unwrap();

    s.append_chat_events(&[
        chat_event("c1", 1),
        chat_event("c1", 2),
        chat_event("c2", 1),
        chat_event("x1", 1),
    ])
    .await
    .unwrap();
    s.append_chat_events(&[chat_event("c1", 3)]).await.unwrap();
    // Written out of order, read back in order.
    s.append_chat_events(&[chat_event("c2", 3)]).await.unwrap();
    s.append_chat_events(&[chat_event("c2", 2)]).await.unwrap();

    let c1 = s.list_chat_events(&o1.id, "c1", 0, 100).await.unwrap();
    assert_eq!(
        c1,
        vec![
            chat_event("c1", 1),
            chat_event("c1", 2),
            chat_event("c1", 3)
        ]
    );
    assert_eq!(
        seqs_of(
            &s.list_chat_events(&o1.id, "c1", 1, 100).await.unwrap(),
            |e| e.seq
        ),
        vec![2, 3]
    );
    assert_eq!(
        seqs_of(
            &s.list_chat_events(&o1.id, "c1", 1, 1).await.unwrap(),
            |e| e.seq
        ),
        vec![2]
    );
    assert!(s
        .list_chat_events(&o1.id, "c1", 3, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        seqs_of(
            &s.list_chat_events(&o1.id, "c2", 0, 100).await.unwrap(),
            |e| e.seq
        ),
        vec![1, 2, 3]
    );
    assert_eq!(s.last_chat_event("c1").await.unwrap(), 3);
    assert_eq!(s.last_chat_event("c2").await.unwrap(), 3);
    assert_eq!(s.last_chat_event("nope").await.unwrap(), 0);

    // Tenancy.
    assert!(s
        .list_chat_events(&o2.id, "c1", 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .list_chat_events(&o1.id, "x1", 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.list_chat_events(&o2.id, "x1", 0, 100).await.unwrap(),
        vec![chat_event("x1", 1)]
    );

    // A taken id refuses the whole batch.
    assert_conflict(
        s.append_chat_events(&[chat_event("c1", 4), chat_event("c1", 2)])
            .await,
    );
    assert_conflict(
        s.append_chat_events(&[chat_event("c1", 5), chat_event("c1", 5)])
            .await,
    );
    assert_conflict(s.append_chat_events(&[chat_event("nope", 1)]).await);
    assert_eq!(s.list_chat_events(&o1.id, "c1", 0, 100).await.unwrap(), c1);
    assert_eq!(s.last_chat_event("c1").await.unwrap(), 3);
}

async fn check_chat_event_wait(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    mk_chat(s, "c1", &o.id).await;
    mk_chat(s, "c2", &o.id).await;
    s.append_chat_events(&[chat_event("c1", 1)]).await.unwrap();

    // Events already there: no wait.
    let start = Instant::now();
    s.wait_chat_events("c1", 0, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );

    // Nothing new: the timeout ends the wait.
    let start = Instant::now();
    s.wait_chat_events("c1", 1, Duration::from_millis(300))
        .await
        .unwrap();
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );

    // A new event ends it promptly; another session's events do not.
    let store = db.store.clone();
    let waiter = tokio::spawn(async move {
        store
            .wait_chat_events("c1", 1, Duration::from_secs(20))
            .await
            .map(|()| Instant::now())
    });
    let store = db.store.clone();
    let bystander = tokio::spawn(async move {
        let start = Instant::now();
        store
            .wait_chat_events("c2", 0, Duration::from_millis(1_500))
            .await
            .map(|()| start.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    let appended = Instant::now();
    s.append_chat_events(&[chat_event("c1", 2)]).await.unwrap();
    let woke = waiter.await.unwrap().unwrap();
    assert!(
        woke.duration_since(appended) < Duration::from_secs(3),
        "{:?}",
        woke.duration_since(appended)
    );
    let waited = bystander.await.unwrap().unwrap();
    assert!(waited >= Duration::from_millis(1_500), "{waited:?}");
}

/// Deleting a session takes its messages, turns and events with it.
async fn check_chat_cascade(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    for c in ["c1", "c2"] {
        mk_chat(s, c, &o.id).await;
        s.append_chat_messages(&o.id, c, &[msg(&format!("{c}-m1"), "user", "hi", 1)], 5)
            .await
            .unwrap();
        s.create_chat_turn(&chat_turn(&format!("{c}-t1"), &o.id, c, "done"))
            .await
            .unwrap();
        s.create_chat_turn(&chat_turn(&format!("{c}-t2"), &o.id, c, "running"))
            .await
            .unwrap();
        s.append_chat_events(&[chat_event(c, 1), chat_event(c, 2)])
            .await
            .unwrap();
    }
    assert!(s.delete_chat_session(&o.id, ALICE, "c1").await.unwrap());
    assert!(s.get_chat_turn(&o.id, "c1-t2").await.unwrap().is_none());
    assert_eq!(s.last_chat_event("c1").await.unwrap(), 0);
    assert_eq!(
        s.get_chat_turn(&o.id, "c2-t2")
            .await
            .unwrap()
            .unwrap()
            .status,
        "running"
    );

    let tables = ["chat_messages", "chat_turns", "chat_events"];
    let mut counts = Vec::new();
    for table in tables {
        let sql = format!(
            "SELECT session_id, COUNT(*) FROM {table} GROUP BY session_id ORDER BY session_id"
        );
        let rows: Vec<(String, i64)> = match &db.raw {
            Raw::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                let mut st = c.prepare(&sql).unwrap();
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Raw::Postgres(url) => pg_client(url)
                .await
                .query(&sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        };
        counts.push(rows);
    }
    assert_eq!(
        counts,
        vec![
            vec![("c2".to_string(), 1)],
            vec![("c2".to_string(), 2)],
            vec![("c2".to_string(), 2)],
        ]
    );
}

// ---------------------------------------------------------------- events (webhook outbox)

fn event_ids(events: &[Event]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

async fn check_events(s: &dyn Store) {
    let o1 = mk_org(s, "o1").await;
    let o2 = mk_org(s, "o2").await;
    assert!(s.list_events(&o1.id, 0, 100).await.unwrap().is_empty());
    assert!(s.undelivered_events(100).await.unwrap().is_empty());
    assert_conflict(
        s.append_event("no-such-org", "tool.executed", "{}", 1)
            .await,
    );

    // Interleaved appends for two organisations: ids increase globally.
    let mut ids = Vec::new();
    for (i, org) in ["o1", "o2", "o1", "o1", "o2", "o1"].iter().enumerate() {
        let payload = format!("{{\"n\":{i}}}");
        ids.push(
            s.append_event(org, &format!("kind.{i}"), &payload, 100 + i as i64)
                .await
                .unwrap(),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // Tenancy: each organisation sees only its own, oldest first, with every field.
    let mine = s.list_events(&o1.id, 0, 100).await.unwrap();
    assert_eq!(event_ids(&mine), vec![ids[0], ids[2], ids[3], ids[5]]);
    assert_eq!(
        mine[1],
        Event {
            id: ids[2],
            org_id: o1.id.clone(),
            kind: "kind.2".into(),
            payload: "{\"n\":2}".into(),
            created_at: 102,
            delivered_at: None,
        }
    );
    let theirs = s.list_events(&o2.id, 0, 100).await.unwrap();
    assert_eq!(event_ids(&theirs), vec![ids[1], ids[4]]);
    assert!(theirs.iter().all(|e| e.org_id == o2.id));
    assert!(s
        .list_events("no-such-org", 0, 100)
        .await
        .unwrap()
        .is_empty());

    // after and limit page through in order.
    let page = s.list_events(&o1.id, ids[0], 2).await.unwrap();
    assert_eq!(event_ids(&page), vec![ids[2], ids[3]]);
    let page = s.list_events(&o1.id, ids[3], 2).await.unwrap();
    assert_eq!(event_ids(&page), vec![ids[5]]);
    assert!(s.list_events(&o1.id, ids[5], 2).await.unwrap().is_empty());
    // A cursor taken from another org's id still works (ids are global).
    let page = s.list_events(&o1.id, ids[4], 100).await.unwrap();
    assert_eq!(event_ids(&page), vec![ids[5]]);

    // The dispatcher's queue: every org, oldest first.
    assert_eq!(event_ids(&s.undelivered_events(100).await.unwrap()), ids);
    assert_eq!(
        event_ids(&s.undelivered_events(2).await.unwrap()),
        ids[..2].to_vec()
    );
    assert_eq!(s.mark_events_delivered(&[], 500).await.unwrap(), 0);
    assert_eq!(
        s.mark_events_delivered(&[ids[0], ids[1], ids[1], 9_999_999], 500)
            .await
            .unwrap(),
        2,
        "unknown and repeated ids are not counted"
    );
    assert_eq!(
        s.mark_events_delivered(&[ids[0], ids[2]], 600)
            .await
            .unwrap(),
        1,
        "an already delivered event is left alone"
    );
    assert_eq!(
        event_ids(&s.undelivered_events(100).await.unwrap()),
        vec![ids[3], ids[4], ids[5]]
    );
    let mine = s.list_events(&o1.id, 0, 100).await.unwrap();
    let delivered: Vec<Option<i64>> = mine.iter().map(|e| e.delivered_at).collect();
    assert_eq!(delivered, vec![Some(500), Some(600), None, None]);
}

/// Appends racing on many connections get distinct ids, and a poller following
/// with `after` while they run misses none of them: ids become visible in order.
async fn check_events_concurrent_appends_are_seen_in_order(db: &TestDb) {
    let s = db.store();
    mk_org(s, "busy").await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let store = db.store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut cursor = 0;
            loop {
                // Read the flag first: a read after it was set sees every append.
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let batch = store.list_events("busy", cursor, 1000).await.expect("poll");
                if let Some(last) = batch.last() {
                    cursor = last.id;
                }
                seen.extend(event_ids(&batch));
                if finished && batch.is_empty() {
                    return seen;
                }
            }
        })
    };
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let store = db.store.clone();
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..10 {
                let payload = format!("{{\"t\":{t},\"i\":{i}}}");
                ids.push(
                    store
                        .append_event("busy", "load", &payload, i)
                        .await
                        .expect("append"),
                );
            }
            ids
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let ids = r.expect("task");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        all.extend(ids);
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 80, "distinct ids");
    let seen = poller.await.expect("poller");
    assert_eq!(seen, all, "the poller saw every event once, in id order");
}

/// Removing an organisation removes its events (orgs are not deleted through
/// the store today, so this deletes the row directly), and ids of removed
/// events are never handed out again: a poller past them would miss new ones.
async fn check_events_cascade_and_ids_never_reused(db: &TestDb) {
    let s = db.store();
    let keep = mk_org(s, "keep").await;
    mk_org(s, "gone").await;
    let kept = s.append_event("keep", "k", "{}", 1).await.unwrap();
    let mut top = 0;
    for _ in 0..3 {
        top = s.append_event("gone", "g", "{}", 2).await.unwrap();
    }
    let sql = "DELETE FROM organizations WHERE id = 'gone'";
    match &db.raw {
        Raw::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
            assert_eq!(c.execute(sql, []).unwrap(), 1);
        }
        Raw::Postgres(url) => {
            assert_eq!(pg_client(url).await.execute(sql, &[]).await.unwrap(), 1);
        }
    }
    assert!(s.list_events("gone", 0, 100).await.unwrap().is_empty());
    assert_eq!(
        event_ids(&s.undelivered_events(100).await.unwrap()),
        vec![kept]
    );
    let next = s.append_event(&keep.id, "k", "{}", 3).await.unwrap();
    assert!(
        next > top,
        "id {next} reused (removed ids went up to {top})"
    );
    assert_eq!(
        event_ids(&s.list_events(&keep.id, 0, 100).await.unwrap()),
        vec![kept, next]
    );
}

/// Two replicas on one PostgreSQL database: a follower waiting on one is woken
/// by the other's append through LISTEN/NOTIFY, also after its listener's
/// connection was cut (and re-established).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_chat_wakeup_across_replicas() {
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|v| !v.trim().is_empty()) else {
        return;
    };
    let db = PgDatabase::create(&admin_url).await;
    let a = Arc::new(PgStore::connect(&db.url, 4, Duration::from_secs(60)).expect("pool a"));
    a.migrate().await.expect("migrate");
    let b = PgStore::connect(&db.url, 4, Duration::from_secs(60)).expect("pool b");
    let o = mk_org(&b, "o1").await;
    mk_chat(&b, "c1", &o.id).await;
    b.append_chat_events(&[chat_event("c1", 1)]).await.unwrap();

    // The first wait starts A's listener.
    assert!(!a.chat_listener_ready());
    a.wait_chat_events("c1", 0, Duration::from_secs(5))
        .await
        .unwrap();
    let raw = pg_client(&db.url).await;
    let listener_pids = || async {
        raw.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'oci-portal-listener'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, i32>(0))
        .collect::<Vec<i32>>()
    };
    // Waits for a listening listener on a connection other than `old`; returns its pid.
    let ready = |old: Option<i32>| {
        let a = a.clone();
        let listener_pids = &listener_pids;
        async move {
            for _ in 0..500 {
                // A new connection shows up before it LISTENs: read the flag after it.
                let pid = listener_pids().await.into_iter().find(|p| Some(*p) != old);
                if let (Some(pid), true) = (pid, a.chat_listener_ready()) {
                    return pid;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the chat listener did not (re)connect");
        }
    };
    let first_pid = ready(None).await;
    assert!(!b.chat_listener_ready(), "B never waited: no listener");

    // Woken by B's append well before A's periodic re-check (5 s) would notice.
    let woken_after = |after: i64| {
        let a = a.clone();
        tokio::spawn(async move {
            a.wait_chat_events("c1", after, Duration::from_secs(20))
                .await
                .map(|()| Instant::now())
        })
    };
    let waiter = woken_after(1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    let appended = Instant::now();
    b.append_chat_events(&[chat_event("c1", 2)]).await.unwrap();
    let took = waiter.await.unwrap().unwrap().duration_since(appended);
    assert!(took < Duration::from_secs(2), "{took:?}");

    // Cut the listener's connection: waits keep working (polling meanwhile) and
    // the listener comes back on a new connection.
    let waiter = woken_after(2);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed: bool = raw
        .query_one("SELECT pg_terminate_backend($1)", &[&first_pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);
    let appended = Instant::now();
    b.append_chat_events(&[chat_event("c1", 3)]).await.unwrap();
    let took = waiter.await.unwrap().unwrap().duration_since(appended);
    assert!(took < Duration::from_secs(2), "{took:?}");
    ready(Some(first_pid)).await;

    let waiter = woken_after(3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    let appended = Instant::now();
    b.append_chat_events(&[chat_event("c1", 4)]).await.unwrap();
    let took = waiter.await.unwrap().unwrap().duration_since(appended);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

/// Rows for the message backfill checks: stored before migration 5 numbered
/// the messages (time order, per session).
const BEFORE_SEQ: &str =
    "INSERT INTO organizations (id, slug, name, created_at) VALUES ('o1', 'o1', 'O1', 1);
    INSERT INTO chat_sessions (id, org_id, principal_id, model, created_at, updated_at) VALUES
        ('c1', 'o1', 'user:a', 'm', 1, 1), ('c2', 'o1', 'user:a', 'm', 1, 1);
    INSERT INTO chat_messages (id, session_id, role, content, created_at) VALUES
        ('z', 'c1', 'user', 'first', 10), ('a', 'c1', 'assistant', 'second', 20),
        ('m', 'c1', 'user', 'third', 30), ('b', 'c2', 'user', 'only', 5);";
const AFTER_SEQ: &str = "SELECT id, seq FROM chat_messages ORDER BY session_id, seq";
const ADD_FOURTH: &str =
    "INSERT INTO chat_messages (id, session_id, seq, role, content, created_at) \
    VALUES ('n', 'c1', 4, 'user', 'fourth', 40)";
const COUNTS: &str = "SELECT id, message_count FROM chat_sessions ORDER BY id";

/// The migrations before the chat one, and the chat one.
fn before_chat() -> (
    &'static [portal_store::Migration],
    &'static portal_store::Migration,
) {
    let at = portal_store::MIGRATIONS
        .iter()
        .position(|m| m.name == "chat")
        .expect("the chat migration");
    (
        &portal_store::MIGRATIONS[..at],
        &portal_store::MIGRATIONS[at],
    )
}

/// (message id, seq) and (session id, message count) rows.
type Pairs = Vec<(String, i64)>;

fn backfilled() -> (Pairs, Pairs) {
    let seqs = [("z", 1), ("a", 2), ("m", 3), ("n", 4), ("b", 1)];
    (
        seqs.iter().map(|(i, s)| (i.to_string(), *s)).collect(),
        vec![("c1".to_string(), 4), ("c2".to_string(), 1)],
    )
}

#[test]
fn sqlite_chat_migration_numbers_existing_messages() {
    let dir = tempfile::tempdir().unwrap();
    let c = rusqlite::Connection::open(dir.path().join("p.db")).unwrap();
    let (earlier, last) = before_chat();
    for m in earlier {
        c.execute_batch(m.sqlite).unwrap();
    }
    c.execute_batch(BEFORE_SEQ).unwrap();
    c.execute_batch(last.sqlite).unwrap();
    c.execute(ADD_FOURTH, []).unwrap();
    let rows = |sql: &str| -> Pairs {
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!((rows(AFTER_SEQ), rows(COUNTS)), backfilled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_chat_migration_numbers_existing_messages() {
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|v| !v.trim().is_empty()) else {
        return;
    };
    let db = PgDatabase::create(&admin_url).await;
    let c = pg_client(&db.url).await;
    let (earlier, last) = before_chat();
    for m in earlier {
        c.batch_execute(m.postgres).await.unwrap();
    }
    c.batch_execute(BEFORE_SEQ).await.unwrap();
    c.batch_execute(last.postgres).await.unwrap();
    c.batch_execute(ADD_FOURTH).await.unwrap();
    let mut got = Vec::new();
    for sql in [AFTER_SEQ, COUNTS] {
        let rows = c.query(sql, &[]).await.unwrap();
        got.push(
            rows.iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
                .collect::<Vec<_>>(),
        );
    }
    let (seqs, counts) = backfilled();
    assert_eq!(got, vec![seqs, counts]);
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
        s.supersede_chat_turn(&o2.id, "c1", 50)
            .await
            .unwrap()
            .is_none(),
        "tenancy"
    );
    assert!(
        s.supersede_chat_turn(&o1.id, "c2", 50)
            .await
            .unwrap()
            .is_none(),
        "only a turn waiting for an approval"
    );
    let ended = s
        .supersede_chat_turn(&o1.id, "c1", 60)
        .await
        .unwrap()
        .expect("superseded");
    assert_eq!(ended.id, "ta");
    assert_eq!(ended.status, "failed");
    assert_eq!(ended.lease_owner, None);
    // A decision arriving afterwards wakes nothing; the session takes a new turn.
    assert!(s
        .wake_chat_turn(&o1.id, "ap-1", 70)
        .await
        .unwrap()
        .is_none());
    s.create_chat_turn(&chat_turn("tc", &o1.id, "c1", "running"))
        .await
        .unwrap();
    assert!(s
        .supersede_chat_turn(&o1.id, "c1", 80)
        .await
        .unwrap()
        .is_none());
}
