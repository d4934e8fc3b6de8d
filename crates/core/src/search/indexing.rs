//! Indexing off the request path: when messages are stored, their store
//! write enqueues one `search.index` job in the same transaction; the job
//! embeds their chunks and stores the vectors. A backfill job (and
//! `portal search reindex`) embeds every message that has no vector of the
//! current model — which is all of them after a model change.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::jobs::{Job, JobError, JobHandler, JobKind, NewJob};
use crate::store::{Store, StoreError};

use super::embed::{chunks, EmbedError, Embedder, Purpose};
use super::engine::SearchEngine;
use super::IndexSource;

/// Messages embedded per backfill page.
pub const BACKFILL_PAGE: i64 = 32;

/// What a `search.index` job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "do")]
pub enum IndexTask {
    /// Embed these messages of the organisation.
    Messages {
        /// The organisation.
        org_id: crate::ids::OrgId,
        /// The stored messages.
        message_ids: Vec<String>,
    },
    /// Embed every message without a vector of the current model.
    Backfill,
}

/// The job that indexes `message_ids`, just stored in `org_id`.
pub fn job(org_id: &crate::ids::OrgId, message_ids: Vec<String>, now: i64) -> NewJob {
    let task = IndexTask::Messages {
        org_id: org_id.clone(),
        message_ids,
    };
    NewJob::new(JobKind::SearchIndex, task.payload(), now)
}

/// The backfill job.
pub fn backfill_job(now: i64) -> NewJob {
    NewJob::new(JobKind::SearchIndex, IndexTask::Backfill.payload(), now)
}

impl IndexTask {
    fn payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Why indexing failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The embedder failed.
    #[error("{0}")]
    Embed(#[from] EmbedError),
}

/// Embeds one message's chunks and stores them (a message without words
/// stores none).
pub async fn embed_message(
    store: &dyn Store,
    embedder: &dyn Embedder,
    src: &IndexSource,
) -> Result<(), IndexError> {
    let parts = chunks(&src.content);
    let vectors = if parts.is_empty() {
        Vec::new()
    } else {
        embedder.embed(&parts, Purpose::Document).await?
    };
    store
        .put_embeddings(src, embedder.model_id(), &vectors)
        .await?;
    Ok(())
}

/// Embeds every message without a vector of the embedder's model;
/// `progress(done, total)` after each page. The number embedded.
pub async fn backfill(
    store: &dyn Store,
    embedder: &dyn Embedder,
    mut progress: impl FnMut(i64, i64) + Send,
) -> Result<i64, IndexError> {
    let model = embedder.model_id();
    let total = store.count_unembedded(model).await?;
    let (mut after, mut done) = (0, 0);
    loop {
        let page = store.unembedded(model, after, BACKFILL_PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(done);
        };
        after = last.index_id;
        for src in &page {
            embed_message(store, embedder, src).await?;
            done += 1;
        }
        progress(done, total.max(done));
    }
}

/// The handler of [`JobKind::SearchIndex`].
pub struct IndexHandler {
    store: Arc<dyn Store>,
    engine: Arc<SearchEngine>,
}

impl IndexHandler {
    /// Indexes into `store` with `engine`'s embedder.
    pub fn new(store: Arc<dyn Store>, engine: Arc<SearchEngine>) -> Self {
        Self { store, engine }
    }
}

fn retry(e: IndexError) -> JobError {
    match e {
        IndexError::Embed(EmbedError::Invalid(m)) => JobError::Permanent(m),
        e => JobError::Retry(e.to_string()),
    }
}

#[async_trait]
impl JobHandler for IndexHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        // Without an embedder there is nothing to do; the backfill catches
        // up once one is configured.
        let Some(embedder) = self.engine.embedder() else {
            return Ok(());
        };
        let task: IndexTask = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        match task {
            IndexTask::Messages {
                org_id,
                message_ids,
            } => {
                let sources = self
                    .store
                    .index_sources(&org_id, &message_ids)
                    .await
                    .map_err(|e| JobError::Retry(e.to_string()))?;
                for src in &sources {
                    embed_message(self.store.as_ref(), embedder.as_ref(), src)
                        .await
                        .map_err(retry)?;
                }
            }
            IndexTask::Backfill => {
                backfill(self.store.as_ref(), embedder.as_ref(), |_, _| {})
                    .await
                    .map_err(retry)?;
            }
        }
        Ok(())
    }
}
