//! Caller resolution: who is calling (client address now; session or API key
//! once identity lands), resolved once so later layers and guards can use it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::state::AppState;

/// The calling client's address, after applying the trusted-proxy rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Who is calling. Route guards decide what that caller may do.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The client's address.
    pub ip: IpAddr,
    /// The verified principal's stable id, when credentials were presented and verified.
    pub principal: Option<Arc<str>>,
    /// Permissions of the principal (empty for anonymous callers).
    pub permissions: Arc<[String]>,
}

impl Caller {
    /// True when the caller holds `perm` (or `admin:all`).
    pub fn has(&self, perm: &str) -> bool {
        self.permissions
            .iter()
            .any(|p| p == perm || p == "admin:all")
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

/// Middleware: resolves the caller and stores it in the request extensions.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let proxies = &state.proxies;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let ip = proxies.client_ip(peer, req.headers());
    req.extensions_mut().insert(ClientIp(ip));
    req.extensions_mut().insert(Caller {
        ip,
        principal: None,
        permissions: Arc::from(Vec::<String>::new()),
    });
    let mut res = next.run(req).await;
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
