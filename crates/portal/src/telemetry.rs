//! The OTLP/HTTP span exporter (feature `otlp`): installed when
//! `PORTAL_OTLP_ENDPOINT` is set, it turns the portal's spans (requests, tool
//! and model calls, jobs, database queries) into OpenTelemetry spans and
//! posts them in batches, as protobuf, to `{endpoint}/v1/traces`.
//!
//! Batching runs on the SDK's own thread with a blocking client, so a slow or
//! absent collector never holds a request; spans beyond the queue are dropped.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::registry::LookupSpan;

/// The running exporter; dropping it flushes what is queued and stops it.
pub struct Exporter(SdkTracerProvider);

impl Drop for Exporter {
    fn drop(&mut self) {
        portal_telemetry::set_enabled(false);
        if let Err(e) = self.0.shutdown() {
            eprintln!("portal: flushing traces failed: {e}");
        }
    }
}

/// Builds the exporter for `url` and the tracing layer that feeds it.
pub fn layer<S>(
    url: &str,
) -> anyhow::Result<(
    Exporter,
    tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>,
)>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .map_err(|e| anyhow::anyhow!("PORTAL_OTLP_ENDPOINT: {e}"))?;
    let resource = Resource::builder()
        .with_service_name("portal")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("portal");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false);
    Ok((Exporter(provider), layer))
}
