//! Where a turn's stream parts go: to the live client (if one is attached) at
//! once, and to the database in small batches so that any replica can replay
//! and follow them (`GET /api/chat/{sessionId}/stream`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_core::identity::now_ms;
use portal_core::model::ChatEvent;
use portal_core::store::StoreResult;
use portal_core::Store;
use serde_json::Value;
use tokio::sync::mpsc;

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

/// A turn's event writer. Only the turn's single runner (it holds the lease)
/// writes a session's events, so it can number them itself.
pub struct Sink {
    store: Arc<dyn Store>,
    session_id: String,
    turn_id: String,
    next: i64,
    buffer: Vec<ChatEvent>,
    oldest: Option<Instant>,
    live: Option<mpsc::Sender<Frame>>,
    gone: bool,
}

impl Sink {
    /// A sink numbering after the session's last stored event.
    pub async fn open(
        store: Arc<dyn Store>,
        session_id: &str,
        turn_id: &str,
        live: Option<mpsc::Sender<Frame>>,
    ) -> StoreResult<Self> {
        let last = store.last_chat_event(session_id).await?;
        Ok(Self {
            store,
            session_id: session_id.to_string(),
            turn_id: turn_id.to_string(),
            next: last + 1,
            buffer: Vec::new(),
            oldest: None,
            live,
            gone: false,
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
                self.live = None;
                self.gone = true;
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
        if self.buffer.len() >= FLUSH_BATCH || oldest.elapsed() >= FLUSH_AFTER {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is buffered.
    pub async fn flush(&mut self) -> StoreResult<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.store.append_chat_events(&self.buffer).await?;
        self.buffer.clear();
        self.oldest = None;
        Ok(())
    }

    /// Whether a live client was attached and has gone away.
    pub fn client_gone(&self) -> bool {
        self.gone || self.live.as_ref().is_some_and(|tx| tx.is_closed())
    }

    /// Resolves when the attached client goes away; never, for a turn without one.
    pub async fn closed(&self) {
        match &self.live {
            Some(tx) => tx.closed().await,
            None if self.gone => {}
            None => std::future::pending().await,
        }
    }
}
