//! Embedders for search (the port is `portal_core::search::embed::Embedder`):
//! the local BERT model (feature `local-embedder`), any OpenAI-compatible
//! `/v1/embeddings` server, and OCI Generative AI. [`from_settings`] picks
//! one from `PORTAL_EMBEDDER`.

#[cfg(feature = "local-embedder")]
pub mod local;
pub mod openai;

use std::sync::Arc;

use portal_core::config::{EmbedderKind, SearchSettings};
use portal_core::search::embed::Embedder;

/// Why the configured embedder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EmbedSetupError {
    /// `PORTAL_EMBEDDER=local` in a build without the local model.
    #[error("PORTAL_EMBEDDER=local: this build has no local embedder (build with --features local-embedder)")]
    NoLocal,
    /// The embedder is not available in this build yet.
    #[error("PORTAL_EMBEDDER={0} is not supported by this build")]
    Unsupported(&'static str),
    /// Loading or reaching it failed.
    #[error("{0}")]
    Failed(String),
}

/// The configured embedder (`None` for `PORTAL_EMBEDDER=none`).
pub async fn from_settings(
    s: &SearchSettings,
) -> Result<Option<Arc<dyn Embedder>>, EmbedSetupError> {
    match s.embedder {
        EmbedderKind::None => Ok(None),
        EmbedderKind::Local => local_from(s).await,
        EmbedderKind::OpenAi => {
            let (Some(url), Some(model)) = (s.base_url.as_deref(), s.model.as_deref()) else {
                return Err(EmbedSetupError::Failed(
                    "PORTAL_EMBEDDER_BASE_URL and PORTAL_EMBEDDER_MODEL are required".into(),
                ));
            };
            let e = openai::OpenAiEmbedder::connect(url, s.api_key.clone(), model, s.timeout)
                .await
                .map_err(|e| EmbedSetupError::Failed(format!("embedder {url}: {e}")))?;
            Ok(Some(Arc::new(e)))
        }
        EmbedderKind::Oci => Err(EmbedSetupError::Unsupported("oci")),
    }
}

#[cfg(feature = "local-embedder")]
async fn local_from(s: &SearchSettings) -> Result<Option<Arc<dyn Embedder>>, EmbedSetupError> {
    let dir = s
        .model_dir
        .clone()
        .ok_or_else(|| EmbedSetupError::Failed("PORTAL_EMBEDDER_MODEL_DIR is required".into()))?;
    let e = tokio::task::spawn_blocking(move || local::LocalEmbedder::load(&dir))
        .await
        .map_err(|e| EmbedSetupError::Failed(e.to_string()))?
        .map_err(|e| EmbedSetupError::Failed(e.to_string()))?;
    Ok(Some(Arc::new(e)))
}

#[cfg(not(feature = "local-embedder"))]
async fn local_from(_: &SearchSettings) -> Result<Option<Arc<dyn Embedder>>, EmbedSetupError> {
    Err(EmbedSetupError::NoLocal)
}
