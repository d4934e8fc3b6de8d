//! A broken uniqueness rule answers 409 naming the field and the value
//! (migration 0011's named constraints), on SQLite and on PostgreSQL.

use portal_testkit::TestApp;
use serde_json::{json, Value};

/// The 409's body, checked to be a conflict.
async fn conflict(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "CONFLICT", "{body}");
    body["error"].as_str().expect("error").to_string()
}

#[tokio::test]
async fn duplicate_api_key_name_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.create_key("ci", &["tools:read"]).await;
    let again = admin
        .post(
            "/api/api-keys",
            json!({"name": "ci", "permissions": ["tools:read"]}),
        )
        .await;
    assert_eq!(
        conflict(again).await,
        "name: an API key named `ci` already exists"
    );
    // Another name is fine; the first key is untouched.
    admin.create_key("ci-2", &["tools:read"]).await;
    let keys: Value = admin.get("/api/api-keys").await.json().await.unwrap();
    let ci = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["name"] == "ci")
        .count();
    assert_eq!(ci, 1, "{keys}");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn duplicate_org_slug_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let first = admin
        .post(
            "/api/admin/orgs",
            json!({"name": "Other Org", "slug": "other"}),
        )
        .await;
    assert_eq!(first.status(), 201);
    let again = admin
        .post(
            "/api/admin/orgs",
            json!({"name": "Another", "slug": "other"}),
        )
        .await;
    assert_eq!(
        conflict(again).await,
        "slug: an organization with slug `other` already exists"
    );
    app.shutdown().await.unwrap();
}
