//! Serving with bounded connections and graceful shutdown.
//!
//! Each connection gets a header-read deadline (`PORTAL_HEADER_READ_TIMEOUT_SECS`),
//! which hyper also applies to the idle wait between keep-alive requests, so
//! silent, slow-header and idle connections are closed; at most
//! `PORTAL_MAX_CONNECTIONS` are open at once, and further ones are closed on
//! accept. On shutdown: stop accepting, let streams end with a final event, drain
//! in-flight requests, and give up at the configured deadline.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::Service;

use crate::state::AppState;

/// Largest connection cap honoured (the drain waits for this many permits).
const MAX_CONNECTIONS_CAP: usize = 1 << 20;

/// Serves a router wrapped by [`crate::pipeline`] on `listener` until
/// `signal` resolves, then drains.
pub async fn serve_router(
    listener: TcpListener,
    state: AppState,
    app: Router,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = state.shutdown.clone();
    let grace = state.settings.http.shutdown_grace;
    // A web tier leaves the durable background work to the API tier (which
    // holds the cloud credentials).
    if state.settings.http.role == portal_core::config::Role::Web {
        state
            .app
            .spawn_web_workers()
            .map_err(std::io::Error::other)?;
    } else {
        state.app.spawn_workers().map_err(std::io::Error::other)?;
    }
    let cap = state
        .settings
        .limits
        .max_connections
        .clamp(1, MAX_CONNECTIONS_CAP);
    let conns = Arc::new(Semaphore::new(cap));
    // Cancelled at the drain deadline: connections still open are dropped.
    let force = CancellationToken::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.settings.http.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(signal);
    loop {
        let accepted = tokio::select! {
            _ = &mut signal => {
                tracing::info!("shutdown requested; draining");
                token.cancel();
                break;
            }
            _ = token.cancelled() => break,
            r = listener.accept() => r,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Out of descriptors or similar: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = conns.clone().try_acquire_owned() else {
            state.metrics.shed.with_label_values(&["connections"]).inc();
            tracing::debug!(%peer, "connection cap reached; closing");
            drop(tcp);
            continue;
        };
        let conn = Connection {
            http: http.clone(),
            app: app.clone(),
            shutdown: token.clone(),
            force: force.clone(),
        };
        tokio::spawn(async move {
            conn.run(tcp, peer).await;
            drop(permit);
        });
    }
    drop(listener);
    let drained = async {
        // Every connection task holds one permit until it ends.
        let _all = conns.acquire_many(cap as u32).await;
    };
    tokio::select! {
        _ = drained => {}
        _ = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "drain deadline reached; closing remaining connections");
            force.cancel();
        }
    }
    // The stdio MCP servers this replica started end with it.
    state.app.stop_stdio_servers().await;
    Ok(())
}

/// Accept errors that concern one connection only (the listener is fine).
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// What one connection task needs.
struct Connection {
    http: hyper::server::conn::http1::Builder,
    app: Router,
    shutdown: CancellationToken,
    force: CancellationToken,
}

impl Connection {
    async fn run(self, tcp: TcpStream, peer: SocketAddr) {
        // Streams write many small frames: without TCP_NODELAY, Nagle's algorithm holds
        // each frame until the client's delayed ACK (~40 ms on Linux) releases it.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let app = self.app;
        let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            async move { app.call(req).await }
        });
        let conn = self.http.serve_connection(TokioIo::new(tcp), svc);
        tokio::pin!(conn);
        let result = tokio::select! {
            r = conn.as_mut() => r,
            _ = self.shutdown.cancelled() => {
                // Finish the request in flight (streams end on the same signal), then close.
                conn.as_mut().graceful_shutdown();
                tokio::select! {
                    r = conn.as_mut() => r,
                    _ = self.force.cancelled() => Ok(()),
                }
            }
        };
        if let Err(e) = result {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
