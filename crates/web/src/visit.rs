//! Who is looking at a page, and the layout gate: no admin yet → `/setup`;
//! not signed in → `/login?next=…`; state-changing requests must pass the
//! cookie session's Origin rule and carry the session's form token.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_core::crypto::{constant_time_eq, sha256_hex};
use portal_core::identity::Principal;
use portal_core::portal_settings::PortalSettings;
use portal_core::rbac::{AuthMethod, Permission};
use portal_core::CoreError;
use portal_http::auth::{check_csrf, session_cookie_name};
use portal_http::middleware::caller::{cookie, AuthState, Caller};
use portal_http::middleware::security::CspNonce;
use portal_http::{AppState, HttpError};

use crate::shell::{Nav, Section, Shell};

/// Why a page is not rendered: a redirect, or an error the error pages render.
#[derive(Debug)]
pub enum PageError {
    /// 303 to this local path.
    Redirect(String),
    /// An error page.
    Http(HttpError),
}

impl From<HttpError> for PageError {
    fn from(e: HttpError) -> Self {
        PageError::Http(e)
    }
}

impl From<CoreError> for PageError {
    fn from(e: CoreError) -> Self {
        PageError::Http(e.into())
    }
}

impl From<portal_core::StoreError> for PageError {
    fn from(e: portal_core::StoreError) -> Self {
        PageError::Http(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Redirect(to) => see_other(&to),
            // Rendered as a page by `crate::errors::error_page` in the pipeline.
            PageError::Http(e) => e.into_response(),
        }
    }
}

/// A 303 to `to` (a local path).
pub fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `next` when it is a path on this portal, else `/`: no scheme, no host, no
/// `//` or `\` tricks, no control characters, and never back to `/login`.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else { return "/".into() };
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && n.len() <= 2048
        && !n.contains('\\')
        && !n.chars().any(|c| c.is_control() || c.is_whitespace())
        && !(n == "/login" || n.starts_with("/login?") || n.starts_with("/login/"));
    if ok {
        n.to_string()
    } else {
        "/".into()
    }
}

/// Percent-encodes a query value (everything but unreserved characters and `/`).
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The form token of the session whose cookie is `token`: derived from the
/// secret, `HttpOnly` session token (which a cross-site page cannot read), so
/// it needs no storage and dies with the session.
pub fn form_token(session_token: &str) -> String {
    sha256_hex(format!("portal-web-form-token\0{session_token}").as_bytes())
}

/// Any visitor, signed in or not.
pub struct Visitor {
    /// The request's facts.
    pub caller: Caller,
    /// This response's CSP nonce.
    pub nonce: CspNonce,
    /// The portal settings the page shell shows.
    pub brand: Arc<PortalSettings>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(HttpError::Internal("caller layer missing".into()))?;
        let nonce = parts
            .extensions
            .get::<CspNonce>()
            .cloned()
            .unwrap_or_default();
        let brand = state.app.settings_now().await;
        Ok(Visitor {
            caller,
            nonce,
            brand,
        })
    }
}

impl Visitor {
    /// The signed-in browser session, if any.
    pub fn principal(&self) -> Option<&Arc<Principal>> {
        self.caller
            .principal
            .as_ref()
            .filter(|p| self.caller.auth == AuthState::Verified && p.method == AuthMethod::Session)
    }

    /// A page shell for someone not signed in.
    pub fn shell<'a>(&'a self, title: &'a str) -> Shell<'a> {
        Shell {
            title,
            nonce: self.nonce.get(),
            nav: None,
            section: Section::None,
            narrow: true,
            brand: Some(self.brand.clone()),
        }
    }
}

/// A signed-in member behind the layout gate.
pub struct Member {
    /// Who.
    pub principal: Arc<Principal>,
    /// The request's facts.
    pub caller: Caller,
    /// This response's CSP nonce.
    pub nonce: CspNonce,
    /// The session's form token.
    pub csrf: String,
    /// The session cookie's token (to forget it at sign-out).
    pub session_token: String,
    /// The portal settings the page shell shows.
    pub brand: Arc<PortalSettings>,
}

impl FromRequestParts<AppState> for Member {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        if state.app.setup_required().await? {
            return Err(PageError::Redirect("/setup".into()));
        }
        if visitor.caller.auth == AuthState::Unavailable {
            return Err(HttpError::DatabaseUnavailable.into());
        }
        let token = cookie(&parts.headers, session_cookie_name(state)).map(str::to_owned);
        let (Some(principal), Some(token)) = (visitor.principal().cloned(), token) else {
            if parts.method != Method::GET && parts.method != Method::HEAD {
                return Err(HttpError::AuthRequired.into());
            }
            let here = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            return Err(PageError::Redirect(if here == "/" {
                "/login".into()
            } else {
                format!("/login?next={}", encode(here))
            }));
        };
        check_csrf(state, parts)?;
        if principal
            .user
            .as_ref()
            .is_some_and(|u| u.must_change_password)
            && !crate::pages::account::open_before_password_change(parts.uri.path())
        {
            // A one-time password is replaced before anything else: pages lead there.
            if parts.method == Method::GET || parts.method == Method::HEAD {
                return Err(PageError::Redirect("/account".into()));
            }
            return Err(HttpError::PasswordChangeRequired.into());
        }
        Ok(Member {
            principal,
            caller: visitor.caller,
            nonce: visitor.nonce,
            csrf: form_token(&token),
            session_token: token,
            brand: visitor.brand,
        })
    }
}

impl Member {
    /// Refuses a form whose token is not this session's (constant time).
    pub fn check_form(&self, presented: &str) -> Result<(), PageError> {
        if constant_time_eq(presented.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(HttpError::Forbidden(
                "This form did not come from your current session; reload the page and try again"
                    .into(),
            )
            .into())
        }
    }

    /// The shell of a page in `section`.
    pub fn shell<'a>(&'a self, title: &'a str, section: Section) -> Shell<'a> {
        let p = &self.principal;
        let name = p.user.as_ref().map(|u| u.name.as_str()).unwrap_or("");
        let org = p.org.as_ref().map(|o| {
            (
                o.name.as_str(),
                p.role.map(|r| r.as_str()).unwrap_or("member"),
            )
        });
        Shell {
            title,
            nonce: self.nonce.get(),
            nav: Some(Nav {
                name,
                org,
                csrf: &self.csrf,
                approvals: true,
                admin: p.can(Permission::AdminUsers)
                    || p.can(Permission::AdminOrgs)
                    || p.is_platform_admin(),
                audit: p.can(Permission::AdminAudit),
                tools: p.can(Permission::ToolsRead),
            }),
            section,
            narrow: false,
            brand: Some(self.brand.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path() {
        assert_eq!(safe_next(Some("/approvals/abc?x=1")), "/approvals/abc?x=1");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/login",
            "/login?next=/",
            "/a b",
            "/\u{7}",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn encoding_keeps_paths_readable() {
        assert_eq!(encode("/approvals/a-b?x=1&y"), "/approvals/a-b%3Fx%3D1%26y");
    }

    #[test]
    fn form_tokens_differ_per_session() {
        assert_ne!(form_token("a"), form_token("b"));
        assert_eq!(form_token("a"), form_token("a"));
    }
}
