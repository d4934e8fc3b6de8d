//! Webhook delivery on this replica: the guarded client, the deliverer the
//! `webhook.deliver` jobs run, the pump that feeds them, and their metrics.

use std::sync::Arc;
use std::time::Duration;

use portal_core::webhooks::delivery::{Deliverer, DeliveryHooks};
use portal_webhooks::{GuardedClient, SystemLookup};
use prometheus::{Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts};

use crate::{App, AppError};

/// Deliveries by outcome, their latency, and the queue.
#[derive(Clone)]
pub struct WebhookMetrics {
    attempts: IntCounterVec,
    latency: HistogramVec,
    pending: IntGauge,
    oldest: Gauge,
}

/// Outcomes an attempt can have (series exist from start-up).
const OUTCOMES: [&str; 4] = ["delivered", "retry", "failed", "disabled"];

impl WebhookMetrics {
    fn new(app: &App) -> prometheus::Result<Self> {
        let attempts = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook delivery attempts by outcome (delivered, retry, failed, disabled).",
            ),
            &["outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "webhook_delivery_duration_seconds",
                "Time from sending a webhook to its response (or failure), by outcome.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
            ]),
            &["outcome"],
        )?;
        let pending = IntGauge::new(
            "webhook_deliveries_pending",
            "Webhook deliveries queued and not delivered yet.",
        )?;
        let oldest = Gauge::new(
            "webhook_oldest_pending_age_seconds",
            "Age of the oldest undelivered webhook delivery.",
        )?;
        for o in OUTCOMES {
            attempts.with_label_values(&[o]);
            latency.with_label_values(&[o]);
        }
        app.metrics.register(Box::new(attempts.clone()))?;
        app.metrics.register(Box::new(latency.clone()))?;
        app.metrics.register(Box::new(pending.clone()))?;
        app.metrics.register(Box::new(oldest.clone()))?;
        Ok(Self {
            attempts,
            latency,
            pending,
            oldest,
        })
    }
}

impl DeliveryHooks for WebhookMetrics {
    fn attempted(&self, outcome: &str, latency: Duration) {
        self.attempts.with_label_values(&[outcome]).inc();
        self.latency
            .with_label_values(&[outcome])
            .observe(latency.as_secs_f64());
    }

    fn queue(&self, pending: i64, oldest: Duration) {
        self.pending.set(pending);
        self.oldest.set(oldest.as_secs_f64());
    }
}

/// The deliverer of this replica, over the guarded client.
pub(crate) fn deliverer(app: &App) -> Result<Arc<Deliverer>, AppError> {
    let s = &app.settings;
    let client = GuardedClient::new(
        s.outbound.policy(),
        s.outbound.timeout,
        Arc::new(SystemLookup),
    )
    .map_err(AppError::Webhooks)?;
    let metrics = WebhookMetrics::new(app).map_err(|e| AppError::Webhooks(e.to_string()))?;
    Ok(Arc::new(
        Deliverer::new(
            app.store.clone(),
            app.keys.clone(),
            Arc::new(client),
            s.webhooks.retry_schedule.clone(),
        )
        .hooks(Arc::new(metrics)),
    ))
}

/// Runs the pump every `webhooks.poll_interval` until shutdown.
pub(crate) fn spawn_pump(app: App, deliverer: Arc<Deliverer>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliverer.tick(portal_core::identity::now_ms()).await {
                tracing::debug!(error = %e, "webhook pump skipped a pass");
            }
            tokio::select! {
                _ = app.shutdown.cancelled() => return,
                _ = tokio::time::sleep(app.settings.webhooks.poll_interval) => {}
            }
        }
    });
}
