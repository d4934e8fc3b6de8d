//! Sign-in and sign-out. Sign-in goes through the same core service as the
//! API's `POST /api/auth/sign-in/email` and sets the same session cookie.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use portal_core::service::auth;
use portal_core::CoreError;
use portal_http::auth::{check_csrf_headers, clear_session_cookie, session_cookie};
use portal_http::AppState;
use serde::Deserialize;

use crate::form::PageForm;
use crate::shell::Section;
use crate::visit::{safe_next, see_other, Member, PageError, Visitor};

/// `?next=` of the sign-in page.
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignIn {
    email: String,
    password: String,
    next: Option<String>,
}

/// A form holding only the session's token.
#[derive(Deserialize)]
pub struct TokenOnly {
    /// The session's form token.
    #[serde(default)]
    pub csrf: String,
}

/// A "Sign in with …" choice.
pub struct SsoChoice {
    id: String,
    name: String,
}

async fn sso_choices(state: &AppState, visitor: &Visitor) -> Vec<SsoChoice> {
    let ctx = state.ctx(&visitor.caller);
    match portal_core::service::sso::sign_in_choices(&ctx).await {
        Ok(all) => all
            .into_iter()
            .map(|p| SsoChoice {
                id: p.id,
                name: p.name,
            })
            .collect(),
        // The password form still works without the database's list.
        Err(_) => Vec::new(),
    }
}

fn form(next: &str, email: &str, problem: Option<&str>, sso: &[SsoChoice]) -> Markup {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    html! {
        div.card {
            h1 { "Sign in" }
            @if let Some(p) = problem {
                div.notice.error role="alert" #signin-error { (p) }
            }
            form method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="email" { "Email" }
                    input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                }
                div.field {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                button type="submit" { "Sign in" }
            }
            @if !sso.is_empty() {
                div.sso #sso-choices {
                    p.muted { "or" }
                    @for c in sso {
                        a.button.secondary href={ "/auth/sso/" (enc(&c.id)) "/start?next=" (enc(next)) } {
                            "Sign in with " (c.name)
                        }
                    }
                }
            }
        }
    }
}

/// `GET /login`: the form; signed-in users go home (or to `next`).
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    if state.app.setup_required().await? {
        return Err(PageError::Redirect("/setup".into()));
    }
    let next = safe_next(q.next.as_deref());
    if visitor.principal().is_some() {
        return Ok(see_other(&next));
    }
    let sso = sso_choices(&state, &visitor).await;
    Ok(visitor
        .shell("Sign in")
        .render(StatusCode::OK, form(&next, "", None, &sso)))
}

/// `POST /login`: signs in (Origin rule: only from the portal's own pages).
pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    PageForm(f): PageForm<SignIn>,
) -> Result<Response, PageError> {
    check_csrf_headers(&state, &headers)?;
    if state.app.setup_required().await? {
        return Err(PageError::Redirect("/setup".into()));
    }
    let next = safe_next(f.next.as_deref());
    let ctx = state.ctx(&visitor.caller);
    let sso = sso_choices(&state, &visitor).await;
    let again = |status: StatusCode, problem: &str| {
        visitor
            .shell("Sign in")
            .render(status, form(&next, &f.email, Some(problem), &sso))
    };
    match auth::sign_in(&ctx, &state.throttle, &f.email, &f.password).await {
        Ok(signed) => {
            let mut res = see_other(&next);
            let cookie = session_cookie(&state, &signed.token, signed.expires_at, ctx.now);
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(CoreError::InvalidCredentials) => Ok(again(
            StatusCode::UNAUTHORIZED,
            "Invalid email or password.",
        )),
        Err(CoreError::Validation(m)) => Ok(again(StatusCode::BAD_REQUEST, &m)),
        // The organisation signs in with SSO only: the page says so, above
        // its "Sign in with …" buttons.
        Err(CoreError::Forbidden(m)) => Ok(again(StatusCode::FORBIDDEN, &m)),
        Err(CoreError::RateLimited(secs)) => Ok(throttled(&visitor, secs)),
        Err(e) => Err(e.into()),
    }
}

/// The page for a locked or throttled account (429 with `Retry-After`).
fn throttled(visitor: &Visitor, secs: u64) -> Response {
    let body = html! {
        div.card role="alert" {
            h1 { "Sign-in paused" }
            p { "There have been too many sign-in attempts for this account or from this address, so sign-in is paused for a while to protect the account." }
            p { "You can try again in about " strong { (wait_text(secs)) } "." }
            p.muted { "If this was not you, tell your organisation's admin: every attempt is in the audit ledger." }
            a.button.secondary href="/login" { "Back to sign-in" }
        }
    };
    let mut res = visitor
        .shell("Sign-in paused")
        .render(StatusCode::TOO_MANY_REQUESTS, body);
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

fn wait_text(secs: u64) -> String {
    match secs {
        0..=59 => format!("{} second{}", secs.max(1), if secs == 1 { "" } else { "s" }),
        _ => {
            let m = secs.div_ceil(60);
            format!("{m} minute{}", if m == 1 { "" } else { "s" })
        }
    }
}

/// `GET /logout`: a confirmation (signing out changes state, so it is a form).
pub async fn confirm(m: Member) -> Response {
    let body = html! {
        div.card {
            h1 { "Sign out" }
            p { "Sign out of the portal on this browser?" }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(m.csrf);
                div.actions {
                    button type="submit" { "Sign out" }
                    a.button.secondary href="/" { "Stay signed in" }
                }
            }
        }
    };
    let mut shell = m.shell("Sign out", Section::None);
    shell.narrow = true;
    shell.render(StatusCode::OK, body)
}

/// `POST /logout`: ends the session and clears the cookie. A session an
/// OIDC sign-in opened continues to the OP's end-session endpoint
/// (RP-initiated logout, with `id_token_hint`), through a page whose link the
/// page's module follows at once: a redirect would be a form submission's,
/// which the CSP's `form-action 'self'` blocks for another origin.
pub async fn sign_out(
    State(state): State<AppState>,
    m: Member,
    PageForm(f): PageForm<TokenOnly>,
) -> Result<Response, PageError> {
    m.check_form(&f.csrf)?;
    let ctx = state.ctx(&m.caller);
    let at_op = match &m.principal.session_id {
        Some(sid) => state.app.sso_sign_out_url(&ctx, sid).await,
        None => None,
    };
    auth::sign_out(&ctx, &m.principal).await?;
    let mut res = match at_op {
        Some(url) => {
            let body = html! {
                div.card {
                    h1 { "Signed out" }
                    p { "You are signed out of the portal. Signing you out at your identity provider too…" }
                    div.actions {
                        a.button #sso-logout href=(url) data-follow { "Continue to your identity provider" }
                        a.button.secondary href="/login" { "Stay signed in there" }
                    }
                }
            };
            let mut shell = m.shell("Signed out", Section::None);
            shell.nav = None;
            shell.narrow = true;
            shell.render(StatusCode::OK, body)
        }
        None => see_other("/login"),
    };
    if let Ok(v) = HeaderValue::from_str(&clear_session_cookie(&state)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res.into_response())
}
