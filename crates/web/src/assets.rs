//! The UI's stylesheet and ES modules, embedded in the binary (no build step
//! beyond `cargo build`) and served under content-hashed names with immutable
//! caching: a changed file gets a new URL, so browsers never use a stale one.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_core::crypto::sha256_hex;
use portal_http::HttpError;

/// Where assets are served.
pub const PREFIX: &str = "/assets/";

/// `Cache-Control` of a hashed asset.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The source files, leaf modules before the modules importing them (an
/// importer's `'./name.js'` is rewritten to the hashed name before it is hashed).
const SOURCES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../assets/app.css"),
    ),
    (
        "theme.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/theme.js"),
    ),
    (
        "countdown.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/countdown.js"),
    ),
    (
        "copy.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/copy.js"),
    ),
    (
        "retry.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/retry.js"),
    ),
    (
        "follow.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/follow.js"),
    ),
    (
        "purify.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/vendor/purify.min.js"),
    ),
    (
        "marked.esm.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/vendor/marked.esm.js"),
    ),
    (
        "chat-render.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/chat-render.js"),
    ),
    (
        "chat-tools.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/chat-tools.js"),
    ),
    (
        "chat.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/chat.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
];

/// One servable asset.
pub struct Asset {
    /// The source name (`app.css`).
    pub name: &'static str,
    /// The served name (`app.3f2a…c1.css`).
    pub hashed: String,
    /// Its content type.
    pub content_type: &'static str,
    /// Its bytes, imports rewritten.
    pub body: String,
}

fn hashed_name(name: &str, body: &str) -> String {
    let hash = &sha256_hex(body.as_bytes())[..16];
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

/// Every asset, built once per process.
pub fn all() -> &'static [Asset] {
    static ALL: OnceLock<Vec<Asset>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut out: Vec<Asset> = Vec::with_capacity(SOURCES.len());
        for (name, content_type, src) in SOURCES {
            let mut body = (*src).to_string();
            for dep in &out {
                body = body.replace(&format!("'./{}'", dep.name), &format!("'./{}'", dep.hashed));
            }
            out.push(Asset {
                name,
                hashed: hashed_name(name, &body),
                content_type,
                body,
            });
        }
        out
    })
}

/// The URL of the asset built from source `name`.
pub fn url(name: &str) -> String {
    all()
        .iter()
        .find(|a| a.name == name)
        .map(|a| format!("{PREFIX}{}", a.hashed))
        .unwrap_or_else(|| format!("{PREFIX}{name}"))
}

/// `GET /assets/{file}`: only the current hashed names exist.
pub async fn serve(Path(file): Path<String>) -> Response {
    let Some(a) = all().iter().find(|a| a.hashed == file) else {
        return HttpError::NotFound(format!("No asset {file}")).into_response();
    };
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        ],
        a.body.clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_hash_and_imports_follow() {
        let app = all().iter().find(|a| a.name == "app.js").unwrap();
        let theme = all().iter().find(|a| a.name == "theme.js").unwrap();
        assert!(app.hashed.starts_with("app.") && app.hashed.ends_with(".js"));
        assert_eq!(app.hashed.len(), "app..js".len() + 16);
        assert!(app.body.contains(&format!("'./{}'", theme.hashed)));
        assert!(!app.body.contains("'./theme.js'"));
        assert_eq!(url("app.css"), format!("/assets/{}", all()[0].hashed));
    }

    #[test]
    fn the_chat_page_loads_under_60_kb_compressed() {
        use std::io::Write;
        let chat = [
            "app.css",
            "theme.js",
            "countdown.js",
            "app.js",
            "chat.js",
            "chat-render.js",
            "chat-tools.js",
            "marked.esm.js",
            "purify.min.js",
        ];
        let mut total = 0;
        for name in chat {
            let a = all().iter().find(|a| a.name == name).unwrap();
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(a.body.as_bytes()).unwrap();
            total += gz.finish().unwrap().len();
        }
        assert!(total < 60 * 1024, "{total} bytes compressed");
        // Every module the chat imports is there under its hashed name.
        let chat = all().iter().find(|a| a.name == "chat.js").unwrap();
        let app = all().iter().find(|a| a.name == "app.js").unwrap();
        assert!(app.body.contains(&format!("'./{}'", chat.hashed)));
        assert!(!chat.body.contains("'./chat-render.js'"));
    }
}
