//! Logging set-up: JSON or pretty lines, written by a background thread so
//! request threads never block on the terminal or a slow pipe.

use portal_core::{LogFormat, Settings};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Where log lines go: the server logs to stdout; one-shot commands log to
/// stderr so their stdout carries only their result (e.g. a new API key).
#[derive(Clone, Copy)]
pub enum Sink {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Installs the global subscriber; keep the guard alive to flush on exit.
pub fn init(settings: &Settings, sink: Sink) -> anyhow::Result<WorkerGuard> {
    let mut directives = settings.log.filter.clone();
    if !directives.contains("tokio_postgres") {
        // The driver reports server NOTICEs (e.g. "already exists, skipping") at info.
        directives.push_str(",tokio_postgres=warn");
    }
    let filter = EnvFilter::try_new(&directives).map_err(|e| {
        anyhow::anyhow!("PORTAL_LOG: invalid filter {:?}: {e}", settings.log.filter)
    })?;
    let (writer, guard) = match sink {
        Sink::Stdout => tracing_appender::non_blocking(std::io::stdout()),
        Sink::Stderr => tracing_appender::non_blocking(std::io::stderr()),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match settings.log.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Pretty => builder.compact().init(),
    }
    Ok(guard)
}
