//! The audit ledger: what is recorded, listing and export, and verification
//! catching an edited row, a deleted middle row, deleted tail rows and a chain
//! recomputed without the key; append-only triggers; concurrent appends.

use portal_core::audit::{canonical, head_mac};
use portal_core::crypto::Keys;
use portal_core::Secret;
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

async fn verify(c: &Client) -> Value {
    let res = c.get("/api/audit/verify").await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// An admin and a few audited events (org created, sign-in, keys).
async fn ledger() -> (TestApp, Client, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for i in 0..4 {
        admin.create_key(&format!("k{i}"), &["tools:read"]).await;
    }
    let org = admin.who["activeOrganization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (app, admin, format!("org:{org}"))
}

#[tokio::test]
async fn records_list_filter_and_export() {
    let (app, admin, _) = ledger().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    assert_eq!(
        admin
            .patch(
                &format!("/api/org/members/{}", op.user_id()),
                json!({"role": "viewer"})
            )
            .await
            .status(),
        200
    );
    let page: Value = admin
        .get("/api/audit?limit=100")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for a in [
        "org.created",
        "auth.sign_in",
        "api_key.created",
        // Adding a member is an invitation (M7), joined at the first sign-in.
        "member.invited",
        "member.joined",
        "auth.password_changed",
        "member.role_changed",
    ] {
        assert!(actions.contains(&a), "{a} recorded: {actions:?}");
    }
    let seqs: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] == w[1] + 1),
        "newest first, contiguous: {seqs:?}"
    );
    let role_change = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "member.role_changed")
        .unwrap();
    assert_eq!(
        role_change["detail"],
        json!({"from": "operator", "to": "viewer"})
    );
    assert_eq!(role_change["actor"], format!("user:{}", admin.user_id()));
    assert_eq!(role_change["ip"], "127.0.0.1");

    let keys: Value = admin
        .get("/api/audit?action=api_key.created")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys["total"], 4);
    let members: Value = admin
        .get("/api/audit?action=member.*")
        .await
        .json()
        .await
        .unwrap();
    // member.invited, member.joined (M7: an invitation, joined at first sign-in), member.role_changed
    assert_eq!(members["total"], 3);
    let by_op: Value = admin
        .get(&format!("/api/audit?actor=user:{}", op.user_id()))
        .await
        .json()
        .await
        .unwrap();
    assert!(by_op["total"].as_i64().unwrap() >= 1);

    let res = admin
        .get("/api/audit?format=jsonl&action=api_key.created")
        .await;
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    let text = res.text().await.unwrap();
    assert_eq!(text.lines().count(), 4);
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["action"], "api_key.created");
    }
    let res = admin.get("/api/audit?format=csv").await;
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("audit.csv"));
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("id,seq,createdAt,actor,action"));
    assert_eq!(
        csv.lines().count() as i64,
        page["total"].as_i64().unwrap() + 1
    );
    // Passwords never reach the ledger.
    assert!(!csv.contains(portal_testkit::PASSWORD));
}

#[tokio::test]
async fn rows_cannot_be_updated_or_deleted() {
    let (app, admin, _) = ledger().await;
    for sql in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"] {
        let app = &app;
        let r = tokio::spawn({
            let db = app.db.clone();
            let sql = sql.to_string();
            async move { try_sql(&db, &sql).await }
        })
        .await
        .unwrap();
        assert!(r.is_err(), "{sql} must be refused");
        assert!(r.unwrap_err().contains("append-only"));
    }
    if let portal_testkit::DbHandle::Postgres(_) = &app.db {
        let r = try_sql(&app.db, "TRUNCATE audit_log").await;
        assert!(r.unwrap_err().contains("append-only"));
    }
    assert_eq!(verify(&admin).await["valid"], true);
}

async fn try_sql(db: &portal_testkit::DbHandle, sql: &str) -> Result<(), String> {
    match db {
        portal_testkit::DbHandle::Sqlite(p) => rusqlite_exec(p, sql),
        portal_testkit::DbHandle::Postgres(url) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            client
                .batch_execute(sql)
                .await
                .map_err(|e| format!("{e:?}"))
        }
    }
}

fn rusqlite_exec(path: &std::path::Path, sql: &str) -> Result<(), String> {
    let c = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    c.execute_batch(sql).map_err(|e| e.to_string())
}

#[tokio::test]
async fn an_edited_row_is_caught() {
    let (app, admin, chain) = ledger().await;
    let before = verify(&admin).await;
    assert_eq!(before["valid"], true);
    app.sql_bypassing_audit_triggers(&format!("UPDATE audit_log SET detail = '{{\"name\":\"innocent\"}}' WHERE chain = '{chain}' AND seq = 3")).await;
    let v = verify(&admin).await;
    assert_eq!(v["valid"], false, "{v}");
    let id = id_of(&app, &admin, 3).await;
    assert_eq!(v["firstBrokenId"], id);
    assert!(v["reason"].as_str().unwrap().contains("MAC"));
}

