//! Blast radius in approvals: a pending destructive call shows what it would
//! affect (as `/api/graph?kind=blast-radius` counts it) in the review API,
//! on the approval page and in the inbox; other calls show nothing.

use portal_testkit::{run_tool, TestApp};
use serde_json::{json, Value};

/// The words a count is said with.
fn said(summary: &Value, kind: &str, one: &str, many: &str) -> Option<String> {
    let n = summary[kind].as_i64()?;
    Some(format!("{n} {}", if n == 1 { one } else { many }))
}

#[tokio::test]
async fn a_pending_delete_vcn_shows_its_blast_radius_to_approvers() {
    let app = TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await;
    let admin = app.admin().await;
    let op = app.member(&admin, "op@acme.test", "operator").await;
    let (_, vcns) = run_tool(&admin, "listVcns", json!({})).await;
    let vcn = vcns["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["displayName"] == "prod-vcn")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let radius: Value = admin
        .get(&format!("/api/graph?kind=blast-radius&resource={vcn}"))
        .await
        .json()
        .await
        .unwrap();
    let summary = &radius["summary"];
    let words: Vec<String> = [
        ("subnet", "subnet", "subnets"),
        ("vnic", "VNIC", "VNICs"),
        ("instance", "instance", "instances"),
    ]
    .iter()
    .map(|(k, one, many)| said(summary, k, one, many).unwrap_or_else(|| panic!("{k} in {radius}")))
    .collect();

    let id = admin.ask_approval("deleteVcn", json!({"vcnId": vcn})).await;
    // The review API (an eligible approver, not the requester).
    let review: Value = op
        .get(&format!("/api/tools/approve/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let impact = &review["impact"];
    assert_eq!(impact["resource"], vcn.as_str(), "{review}");
    assert_eq!(impact["label"], "prod-vcn");
    assert_eq!(&impact["summary"], summary);
    let text = impact["text"].as_str().unwrap();
    assert!(text.starts_with("deleteVcn: "), "{text}");
    for w in &words {
        assert!(text.contains(w.as_str()), "{w} in {text}");
    }

    // The approval page, for the approver and for the requester alike.
    for c in [&op, &admin] {
        let (status, page) = c.page(&format!("/approvals/{id}")).await;
        assert_eq!(status, 200);
        assert!(
            page.contains(r#"id="blast-radius""#) && page.contains(text),
            "{page}"
        );
    }
    // The inbox.
    let (status, list) = op.page("/approvals").await;
    assert_eq!(status, 200);
    assert!(list.contains(text), "{list}");

    // A call that destroys nothing shows no blast radius.
    let instance = admin.running_instance().await;
    let stop = op
        .ask_approval("stopInstance", json!({"instanceId": instance}))
        .await;
    let review: Value = admin
        .get(&format!("/api/tools/approve/{stop}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(review.get("impact").is_none(), "{review}");
    let (_, page) = admin.page(&format!("/approvals/{stop}")).await;
    assert!(!page.contains(r#"id="blast-radius""#));
}
