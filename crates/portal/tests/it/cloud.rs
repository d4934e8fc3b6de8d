//! The cloud behind the tools: the in-process emulator (the default), or OCI
//! through a config file — here a standalone emulator several portals can share.

use std::time::{Duration, Instant};

use portal_oci_emulator::{Emulator, EmulatorConfig};
use portal_testkit::TestApp;
use serde_json::Value;

/// Health details (cloud, region) are for operators: these apps carry a metrics token.
const METRICS_TOKEN: &str = "cloud-tests-metrics-token-0123456789abcdef";

async fn health(app: &TestApp) -> (u16, Value) {
    let res = app
        .client
        .get(app.at("/health"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn the_in_process_emulator_answers_health() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_METRICS_TOKEN", METRICS_TOKEN)
        .spawn()
        .await;
    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "{body}");
    let cloud = &body["checks"]["cloud"];
    assert_eq!(cloud["status"], "ok", "{body}");
    assert_eq!(cloud["details"]["cloud"], "emulator");
    assert_eq!(cloud["details"]["region"], "us-ashburn-1");
    let dir = app.state.settings.data_dir.join("oci-emulator");
    for f in ["state.json", "config", "demo_user_key.pem"] {
        assert!(dir.join(f).exists(), "{f} in the data dir");
    }
}

#[tokio::test]
async fn oci_mode_uses_the_config_file_and_endpoint_and_degrades_without_its_cloud() {
    // A standalone emulator, as several portal processes would share it.
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(EmulatorConfig::new(dir.path())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn({
        let emu = emu.clone();
        let stop = stop.clone();
        async move { emu.serve(listener, stop.cancelled_owned()).await }
    });
    let config = emu.config_path().display().to_string();
    let a = TestApp::builder()
        .env("PORTAL_CLOUD", "oci")
        .env("PORTAL_OCI_CONFIG_FILE", &config)
        .env("PORTAL_OCI_ENDPOINT", &endpoint)
        .env("PORTAL_METRICS_TOKEN", METRICS_TOKEN)
        .spawn()
        .await;
    let b = TestApp::builder()
        .env("PORTAL_CLOUD", "oci")
        .env("PORTAL_OCI_CONFIG_FILE", &config)
        .env("PORTAL_OCI_ENDPOINT", &endpoint)
        .env("PORTAL_METRICS_TOKEN", METRICS_TOKEN)
        .spawn()
        .await;
    for app in [&a, &b] {
        let (status, body) = health(app).await;
        assert_eq!(status, 200);
        assert_eq!(body["checks"]["cloud"]["status"], "ok", "{body}");
        assert_eq!(body["checks"]["cloud"]["details"]["cloud"], "oci");
    }
    assert!(
        emu.requests_served() >= 2,
        "both portals reached the shared emulator"
    );

    // The cloud goes away: the portal is degraded, not down.
    stop.cancel();
    let _ = server.await;
    let start = Instant::now();
    loop {
        let (status, body) = health(&a).await;
        if body["status"] == "degraded" {
            assert_eq!(status, 200);
            assert_eq!(body["checks"]["cloud"]["status"], "error");
            assert_eq!(body["checks"]["database"]["status"], "ok");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never degraded: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_bad_oci_config_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("serve")
        .env("PORTAL_DATA_DIR", dir.path())
        .env("PORTAL_BIND", "127.0.0.1:0")
        .env("PORTAL_CLOUD", "oci")
        .env("PORTAL_OCI_CONFIG_FILE", dir.path().join("missing-config"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PORTAL_OCI_CONFIG_FILE"), "{err}");
}

#[tokio::test]
async fn tools_retry_through_transient_cloud_failures() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(EmulatorConfig::new(dir.path())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn({
        let emu = emu.clone();
        async move { emu.serve(listener, std::future::pending()).await }
    });
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "oci")
        .env(
            "PORTAL_OCI_CONFIG_FILE",
            emu.config_path().display().to_string(),
        )
        .env("PORTAL_OCI_ENDPOINT", &endpoint)
        .env("PORTAL_METRICS_TOKEN", METRICS_TOKEN)
        .spawn()
        .await;
    let admin = app.admin().await;
    emu.inject_faults(portal_oci_emulator::FaultPlan {
        status: 429,
        count: 2,
        path_prefix: Some("/20160918/compartments".into()),
    });
    let res = admin
        .post(
            "/api/v1/tools/listCompartments/execute",
            serde_json::json!({"args": {}}),
        )
        .await;
    assert_eq!(res.status(), 200, "retried past two 429s");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["cloud"], "oci");
    assert!(body["result"]["count"].as_u64().unwrap() >= 4);
    assert_eq!(emu.faults_served(), 2);
    let activity: Value = admin.get("/api/activity").await.json().await.unwrap();
    assert_eq!(activity["total"], 1, "one execution, however many attempts");
}
