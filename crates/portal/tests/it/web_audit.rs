//! The audit page: `admin:audit` only, the API's filters, the chain verified
//! as intact and then as broken at the first tampered record, exports through
//! the API with the same filters.

use portal_testkit::web::page;
use portal_testkit::TestApp;

#[tokio::test]
async fn audit_lists_filters_verifies_and_exports() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let viewer = app.member(&admin, "viewer@acme.test", "viewer").await;
    let (status, body) = viewer.page("/audit").await;
    assert_eq!(status, 403, "{body}");

    let (status, body) = admin.page("/audit").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("member.invited") && body.contains(r#"id="verify""#),
        "{body}"
    );
    assert!(
        !body.contains(r#"id="chain-state""#),
        "verified only when asked"
    );
    // A prefix filter.
    let (_, body) = admin.page("/audit?action=member.*").await;
    assert!(
        body.contains("member.invited") && !body.contains("auth.sign_in<"),
        "{body}"
    );
    let (_, body) = admin.page("/audit?action=nothing.like.this").await;
    assert!(body.contains(r#"id="no-records""#));
    // A bad date: 400 naming it.
    let (status, body) = admin.page("/audit?from=yesterday").await;
    assert_eq!(status, 400);
    assert!(body.contains("from: must be a date"), "{body}");
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let (_, body) = admin.page(&format!("/audit?from={today}&to={today}")).await;
    assert!(body.contains("member.invited"), "today's records: {body}");

    // Verify: intact.
    let (status, body) = admin.page("/audit?verify=1&action=member.*").await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"id="chain-state""#) && body.contains("Intact."),
        "{body}"
    );

    // Exports carry the filters and open with the session.
    let (_, body) = admin.page("/audit?action=member.*").await;
    let at = body.find(r#"id="export-csv""#).unwrap();
    let tag_start = body[..at].rfind("<a").unwrap();
    let tag = &body[tag_start..at + body[at..].find('>').unwrap()];
    let href = tag.split(r#"href=""#).nth(1).unwrap();
    let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
    assert!(
        href.starts_with("/api/audit?format=csv&action=member.%2A"),
        "{href}"
    );
    let res = admin.get(&href).await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with("id,seq,")
            && csv.contains("member.invited")
            && !csv.contains("auth.sign_in,")
    );
    let res = admin.get("/api/audit?format=jsonl").await;
    assert_eq!(res.status(), 200);

    // Tampering: the page names the first broken record.
    let (_, listed) = admin.page("/audit?action=member.invited").await;
    let first = listed
        .split(r##"<td data-label="#">"##)
        .nth(1)
        .map(|r| r[..r.find('<').unwrap()].to_string())
        .unwrap();
    let sql = format!("UPDATE audit_log SET actor = 'someone else' WHERE id = {first}");
    app.sql_bypassing_audit_triggers(&sql).await;
    let (_, body) = page(admin.get("/audit?verify=1").await).await;
    assert!(body.contains("Broken."), "{body}");
    assert!(
        body.contains(&format!("<strong>#{first}</strong>")),
        "{body}"
    );
}