async fn id_of(_app: &TestApp, admin: &Client, seq: i64) -> i64 {
    let page: Value = admin
        .get("/api/audit?limit=200")
        .await
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["seq"] == seq)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_deleted_middle_row_is_caught() {
    let (app, admin, chain) = ledger().await;
    let id4 = id_of(&app, &admin, 4).await;
    app.sql_bypassing_audit_triggers(&format!(
        "DELETE FROM audit_log WHERE chain = '{chain}' AND seq = 3"
    ))
    .await;
    let v = verify(&admin).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["firstBrokenId"], id4);
    assert!(v["reason"].as_str().unwrap().contains("gap"));
}

#[tokio::test]
async fn deleted_tail_rows_are_caught() {
    let (app, admin, chain) = ledger().await;
    let total = verify(&admin).await["rowCount"].as_i64().unwrap();
    app.sql_bypassing_audit_triggers(&format!(
        "DELETE FROM audit_log WHERE chain = '{chain}' AND seq > {}",
        total - 2
    ))
    .await;
    let v = verify(&admin).await;
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["rowCount"], total - 2);
    assert!(v["reason"].as_str().unwrap().contains("missing"), "{v}");
}

#[tokio::test]
async fn a_chain_recomputed_without_the_key_is_caught() {
    let (app, admin, chain) = ledger().await;
    // The attacker rewrites a record and recomputes every MAC and the head
    // with a key of their own (they do not have the portal's).
    let forged = Keys::derive(&Secret::new(b"attacker-guess-attacker-guess-00".to_vec()));
    let page: Value = admin
        .get("/api/audit?limit=200")
        .await
        .json()
        .await
        .unwrap();
    let mut rows: Vec<Value> = page["items"].as_array().unwrap().clone();
    rows.reverse();
    let mut prev = forged.audit_mac(format!("genesis\u{0}{chain}").as_bytes());
    let mut sql = String::new();
    let org = chain.trim_start_matches("org:");
    for r in &rows {
        let seq = r["seq"].as_i64().unwrap();
        let detail = if seq == 2 {
            "{\"tampered\":true}".to_string()
        } else {
            serde_json::to_string(&r["detail"]).unwrap()
        };
        let created = parse_ms(r["createdAt"].as_str().unwrap());
        let mac = forged.audit_mac(&canonical(
            &chain,
            seq,
            Some(org),
            r["actor"].as_str().unwrap(),
            r["action"].as_str().unwrap(),
            r["target"].as_str(),
            r["outcome"].as_str().unwrap(),
            &detail,
            r["ip"].as_str(),
            created,
            &prev,
        ));
        sql.push_str(&format!(
            "UPDATE audit_log SET detail = '{}', prev_mac = '{prev}', mac = '{mac}' WHERE chain = '{chain}' AND seq = {seq};\n",
            detail.replace('\'', "''")
        ));
        prev = mac;
    }
    let last = rows.last().unwrap()["seq"].as_i64().unwrap();
    sql.push_str(&format!(
        "UPDATE audit_heads SET mac = '{prev}', head_mac = '{}' WHERE chain = '{chain}'",
        head_mac(&forged, &chain, last, &prev)
    ));
    app.sql_bypassing_audit_triggers(&sql).await;
    let v = verify(&admin).await;
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(
        v["firstBrokenId"], rows[0]["id"],
        "the very first record fails"
    );
}

/// RFC 3339 (as the API writes it) to epoch milliseconds.
fn parse_ms(s: &str) -> i64 {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[tokio::test]
async fn concurrent_appends_never_fork_the_chain() {
    let a = TestApp::spawn().await;
    let admin = a.admin().await;
    // Two replicas on one database, appending at once.
    let b = TestApp::builder().same_database_as(&a).spawn().await;
    let admin_b = b.sign_in("admin@acme.test", portal_testkit::PASSWORD).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let c = if i % 2 == 0 {
            admin.clone()
        } else {
            admin_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            c.post(
                "/api/api-keys",
                json!({"name": format!("c{i}"), "permissions": ["tools:read"]}),
            )
            .await
            .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let v = verify(&admin).await;
    assert_eq!(v["valid"], true, "{v}");
    let keys: Value = admin
        .get("/api/audit?action=api_key.created")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys["total"], 24);
    let cli = a
        .command(env!("CARGO_BIN_EXE_portal"))
        .args(["audit", "verify", "--org", "acme"])
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let out: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(out["valid"], true);
    assert_eq!(out["rowCount"], v["rowCount"]);
}

#[tokio::test]
async fn cli_verify_exits_non_zero_on_tampering() {
    let (app, admin, chain) = ledger().await;
    let _ = admin;
    app.sql_bypassing_audit_triggers(&format!(
        "UPDATE audit_log SET actor = 'someone-else' WHERE chain = '{chain}' AND seq = 2"
    ))
    .await;
    let out = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args(["audit", "verify", "--org", "acme"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT intact"));
}
