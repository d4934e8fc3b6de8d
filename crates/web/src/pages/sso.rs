//! "Sign in with <provider>": the start (a redirect to the OP, binding
//! `state`, `nonce` and the PKCE verifier to this browser in a short-lived
//! cookie) and the callback (checked by the app and core; on success the
//! same session cookie as a password sign-in).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use maud::html;
use portal_app::sso::{Callback, PENDING_TTL_MS};
use portal_core::CoreError;
use portal_http::auth::session_cookie;
use portal_http::middleware::caller::cookie;
use portal_http::AppState;
use serde::Deserialize;

use crate::visit::{safe_next, see_other, PageError, Visitor};

/// The sign-in cookie: only the callback path ever sees it.
fn cookie_name(state: &AppState) -> &'static str {
    if state.settings.secure_cookies() {
        "__Secure-portal_sso"
    } else {
        "portal_sso"
    }
}

/// `Set-Cookie` for the pending sign-in (`None`: delete it). SameSite=Lax:
/// the OP's redirect back is a top-level GET, which Lax cookies accompany.
fn pending_cookie(state: &AppState, value: Option<&str>) -> String {
    let secure = if state.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let (v, age) = match value {
        Some(v) => (v, PENDING_TTL_MS / 1000),
        None => ("", 0),
    };
    format!(
        "{}={v}; Path=/auth/sso; HttpOnly; SameSite=Lax; Max-Age={age}{secure}",
        cookie_name(state)
    )
}

/// `?next=` of the start.
#[derive(Deserialize)]
pub struct Start {
    next: Option<String>,
}

/// `GET /auth/sso/{id}/start`: to the OP.
pub async fn start(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(q): Query<Start>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    let ctx = state.ctx(&visitor.caller);
    let begun = match state.app.sso_begin(&ctx, &id, &next).await {
        Ok(b) => b,
        Err(e) => return problem(&visitor, e),
    };
    let mut res = see_other(&begun.url);
    if let Ok(v) = HeaderValue::from_str(&pending_cookie(&state, Some(&begun.cookie))) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The callback's query.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/sso/callback`: back from the OP.
pub async fn callback(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let ctx = state.ctx(&visitor.caller);
    let outcome = match (&q.error, q.code, q.state) {
        (Some(err), _, _) => {
            let detail = q.error_description.as_deref().unwrap_or(err);
            Err(CoreError::Forbidden(format!(
                "The identity provider refused the sign-in: {}",
                detail.chars().take(200).collect::<String>()
            )))
        }
        (None, Some(code), Some(st)) => {
            let cb = Callback {
                code,
                state: st,
                iss: q.iss,
            };
            state
                .app
                .sso_finish(&ctx, cookie(&headers, cookie_name(&state)), &cb)
                .await
        }
        _ => Err(CoreError::Validation(
            "The identity provider's answer has no code or state".into(),
        )),
    };
    let mut res = match outcome {
        Ok(done) => {
            let mut res = see_other(&safe_next(Some(&done.next)));
            let c = session_cookie(&state, &done.signed.token, done.signed.expires_at, ctx.now);
            if let Ok(v) = HeaderValue::from_str(&c) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => problem(&visitor, e)?,
    };
    // Single use: the pending sign-in is over, whatever the outcome.
    if let Ok(v) = HeaderValue::from_str(&pending_cookie(&state, None)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// A failed SSO sign-in, as a page that leads back to the sign-in.
fn problem(visitor: &Visitor, e: CoreError) -> Result<Response, PageError> {
    let status = match &e {
        CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
        CoreError::Validation(_) => StatusCode::BAD_REQUEST,
        CoreError::NotFound(_) => StatusCode::NOT_FOUND,
        CoreError::Upstream(_) => StatusCode::BAD_GATEWAY,
        _ => return Err(e.into()),
    };
    let msg = e.to_string();
    let body = html! {
        div.card role="alert" {
            h1 { "Single sign-on failed" }
            p #sso-error { (msg) }
            a.button.secondary href="/login" { "Back to sign-in" }
        }
    };
    Ok(visitor.shell("Sign-in failed").render(status, body))
}
