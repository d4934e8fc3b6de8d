//! The background workers every replica runs while it serves.

use std::sync::Arc;
use std::time::Duration;

use crate::{App, AppError, TOOL_TIMEOUT};

/// Jobs one replica runs at once.
const JOB_WORKERS: usize = 8;

pub(crate) fn spawn(app: &App) -> Result<(), AppError> {
    spawn_key_usage_writer(app.clone());
    spawn_execution_sweeper(app.clone());
    let chat = crate::chat::start(app).map_err(AppError::Chat)?;
    let deliverer = crate::webhooks::deliverer(app)?;
    crate::webhooks::spawn_pump(app.clone(), deliverer.clone());
    if app.settings.jobs.enabled {
        spawn_job_runner(app.clone(), &chat, deliverer);
    } else {
        tracing::info!(
            "this replica runs no jobs (PORTAL_JOBS_ENABLED=false); others run what it queues"
        );
    }
    app.spawn_stdio_servers();
    Ok(())
}

/// Finishes tool executions whose outcome was lost (still `running` well past
/// the tool deadline), at start-up and every minute (see
/// `portal_core::service::executions`).
fn spawn_execution_sweeper(app: App) {
    let grace = TOOL_TIMEOUT.as_millis() as i64 + 60_000;
    tokio::spawn(async move {
        loop {
            let ctx = app.ctx(None, None);
            match portal_core::service::executions::finish_stale(&ctx, grace).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    finished = n,
                    "recorded lost tool execution outcomes as unknown"
                ),
                Err(e) => tracing::debug!(error = %e, "execution sweep skipped"),
            }
            tokio::select! {
                _ = app.shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
        }
    });
}

/// Runs background jobs (`portal_core::jobs`) until shutdown and keeps the
/// queue's gauges fresh: chat turns to resume or take over, webhook delivery
/// attempts, and `noop`. Workflows and indexing become kinds as they move on.
fn spawn_job_runner(
    app: App,
    chat: &Arc<portal_ai::chat::ChatEngine>,
    webhooks: Arc<portal_core::webhooks::delivery::Deliverer>,
) {
    use portal_core::jobs::{JobKind, JobRunner, NoopHandler, RunnerConfig};
    let owner = format!(
        "replica-{}",
        hex::encode(portal_core::crypto::random_bytes::<8>())
    );
    let config = RunnerConfig {
        poll_interval: app.settings.jobs.poll_interval,
        // A resumed chat turn holds a worker for as long as it streams.
        concurrency: JOB_WORKERS,
        ..RunnerConfig::default()
    };
    let runner = JobRunner::new(app.store.clone(), owner, config)
        .handle(JobKind::Noop, Arc::new(NoopHandler))
        .handle(JobKind::ChatTurn, chat.turn_job_handler())
        .handle(
            JobKind::WebhookDeliver,
            Arc::new(portal_core::webhooks::delivery::DeliverHandler(webhooks)),
        )
        .handle(JobKind::WorkflowStep, workflow_executor(&app))
        .handle(
            JobKind::SearchIndex,
            Arc::new(portal_core::search::indexing::IndexHandler::new(
                app.store.clone(),
                app.search.clone(),
            )),
        )
        .handle(JobKind::AdvisorRun, advisor_runner(&app))
        .handle(
            JobKind::AdvisorTick,
            Arc::new(portal_core::advisor::tick::TickHandler::new(
                app.contexts.clone(),
            )),
        )
        .hooks(Arc::new(app.metrics.jobs.clone()));
    let runner = Arc::new(runner);
    if app.search.embedder().is_some() {
        // Messages stored before the embedder (or under another model) get
        // their vectors in the background.
        let job = portal_core::search::indexing::backfill_job(portal_core::identity::now_ms());
        let (r, a) = (runner.clone(), app.clone());
        tokio::spawn(async move {
            if let Err(e) = r.enqueue(&job).await {
                tracing::warn!(error = %e, "search backfill not queued");
            }
            drop(a);
        });
    }
    tokio::spawn(async move { runner.run(app.shutdown.cancelled()).await });
}

/// The handler of workflow steps: tools through the gateway of the connected cloud.
fn workflow_executor(app: &App) -> Arc<portal_core::workflows::Executor> {
    Arc::new(portal_core::workflows::Executor::new(
        app.contexts.clone(),
        app.cloud.get().map(|c| c.tools.clone()),
        crate::chat::tool_hooks(app),
        TOOL_TIMEOUT,
    ))
}

/// The handler of advisor runs: reads through the gateway of the connected
/// cloud, savings from the shipped price list.
fn advisor_runner(app: &App) -> Arc<portal_core::advisor::RunHandler> {
    Arc::new(portal_core::advisor::RunHandler::new(
        app.contexts.clone(),
        app.cloud.get().map(|c| c.tools.clone()),
        crate::chat::tool_hooks(app),
        Arc::new(portal_tools::PriceList),
        TOOL_TIMEOUT,
    ))
}

/// Writes API keys' `last_used_at` in batches every few seconds, and once more at shutdown.
pub(crate) fn spawn_key_usage_writer(app: App) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = app.shutdown.cancelled() => {
                    app.key_usage.flush(app.store.as_ref()).await;
                    return;
                }
                _ = tokio::time::sleep(Duration::from_secs(2)) => {
                    app.key_usage.flush(app.store.as_ref()).await;
                }
            }
        }
    });
}
