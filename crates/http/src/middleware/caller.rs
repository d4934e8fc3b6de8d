//! Caller resolution: who is calling (client address now; session or API key
//! once identity lands), resolved once so later layers and guards can use it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use portal_core::identity::{now_ms, Credential, Principal, Resolution, API_KEY_PREFIX};
use portal_core::rbac::Permission;
use portal_core::CoreError;

use crate::state::AppState;

/// The calling client's address, after applying the trusted-proxy rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Whether and how the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthState {
    /// No credentials presented.
    Anonymous,
    /// Credentials verified.
    Verified,
    /// Credentials presented but unknown, expired or revoked.
    Invalid,
    /// Credentials could not be checked: the database is away (503, never 401).
    Unavailable,
}

/// Who is calling. Route guards decide what that caller may do.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The client's address.
    pub ip: IpAddr,
    /// The client's user agent.
    pub user_agent: Option<HeaderValue>,
    /// The verified principal, if any.
    pub principal: Option<Arc<Principal>>,
    /// How authentication went.
    pub auth: AuthState,
}

impl Caller {
    /// True when the caller holds `perm` (see `rbac::decide`).
    pub fn can(&self, perm: Permission) -> bool {
        self.principal.as_ref().is_some_and(|p| p.can(perm))
    }
}

/// Peers whose `X-Forwarded-For` is believed.
#[derive(Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpNet>>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client address: the peer, unless the peer is a trusted proxy, in which
    /// case the right-most `X-Forwarded-For` entry that is not itself trusted.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

/// The credential a request carries: an API key (`Authorization: Bearer
/// portal_…` or `X-API-Key`) wins over the session cookie.
fn credential<'a>(headers: &'a HeaderMap, cookie_name: &str) -> Option<Credential<'a>> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|v| v.starts_with(API_KEY_PREFIX));
    let header_key = || {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(k) = bearer.or_else(header_key) {
        return Some(Credential::ApiKey(k));
    }
    cookie(headers, cookie_name).map(Credential::Session)
}

/// The value of cookie `name`, if present.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Middleware: resolves the caller (address, then credentials through the
/// short-lived principal cache) and stores it in the request extensions.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let ip = state.proxies.client_ip(peer, req.headers());
    let cookie_name = crate::auth::session_cookie_name(&state);
    let now = now_ms();
    let mut refreshed: Option<(String, i64)> = None;
    let (principal, auth) = match credential(req.headers(), cookie_name) {
        None => (None, AuthState::Anonymous),
        Some(cred) => match state.app.resolve_credential(cred, now).await {
            Ok(Resolution::Principal(p)) => {
                if let Some(k) = &p.key_id {
                    state.key_usage.note(k, now);
                }
                if let Credential::Session(token) = cred {
                    if let Some(new_exp) = state.app.refresh_session(token, &p, now).await {
                        refreshed = Some((token.to_string(), new_exp));
                    }
                }
                (Some(p), AuthState::Verified)
            }
            Ok(Resolution::Invalid) => (None, AuthState::Invalid),
            Err(CoreError::Unavailable) => (None, AuthState::Unavailable),
            Err(e) => {
                tracing::error!(error = %e, "credential resolution failed");
                (None, AuthState::Unavailable)
            }
        },
    };
    let user_agent = req.headers().get(header::USER_AGENT).cloned();
    req.extensions_mut().insert(ClientIp(ip));
    req.extensions_mut().insert(Caller {
        ip,
        user_agent,
        principal,
        auth,
    });
    let mut res = next.run(req).await;
    if let Some((token, exp)) = refreshed {
        if !res.headers().contains_key(header::SET_COOKIE) {
            if let Ok(v) = crate::auth::session_cookie(&state, &token, exp, now).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
    }
    // The access log runs outside this layer; it reads the address from here.
    res.extensions_mut().insert(ClientIp(ip));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn xff_only_from_trusted_peers() {
        let none = TrustedProxies::default();
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        assert_eq!(none.client_ip(peer, &xff("1.2.3.4")), peer);
        let lb = TrustedProxies(Arc::new(vec!["10.0.0.0/8".parse().unwrap()]));
        assert_eq!(
            lb.client_ip(peer, &xff("1.2.3.4")),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        // A client-supplied left-most entry cannot override what the proxy appended.
        assert_eq!(
            lb.client_ip(peer, &xff("6.6.6.6, 1.2.3.4")),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            lb.client_ip(peer, &xff("1.2.3.4, 10.0.0.9")),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(lb.client_ip(peer, &xff("garbage")), peer);
    }
}
