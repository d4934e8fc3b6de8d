//! The tier settings (`PORTAL_ROLE`, `PORTAL_API_UPSTREAM`, `PORTAL_PROXY_ROUTES`).

use super::{env, toml_file};
use crate::config::*;

fn err(pairs: &[(&str, &str)]) -> String {
    Settings::load(None, env(pairs)).unwrap_err().to_string()
}

#[test]
fn a_web_tier_needs_an_upstream_origin_and_api_prefixes() {
    let s = Settings::load(
        None,
        env(&[
            ("PORTAL_ROLE", "web"),
            ("PORTAL_API_UPSTREAM", "http://10.0.2.15:8080/"),
            ("PORTAL_PROXY_ROUTES", "/api/chat, /api/mcp"),
        ]),
    )
    .unwrap();
    assert_eq!(s.http.role, Role::Web);
    assert_eq!(
        s.http.api_upstream.as_deref(),
        Some("http://10.0.2.15:8080")
    );
    assert_eq!(s.http.proxy_routes, ["/api/chat", "/api/mcp"]);
    assert!(s.describe().contains(&("PORTAL_ROLE", "web".into())));

    assert!(err(&[("PORTAL_ROLE", "web")]).starts_with("PORTAL_API_UPSTREAM: is required"));
    assert!(err(&[("PORTAL_ROLE", "edge")]).starts_with("PORTAL_ROLE:"));
    for bad in [
        "ftp://x",
        "http://u:p@host",
        "http://host/api",
        "http://host?x",
    ] {
        let e = err(&[("PORTAL_ROLE", "web"), ("PORTAL_API_UPSTREAM", bad)]);
        assert!(e.starts_with("PORTAL_API_UPSTREAM:"), "{bad}: {e}");
    }
    for bad in ["/chat", "/api/", "/api", "/api/*", "/api/x?y"] {
        let e = err(&[
            ("PORTAL_ROLE", "web"),
            ("PORTAL_API_UPSTREAM", "http://h:1"),
            ("PORTAL_PROXY_ROUTES", bad),
        ]);
        assert!(e.starts_with("PORTAL_PROXY_ROUTES:"), "{bad}: {e}");
    }
}

#[test]
fn the_other_roles_refuse_the_web_tiers_settings() {
    assert_eq!(Settings::default().http.role, Role::All);
    let e = err(&[("PORTAL_API_UPSTREAM", "http://h:1")]);
    assert!(
        e.starts_with("PORTAL_API_UPSTREAM: is only used with role web"),
        "{e}"
    );
    let e = err(&[("PORTAL_ROLE", "api"), ("PORTAL_PROXY_ROUTES", "/api/chat")]);
    assert!(
        e.starts_with("PORTAL_PROXY_ROUTES: is only used with role web"),
        "{e}"
    );
    let (_dir, path) = toml_file("[http]\nrole = \"api\"\n");
    let s = Settings::load(Some(&path), env(&[])).unwrap();
    assert_eq!(s.http.role, Role::Api);
}
