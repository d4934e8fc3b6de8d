//! Logging set-up: JSON or pretty lines, written by a background thread so
//! request threads never block on the terminal or a slow pipe; and, for the
//! server with `PORTAL_OTLP_ENDPOINT` set, the span exporter beside it.

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

/// What must stay alive for logs (and traces) to be flushed on exit.
pub struct Guards {
    // Field order is drop order: traces flush first, while logging still works.
    #[cfg(feature = "otlp")]
    _traces: Option<crate::telemetry::Exporter>,
    _log: WorkerGuard,
}

/// Installs the global subscriber; keep the guards alive to flush on exit.
/// Only the server (`Sink::Stdout`) exports traces.
pub fn init(settings: &Settings, sink: Sink) -> anyhow::Result<Guards> {
    let traces_url = match sink {
        Sink::Stdout => settings.log.otlp_traces_url(),
        Sink::Stderr => None,
    };
    let mut directives = settings.log.filter.clone();
    if !directives.contains("tokio_postgres") {
        // The driver reports server NOTICEs (e.g. "already exists, skipping") at info.
        directives.push_str(",tokio_postgres=warn");
    }
    if traces_url.is_some() && !directives.contains(portal_telemetry::TARGET) {
        // The portal's spans pass whatever level events are filtered at.
        directives.push_str(",otel=info");
    }
    let filter = EnvFilter::try_new(&directives).map_err(|e| {
        anyhow::anyhow!("PORTAL_LOG: invalid filter {:?}: {e}", settings.log.filter)
    })?;
    let (writer, guard) = match sink {
        Sink::Stdout => tracing_appender::non_blocking(std::io::stdout()),
        Sink::Stderr => tracing_appender::non_blocking(std::io::stderr()),
    };
    let Some(url) = traces_url else {
        // No tracing: the subscriber exactly as before, no span layer at all.
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
        return Ok(Guards {
            #[cfg(feature = "otlp")]
            _traces: None,
            _log: guard,
        });
    };
    traced(settings, filter, writer, guard, &url)
}

/// The subscriber with the OTLP layer: log lines inside a span list its
/// spans, the outermost carrying `trace_id`.
#[cfg(feature = "otlp")]
fn traced(
    settings: &Settings,
    filter: EnvFilter,
    writer: tracing_appender::non_blocking::NonBlocking,
    guard: WorkerGuard,
    url: &str,
) -> anyhow::Result<Guards> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, Registry};

    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = match settings.log.format {
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
        LogFormat::Pretty => fmt.compact().boxed(),
    };
    let (exporter, otel) = crate::telemetry::layer(url)?;
    tracing_subscriber::registry()
        .with(fmt.and_then(otel).with_filter(filter))
        .init();
    portal_telemetry::set_enabled(true);
    tracing::info!(endpoint = url, "exporting traces over OTLP/HTTP");
    Ok(Guards {
        _traces: Some(exporter),
        _log: guard,
    })
}

#[cfg(not(feature = "otlp"))]
fn traced(
    _: &Settings,
    _: EnvFilter,
    _: tracing_appender::non_blocking::NonBlocking,
    _: WorkerGuard,
    _: &str,
) -> anyhow::Result<Guards> {
    anyhow::bail!("PORTAL_OTLP_ENDPOINT: this portal was built without the `otlp` feature")
}
