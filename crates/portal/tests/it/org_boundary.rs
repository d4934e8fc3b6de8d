//! The organisation boundary reaches the cloud by default (security review
//! M12): organisations share one tenancy, so a new one acts in no customer
//! compartment until a platform admin assigns some; org admins cannot assign
//! or lift their own; the embedded demo's first organisation gets the demo
//! tenancy (explicitly, audited).

use std::time::{Duration, Instant};

use portal_testkit::{compartment_id as compartment, run_tool as run};
use portal_testkit::{Client, TestApp, PASSWORD};
use serde_json::{json, Value};

async fn set_active(c: &Client, slug: &str) {
    let res = c
        .post(
            "/api/auth/organization/set-active",
            json!({ "organizationSlug": slug }),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_new_organisation_acts_in_no_compartment_until_a_platform_admin_assigns_some() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let tenancy = admin.tenancy().await;
    let development = compartment(&admin, "Development").await;
    let production = compartment(&admin, "Production").await;
    let instance = admin.running_instance().await;

    // The first organisation's assignment was recorded and audited at setup.
    let audit: Value = admin
        .get("/api/audit?action=org.compartments_assigned")
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains(&tenancy), "{audit}");

    let res = admin
        .post("/api/admin/orgs", json!({"name": "Beta", "slug": "beta"}))
        .await;
    assert_eq!(res.status(), 201);
    let beta = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    set_active(&admin, "beta").await;
    let boss = app.member(&admin, "boss@beta.test", "admin").await;

    // Deny by default, saying who can change it and how.
    let settings: Value = boss.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(settings["allowedCompartments"], json!([]));
    for (tool, args) in [
        ("listInstances", json!({})),
        ("listInstances", json!({"compartmentId": development})),
        ("getInstance", json!({"instanceId": instance})),
        (
            "getInstance",
            json!({"instanceId": "ocid1.instance.oc1.iad.aaaadoesnotexist"}),
        ),
        ("terminateInstance", json!({"instanceId": instance})),
        ("listUsers", json!({})),
    ] {
        let (status, body) = run(&boss, tool, args).await;
        assert_eq!(status, 403, "{tool}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains("platform admin")
                && error.contains(&format!("/api/admin/orgs/{beta}/compartments"))
                && error.contains("portal admin org-compartments --org beta"),
            "{error}"
        );
    }
    assert!(boss
        .get("/api/tools/approve")
        .await
        .json::<Value>()
        .await
        .unwrap()["approvals"]
        .as_array()
        .unwrap()
        .is_empty());
    // Tools that touch no customer compartment still run.
    for tool in ["listRegions", "getOCIFreeTier", "getTenancy"] {
        assert_eq!(run(&boss, tool, json!({})).await.0, 200, "{tool}");
    }
    let (status, body) = run(
        &boss,
        "generateTerraform",
        json!({"mode": "vcn", "name": "t"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Org admins can neither assign nor lift; they keep four-eyes.
    let res = boss
        .put(
            "/api/org/settings",
            json!({"allowedCompartments": [tenancy], "fourEyes": false}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = boss
        .put(
            &format!("/api/admin/orgs/{beta}/compartments"),
            json!({"allowedCompartments": [tenancy]}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let settings: Value = boss.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(settings["allowedCompartments"], json!([]));
    assert_eq!(
        settings["fourEyes"], true,
        "the refused request changed nothing"
    );
    let res = boss
        .put("/api/org/settings", json!({"fourEyes": false}))
        .await;
    assert_eq!(res.status(), 200);

    // The platform admin assigns Development: it (only) opens.
    let body = admin.assign_compartments(&beta, &[&development]).await;
    assert_eq!(body["allowedCompartments"], json!([development]));
    assert_eq!(body["wholeTenancy"], false);
    assert_eq!(
        run(
            &boss,
            "listInstances",
            json!({"compartmentId": development})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        run(&boss, "listInstances", json!({"compartmentId": production}))
            .await
            .0,
        403
    );
    // Without a compartment: Development's subtree only.
    let (status, body) = run(&boss, "listInstances", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["searched"]["compartments"], 1, "{body}");
    for item in body["result"]["items"].as_array().into_iter().flatten() {
        assert_eq!(item["compartmentId"], development.as_str(), "{item}");
    }
    // Bad assignments are 400 naming the entry, unknown organisations 404.
    let res = admin
        .put(
            &format!("/api/admin/orgs/{beta}/compartments"),
            json!({"allowedCompartments": ["nope"]}),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("allowedCompartments/0"));
    let res = admin
        .put(
            "/api/admin/orgs/nope/compartments",
            json!({"allowedCompartments": []}),
        )
        .await;
    assert_eq!(res.status(), 404);
    // A tenancy OCID means everything: only the cloud's own is accepted.
    let res = admin
        .put(
            &format!("/api/admin/orgs/{beta}/compartments"),
            json!({"allowedCompartments": [development, "ocid1.tenancy.oc1..aaaaother"]}),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("allowedCompartments/1"));

    // Taking everything away denies again.
    admin.assign_compartments(&beta, &[]).await;
    assert_eq!(
        run(
            &boss,
            "listInstances",
            json!({"compartmentId": development})
        )
        .await
        .0,
        403
    );

    // The CLI assigns too (a host operator), audited; the whole tenancy with --all.
    let out = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args(["admin", "org-compartments", "--org", "beta", "--all"])
        .env("PORTAL_CLOUD", "emulator")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&tenancy));
    // Cached credentials carry the organisation for up to 5 s.
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let (status, body) = run(&boss, "listInstances", json!({})).await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the CLI's assignment took effect: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let audit: Value = boss
        .get("/api/audit?action=org.compartments_assigned")
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(
        text.contains("system:cli") && text.contains(&development),
        "{audit}"
    );
    let out = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args(["admin", "org-compartments", "--org", "beta"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "one of --set, --all or --none is required"
    );
}

#[tokio::test]
async fn a_configured_cloud_gives_even_the_first_organisation_nothing() {
    // A shared standalone emulator reached as OCI: no demo rule applies.
    use portal_oci_emulator::{Emulator, EmulatorConfig};
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(EmulatorConfig::new(dir.path())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn({
        let emu = emu.clone();
        let stop = stop.clone();
        async move { emu.serve(listener, stop.cancelled_owned()).await }
    });
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "oci")
        .env(
            "PORTAL_OCI_CONFIG_FILE",
            emu.config_path().display().to_string(),
        )
        .env("PORTAL_OCI_ENDPOINT", &endpoint)
        .spawn()
        .await;
    // Setup by hand: the testkit's `admin()` assigns the tenancy for such clouds.
    let res = app
        .client
        .post(app.at("/api/setup/admin"))
        .bearer_auth(app.setup_token().unwrap())
        .json(
            &json!({"email": "a@acme.test", "password": PASSWORD, "name": "A", "orgName": "Acme"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let org = res.json::<Value>().await.unwrap()["organization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = app.sign_in("a@acme.test", PASSWORD).await;
    let settings: Value = admin.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(settings["allowedCompartments"], json!([]));
    let (status, body) = run(&admin, "listCompartments", json!({})).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("platform admin"),
        "{body}"
    );
    admin.assign_compartments(&org, &[emu.tenancy_id()]).await;
    let (status, body) = run(&admin, "listCompartments", json!({})).await;
    assert_eq!(status, 200, "{body}");
    stop.cancel();
}

/// `portal admin create-user` for `org`, the password on standard input.
fn create_user(app: &TestApp, email: &str, org: &str) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = app
        .command(env!("CARGO_BIN_EXE_portal"))
        .args([
            "admin",
            "create-user",
            "--email",
            email,
            "--name",
            email,
            "--org",
            org,
        ])
        .args(["--role", "admin", "--password-stdin"])
        .env("PORTAL_CLOUD", "emulator")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_cli_gives_the_demo_tenancy_to_the_first_organisation_only() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    create_user(&app, "a@first.test", "first");
    create_user(&app, "b@second.test", "second");
    let first = app.sign_in("a@first.test", PASSWORD).await;
    let second = app.sign_in("b@second.test", PASSWORD).await;
    let settings: Value = first.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(settings["allowedCompartments"], json!([app.tenancy()]));
    assert_eq!(run(&first, "listCompartments", json!({})).await.0, 200);
    let settings: Value = second.get("/api/org/settings").await.json().await.unwrap();
    assert_eq!(settings["allowedCompartments"], json!([]));
    let (status, body) = run(&second, "listCompartments", json!({})).await;
    assert_eq!(status, 403, "{body}");
    let audit: Value = first
        .get("/api/audit?action=org.compartments_assigned")
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("system:cli"), "{audit}");
}
