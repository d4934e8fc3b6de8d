//! The approval pages: what approvers see and decide, what everyone else is
//! refused (no controls, 403 on a forged post), four-eyes explained, another
//! organisation's approval 404, and the home page's panels.

use portal_testkit::web::{csrf_of, page};
use portal_testkit::{with_operator as setup, Client, TestApp};
use serde_json::{json, Value};

async fn status_of(admin: &Client, id: &str) -> String {
    let v: Value = admin
        .get(&format!("/api/tools/approve/{id}"))
        .await
        .json()
        .await
        .unwrap();
    v["status"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn an_admin_approves_from_the_page_and_the_call_then_runs() {
    let (app, admin, op, instance) = setup().await;
    let id = op
        .ask_approval("stopInstance", json!({"instanceId": instance}))
        .await;

    // The home page and the list show it, with the link every approveUrl names.
    let (status, home) = admin.page("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Waiting for your approval (1)"), "{home}");
    let (status, list) = admin.page("/approvals").await;
    assert_eq!(status, 200);
    assert!(
        list.contains(&format!(r#"href="/approvals/{id}""#)),
        "{list}"
    );
    assert!(list.contains("stopInstance") && list.contains(&instance));
    assert!(list.contains("data-expires="));
    // The requester by name (the fixture names members by their email).
    assert!(
        list.contains(r#"<td data-label="Requested by">op@acme.test</td>"#),
        "{list}"
    );

    let (status, detail) = admin.page(&format!("/approvals/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        detail.contains(r#"id="decide""#),
        "approve controls: {detail}"
    );
    let token = csrf_of(&detail);

    // Without the form token, or with a wrong one: 403, still pending.
    for fields in [
        vec![("decision", "approve")],
        vec![("decision", "approve"), ("csrf", "x")],
    ] {
        let (status, _) = page(admin.post_form(&format!("/approvals/{id}"), &fields).await).await;
        assert_eq!(status, 403);
    }
    assert_eq!(status_of(&admin, &id).await, "pending");
    // A decision that is neither: 400.
    let (status, _) = page(
        admin
            .post_form(
                &format!("/approvals/{id}"),
                &[("csrf", &token), ("decision", "maybe")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 400);

    let res = admin
        .post_form(
            &format!("/approvals/{id}"),
            &[
                ("csrf", &token),
                ("decision", "approve"),
                ("reason", "planned maintenance"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/approvals/{id}").as_str()
    );
    let (_, decided) = admin.page(&format!("/approvals/{id}")).await;
    assert!(
        decided.contains(r#"<span class="badge approved">approved</span>"#),
        "{decided}"
    );
    assert!(decided.contains("planned maintenance"));
    assert!(
        !decided.contains(r#"id="decide""#),
        "no controls once decided"
    );
    assert_eq!(status_of(&admin, &id).await, "approved");
    // Deciding again is a conflict page.
    let (status, _) = page(
        admin
            .post_form(
                &format!("/approvals/{id}"),
                &[("csrf", &token), ("decision", "reject")],
            )
            .await,
    )
    .await;
    assert_eq!(status, 409);

    // The history lists it; the requester's repeated call runs once.
    let (_, list) = admin.page("/approvals").await;
    assert!(list.contains("Nothing is waiting for a decision."));
    assert!(list.contains("planned maintenance"), "{list}");
    let res = op
        .post(
            "/api/tools/execute",
            json!({"toolName": "stopInstance", "args": {"instanceId": instance}, "approvalId": id}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, home) = admin.page("/").await;
    assert!(home.contains("Recent activity") && home.contains("stopInstance"));
    drop(app);
}

#[tokio::test]
async fn a_viewer_sees_no_approve_controls_and_a_forged_post_is_refused() {
    let (app, admin, op, instance) = setup().await;
    let viewer = app.member(&admin, "vi@acme.test", "viewer").await;
    let id = op
        .ask_approval("stopInstance", json!({"instanceId": instance}))
        .await;

    let (status, list) = viewer.page("/approvals").await;
    assert_eq!(status, 200);
    assert!(list.contains(r#"id="no-approve""#), "{list}");
    assert!(!list.contains(&id) && !list.contains(r#"id="decide""#));
    let (status, home) = viewer.page("/").await;
    assert_eq!(status, 200);
    assert!(!home.contains("Waiting for your approval"));
    let (status, _) = viewer.page(&format!("/approvals/{id}")).await;
    assert_eq!(status, 403);

    // The viewer's own valid form token does not make it an approver.
    let token = csrf_of(&home);
    for decision in ["approve", "reject"] {
        let res = viewer
            .post_form(
                &format!("/approvals/{id}"),
                &[("csrf", &token), ("decision", decision)],
            )
            .await;
        let (status, body) = page(res).await;
        assert_eq!(status, 403, "{body}");
    }
    assert_eq!(status_of(&admin, &id).await, "pending");
}

#[tokio::test]
async fn four_eyes_is_explained_and_enforced_on_the_page() {
    let (_app, admin, op, instance) = setup().await;
    // A danger tool asked by the admin: someone else must decide it.
    let id = admin
        .ask_approval("terminateInstance", json!({"instanceId": instance}))
        .await;
    let (status, detail) = admin.page(&format!("/approvals/{id}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains(r#"id="blocked""#), "{detail}");
    assert!(detail.contains("Four-eyes"));
    assert!(!detail.contains(r#"id="decide""#));
    let token = csrf_of(&detail);
    let res = admin
        .post_form(
            &format!("/approvals/{id}"),
            &[("csrf", &token), ("decision", "approve")],
        )
        .await;
    assert_eq!(page(res).await.0, 403);
    // An operator lacks tools:danger: no controls either.
    let (status, detail) = op.page(&format!("/approvals/{id}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains(r#"id="blocked""#) && !detail.contains(r#"id="decide""#));
    assert_eq!(status_of(&admin, &id).await, "pending");
}

#[tokio::test]
async fn another_organisations_approval_is_not_found() {
    let (app, admin, op, instance) = setup().await;
    let id = op
        .ask_approval("stopInstance", json!({"instanceId": instance}))
        .await;
    let res = admin
        .post("/api/admin/orgs", json!({"name": "Beta", "slug": "beta"}))
        .await;
    assert_eq!(res.status(), 201);
    admin.set_active("beta").await;
    let boss = app.member(&admin, "boss@beta.test", "admin").await;
    let (status, body) = boss.page(&format!("/approvals/{id}")).await;
    assert_eq!(status, 404, "{body}");
    let token = csrf_of(&body_of_home(&boss).await);
    let res = boss
        .post_form(
            &format!("/approvals/{id}"),
            &[("csrf", &token), ("decision", "approve")],
        )
        .await;
    assert_eq!(page(res).await.0, 404);
    let (_, list) = boss.page("/approvals").await;
    assert!(!list.contains(&id));
    assert_eq!(status_of_in(&app, &id).await, "pending");
}

async fn body_of_home(c: &Client) -> String {
    c.page("/").await.1
}

/// The approval's status as seen from its own organisation (a fresh admin session there).
async fn status_of_in(app: &TestApp, id: &str) -> String {
    let admin = app
        .sign_in("admin@acme.test", portal_testkit::PASSWORD)
        .await;
    admin.set_active("acme").await;
    status_of(&admin, id).await
}

#[tokio::test]
async fn the_activity_page_lists_and_filters_the_organisations_runs() {
    let (app, admin, op, instance) = setup().await;
    let viewer = app.member(&admin, "vi@acme.test", "viewer").await;
    let res = op
        .post(
            "/api/v1/tools/getInstance/execute",
            json!({"args": {"instanceId": instance}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // Every role reads the feed (tools:read); names, not ids.
    let (status, body) = viewer.page("/activity").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("getInstance") && body.contains(&instance),
        "{body}"
    );
    assert!(
        body.contains(r#"<td data-label="By">op@acme.test</td>"#),
        "{body}"
    );
    let (_, only) = viewer
        .page("/activity?tool=getInstance&status=success")
        .await;
    assert!(only.contains("getInstance"));
    assert!(!only.contains("listCompartments"), "{only}");
    let (_, none) = viewer.page("/activity?status=error").await;
    assert!(none.contains(r#"id="no-activity""#), "{none}");
    // A status the feed does not know: 400 naming it, as a page.
    let (status, body) = viewer.page("/activity?status=bogus").await;
    assert_eq!(status, 400);
    assert!(body.contains("status: must be one of"), "{body}");
    // Anonymous visitors are sent to sign in.
    let res = app.get("/activity").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=/activity");
}
