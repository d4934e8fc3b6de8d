//! Helpers for the web UI's tests: form bodies, the form token on a page, and
//! the checks every HTML page must pass (content type, CSP with this
//! response's nonce and nothing inline without it).

use crate::Client;

/// An `application/x-www-form-urlencoded` body.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The value of the first `<input name="csrf">` on a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form token on the page");
    let rest = &html[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').expect("closing quote")].to_string()
}

/// Checks that `res` is an HTML page with the pages' strict CSP, whose nonce is
/// the one on the page's scripts; returns the status and the body.
pub async fn page(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/html"), "{status}: content type {ct}");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let body = res.text().await.unwrap();
    for directive in [
        "default-src 'self'",
        "style-src 'self';",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce in script-src");
    assert!(nonce.len() >= 32, "{nonce}");
    let scripts = body.matches("<script").count();
    assert!(scripts > 0, "the page loads its module");
    assert_eq!(
        body.matches(&format!("<script nonce=\"{nonce}\"")).count()
            + body
                .matches(&format!("nonce=\"{nonce}\"></script>"))
                .count(),
        scripts,
        "every script carries this response's nonce: {body}"
    );
    assert!(!body.contains(" style="), "no inline style attributes");
    (status, body)
}

impl Client {
    /// POSTs a form (with the client's cookie and same-origin `Origin`).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(fields))
            .send()
            .await
            .expect("request failed")
    }

    /// GETs a page and checks it (see [`page`]).
    pub async fn page(&self, path: &str) -> (u16, String) {
        page(self.get(path).await).await
    }
}
