//! `portal tools run` from the command line: secrets never on the command line
//! (L12), and the CLI and a running server sharing the emulator's state
//! without losing each other's changes (L13).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

const SECRET: &str = "TOPSECRET-cli-hunter2";

async fn app() -> (TestApp, Client, String) {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let (key, _) = admin
        .create_key("cli", &["tools:read", "tools:execute"])
        .await;
    (app, admin, key)
}

fn portal(app: &TestApp) -> Command {
    let mut c = app.command(env!("CARGO_BIN_EXE_portal"));
    c.env("PORTAL_CLOUD", "emulator")
        .env_remove("PORTAL_API_KEY");
    c
}

fn run_with_stdin(mut c: Command, stdin: &str) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn pending(admin: &Client) -> usize {
    let v: Value = admin.get("/api/tools/approve").await.json().await.unwrap();
    v["approvals"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn secrets_are_refused_on_the_command_line_and_read_from_files_or_stdin() {
    let (app, admin, key) = app().await;
    let instance = admin.running_instance().await;

    // The key inline: refused, before anything runs.
    let out = portal(&app)
        .args(["tools", "run", "listCompartments", "--api-key", &key])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("PORTAL_API_KEY"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    // A secret argument inline: refused, pointing at --args-file; no approval asked.
    let args = json!({"instanceId": instance, "script": format!("echo {SECRET}")}).to_string();
    let out = portal(&app)
        .args(["tools", "run", "runInstanceCommand", "--args", &args])
        .env("PORTAL_API_KEY", &key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--args-file"), "{}", stderr(&out));
    assert!(stderr(&out).contains("script"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(SECRET));
    assert_eq!(pending(&admin).await, 0);

    // The same arguments from standard input are accepted (and need an approval).
    let mut c = portal(&app);
    c.args(["tools", "run", "runInstanceCommand", "--args-file", "-"])
        .env("PORTAL_API_KEY", &key);
    let out = run_with_stdin(c, &args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(pending(&admin).await, 1);

    // The key from a file, the arguments from a file.
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let args_file = dir.path().join("args.json");
    std::fs::write(&args_file, json!({"limit": 2}).to_string()).unwrap();
    let out = portal(&app)
        .args(["tools", "run", "listCompartments", "--api-key-file"])
        .arg(&key_file)
        .arg("--args-file")
        .arg(&args_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tool"], "listCompartments");

    // Non-secret arguments inline still work; no key at all is a clear error.
    let out = portal(&app)
        .args([
            "tools",
            "run",
            "listCompartments",
            "--args",
            "{\"limit\":1}",
        ])
        .env("PORTAL_API_KEY", &key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = portal(&app)
        .args(["tools", "run", "listCompartments"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no API key"), "{}", stderr(&out));
    let mut c = portal(&app);
    c.args([
        "tools",
        "run",
        "listCompartments",
        "--args-file",
        "-",
        "--api-key-file",
        "-",
    ]);
    let out = run_with_stdin(c, "{}");
    assert_eq!(out.status.code(), Some(2));
}

/// The approval id the CLI printed when it asked for one.
fn approval_of(out: &Output) -> String {
    let err = stderr(out);
    err.split("approvalId ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no approval id in {err}"))
        .to_string()
}

async fn approve(admin: &Client, approval: &str) {
    let res = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_cli_and_a_running_server_keep_each_others_emulator_changes() {
    let (app, admin, key) = app().await;
    let comps: Value = admin
        .post(
            "/api/v1/tools/listCompartments/execute",
            json!({"args": {}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let compartment = comps["result"]["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The CLI creates a bucket while the server (and its emulator) runs.
    let cli_args = json!({"compartmentId": compartment, "name": "cli-bucket"}).to_string();
    let cli = |extra: &[&str]| {
        let mut c = portal(&app);
        c.args(["tools", "run", "createBucket", "--args", &cli_args])
            .args(extra)
            .env("PORTAL_API_KEY", &key);
        c.output().unwrap()
    };
    let out = cli(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let approval = approval_of(&out);
    approve(&admin, &approval).await;
    let out = cli(&["--approval-id", &approval]);
    assert!(out.status.success(), "{}", stderr(&out));

    // The server sees it at once, and its own later write keeps it.
    let get = |name: &str| {
        admin.post(
            "/api/v1/tools/getBucket/execute",
            json!({"args": {"bucketName": name}}),
        )
    };
    assert_eq!(get("cli-bucket").await.status(), 200);
    let srv = json!({"args": {"compartmentId": compartment, "name": "srv-bucket"}});
    let res = admin
        .post("/api/v1/tools/createBucket/execute", srv.clone())
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    let approval = body["approvalId"].as_str().unwrap().to_string();
    approve(&admin, &approval).await;
    let mut again = srv.clone();
    again["approvalId"] = json!(approval);
    let res = admin
        .post("/api/v1/tools/createBucket/execute", again)
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(get("cli-bucket").await.status(), 200);
    assert_eq!(get("srv-bucket").await.status(), 200);
    let state = std::fs::read_to_string(
        app.state
            .settings
            .data_dir
            .join("oci-emulator")
            .join("state.json"),
    )
    .unwrap();
    assert!(
        state.contains("\"cli-bucket\"") && state.contains("\"srv-bucket\""),
        "state.json keeps both buckets"
    );

    // And the CLI, in turn, sees the server's bucket.
    let out = portal(&app)
        .args([
            "tools",
            "run",
            "getBucket",
            "--args",
            "{\"bucketName\":\"srv-bucket\"}",
        ])
        .env("PORTAL_API_KEY", &key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
