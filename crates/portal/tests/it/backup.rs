//! `portal backup` while the portal serves and writes, `portal restore` into a
//! fresh data directory, the audit chains verified on the restored copy, and a
//! backup from a newer schema refused. (PostgreSQL backups are pg_dump's:
//! `.ci/backup/run` restores one with pg_restore.)

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use portal_testkit::{on_postgres, TestApp};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_portal");

/// Runs the binary against `dir`'s SQLite file with the app's secret.
fn portal_at(app: &TestApp, dir: &Path, args: &[&str]) -> std::process::Output {
    app.command(BIN)
        .env("PORTAL_DATA_DIR", dir)
        .env(
            "PORTAL_DATABASE_URL",
            format!("sqlite:{}", dir.join("portal.db").display()),
        )
        .env("PORTAL_CLOUD", "none")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn count(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn a_backup_taken_under_writes_restores_with_intact_audit_chains() {
    let app = TestApp::spawn().await;
    if on_postgres() {
        // The command names pg_dump instead of pretending.
        let out = app
            .command(BIN)
            .args(["backup", "--to", "/tmp/never-written.db"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("pg_dump"),
            "{}",
            text(&out.stderr)
        );
        return;
    }
    let admin = app.admin().await;
    let out = tempfile::tempdir().unwrap();

    // Writers: API keys created (each one audited) as fast as the portal takes them.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..3 {
        let (admin, stop, written) = (admin.clone(), stop.clone(), written.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let res = admin
                    .post(
                        "/api/api-keys",
                        json!({"name": format!("w{w}-{i}"), "permissions": ["tools:read"]}),
                    )
                    .await;
                assert_eq!(
                    res.status(),
                    201,
                    "{}",
                    res.text().await.unwrap_or_default()
                );
                written.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    // Backups while the writes go on, each after more rows were written.
    let mut backups = Vec::new();
    for n in 0..3 {
        let before = written.load(Ordering::Relaxed);
        while written.load(Ordering::Relaxed) < before + 5 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let file = out.path().join(format!("backup-{n}.db"));
        let f = file.clone();
        let cmd = app.command(BIN);
        let res = tokio::task::spawn_blocking(move || {
            let mut cmd = cmd;
            cmd.args(["backup", "--to"]).arg(&f).output().unwrap()
        })
        .await
        .unwrap();
        assert!(res.status.success(), "backup {n}: {}", text(&res.stderr));
        assert!(
            text(&res.stdout).contains("schema version"),
            "{}",
            text(&res.stdout)
        );
        backups.push(file);
    }
    let during = written.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(during >= 15, "writes went on during the backups ({during})");

    let mut seen = Vec::new();
    for (n, file) in backups.iter().enumerate() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "backup {n} is private");
        }
        let keys = count(file, "SELECT COUNT(*) FROM api_keys");
        let audited = count(
            file,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'api_key.created'",
        );
        // One snapshot: every key in the copy has its audit entry, and nothing more.
        assert_eq!(keys, audited, "backup {n}: keys and their audit entries");
        seen.push(keys);

        let fresh = tempfile::tempdir().unwrap();
        let dir = fresh.path().join("data");
        let res = portal_at(
            &app,
            &dir,
            &["restore", "--from", &file.display().to_string()],
        );
        assert!(res.status.success(), "restore {n}: {}", text(&res.stderr));
        for chain in [
            &["audit", "verify", "--org", "acme"][..],
            &["audit", "verify"],
        ] {
            let v = portal_at(&app, &dir, chain);
            assert!(
                v.status.success(),
                "{chain:?} after restore {n}: {}",
                text(&v.stderr)
            );
            let body: Value = serde_json::from_slice(&v.stdout).unwrap();
            assert_eq!(body["valid"], true, "{body}");
        }
        assert_eq!(
            count(&dir.join("portal.db"), "SELECT COUNT(*) FROM api_keys"),
            keys
        );
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "later backups hold more: {seen:?}"
    );
    // A backup never overwrites a file.
    let res = app
        .command(BIN)
        .args(["backup", "--to"])
        .arg(&backups[0])
        .output()
        .unwrap();
    assert!(!res.status.success());
    assert!(
        text(&res.stderr).contains("exists"),
        "{}",
        text(&res.stderr)
    );
}

#[tokio::test]
async fn a_backup_from_a_newer_schema_is_refused_and_the_database_is_left_alone() {
    if on_postgres() {
        return; // SQLite's restore; PostgreSQL restores with pg_restore (.ci/backup/run).
    }
    let app = TestApp::spawn().await;
    let _admin = app.admin().await;
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("b.db");
    let res = app
        .command(BIN)
        .args(["backup", "--to"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(res.status.success(), "{}", text(&res.stderr));
    let c = rusqlite::Connection::open(&file).unwrap();
    let newest: i64 = c
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    c.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (?1, 'from the future')",
        [newest + 1000],
    )
    .unwrap();
    drop(c);

    // Restoring over an existing database: refused, the database unchanged.
    let fresh = tempfile::tempdir().unwrap();
    let dir = fresh.path().join("data");
    let res = portal_at(&app, &dir, &["migrate"]);
    assert!(res.status.success(), "{}", text(&res.stderr));
    let before = count(&dir.join("portal.db"), "SELECT COUNT(*) FROM users");
    let res = portal_at(
        &app,
        &dir,
        &["restore", "--from", &file.display().to_string()],
    );
    assert!(!res.status.success());
    let err = text(&res.stderr);
    assert!(
        err.contains(&format!("schema version {}", newest + 1000))
            && err.contains("newer than this portal's"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    assert_eq!(
        count(&dir.join("portal.db"), "SELECT COUNT(*) FROM users"),
        before
    );

    // Not a portal database at all.
    let junk = out.path().join("junk.db");
    rusqlite::Connection::open(&junk)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let res = portal_at(
        &app,
        &dir,
        &["restore", "--from", &junk.display().to_string()],
    );
    assert!(!res.status.success());
    assert!(
        text(&res.stderr).contains("not a portal database"),
        "{}",
        text(&res.stderr)
    );
}
