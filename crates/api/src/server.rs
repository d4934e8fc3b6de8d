//! Serving with graceful shutdown: stop accepting, let streams end with a final
//! event, drain in-flight requests, and give up at the configured deadline.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;

use crate::state::AppState;

/// Serves the production app on `listener` until `signal` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = crate::app::app(state.clone());
    serve_router(listener, state, app, signal).await
}

/// Serves any router built with [`crate::app::build`] (tests add probe routes).
pub async fn serve_router(
    listener: TcpListener,
    state: AppState,
    app: Router,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = state.shutdown.clone();
    let grace = state.settings.shutdown_grace;
    let trigger = token.clone();
    spawn_key_usage_writer(state.clone());
    spawn_execution_sweeper(state.clone());
    crate::chat::start(&state).map_err(std::io::Error::other)?;
    // Streams write many small frames: without TCP_NODELAY, Nagle's algorithm holds each
    // frame until the client's delayed ACK (~40 ms on Linux) releases it.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        signal.await;
        tracing::info!("shutdown requested; draining");
        trigger.cancel();
    })
    .into_future();
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r,
        _ = async { token.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_secs = grace.as_secs(), "drain deadline reached; closing remaining connections");
            Ok(())
        }
    }
}

/// Finishes tool executions whose outcome was lost (still `running` well past
/// the tool deadline), at start-up and every minute (see
/// `portal_core::service::executions`).
fn spawn_execution_sweeper(state: AppState) {
    let grace = crate::routes::tools::TOOL_TIMEOUT.as_millis() as i64 + 60_000;
    tokio::spawn(async move {
        loop {
            let ctx = portal_core::service::Ctx {
                store: state.store.as_ref(),
                keys: &state.keys,
                ip: None,
                user_agent: None,
                now: portal_core::identity::now_ms(),
            };
            match portal_core::service::executions::finish_stale(&ctx, grace).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    finished = n,
                    "recorded lost tool execution outcomes as unknown"
                ),
                Err(e) => tracing::debug!(error = %e, "execution sweep skipped"),
            }
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            }
        }
    });
}

/// Writes API keys' `last_used_at` in batches every few seconds, and once more at shutdown.
fn spawn_key_usage_writer(state: AppState) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => {
                    state.key_usage.flush(state.store.as_ref()).await;
                    return;
                }
                _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {
                    state.key_usage.flush(state.store.as_ref()).await;
                }
            }
        }
    });
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
