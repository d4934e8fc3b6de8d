//! Route guards: typed extractors that authenticate, check CSRF for cookie
//! sessions, and check the route's declared permission — before any request
//! validation, so anonymous callers learn nothing about schemas.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use portal_core::identity::Principal;
use portal_core::rbac::{AuthMethod, Permission};

use crate::error::HttpError;
use crate::middleware::caller::{AuthState, Caller};
use crate::state::AppState;

/// The session cookie's name: `__Host-` prefixed (Secure, whole site, no
/// Domain) in production and whenever the public URL is https.
pub fn session_cookie_name(state: &AppState) -> &'static str {
    if state.settings.secure_cookies() {
        "__Host-portal_session"
    } else {
        "portal_session"
    }
}

/// A `Set-Cookie` value carrying the session token until `expires_at`.
pub fn session_cookie(state: &AppState, token: &str, expires_at: i64, now: i64) -> String {
    let max_age = ((expires_at - now) / 1000).max(0);
    let secure = if state.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        session_cookie_name(state)
    )
}

/// A `Set-Cookie` value that deletes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> String {
    let secure = if state.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        session_cookie_name(state)
    )
}

/// A permission a route declares, as a type.
pub trait Perm: Send + Sync + 'static {
    /// The permission, or `None` for "any authenticated caller".
    const PERM: Option<Permission>;
}

macro_rules! perms {
    ($($name:ident => $p:expr),* $(,)?) => {
        $(
            #[doc = concat!("Marker: the route needs `", stringify!($name), "`.")]
            pub struct $name;
            impl Perm for $name {
                const PERM: Option<Permission> = $p;
            }
        )*
    };
}

/// Permission markers for [`Require`].
pub mod perm {
    use super::*;
    perms! {
        Authenticated => None,
        ToolsRead => Some(Permission::ToolsRead),
        ToolsExecute => Some(Permission::ToolsExecute),
        ToolsApprove => Some(Permission::ToolsApprove),
        SessionsRead => Some(Permission::SessionsRead),
        SessionsWrite => Some(Permission::SessionsWrite),
        WorkflowsRead => Some(Permission::WorkflowsRead),
        WorkflowsWrite => Some(Permission::WorkflowsWrite),
        WorkflowsExecute => Some(Permission::WorkflowsExecute),
        AdminUsers => Some(Permission::AdminUsers),
        AdminAudit => Some(Permission::AdminAudit),
        AdminWebhooks => Some(Permission::AdminWebhooks),
        AdminOrgs => Some(Permission::AdminOrgs),
        AdminAll => Some(Permission::AdminAll),
    }
}

/// What a session signed in with a one-time password may do: change it, see
/// who it is, sign out. Everything else answers 403 `PASSWORD_CHANGE_REQUIRED`.
const PASSWORD_CHANGE_ROUTES: &[&str] = &[
    "/api/auth/change-password",
    "/api/auth/get-session",
    "/api/auth/sign-out",
];

/// An authenticated caller holding the route's permission `P`.
pub struct Require<P: Perm> {
    /// The caller.
    pub principal: Arc<Principal>,
    /// The caller's request facts (address, user agent).
    pub caller: Caller,
    _p: PhantomData<P>,
}

/// The origin of a URL-ish header value (`scheme://host[:port]`).
fn origin_of(v: &str) -> Option<String> {
    let (scheme, rest) = v.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    ))
}

/// Whether a browser `Origin` header value is the portal itself or a configured origin.
pub fn origin_allowed(state: &AppState, value: &str) -> bool {
    origin_of(value).is_some_and(|o| {
        o == state.settings.http.public_url || state.settings.http.cors_origins.contains(&o)
    })
}

/// Refuses state-changing requests authenticated by cookie whose Origin (or
/// Referer) is not the portal itself or a configured origin.
pub fn check_csrf(state: &AppState, parts: &Parts) -> Result<(), HttpError> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    check_csrf_headers(state, &parts.headers)
}

/// The Origin (or Referer) check itself. `Referer` is consulted only when no
/// `Origin` header is sent at all: an Origin that is present but `null` or
/// unparseable (sandboxed frames, privacy redirects) is refused, never replaced.
pub fn check_csrf_headers(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<(), HttpError> {
    let origin = match headers.get(header::ORIGIN) {
        Some(v) => v.to_str().ok().and_then(origin_of),
        None => headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(origin_of),
    };
    let ok = origin.is_some_and(|o| {
        o == state.settings.http.public_url || state.settings.http.cors_origins.contains(&o)
    });
    if ok {
        Ok(())
    } else {
        Err(HttpError::Forbidden(
            "Cross-site request refused: Origin does not match the portal".into(),
        ))
    }
}

/// The caller as resolved by the caller layer: 401 when anonymous or the
/// credentials are bad, 503 when they could not be checked.
pub fn authenticated(parts: &Parts) -> Result<(Arc<Principal>, Caller), HttpError> {
    let caller = parts
        .extensions
        .get::<Caller>()
        .cloned()
        .ok_or(HttpError::AuthRequired)?;
    match (caller.auth, &caller.principal) {
        (AuthState::Unavailable, _) => Err(HttpError::DatabaseUnavailable),
        (AuthState::Verified, Some(p)) => Ok((p.clone(), caller)),
        _ => Err(HttpError::AuthRequired),
    }
}

impl<P: Perm> FromRequestParts<AppState> for Require<P> {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (principal, caller) = authenticated(parts)?;
        if principal.method == AuthMethod::Session {
            check_csrf(state, parts)?;
            if principal
                .user
                .as_ref()
                .is_some_and(|u| u.must_change_password)
                && !PASSWORD_CHANGE_ROUTES.contains(&parts.uri.path())
            {
                return Err(HttpError::PasswordChangeRequired);
            }
        }
        if let Some(p) = P::PERM {
            if !principal.can(p) {
                return Err(HttpError::Forbidden(format!("Permission {p} is required")));
            }
        }
        Ok(Require {
            principal,
            caller,
            _p: PhantomData,
        })
    }
}

/// The caller's facts (address, user agent), authenticated or not.
pub struct AnyCaller(pub Caller);

impl FromRequestParts<AppState> for AnyCaller {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(AnyCaller)
            .ok_or(HttpError::AuthRequired)
    }
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://Portal.example/x?y").as_deref(),
            Some("https://portal.example")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("null"), None);
    }
}
