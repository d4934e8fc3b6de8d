//! The tools pages: the catalogue's search, a form generated from the tool's
//! JSON Schema (nested lists and objects, list slots added by a button), the
//! server's validation message on the field it names, a run's result, the
//! approval a change needs and the run once approved; a viewer gets no run
//! controls and 403 when posting anyway.

use portal_testkit::web::{csrf_of, page};
use portal_testkit::{with_operator, Client};
use serde_json::{json, Value};

async fn post(c: &Client, tool: &str, token: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("csrf", token)];
    all.extend_from_slice(fields);
    page(c.post_form(&format!("/tools/{tool}"), &all).await).await
}

#[tokio::test]
async fn the_catalogue_searches_and_the_playground_runs_through_the_gateway() {
    let (app, admin, op, instance) = with_operator().await;
    let (status, body) = op.page("/tools").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"href="/tools/listInstances""#) && body.contains(r#"href="/tools"#));
    let (_, body) = op.page("/tools?q=instance&risk=danger").await;
    assert!(
        body.contains("terminateInstance") && !body.contains("listInstances<"),
        "{body}"
    );
    let (_, body) = op.page("/tools?area=identity").await;
    assert!(body.contains("listCompartments") && !body.contains("stopInstance"));

    // The generated form: typed inputs named by argument path.
    let (status, form) = op.page("/tools/listInstances").await;
    assert_eq!(status, 200);
    assert!(
        form.contains(r#"name="args/limit""#) && form.contains(r#"type="number""#),
        "{form}"
    );
    assert!(
        form.contains(r#"name="args/lifecycleState""#)
            && form.contains(r#"<option value="RUNNING">"#)
    );
    let token = csrf_of(&form);
    // Out of range: 400, the server's message on that field.
    let (status, body) = post(
        &op,
        "listInstances",
        &token,
        &[("op", "run"), ("args/limit", "100000")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"id="f-args-limit-error""#), "{body}");
    let (status, body) = post(
        &op,
        "listInstances",
        &token,
        &[
            ("op", "run"),
            ("args/lifecycleState", "RUNNING"),
            ("args/limit", "5"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#"id="result""#) && body.contains(&instance),
        "{body}"
    );
    assert!(
        body.contains(r#"id="result-table""#)
            && body.contains(r#"<th scope="col">lifecycleState</th>"#),
        "a list reads as a table: {body}"
    );
    // Without the form token: 403.
    let res = op.post_form("/tools/listInstances", &[("op", "run")]).await;
    assert_eq!(res.status(), 403);

    // A change: the approval card, then the run once an admin approved it.
    let (status, body) = post(
        &op,
        "stopInstance",
        &token,
        &[("op", "run"), ("args/instanceId", &instance)],
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let marker = r#"name="approvalId" value=""#;
    let at = body.find(marker).expect("the approval in the form");
    let id = body[at + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(body.contains(&format!(r#"href="/approvals/{id}""#)));
    let res = admin
        .post(
            "/api/tools/approve",
            json!({"approvalId": id, "approved": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, body) = post(
        &op,
        "stopInstance",
        &token,
        &[
            ("op", "run"),
            ("args/instanceId", &instance),
            ("approvalId", &id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"id="result""#));
    let activity: Value = admin
        .get("/api/activity?tool=stopInstance")
        .await
        .json()
        .await
        .unwrap();
    assert!(activity.to_string().contains("success"), "{activity}");
    drop(app);
}

#[tokio::test]
async fn nested_lists_get_slots_and_errors_land_inside_them() {
    let (_app, admin, _op, _instance) = with_operator().await;
    let (status, form) = admin.page("/tools/updateSecurityListRules").await;
    assert_eq!(status, 200);
    assert!(
        form.contains(r#"name="n:args/ingressSecurityRules" value="1""#),
        "{form}"
    );
    assert!(
        form.contains(r#"name="args/ingressSecurityRules/0/tcpOptions/destinationPortRange/min""#),
        "{form}"
    );
    let token = csrf_of(&form);
    let (status, body) = post(
        &admin,
        "updateSecurityListRules",
        &token,
        &[
            ("op", "add:args/ingressSecurityRules"),
            ("n:args/ingressSecurityRules", "1"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"name="n:args/ingressSecurityRules" value="2""#));
    assert!(
        body.contains(r#"name="args/ingressSecurityRules/1/protocol""#),
        "{body}"
    );
    let list = "ocid1.securitylist.oc1.eu-frankfurt-1.aaaaexample";
    let (status, body) = post(
        &admin,
        "updateSecurityListRules",
        &token,
        &[
            ("op", "run"),
            ("args/securityListId", list),
            ("n:args/ingressSecurityRules", "1"),
            ("args/ingressSecurityRules/0/protocol", "6"),
            ("args/ingressSecurityRules/0/source", "0.0.0.0/0"),
            (
                "args/ingressSecurityRules/0/tcpOptions/destinationPortRange/min",
                "443",
            ),
            (
                "args/ingressSecurityRules/0/tcpOptions/destinationPortRange/max",
                "80",
            ),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(
            r#"id="f-args-ingressSecurityRules-0-tcpOptions-destinationPortRange-error""#
        ),
        "{body}"
    );
    assert!(body.contains("min (443) must not be greater than max (80)"));
    // What was typed stays in the form.
    assert!(body.contains(r#"value="0.0.0.0/0""#));
}

#[tokio::test]
async fn a_viewer_reads_tools_but_gets_no_run_controls_and_403() {
    let (app, admin, _op, instance) = with_operator().await;
    let viewer = app.member(&admin, "viewer@acme.test", "viewer").await;
    let (status, body) = viewer.page("/tools/stopInstance").await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"id="cannot-run""#) && !body.contains(r#"id="run-form""#),
        "{body}"
    );
    let (_, body) = viewer.page("/tools/listInstances").await;
    assert!(!body.contains(r#"id="run""#));
    let token = csrf_of(&body);
    for (tool, args) in [
        ("listInstances", vec![]),
        ("stopInstance", vec![("args/instanceId", instance.as_str())]),
    ] {
        let mut fields = vec![("op", "run")];
        fields.extend(args);
        let (status, _) = post(&viewer, tool, &token, &fields).await;
        assert_eq!(status, 403, "{tool}");
    }
    let (status, _) = post(
        &viewer,
        "updateSecurityListRules",
        &token,
        &[("op", "add:args/ingressSecurityRules")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = viewer.page("/tools/noSuchTool").await;
    assert_eq!(status, 404);
}
