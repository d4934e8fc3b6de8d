//! CloudAdvisor over HTTP on the embedded emulator: every check finds its
//! seeded case (and not its known false positives), a second run creates
//! nothing, a fix made through the gateway (with its approval) resolves the
//! finding on the next run, a dismissal holds until its expiry, savings are
//! the price list's arithmetic, findings belong to their organisation.

use std::time::Duration;

use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

async fn setup() -> (TestApp, Client) {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .env("PORTAL_JOBS_POLL_INTERVAL_MS", "50")
        .spawn()
        .await;
    let admin = app.admin().await;
    (app, admin)
}

/// Starts a run and waits for it to end; the finished run.
async fn run(c: &Client) -> Value {
    let res = c.post("/api/v1/advisor/runs", json!({})).await;
    assert_eq!(res.status(), 201);
    let run: Value = res.json().await.unwrap();
    let id = run["id"].as_str().unwrap().to_string();
    for _ in 0..300 {
        let r: Value = c
            .get(&format!("/api/v1/advisor/runs/{id}"))
            .await
            .json()
            .await
            .unwrap();
        if r["status"] == "completed" || r["status"] == "failed" {
            assert_eq!(r["status"], "completed", "{r:#}");
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}

async fn findings(c: &Client, query: &str) -> Vec<Value> {
    let body: Value = c
        .get(&format!("/api/v1/advisor/findings?limit=100{query}"))
        .await
        .json()
        .await
        .unwrap();
    body["findings"].as_array().unwrap().clone()
}

fn names<'a>(all: &'a [Value], check: &str) -> Vec<&'a str> {
    let mut v: Vec<&str> = all
        .iter()
        .filter(|f| f["checkId"] == check)
        .map(|f| f["resourceName"].as_str().unwrap())
        .collect();
    v.sort_unstable();
    v
}

