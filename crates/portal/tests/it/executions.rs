//! Execution records survive a database outage between a tool's run and its
//! record (M9), and the audit ledger records each run's real outcome and the
//! gateway's refusals (L2).
//!
//! The outage is injected by the tool itself, right after it "ran": on
//! PostgreSQL the testkit proxy cuts the connection; on SQLite another
//! connection holds the database's write lock longer than the store waits.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portal_core::service::tools::{self as gateway, GatewayHooks, Scope, ToolError, ToolRunner};
use portal_core::service::{executions, Ctx};
use portal_core::tools::ToolSpec;
use portal_testkit::proxy::{self, TcpProxy};
use portal_testkit::{Client, DbHandle, TestApp};
use serde_json::{json, Map, Value};

/// How the tool takes the database away once it has run.
enum Outage {
    Proxy(Arc<TcpProxy>),
    SqliteLock(std::path::PathBuf),
}

/// A runner whose every tool "runs" and then causes an outage of `hold`.
struct CutsTheDatabase {
    outage: Outage,
    hold: Duration,
}

#[async_trait]
impl ToolRunner for CutsTheDatabase {
    fn specs(&self) -> std::borrow::Cow<'static, [ToolSpec]> {
        std::borrow::Cow::Borrowed(portal_tools::TOOLS)
    }
    fn cloud(&self) -> &'static str {
        "test"
    }
    /// listRegions touches no customer compartment (as in the real catalogue),
    /// so the organisation's compartment assignment does not matter here.
    async fn scope(&self, _name: &str, _args: &Map<String, Value>) -> Result<Scope, ToolError> {
        Ok(Scope::Unbound)
    }
    async fn run(&self, _name: &str, _args: &Map<String, Value>) -> Result<Value, ToolError> {
        match &self.outage {
            Outage::Proxy(p) => {
                p.cut();
                let (p, hold) = (p.clone(), self.hold);
                tokio::spawn(async move {
                    tokio::time::sleep(hold).await;
                    p.restore();
                });
            }
            Outage::SqliteLock(path) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let (path, hold) = (path.clone(), self.hold);
                std::thread::spawn(move || {
                    let c = rusqlite::Connection::open(path).expect("open");
                    c.execute_batch("BEGIN EXCLUSIVE").expect("lock");
                    let _ = tx.send(());
                    std::thread::sleep(hold);
                    c.execute_batch("COMMIT").expect("unlock");
                });
                rx.await.expect("locked");
            }
        }
        Ok(json!({"ran": true}))
    }
}

struct NoHooks;
impl GatewayHooks for NoHooks {
    fn executed(&self, _tool: &str, _status: &str, _seconds: f64) {}
}

async fn json_of(c: &Client, path: &str) -> Value {
    let res = c.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

fn ctx(app: &TestApp) -> Ctx<'_> {
    app.state.app.ctx(None, None)
}

#[tokio::test]
async fn an_outage_between_run_and_record_loses_neither_record_nor_event() {
    let (app, outage, _proxy) = if portal_testkit::on_postgres() {
        let url = std::env::var(portal_testkit::PG_ENV).unwrap();
        let proxy = Arc::new(TcpProxy::start(proxy::pg_target(&url)).await);
        let addr = proxy.addr;
        let app = TestApp::builder()
            .pg_url_via(move |u| proxy::via(u, addr))
            .spawn()
            .await;
        (app, Outage::Proxy(proxy.clone()), Some(proxy))
    } else {
        let app = TestApp::spawn().await;
        let DbHandle::Sqlite(path) = app.db.clone() else {
            unreachable!("SQLite")
        };
        (app, Outage::SqliteLock(path), None)
    };
    let admin = app.admin().await;
    let (key, _) = admin
        .create_key("runner", &["tools:read", "tools:execute"])
        .await;
    let c = ctx(&app);
    let principal = portal_core::identity::resolve_api_key(c.store, &key, c.now)
        .await
        .unwrap()
        .expect("the key resolves");
    let runner = CutsTheDatabase {
        outage,
        hold: if portal_testkit::on_postgres() {
            Duration::from_millis(1500)
        } else {
            // Longer than the SQLite store waits for its write lock (5 s).
            Duration::from_secs(6)
        },
    };
    let done = gateway::execute(
        &c,
        &runner,
        &NoHooks,
        &principal,
        gateway::Request {
            name: "listRegions",
            args: &json!({}),
            tool_call_id: None,
            approval_id: None,
        },
        Duration::from_secs(30),
    )
    .await
    .expect("the tool ran and its answer is returned");

    let activity = json_of(&admin, "/api/activity?tool=listRegions").await;
    assert_eq!(activity["total"], 1, "{activity}");
    assert_eq!(activity["items"][0]["id"], done.id.as_str());
    assert_eq!(activity["items"][0]["status"], "success", "{activity}");
    let events = json_of(&admin, "/api/v1/events").await;
    let executed: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "tool.executed" && e["payload"]["executionId"] == done.id.as_str())
        .collect();
    assert_eq!(executed.len(), 1, "{events}");
    assert_eq!(executed[0]["payload"]["status"], "success");
    let audit = json_of(&admin, "/api/audit?action=tool.execute").await;
    let mut outcomes: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    outcomes.sort_unstable();
    assert_eq!(outcomes, vec!["started", "success"], "{audit}");
}

