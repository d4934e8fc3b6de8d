//! A TCP proxy the test controls, to cut and restore the database connection.
//!
//! Two kinds of outage: [`TcpProxy::cut`] keeps listening but drops every
//! connection at once (the server went away mid-conversation), and
//! [`TcpProxy::refuse`] stops listening altogether, so connecting fails with
//! "connection refused" (the server is down or restarting).

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forwards to the target.
    Forward,
    /// Accepts, then drops at once; open connections are dropped too.
    Drop,
    /// Not listening: connecting is refused; open connections are dropped.
    Refuse,
}

/// Forwards connections to a target until told to cut or refuse them.
pub struct TcpProxy {
    /// Where the proxy listens.
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    cut: watch::Sender<u64>,
}

/// Binds `addr` with `SO_REUSEADDR`, so the port can be taken again after a refusal.
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

impl TcpProxy {
    /// Starts forwarding `127.0.0.1:<port>` to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = bind("127.0.0.1:0".parse().expect("addr")).expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (mode, _) = watch::channel(Mode::Forward);
        let (cut, _) = watch::channel(0u64);
        let (mut mode_rx, cut2) = (mode.subscribe(), cut.clone());
        tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                let current = *mode_rx.borrow_and_update();
                if current == Mode::Refuse {
                    // Closing the listening socket makes connects fail with ECONNREFUSED.
                    listener = None;
                    if mode_rx.changed().await.is_err() {
                        return;
                    }
                    continue;
                }
                let l = match listener.take() {
                    Some(l) => l,
                    None => match bind(addr) {
                        Ok(l) => l,
                        Err(e) => panic!("proxy cannot listen on {addr} again: {e}"),
                    },
                };
                let accepted = tokio::select! {
                    a = l.accept() => a,
                    changed = mode_rx.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        listener = Some(l);
                        continue;
                    }
                };
                listener = Some(l);
                let Ok((mut inbound, _)) = accepted else {
                    return;
                };
                if *mode_rx.borrow() != Mode::Forward {
                    drop(inbound);
                    continue;
                }
                let mut rx = cut2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = rx.changed() => {}
                    }
                });
            }
        });
        Self { addr, mode, cut }
    }

    /// Drops every open connection and drops new ones as soon as they are accepted.
    pub fn cut(&self) {
        self.set(Mode::Drop);
    }

    /// Drops every open connection and stops listening: connecting is refused.
    pub fn refuse(&self) {
        self.set(Mode::Refuse);
    }

    fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
        self.cut.send_modify(|n| *n += 1);
    }

    /// Accepts and forwards connections again (listening again after [`Self::refuse`]).
    pub fn restore(&self) {
        self.mode.send_replace(Mode::Forward);
    }
}

/// The `host:port` a PostgreSQL URL points at (default port 5432).
pub fn pg_target(url: &str) -> SocketAddr {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:5432")
    };
    let hostport = hostport.replace("localhost", "127.0.0.1");
    hostport
        .parse()
        .unwrap_or_else(|e| panic!("cannot proxy {hostport}: {e}"))
}

/// The same URL pointed at `addr` instead.
pub fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let userinfo = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{addr}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_urls() {
        assert_eq!(
            pg_target("postgres://postgres@127.0.0.1:5432/x").port(),
            5432
        );
        assert_eq!(
            pg_target("postgres://u:p@localhost/x").to_string(),
            "127.0.0.1:5432"
        );
        let a: SocketAddr = "127.0.0.1:9999".parse().unwrap();
        assert_eq!(
            via("postgres://u:p@127.0.0.1:5432/db?x=1", a),
            "postgres://u:p@127.0.0.1:9999/db?x=1"
        );
    }
}
