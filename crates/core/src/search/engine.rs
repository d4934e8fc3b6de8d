//! The process's search machinery: the configured embedder (if any) and the
//! in-memory vector index. One per process, built by the composition root;
//! the services take it by reference.

use std::sync::{Arc, OnceLock};

use super::embed::Embedder;
use super::vector::VectorIndex;

/// The embedder and the vector index of this process.
#[derive(Default)]
pub struct SearchEngine {
    embedder: OnceLock<Arc<dyn Embedder>>,
    index: VectorIndex,
}

impl SearchEngine {
    /// No embedder: full-text search only.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `embedder`: hybrid search and indexing.
    pub fn with_embedder(embedder: Arc<dyn Embedder>) -> Self {
        let e = Self::default();
        let _ = e.embedder.set(embedder);
        e
    }

    /// Sets the embedder once (before the first search); false when one was set.
    pub fn set_embedder(&self, embedder: Arc<dyn Embedder>) -> bool {
        self.embedder.set(embedder).is_ok()
    }

    /// The embedder, when one is configured.
    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.embedder.get()
    }

    /// The in-memory vector index.
    pub fn index(&self) -> &VectorIndex {
        &self.index
    }
}
