//! The real `portal` binary: help, configuration checks, migrate, serve and
//! graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn portal(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portal"));
    // A clean environment: only what the test sets (plus PATH for the runtime).
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORTAL_DATA_DIR", dir);
    c
}

#[test]
fn help_explains_each_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "config"] {
        assert!(text.contains(cmd), "{cmd} in help: {text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["config", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("check"));
}

#[test]
fn production_refuses_to_start_without_secret_key_or_with_star_cors() {
    let dir = tempfile::tempdir().unwrap();
    let out = portal(dir.path())
        .arg("serve")
        .env("PORTAL_ENV", "production")
        .env("PORTAL_CORS_ORIGINS", "https://ui.example")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PORTAL_SECRET_KEY"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    let key = "k".repeat(40);
    let out = portal(dir.path())
        .arg("serve")
        .env("PORTAL_ENV", "production")
        .env("PORTAL_SECRET_KEY", &key)
        .env("PORTAL_CORS_ORIGINS", "*")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PORTAL_CORS_ORIGINS") && err.contains('*'),
        "{err}"
    );

    let out = portal(dir.path())
        .arg("serve")
        .env("PORTAL_ENV", "production")
        .env("PORTAL_SECRET_KEY", &key)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "production needs explicit CORS origins"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORTAL_CORS_ORIGINS"));
    let out = portal(dir.path())
        .arg("serve")
        .env("PORTAL_ENV", "production")
        .env("PORTAL_SECRET_KEY", &key)
        .env("PORTAL_CORS_ORIGINS", "https://ui.example")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "production names its cloud explicitly"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORTAL_CLOUD"));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was written"
    );
}

#[test]
fn config_check_validates_and_redacts() {
    let dir = tempfile::tempdir().unwrap();
    let key = "verysecretkeyvalue-0123456789abcdef";
    let out = portal(dir.path())
        .args(["config", "check"])
        .env("PORTAL_SECRET_KEY", key)
        .env(
            "PORTAL_DATABASE_URL",
            "postgres://app:dbpassword9@db.internal:5432/portal",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PORTAL_BIND=127.0.0.1:8080"), "{text}");
    assert!(text.contains("PORTAL_SECRET_KEY=[REDACTED]"), "{text}");
    assert!(
        !text.contains(key) && !text.contains("dbpassword9"),
        "{text}"
    );

    let out = portal(dir.path())
        .args(["config", "check"])
        .env("PORTAL_RATE_LIMIT_API", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORTAL_RATE_LIMIT_API"));

    let file = dir.path().join("portal.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:9191\"\nrate_limit_chat = 7\n").unwrap();
    let out = portal(dir.path())
        .args(["config", "check", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PORTAL_BIND=127.0.0.1:9191") && text.contains("PORTAL_RATE_LIMIT_CHAT=7"),
        "{text}"
    );
}

#[test]
fn migrate_works_on_a_fresh_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = portal(dir.path()).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let latest = portal_store::MIGRATIONS.last().unwrap().version;
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("schema version {latest}")));
    assert!(dir.path().join("portal.db").exists());
    // Idempotent.
    let out = portal(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success());
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = portal(dir.path())
        .arg("serve")
        .env("PORTAL_BIND", "127.0.0.1:0")
        .env("PORTAL_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    let addr = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if line.contains("portal listening") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            break v["addr"].as_str().unwrap().to_string();
        }
    };
    assert!(started.elapsed() < Duration::from_secs(10));
    let secret = std::fs::metadata(dir.path().join("secret-key")).expect("dev secret generated");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(secret.permissions().mode() & 0o777, 0o600);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let body = rt.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert_eq!(body, "ok");
    // The container's HEALTHCHECK: `portal healthz` against the running server.
    let health = portal(dir.path())
        .args(["healthz", "--addr", &addr])
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let t = Instant::now();
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code}");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "did not stop within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("portal stopped")),
        "{rest:?}"
    );
    let health = portal(dir.path())
        .args(["healthz", "--addr", &addr])
        .output()
        .unwrap();
    assert!(!health.status.success(), "a stopped portal is not healthy");
}

/// Starts `portal serve` on `dir` and waits until it listens; returns the child.
fn start_server(dir: &std::path::Path) -> std::process::Child {
    let mut child = portal(dir)
        .arg("serve")
        .env("PORTAL_BIND", "127.0.0.1:0")
        .env("PORTAL_LOG_FORMAT", "json")
        .env("PORTAL_CLOUD", "emulator")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if line.contains("portal listening") {
            break;
        }
    }
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    child
}

fn stop_server(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The data directory and every file in it are private to the portal's user:
/// the database holds password hashes, transcripts and the audit ledger (L9).
#[cfg(unix)]
#[test]
fn data_dir_and_files_are_private_to_the_portal_user() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = parent.path().join("data");
    let child = start_server(&dir);
    let emu = dir.join("oci-emulator");
    let private_dirs = [dir.clone(), emu.clone(), emu.join("objects")];
    let private_files = [
        dir.join("portal.db"),
        dir.join("portal.db-wal"),
        dir.join("portal.db-shm"),
        dir.join("secret-key"),
        dir.join("setup-token"),
        emu.join("state.json"),
        emu.join("demo_user_key.pem"),
        emu.join("config"),
    ];
    // The emulator and the setup token may come just after the listener.
    let t = Instant::now();
    while !private_files.iter().all(|f| f.exists()) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "not all files were written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for d in &private_dirs {
        assert_eq!(mode(d), 0o700, "{}", d.display());
    }
    for f in &private_files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    stop_server(child);

    // Files an older version left open to others are tightened at start.
    for f in ["portal.db", "portal.db-wal", "portal.db-shm"] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let child = start_server(&dir);
    for f in ["portal.db", "portal.db-wal", "portal.db-shm"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    stop_server(child);
}