#[tokio::test]
async fn runs_whose_outcome_was_lost_are_finished_at_start_up() {
    let a = TestApp::spawn().await;
    let admin = a.admin().await;
    // What a replica that died mid-run leaves behind.
    a.sql(
        "INSERT INTO tool_executions (id, org_id, principal_id, tool_name, category, risk, status, args, created_at) \
         SELECT 'lost-1', id, 'user:someone', 'stopInstance', 'compute', 'confirm', 'running', '{\"instanceId\":\"x\"}', 1000 \
         FROM organizations WHERE slug = 'acme'",
    )
    .await;
    let running = json_of(&admin, "/api/activity?status=running").await;
    assert_eq!(running["total"], 1, "{running}");

    // Another replica starting up finishes it.
    let b = TestApp::builder().same_database_as(&a).spawn().await;
    let start = std::time::Instant::now();
    loop {
        let unknown = json_of(&admin, "/api/activity?status=unknown").await;
        if unknown["total"] == 1 {
            assert_eq!(unknown["items"][0]["id"], "lost-1");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = json_of(&admin, "/api/v1/events").await;
    let lost: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["payload"]["executionId"] == "lost-1")
        .collect();
    assert_eq!(lost.len(), 1, "{events}");
    assert_eq!(lost[0]["kind"], "tool.executed");
    assert_eq!(lost[0]["payload"]["status"], "unknown");
    let audit = json_of(&admin, "/api/audit?action=tool.execute").await;
    assert_eq!(audit["items"][0]["outcome"], "unknown", "{audit}");
    // Once only.
    assert_eq!(executions::finish_stale(&ctx(&b), 0).await.unwrap(), 0);
}

#[tokio::test]
async fn the_ledger_records_outcomes_and_refusals() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let instance = admin.running_instance().await;
    // A run the cloud fails: `started`, then `error` (never `success`).
    let res = op
        .post(
            "/api/tools/execute",
            json!({"toolName": "getCommandExecution", "args": {"instanceId": instance, "commandId": "ocid1.instanceagentcommand.oc1.iad.bogus"}}),
        )
        .await;
    assert!(res.status().is_client_error() || res.status().is_server_error());
    let audit = json_of(&admin, "/api/audit?action=tool.execute").await;
    let outcomes: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["target"] == "getCommandExecution")
        .map(|r| {
            (
                r["outcome"].as_str().unwrap(),
                r["detail"]["executionId"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 2, "{audit}");
    assert_eq!(
        (outcomes[0].0, outcomes[1].0),
        ("error", "started"),
        "{audit}"
    );
    assert_eq!(outcomes[0].1, outcomes[1].1, "the same execution");

    // Refusals by the gateway are recorded too.
    let res = op
        .post(
            "/api/tools/execute",
            json!({"toolName": "terminateInstance", "args": {"instanceId": instance}}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let audit = json_of(&admin, "/api/audit?action=tool.execute").await;
    let denied = &audit["items"][0];
    assert_eq!(denied["outcome"], "denied", "{audit}");
    assert_eq!(denied["target"], "terminateInstance");
    assert_eq!(denied["actor"], format!("user:{}", op.user_id()));
    assert!(denied["detail"]["reason"]
        .as_str()
        .unwrap()
        .contains("tools:danger"));
}
