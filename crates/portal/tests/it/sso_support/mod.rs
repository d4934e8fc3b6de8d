//! Shared by the single sign-on tests: a portal allowed to reach the fake
//! OP on loopback, the browser's walk through start → OP → callback, and
//! an identity provider registered for the fake OP.
#![allow(dead_code)]

use portal_testkit::fake_op::{FakeOp, CLIENT_ID};
use portal_testkit::TestApp;
use serde_json::{json, Value};

pub async fn portal() -> TestApp {
    TestApp::builder()
        .env("PORTAL_OUTBOUND_ALLOW", "127.0.0.1")
        .env("PORTAL_OUTBOUND_ALLOW_HTTP", "true")
        .spawn()
        .await
}

pub fn org_id(admin: &portal_testkit::Client) -> String {
    admin.who["activeOrganization"]["id"]
        .as_str()
        .expect("org id")
        .to_string()
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

pub fn cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// The browser's walk: start → OP → callback. The callback's response and
/// what it needs to replay it.
pub async fn walk(app: &TestApp, idp: &str) -> (reqwest::Response, String, String) {
    let c = &app.client;
    let res = c
        .get(app.at(&format!("/auth/sso/{idp}/start?next=/chat")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let pending = cookie(&res, "portal_sso").expect("pending cookie");
    let to_op = location(&res);
    let res = c.get(&to_op).send().await.unwrap();
    assert_eq!(
        res.status(),
        302,
        "{}",
        res.text().await.unwrap_or_default()
    );
    // The registered redirect URI is the public URL's (port 0 in tests:
    // the listener's own port stands in for it).
    let public = app.state.settings.http.public_url.clone();
    let back = location(&res);
    let tail = back
        .strip_prefix(&format!("{public}/auth/sso/callback?"))
        .unwrap_or_else(|| panic!("{back}"));
    let back = app.at(&format!("/auth/sso/callback?{tail}"));
    let res = c
        .get(&back)
        .header("cookie", &pending)
        .send()
        .await
        .unwrap();
    (res, back, pending)
}

pub async fn session(app: &TestApp, session_cookie: &str) -> Value {
    app.client
        .get(app.at("/api/auth/get-session"))
        .header("cookie", session_cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn create_idp(admin: &portal_testkit::Client, op: &FakeOp, extra: Value) -> Value {
    let mut body = json!({
        "name": "Corp", "issuer": op.issuer, "clientId": CLIENT_ID, "clientSecret": "s3cret",
        "adminGroups": ["portal-admins"], "operatorGroups": ["portal-operators"],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = admin.post("/api/admin/idp", body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}