#[tokio::test]
async fn every_check_finds_its_seeded_case_and_not_its_false_positives() {
    let (_app, admin) = setup().await;
    let r = run(&admin).await;
    assert_eq!(r["summary"]["failedChecks"], 0, "{r:#}");
    let all = findings(&admin, "").await;
    let has = |check: &str, name: &str| {
        assert!(
            names(&all, check).contains(&name),
            "{check} should find {name}: {:?}",
            names(&all, check)
        )
    };
    let lacks = |check: &str, name: &str| {
        assert!(
            !names(&all, check).contains(&name),
            "{check} must not find {name}"
        )
    };
    has("compute.stopped-instance", "dev-box");
    lacks("compute.stopped-instance", "web-01");
    has("compute.idle-instance", "build-runner");
    assert_eq!(names(&all, "compute.idle-instance"), vec!["build-runner"]);
    // The hardened web tier is the false-positive class of the hardening checks.
    for check in ["compute.legacy-imds", "compute.secure-boot"] {
        has(check, "app-server-01");
        lacks(check, "web-01");
        lacks(check, "web-02");
        // A terminated instance is no risk.
        lacks(check, "old-test");
    }
    has("compute.in-transit-encryption", "web-01");
    assert_eq!(
        names(&all, "compute.previous-generation-shape"),
        vec!["build-runner"]
    );
    assert_eq!(
        names(&all, "storage.unattached-volume"),
        vec!["dev-scratch"]
    );
    assert_eq!(names(&all, "storage.old-backup"), vec!["prod-data-01-full"]);
    assert_eq!(
        names(&all, "database.stopped-autonomous-database"),
        vec!["analytics-dw"]
    );
    assert_eq!(
        names(&all, "objectstorage.public-bucket"),
        vec!["prod-assets"]
    );
    assert_eq!(names(&all, "network.ssh-open-to-internet").len(), 2);
    assert!(names(&all, "network.rdp-open-to-internet").is_empty());
    // Only the dev policy: the tenancy's own administrator policy is CIS 1.2's rule, not a breach.
    assert_eq!(names(&all, "iam.manage-all-resources"), vec!["dev-policy"]);
    // Alice has MFA; the API-key-only service user is MFA's known false positive.
    assert_eq!(names(&all, "iam.user-without-mfa"), vec!["bob"]);
    lacks("iam.user-without-mfa", "portal-demo");
    assert_eq!(names(&all, "iam.user-without-email"), vec!["bob"]);
    // Bucket and volume details (CIS 5.1.2, 5.1.3, 5.2.1, 5.2.2): the demo
    // tenancy keeps Oracle-managed keys, no versions and one tier everywhere.
    let buckets = vec!["app-logs", "dev-artifacts", "prod-assets"];
    for check in [
        "objectstorage.bucket-without-cmk",
        "objectstorage.versioning-disabled",
        "objectstorage.auto-tiering-disabled",
    ] {
        assert_eq!(names(&all, check), buckets, "{check}");
    }
    assert_eq!(
        names(&all, "storage.block-volume-without-cmk"),
        vec!["dev-scratch", "prod-data-01", "prod-logs"]
    );
    // One boot volume per live instance; the terminated one's is gone.
    let boots = names(&all, "storage.boot-volume-without-cmk");
    assert_eq!(boots.len(), 5, "{boots:?}");
    assert!(boots.iter().all(|b| !b.contains("old-test")), "{boots:?}");
    // prod-logs is attached and never backed up; dev-scratch (unattached) is another check's.
    assert_eq!(
        names(&all, "storage.volume-without-backup"),
        vec!["prod-logs"]
    );
    // CIS 2.8 holds for stopped databases too; scaling and standby only for serving ones.
    assert_eq!(
        names(&all, "database.adb-unrestricted-access"),
        vec!["analytics-dw", "salesdb"]
    );
    assert_eq!(
        names(&all, "database.adb-auto-scaling-disabled"),
        vec!["salesdb"]
    );
    assert_eq!(names(&all, "database.adb-without-standby"), vec!["salesdb"]);
    assert_eq!(
        names(&all, "loadbalancer.plain-http-listener"),
        vec!["prod-lb"]
    );
    assert_eq!(
        names(&all, "loadbalancer.delete-protection-disabled"),
        vec!["prod-lb"]
    );
    // The VCNs' default lists (SSH from anywhere); the web tier's own list is not a default.
    assert_eq!(
        names(&all, "network.default-security-list-open"),
        vec![
            "Default Security List for dev-vcn",
            "Default Security List for prod-vcn"
        ]
    );
    let dsl = all
        .iter()
        .find(|f| f["checkId"] == "network.default-security-list-open")
        .unwrap();
    assert_eq!(dsl["cis"], "2.5");
    // The plan keeps the ICMP rules only.
    let kept = dsl["fix"][0]["args"]["ingressSecurityRules"]
        .as_array()
        .unwrap();
    assert!(
        !kept.is_empty() && kept.iter().all(|r| r["protocol"] == "1"),
        "{kept:?}"
    );
    let adb = all
        .iter()
        .find(|f| f["checkId"] == "database.adb-unrestricted-access")
        .unwrap();
    assert_eq!(adb["evidence"]["tool"], "getAutonomousDatabase");
    assert_eq!(adb["evidence"]["path"], "/whitelistedIps");
    assert_eq!(adb["cis"], "2.8");
    assert_eq!(
        names(&all, "containers.public-repository"),
        vec!["tools/ci-runner"]
    );
    assert_eq!(names(&all, "containers.untagged-image").len(), 1);

    // Evidence names the tool, its argument hash and the offending field.
    let ssh = all
        .iter()
        .find(|f| f["checkId"] == "network.ssh-open-to-internet")
        .unwrap();
    assert_eq!(ssh["evidence"]["tool"], "listSecurityLists");
    assert_eq!(ssh["evidence"]["argsHash"].as_str().unwrap().len(), 64);
    assert!(ssh["evidence"]["path"]
        .as_str()
        .unwrap()
        .contains("/ingressSecurityRules/"));
    assert_eq!(ssh["cis"], "2.1");
    assert_eq!(ssh["fix"][0]["tool"], "updateSecurityListRules");

    // Savings are the price list's arithmetic: 100 GB × $0.0255 per GB-month.
    let vol = all
        .iter()
        .find(|f| f["checkId"] == "storage.unattached-volume")
        .unwrap();
    assert_eq!(vol["savingsCents"], 255);
    // build-runner's shape (VM.Standard2.1) is not in the price list: no guess.
    let idle = all
        .iter()
        .find(|f| f["checkId"] == "compute.idle-instance")
        .unwrap();
    assert_eq!(idle["savingsCents"], Value::Null);
    // dev-box: a stopped E5 with a 47 GB boot volume → 47 × 0.0255 = 1.1985 → 120 cents.
    let stopped = all
        .iter()
        .find(|f| f["checkId"] == "compute.stopped-instance")
        .unwrap();
    assert_eq!(stopped["savingsCents"], 120, "{stopped:#}");

    // The reads went through the gateway as the caller: they are in the activity feed.
    let activity: Value = admin
        .get("/api/activity?limit=100")
        .await
        .json()
        .await
        .unwrap();
    let text = activity.to_string();
    assert!(
        text.contains("listSecurityLists") && text.contains("summarizeMetrics"),
        "{text:.2000}"
    );

    // Nothing changed: a second run creates nothing and finds the same.
    let again = run(&admin).await;
    assert_eq!(again["summary"]["created"], 0, "{again:#}");
    assert_eq!(again["summary"]["resolved"], 0);
    assert_eq!(findings(&admin, "").await.len(), all.len());

    // Another organisation sees none of it.
    let res = admin
        .post("/api/admin/orgs", json!({"name": "Other", "slug": "other"}))
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let id = ssh["id"].as_str().unwrap();
    admin.set_active("other").await;
    assert_eq!(
        admin
            .get(&format!("/api/v1/advisor/findings/{id}"))
            .await
            .status(),
        404
    );
    assert!(findings(&admin, "").await.is_empty());
}

