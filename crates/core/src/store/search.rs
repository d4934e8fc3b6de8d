//! The full-text index over chat messages (kept by the database in the
//! message insert's own transaction; see migration 0016).

use super::StoreResult;
use crate::search::{SearchHit, SearchQuery};
use async_trait::async_trait;

/// Full-text search over chat messages.
#[async_trait]
pub trait SearchRepo: Send + Sync {
    /// The best-ranked messages matching every word of `q`, only from the
    /// principal's own sessions in the organisation (checked against the
    /// sessions themselves, inside the query).
    async fn search_messages(
        &self,
        org_id: &str,
        principal_id: &str,
        q: &SearchQuery,
    ) -> StoreResult<Vec<SearchHit>>;
}
