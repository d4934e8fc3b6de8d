//! Prometheus metrics of one app instance. Routes are labelled by template
//! (`/api/sessions/{id}`), never by raw path, so cardinality stays bounded.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use portal_core::jobs::{JobCount, JobHooks, JobKind, JobState};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The registry and the series the HTTP layer maintains.
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route template and status.
    pub http_requests: IntCounterVec,
    /// Latency to response head by method and route template.
    pub http_duration: HistogramVec,
    /// Requests refused by the rate limiter, by class.
    pub rate_limited: IntCounterVec,
    /// Requests shed by overload protection or timed out, by reason.
    pub shed: IntCounterVec,
    /// Database pool connections by state (`idle`, `in_use`, `max`).
    pub db_pool: IntGaugeVec,
    /// 1 while the database answers, 0 during an outage.
    pub db_up: IntGauge,
    /// Open streaming responses.
    pub streams_open: IntGauge,
    /// Pending, unexpired approvals (refreshed at each scrape).
    pub approvals_pending: IntGauge,
    /// Age of the oldest pending approval, 0 when none (refreshed at each scrape).
    pub approvals_oldest_age: Gauge,
    /// Tool executions by tool and status.
    pub tool_executions: IntCounterVec,
    /// Tool execution time by tool.
    pub tool_duration: HistogramVec,
    /// The job queue's gauges, refreshed by the job runner.
    pub jobs: JobGauges,
    /// Labelled families whose label values are open-ended (tools, routes,
    /// models): rendered as `# HELP`/`# TYPE` lines until their first sample,
    /// so every family is visible from start-up.
    declared: Mutex<Vec<Declared>>,
}

/// A family announced before it has samples.
struct Declared {
    name: String,
    help: String,
    kind: &'static str,
}

fn must<T>(r: prometheus::Result<T>) -> T {
    match r {
        Ok(v) => v,
        // Only reachable with malformed static metric definitions: a bug caught by any test.
        Err(e) => panic!("invalid metric definition: {e}"),
    }
}

impl Metrics {
    /// Creates and registers every series.
    pub fn new() -> Self {
        let registry = Registry::new();
        let http_requests = must(IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route template and status.",
            ),
            &["method", "route", "status"],
        ));
        let http_duration = must(HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to response head by route template.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["method", "route"],
        ));
        let rate_limited = must(IntCounterVec::new(
            Opts::new("rate_limited_total", "Requests refused with 429, by class."),
            &["class"],
        ));
        let shed = must(IntCounterVec::new(
            Opts::new(
                "requests_shed_total",
                "Requests answered 503 by overload protection, by reason.",
            ),
            &["reason"],
        ));
        let db_pool = must(IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state."),
            &["state"],
        ));
        let db_up = must(IntGauge::new(
            "db_up",
            "1 while the database answers its checks.",
        ));
        let streams_open = must(IntGauge::new(
            "http_streams_open",
            "Open streaming (SSE) responses.",
        ));
        let approvals_pending = must(IntGauge::new(
            "approvals_pending",
            "Pending, unexpired tool approvals.",
        ));
        let approvals_oldest_age = must(Gauge::new(
            "approvals_oldest_pending_age_seconds",
            "How long the oldest pending, unexpired approval has waited (0 when none).",
        ));
        let tool_executions = must(IntCounterVec::new(
            Opts::new(
                "tool_executions_total",
                "Tool executions through the gateway, by tool and status.",
            ),
            &["tool", "status"],
        ));
        let tool_duration = must(HistogramVec::new(
            HistogramOpts::new("tool_duration_seconds", "Tool execution time, by tool.").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0,
                ],
            ),
            &["tool"],
        ));
        let jobs = JobGauges::new();
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(rate_limited.clone()),
            Box::new(shed.clone()),
            Box::new(db_pool.clone()),
            Box::new(db_up.clone()),
            Box::new(streams_open.clone()),
            Box::new(approvals_pending.clone()),
            Box::new(approvals_oldest_age.clone()),
            Box::new(tool_executions.clone()),
            Box::new(tool_duration.clone()),
            Box::new(jobs.jobs.clone()),
            Box::new(jobs.oldest_runnable.clone()),
        ] {
            must(registry.register(c));
        }
        #[cfg(target_os = "linux")]
        must(registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        )));
        let info = must(IntGaugeVec::new(
            Opts::new("portal_build_info", "Build information."),
            &["version"],
        ));
        info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        // Closed label sets start at zero, so a dashboard sees them before the first event.
        for class in ["api", "chat"] {
            rate_limited.with_label_values(&[class]);
        }
        for reason in [
            "overload",
            "timeout",
            "connections",
            "streams",
            "stream_cap",
        ] {
            shed.with_label_values(&[reason]);
        }
        for state in ["idle", "in_use", "max"] {
            db_pool.with_label_values(&[state]);
        }
        must(registry.register(Box::new(info)));
        must(registry.register(Box::new(HashingCollector::new())));
        let m = Self {
            registry,
            http_requests,
            http_duration,
            rate_limited,
            shed,
            db_pool,
            db_up,
            streams_open,
            approvals_pending,
            approvals_oldest_age,
            tool_executions,
            tool_duration,
            jobs,
            declared: Mutex::new(Vec::new()),
        };
        for (c, kind) in [
            (
                &m.http_requests as &dyn prometheus::core::Collector,
                "counter",
            ),
            (&m.http_duration, "histogram"),
            (&m.tool_executions, "counter"),
            (&m.tool_duration, "histogram"),
        ] {
            m.declare(c, kind);
        }
        m
    }

    /// Announces a labelled family so it is rendered (without samples) until
    /// its first series exists. `kind` is the Prometheus type name.
    pub fn declare(&self, c: &dyn prometheus::core::Collector, kind: &'static str) {
        let mut declared = match self.declared.lock() {
            Ok(d) => d,
            Err(poisoned) => poisoned.into_inner(),
        };
        for d in c.desc() {
            declared.push(Declared {
                name: d.fq_name.clone(),
                help: d.help.clone(),
                kind,
            });
        }
    }

    /// Registers a collector owned by another feature (tools, chat, approvals).
    pub fn register(&self, c: Box<dyn prometheus::core::Collector>) -> prometheus::Result<()> {
        self.registry.register(c)
    }

    /// Renders the Prometheus text exposition.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let families = self.registry.gather();
        let mut buf = Vec::with_capacity(16 * 1024);
        TextEncoder::new().encode(&families, &mut buf)?;
        let mut out = String::from_utf8(buf).map_err(|e| prometheus::Error::Msg(e.to_string()))?;
        let declared = match self.declared.lock() {
            Ok(d) => d,
            Err(poisoned) => poisoned.into_inner(),
        };
        for d in declared.iter() {
            if !families.iter().any(|f| f.name() == d.name) {
                let help = d.help.replace('\\', "\\\\").replace('\n', "\\n");
                let _ = write!(
                    out,
                    "# HELP {} {}\n# TYPE {} {}\n",
                    d.name, help, d.name, d.kind
                );
            }
        }
        Ok(out)
    }
}

