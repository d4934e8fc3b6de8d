//! Logging set-up: JSON or pretty lines on stdout, written by a background
//! thread so request threads never block on the terminal or a slow pipe.

use portal_core::{LogFormat, Settings};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; keep the guard alive to flush on exit.
pub fn init(settings: &Settings) -> anyhow::Result<WorkerGuard> {
    let filter = EnvFilter::try_new(&settings.log_filter).map_err(|e| {
        anyhow::anyhow!("PORTAL_LOG: invalid filter {:?}: {e}", settings.log_filter)
    })?;
    let (writer, guard) = tracing_appender::non_blocking(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match settings.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Pretty => builder.compact().init(),
    }
    Ok(guard)
}
