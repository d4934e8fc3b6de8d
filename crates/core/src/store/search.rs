//! The search indexes over chat messages: full-text (kept by the database in
//! the message insert's own transaction; migration 0016) and the stored
//! vectors (written by the indexing job; migration 0020).

use super::StoreResult;
use crate::search::{IndexSource, SearchHit, SearchQuery, StoredVector};
use async_trait::async_trait;

/// Full-text search and the stored vectors over chat messages.
#[async_trait]
pub trait SearchRepo: Send + Sync {
    /// The best-ranked messages matching every word of `q`, only from the
    /// principal's own sessions in the organisation (checked against the
    /// sessions themselves, inside the query).
    async fn search_messages(
        &self,
        org_id: &crate::ids::OrgId,
        principal_id: &str,
        q: &SearchQuery,
    ) -> StoreResult<Vec<SearchHit>>;

    /// Those of `message_ids` that are the principal's own, in the
    /// organisation and within `q`'s filters (`q.terms` only mark the
    /// snippets), as hits with score 0: a vector hit made whole, checked
    /// against the sessions inside the query.
    async fn search_hits_by_id(
        &self,
        org_id: &crate::ids::OrgId,
        principal_id: &str,
        q: &SearchQuery,
        message_ids: &[String],
    ) -> StoreResult<Vec<SearchHit>>;

    /// The indexable (not summary) messages among `message_ids` in the
    /// organisation.
    async fn index_sources(
        &self,
        org_id: &crate::ids::OrgId,
        message_ids: &[String],
    ) -> StoreResult<Vec<IndexSource>>;

    /// Indexable messages of every organisation with no vector of `model`,
    /// in index order after `after` (an [`IndexSource::index_id`]), at most
    /// `limit`: the backfill's pages.
    async fn unembedded(
        &self,
        model: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<IndexSource>>;

    /// How many indexable messages have no vector of `model`.
    async fn count_unembedded(&self, model: &str) -> StoreResult<i64>;

    /// Replaces the message's vectors (of every model) by `vectors`, one per
    /// chunk, under the organisation's next sequence numbers.
    async fn put_embeddings(
        &self,
        src: &IndexSource,
        model: &str,
        vectors: &[Vec<f32>],
    ) -> StoreResult<()>;

    /// The organisation's vectors of `model` with `seq > after`, in `seq`
    /// order, at most `limit`.
    async fn embeddings_since(
        &self,
        org_id: &crate::ids::OrgId,
        model: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredVector>>;
}