impl portal_core::service::tools::GatewayHooks for Metrics {
    fn executed(&self, tool: &str, status: &str, seconds: f64) {
        self.tool_executions
            .with_label_values(&[tool, status])
            .inc();
        self.tool_duration
            .with_label_values(&[tool])
            .observe(seconds);
    }
}

/// Jobs by kind and state, and the age of the oldest runnable job: written by
/// the job runner (every few seconds and after each drain), zero from start-up.
#[derive(Clone)]
pub struct JobGauges {
    jobs: IntGaugeVec,
    oldest_runnable: Gauge,
}

impl JobGauges {
    fn new() -> Self {
        let jobs = must(IntGaugeVec::new(
            Opts::new("jobs", "Background jobs by kind and state."),
            &["kind", "state"],
        ));
        let g = Self {
            jobs,
            oldest_runnable: must(Gauge::new(
                "jobs_oldest_runnable_age_seconds",
                "How long the oldest job that could run now has waited.",
            )),
        };
        g.observed(&[], Duration::ZERO);
        g
    }
}

impl JobHooks for JobGauges {
    fn observed(&self, counts: &[JobCount], oldest_runnable: Duration) {
        // Every pair is written, so a pair that emptied reads 0, not its last value.
        for kind in JobKind::ALL {
            for state in JobState::ALL {
                let n = counts
                    .iter()
                    .filter(|c| c.kind == *kind && c.state == *state)
                    .map(|c| c.count)
                    .sum();
                self.jobs
                    .with_label_values(&[kind.as_str(), state.as_str()])
                    .set(n);
            }
        }
        self.oldest_runnable.set(oldest_runnable.as_secs_f64());
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The password-hashing gate's counters (`portal_core::hashing`), read at each scrape.
struct HashingCollector {
    slots: IntGauge,
    in_flight: IntGauge,
    peak: IntGauge,
    rejected: prometheus::IntCounter,
}

impl HashingCollector {
    fn new() -> Self {
        Self {
            slots: must(IntGauge::new(
                "password_hash_slots",
                "Password hashes allowed to run at once.",
            )),
            in_flight: must(IntGauge::new(
                "password_hash_inflight",
                "Password hashes running now.",
            )),
            peak: must(IntGauge::new(
                "password_hash_inflight_max",
                "The most password hashes that ever ran at once.",
            )),
            rejected: must(prometheus::IntCounter::new(
                "password_hash_rejected_total",
                "Sign-ins and password changes refused because hashing was saturated.",
            )),
        }
    }
}

impl prometheus::core::Collector for HashingCollector {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        let mut d = self.slots.desc();
        d.extend(self.in_flight.desc());
        d.extend(self.peak.desc());
        d.extend(self.rejected.desc());
        d
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        let s = portal_core::hashing::stats();
        self.slots.set(s.slots as i64);
        self.in_flight.set(s.in_flight as i64);
        self.peak.set(s.peak as i64);
        self.rejected
            .inc_by(s.rejected.saturating_sub(self.rejected.get()));
        let mut out = self.slots.collect();
        out.extend(self.in_flight.collect());
        out.extend(self.peak.collect());
        out.extend(self.rejected.collect());
        out
    }
}
