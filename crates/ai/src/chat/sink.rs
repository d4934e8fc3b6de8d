//! Where a turn's stream parts go: to the live client (if one is attached) at
//! once, and to the database in small batches so that any replica can replay
//! and follow them (`GET /api/chat/{sessionId}/stream`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_core::identity::now_ms;
use portal_core::model::ChatEvent;
use portal_core::store::StoreResult;
use portal_core::{Store, StoreError};
use serde_json::Value;
use tokio::sync::mpsc;

use super::durable;

/// One SSE event: its id and JSON data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Event id (increasing within the session).
    pub id: i64,
    /// The part as JSON text.
    pub data: String,
}

/// Longest a part waits before it is written to the database.
const FLUSH_AFTER: Duration = Duration::from_millis(50);
/// Most parts written in one batch.
const FLUSH_BATCH: usize = 64;
/// After a write failed because the database is away, parts stay buffered
/// (the live client still gets them at once) and the next try waits this long.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A turn's event writer. Only the turn's single runner (it holds the lease)
/// writes a session's events, so it can number them itself.
pub struct Sink {
    store: Arc<dyn Store>,
    session_id: portal_core::ids::SessionId,
    turn_id: String,
    next: i64,
    buffer: Vec<ChatEvent>,
    oldest: Option<Instant>,
    live: Option<mpsc::Sender<Frame>>,
    /// Set while the database is away: no write before then.
    retry_at: Option<Instant>,
    /// A write failed in a way that may still have committed it.
    uncertain: bool,
}

impl Sink {
    /// A sink numbering after the session's last stored event.
    pub async fn open(
        store: Arc<dyn Store>,
        session_id: &portal_core::ids::SessionId,
        turn_id: &str,
        live: Option<mpsc::Sender<Frame>>,
    ) -> StoreResult<Self> {
        let last = store.last_chat_event(session_id).await?;
        Ok(Self {
            store,
            session_id: session_id.clone(),
            turn_id: turn_id.to_string(),
            next: last + 1,
            buffer: Vec::new(),
            oldest: None,
            live,
            retry_at: None,
            uncertain: false,
        })
    }

    /// Emits one part: to the client now, to the database soon.
    pub async fn emit(&mut self, part: Value) -> StoreResult<()> {
        let data = part.to_string();
        let id = self.next;
        self.next += 1;
        if let Some(tx) = &self.live {
            if tx
                .send(Frame {
                    id,
                    data: data.clone(),
                })
                .await
                .is_err()
            {
                // The client went away; the turn goes on and is stored.
                self.live = None;
            }
        }
        self.buffer.push(ChatEvent {
            session_id: self.session_id.clone(),
            seq: id,
            turn_id: self.turn_id.clone(),
            body: data,
            created_at: now_ms(),
        });
        let oldest = *self.oldest.get_or_insert_with(Instant::now);
        let due = self.buffer.len() >= FLUSH_BATCH || oldest.elapsed() >= FLUSH_AFTER;
        if due && self.retry_at.is_none_or(|t| Instant::now() >= t) {
            match self.write().await {
                Err(StoreError::Unavailable) => {
                    // Keep streaming; the parts are written once the database is back.
                    self.retry_at = Some(Instant::now() + RETRY_AFTER);
                }
                other => other?,
            }
        }
        Ok(())
    }

    /// One attempt at writing what is buffered. After an attempt whose outcome
    /// is unknown (the connection broke), the parts already stored are dropped
    /// first, so nothing is written twice (only this runner writes the session).
    async fn write(&mut self) -> StoreResult<()> {
        if self.uncertain && !self.buffer.is_empty() {
            let last = self.store.last_chat_event(&self.session_id).await?;
            self.buffer.retain(|e| e.seq > last);
            self.uncertain = false;
        }
        if !self.buffer.is_empty() {
            if let Err(e) = self.store.append_chat_events(&self.buffer).await {
                self.uncertain |= matches!(e, StoreError::Unavailable);
                return Err(e);
            }
        }
        self.buffer.clear();
        self.oldest = None;
        self.retry_at = None;
        Ok(())
    }

    /// Writes what is buffered, retrying for a while when the database is away.
    pub async fn flush(&mut self) -> StoreResult<()> {
        let mut backoff = durable::Backoff::new(durable::RETRY_FOR);
        loop {
            match self.write().await {
                Err(StoreError::Unavailable) if backoff.wait("chat events").await => {}
                other => return other,
            }
        }
    }

    /// Stops sending to the live client (the turn has told it how it ended),
    /// so it is not kept waiting while the runner tidies up.
    pub fn detach(&mut self) {
        self.live = None;
    }
}
