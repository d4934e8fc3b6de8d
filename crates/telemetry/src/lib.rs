//! Trace context for the portal's spans, shared by every crate that starts a
//! span or makes an outgoing call: whether tracing is on, the request span
//! (its parent taken from an incoming W3C `traceparent`) and the `traceparent`
//! to send on OCI and model calls.
//!
//! Tracing is off unless the binary installs an exporter ([`set_enabled`]);
//! then every helper here is one relaxed atomic load and nothing else, so the
//! request path pays no allocation for tracing it does not do. With the
//! `otel` feature off the helpers are constant no-ops.
//!
//! Spans use the target [`TARGET`] so the log filter can let them through
//! whatever `PORTAL_LOG` says about events.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::instrument::Instrumented;
use tracing::Instrument;

/// The target of the portal's spans (`otel=info` is added to the log filter when tracing is on).
pub const TARGET: &str = "otel";

/// The header carrying the W3C trace context.
pub const TRACEPARENT: &str = "traceparent";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// True once the binary has installed an exporter: only then are spans made.
#[inline]
pub fn enabled() -> bool {
    cfg!(feature = "otel") && ENABLED.load(Ordering::Relaxed)
}

/// Turns span creation on (the binary calls it after installing the exporter).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Runs `fut` inside the current span when tracing is on (a spawned task does
/// not inherit it otherwise); a disabled span costs nothing to poll through.
pub fn in_current_span<F: Future>(fut: F) -> Instrumented<F> {
    if enabled() {
        fut.instrument(tracing::Span::current())
    } else {
        fut.instrument(tracing::Span::none())
    }
}

/// The request span: named after the route template, its parent the incoming
/// `traceparent` when one is valid; `None` when tracing is off.
pub fn request_span(
    method: &'static str,
    route: &str,
    request_id: &str,
    traceparent: Option<&[u8]>,
) -> Option<tracing::Span> {
    if !enabled() {
        return None;
    }
    let span = tracing::info_span!(
        target: "otel",
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        portal.request_id = request_id,
        trace_id = tracing::field::Empty,
    );
    otel::adopt(&span, traceparent);
    Some(span)
}

/// Starts a root span for work that no request is waiting on (a job), with
/// its trace id recorded for the log lines inside it.
pub fn root(span: tracing::Span) -> tracing::Span {
    otel::adopt(&span, None);
    span
}

/// Records the response status on a request span (5xx marks it an error).
pub fn finish_request(span: &tracing::Span, status: u16) {
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// The `traceparent` for an outgoing call made inside the current span, or
/// `None` when tracing is off (no context is invented; see the README).
pub fn traceparent() -> Option<String> {
    if !enabled() {
        return None;
    }
    otel::current()
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    /// Sets the span's parent from `traceparent` (when valid) and records the
    /// span's trace id as a field, so log lines inside it carry it.
    pub(super) fn adopt(span: &tracing::Span, traceparent: Option<&[u8]>) {
        if let Some(parent) = traceparent.and_then(super::parse) {
            let cx = opentelemetry::Context::new().with_remote_span_context(parent);
            // Fails only when the span is disabled (filtered out): nothing to parent then.
            let _ = span.set_parent(cx);
        }
        let id = span.context().span().span_context().trace_id();
        if id != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", tracing::field::display(id));
        }
    }

    pub(super) fn current() -> Option<String> {
        let cx = tracing::Span::current().context();
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| {
            format!(
                "00-{}-{}-{:02x}",
                sc.trace_id(),
                sc.span_id(),
                sc.trace_flags().to_u8()
            )
        })
    }
}

#[cfg(not(feature = "otel"))]
mod otel {
    pub(super) fn adopt(_: &tracing::Span, _: Option<&[u8]>) {}

    pub(super) fn current() -> Option<String> {
        None
    }
}

/// Parses a W3C `traceparent` (version 00 layout; later versions by their
/// first four fields, as the spec asks); invalid ids are refused.
#[cfg(feature = "otel")]
fn parse(v: &[u8]) -> Option<opentelemetry::trace::SpanContext> {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    let s = std::str::from_utf8(v).ok()?.trim();
    let mut parts = s.split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |p: &str, n: usize| {
        p.len() == n && p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    if !hex(version, 2) || version == "ff" || !hex(trace, 32) || !hex(span, 16) || !hex(flags, 2) {
        return None;
    }
    if version == "00" && parts.next().is_some() {
        return None;
    }
    let trace = TraceId::from_hex(trace).ok()?;
    let span = SpanId::from_hex(span).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let sc = SpanContext::new(
        trace,
        span,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    );
    sc.is_valid().then_some(sc)
}

#[cfg(all(test, feature = "otel"))]
mod tests {
    use super::parse;

    #[test]
    fn traceparent_rules() {
        let ok = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let sc = parse(ok).expect("valid");
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(sc.is_sampled());
        for bad in [
            &b"00-00000000000000000000000000000000-00f067aa0ba902b7-01"[..],
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            b"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            b"garbage",
        ] {
            assert!(parse(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse(b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later").is_some());
    }
}
