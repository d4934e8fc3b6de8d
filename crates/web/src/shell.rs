//! The page shell every page shares: head (stylesheet, modules, the nonce'd
//! theme script), header with navigation and sign-out, and the response with
//! its strict Content-Security-Policy.

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use portal_core::portal_settings::PortalSettings;

use crate::assets;

/// The brand shown in the header and titles unless the portal settings name another.
pub const BRAND: &str = portal_core::portal_settings::DEFAULT_NAME;

/// Applies a stored theme choice before first paint (the only inline script; it
/// carries the response's nonce).
const THEME_BOOT: &str = "try{var t=localStorage.getItem('portal-theme');if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}";

/// The pages' CSP: scripts only from the portal or with this response's nonce,
/// styles only from the portal, nothing framed, no base or foreign form targets.
pub fn csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// The navigation sections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `/`.
    Home,
    /// `/approvals`.
    Approvals,
    /// `/chat`.
    Chat,
    /// `/activity`.
    Activity,
    /// `/advisor`.
    Advisor,
    /// `/tools`.
    Tools,
    /// `/admin/…`.
    Admin,
    /// `/audit`.
    Audit,
    /// `/account`.
    Account,
    /// Pages outside the navigation (sign-in, errors).
    None,
}

/// The signed-in user as the header shows them.
pub struct Nav<'a> {
    /// Display name.
    pub name: &'a str,
    /// Active organisation and role, if any.
    pub org: Option<(&'a str, &'a str)>,
    /// The session's form token (for sign-out).
    pub csrf: &'a str,
    /// Whether to show the approvals link.
    pub approvals: bool,
    /// Whether to show the admin link (members, keys, settings, organisations).
    pub admin: bool,
    /// Whether to show the audit link (`admin:audit`).
    pub audit: bool,
    /// Whether to show the tools link (`tools:read`).
    pub tools: bool,
}

/// One page: title, nonce, who is signed in, and where in the navigation it is.
pub struct Shell<'a> {
    /// Page title (before the brand).
    pub title: &'a str,
    /// This response's CSP nonce.
    pub nonce: &'a str,
    /// The signed-in user, if any.
    pub nav: Option<Nav<'a>>,
    /// Highlighted section.
    pub section: Section,
    /// A narrow single-column page (forms).
    pub narrow: bool,
    /// The portal settings (name, logo, colours, maintenance banner, links);
    /// `None` (error pages, rendered outside the routes): the defaults.
    pub brand: Option<Arc<PortalSettings>>,
}

impl Shell<'_> {
    /// The page as a response with `status`.
    pub fn render(&self, status: StatusCode, body: Markup) -> Response {
        let defaults = PortalSettings::default();
        let brand = self.brand.as_deref().unwrap_or(&defaults);
        let themed = !brand.accent_color.is_empty() || !brand.accent_color_dark.is_empty();
        let doc = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="color-scheme" content="light dark";
                    title { (self.title) " · " (brand.name) }
                    script nonce=(self.nonce) { (PreEscaped(THEME_BOOT)) }
                    link rel="stylesheet" href=(assets::url("app.css"));
                    @if themed {
                        link rel="stylesheet" href={ "/branding/theme.css?v=" (brand.updated_at) };
                    }
                    script type="module" src=(assets::url("app.js")) nonce=(self.nonce) {}
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        div.bar {
                            a.brand href="/" {
                                @if !brand.logo.is_empty() { img.logo src=(brand.logo) alt=""; }
                                @if brand.name == BRAND { "OCI " span { "Self-Service" } " Portal" } @else { (brand.name) }
                            }
                            @if let Some(nav) = &self.nav {
                                nav aria-label="Main" {
                                    ul.nav {
                                        li { a href="/" aria-current=[self.current(Section::Home)] { "Home" } }
                                        li { a href="/chat" aria-current=[self.current(Section::Chat)] { "Chat" } }
                                        @if nav.approvals {
                                            li { a href="/approvals" aria-current=[self.current(Section::Approvals)] { "Approvals" } }
                                        }
                                        li { a href="/activity" aria-current=[self.current(Section::Activity)] { "Activity" } }
                                        @if nav.tools { li { a href="/advisor" aria-current=[self.current(Section::Advisor)] { "Advisor" } } }
                                        @if nav.tools { li { a href="/tools" aria-current=[self.current(Section::Tools)] { "Tools" } } }
                                        @if nav.audit { li { a href="/audit" aria-current=[self.current(Section::Audit)] { "Audit" } } }
                                        @if nav.admin { li { a href="/admin" aria-current=[self.current(Section::Admin)] { "Admin" } } }
                                        li { a href="/api/docs/" { "API docs" } }
                                    }
                                }
                            }
                            div.who {
                                button #theme-toggle .secondary type="button" hidden { "Theme" }
                                @if let Some(nav) = &self.nav {
                                    a.account href="/account" aria-current=[self.current(Section::Account)] {
                                        (nav.name)
                                        @if let Some((org, role)) = nav.org { span.org { " · " (org) " (" (role) ")" } }
                                    }
                                    form method="post" action="/logout" {
                                        input type="hidden" name="csrf" value=(nav.csrf);
                                        button.secondary type="submit" { "Sign out" }
                                    }
                                }
                            }
                        }
                        // Inside the header landmark, on every page.
                        @if brand.maintenance {
                            div.notice.warn.maintenance role="status" #maintenance-banner {
                                strong { "Maintenance: " } (brand.banner())
                            }
                        }
                    }
                    main #main .narrow[self.narrow] { (body) }
                    footer {
                        (brand.name)
                        @if !brand.terms_url.is_empty() { " · " a href=(brand.terms_url) #terms-link { "Terms of use" } }
                        @if !brand.privacy_url.is_empty() { " · " a href=(brand.privacy_url) #privacy-link { "Privacy" } }
                    }
                }
            }
        };
        page_response(status, self.nonce, doc.into_string())
    }

    fn current(&self, s: Section) -> Option<&'static str> {
        (self.section == s).then_some("page")
    }
}

/// `GET /branding/theme.css`: the accent colours of the portal settings (a
/// stylesheet, since the pages' CSP allows no inline styles).
pub async fn theme_css(
    axum::extract::State(state): axum::extract::State<portal_http::AppState>,
) -> Response {
    let s = state.app.settings_now().await;
    let light = if s.accent_color.is_empty() {
        "#0b5cad"
    } else {
        &s.accent_color
    };
    let dark = if s.accent_color_dark.is_empty() {
        "#6cb2ff"
    } else {
        &s.accent_color_dark
    };
    // Both are checked `#rrggbb` values, nothing else can reach the stylesheet.
    let css = format!(":root {{ --accent: light-dark({light}, {dark}); --focus: light-dark({light}, {dark}); }}\n");
    let mut res = css.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

/// An HTML response with the pages' CSP for `nonce`.
pub fn page_response(status: StatusCode, nonce: &str, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp(nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}