#[tokio::test]
async fn a_fix_through_the_gateway_resolves_the_finding() {
    let (app, admin) = setup().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    // Changing a security list is `danger`: an admin asks, a second admin approves.
    let second = app.member(&admin, "second@acme.test", "admin").await;
    run(&op).await;
    let open = findings(&op, "&checkId=network.ssh-open-to-internet&status=open").await;
    assert_eq!(open.len(), 2);
    let f = &open[0];
    let step = &f["fix"][0];
    // The plan's call needs an approval like any other.
    let req = json!({"toolCallId": "fix-1", "toolName": step["tool"], "args": step["args"]});
    let res = admin.post("/api/tools/execute", req.clone()).await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "APPROVAL_REQUIRED", "{body}");
    let approval = body["approvalId"].as_str().unwrap();
    let res = second
        .post(
            "/api/tools/approve",
            json!({"approvalId": approval, "approved": true, "reason": "advisor fix"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mut req = req;
    req["approvalId"] = json!(approval);
    let res = admin.post("/api/tools/execute", req).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let after = run(&op).await;
    // The list was a VCN's default: without its SSH rule it holds only ICMP,
    // so CIS 2.5's finding on it resolves with CIS 2.1's.
    assert_eq!(after["summary"]["resolved"], 2, "{after:#}");
    let id = f["id"].as_str().unwrap();
    let got: Value = op
        .get(&format!("/api/v1/advisor/findings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "resolved");
    assert!(got["resolvedAt"].is_string());
    assert_eq!(
        findings(&op, "&checkId=network.ssh-open-to-internet&status=open")
            .await
            .len(),
        1
    );
    // The outbox carries finding.created and finding.resolved like any event.
    // (Paged: thirty checks' reads and findings fill more than one page.)
    let mut text = String::new();
    let mut after = String::new();
    loop {
        let page: Value = admin
            .get(&format!("/api/v1/events?limit=100{after}"))
            .await
            .json()
            .await
            .unwrap();
        text.push_str(&page["events"].to_string());
        match page["next"].as_i64() {
            Some(n) => after = format!("&after={n}"),
            None => break,
        }
    }
    assert!(
        text.contains("finding.created") && text.contains("finding.resolved"),
        "{text}"
    );
}

#[tokio::test]
async fn a_dismissed_finding_stays_dismissed_until_its_expiry() {
    let (app, admin) = setup().await;
    run(&admin).await;
    let f = findings(&admin, "&checkId=storage.unattached-volume").await;
    let id = f[0]["id"].as_str().unwrap().to_string();
    // A note is required, and the dismissal lasts 1 to 365 days.
    for bad in [
        json!({"note": " ", "days": 30}),
        json!({"note": "kept for the migration", "days": 0}),
        json!({"note": "kept for the migration", "days": 400}),
        json!({"note": "kept for the migration", "until": "2999-01-01T00:00:00Z"}),
    ] {
        let res = admin
            .post(
                &format!("/api/v1/advisor/findings/{id}/dismiss"),
                bad.clone(),
            )
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let res = admin
        .post(
            &format!("/api/v1/advisor/findings/{id}/dismiss"),
            json!({"note": "kept for the migration", "days": 1}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let r = run(&admin).await;
    assert_eq!(r["summary"]["created"], 0);
    let got: Value = admin
        .get(&format!("/api/v1/advisor/findings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["status"], "dismissed",
        "still dismissed before its expiry"
    );
    assert_eq!(got["note"], "kept for the migration");
    // The expiry passes: the next run opens it again.
    app.sql(&format!(
        "UPDATE advisor_findings SET dismissed_until = 1 WHERE id = '{id}'"
    ))
    .await;
    let r = run(&admin).await;
    assert_eq!(r["summary"]["created"], 1, "{r:#}");
    let got: Value = admin
        .get(&format!("/api/v1/advisor/findings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "open");
    // Bad filters are 400s, unknown ids 404.
    assert_eq!(
        admin
            .get("/api/v1/advisor/findings?severity=urgent")
            .await
            .status(),
        400
    );
    assert_eq!(
        admin.get("/api/v1/advisor/findings/nope").await.status(),
        404
    );
    assert_eq!(admin.get("/api/v1/advisor/runs/nope").await.status(), 404);
}
