//! The chat-event listener: one connection per store, outside the pool, that
//! LISTENs to [`CHANNEL`] and wakes the followers of the sessions named in the
//! notifications (sent by any replica's event appends), and wakes the job
//! runner on [`JOBS_CHANNEL`] (any replica's enqueues). It reconnects when the
//! connection drops; until it is back, followers poll.

use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_postgres::{AsyncMessage, Client};

use super::Inner;

/// `application_name` of the listener's connection.
pub(super) const APPLICATION_NAME: &str = "oci-portal-listener";
/// The notification channel; the payload is the session id.
pub(super) const CHANNEL: &str = "portal_chat_events";
/// The job queue's channel; the payload is the job's kind.
pub(super) const JOBS_CHANNEL: &str = "portal_jobs";
/// How often an idle listener checks that its connection still answers.
const PING_EVERY: Duration = Duration::from_secs(30);
/// Longest wait for connecting (and LISTEN) or for a ping.
const ROUND_TRIP_LIMIT: Duration = Duration::from_secs(10);
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs the listener until the store is dropped (`stop`'s sender goes away).
pub(super) async fn run(inner: Weak<Inner>, mut stop: watch::Receiver<()>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some((config, tls)) = inner
            .upgrade()
            .map(|i| (i.listen_config.clone(), i.tls.clone()))
        else {
            return;
        };
        let connected = tokio::select! {
            r = tokio::time::timeout(ROUND_TRIP_LIMIT, connect(&config, tls, inner.clone())) => {
                r.unwrap_or_else(|_| Err("timed out".into()))
            }
            _ = stop.changed() => return,
        };
        match connected {
            Ok((client, mut driver)) => {
                backoff = Duration::from_millis(100);
                set_listening(&inner, true);
                tracing::debug!("chat event listener connected");
                let mut ping = tokio::time::interval(PING_EVERY);
                ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
                ping.tick().await;
                let stopped = loop {
                    tokio::select! {
                        _ = &mut driver => break false,
                        _ = stop.changed() => break true,
                        _ = ping.tick() => {
                            let answered = tokio::time::timeout(ROUND_TRIP_LIMIT, client.simple_query("SELECT 1")).await;
                            if !matches!(answered, Ok(Ok(_))) {
                                break false;
                            }
                        }
                    }
                };
                driver.abort();
                drop(client);
                if stopped {
                    return;
                }
                set_listening(&inner, false);
                tracing::warn!(
                    "chat event listener lost its connection; followers poll until it is back"
                );
            }
            Err(e) => tracing::debug!(error = %e, "chat event listener cannot connect"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Records whether notifications flow, and wakes every follower to re-check
/// (and to switch between waiting for notifications and polling).
fn set_listening(inner: &Weak<Inner>, up: bool) {
    if let Some(inner) = inner.upgrade() {
        inner.listening.store(up, Ordering::Release);
        inner.chat_waiters.wake_all();
        // Jobs may have been enqueued while nobody listened.
        inner.jobs_wake.notify_one();
    }
}

/// Opens the connection, starts the task driving it (which forwards
/// notifications), and LISTENs. The task ends when the connection does.
async fn connect(
    config: &tokio_postgres::Config,
    tls: super::tls::MakeRustls,
    inner: Weak<Inner>,
) -> Result<(Client, JoinHandle<()>), String> {
    let (client, mut connection) = config.connect(tls).await.map_err(|e| e.to_string())?;
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let Some(inner) = inner.upgrade() else { return };
                    if n.channel() == JOBS_CHANNEL {
                        inner.jobs_wake.notify_one();
                    } else {
                        inner.chat_waiters.wake(n.payload());
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "chat event listener connection failed");
                    return;
                }
            }
        }
    });
    if let Err(e) = client
        .batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {JOBS_CHANNEL}"))
        .await
    {
        driver.abort();
        return Err(e.to_string());
    }
    Ok((client, driver))
}
