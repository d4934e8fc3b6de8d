//! Search: which embedder makes the vectors (none: full-text only).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fields;
use super::names::Name;
use crate::secret::Secret;

/// Which embedder turns messages and queries into vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EmbedderKind {
    /// None: search is full-text only (`mode: "fulltext"`).
    #[default]
    #[serde(rename = "none")]
    None,
    /// The local BERT model on the CPU (a build with `local-embedder`).
    #[serde(rename = "local")]
    Local,
    /// Any OpenAI-compatible `/v1/embeddings` (OpenAI, Ollama, vLLM).
    #[serde(rename = "openai")]
    OpenAi,
    /// OCI Generative AI embeddings (not in this build yet: start-up refuses it).
    #[serde(rename = "oci")]
    Oci,
}

impl EmbedderKind {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EmbedderKind::None => "none",
            EmbedderKind::Local => "local",
            EmbedderKind::OpenAi => "openai",
            EmbedderKind::Oci => "oci",
        }
    }
}

/// Search settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchSettings {
    /// The embedder.
    pub embedder: EmbedderKind,
    /// The local model's folder (`model.safetensors`, `tokenizer.json`,
    /// `config.json`, or a Hugging Face cache folder holding them).
    pub model_dir: Option<PathBuf>,
    /// The embeddings server's base URL, up to `/v1` (openai).
    #[serde(deserialize_with = "fields::http_url")]
    pub base_url: Option<String>,
    /// Its key (openai; optional for Ollama and vLLM).
    #[serde(deserialize_with = "fields::trimmed_secret")]
    pub api_key: Option<Secret<String>>,
    /// The model (openai: required).
    #[serde(deserialize_with = "fields::trimmed")]
    pub model: Option<String>,
    /// Longest wait for a remote embedder's answer.
    #[serde(rename = "timeout_secs", with = "fields::secs")]
    pub timeout: Duration,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            embedder: EmbedderKind::None,
            model_dir: None,
            base_url: None,
            api_key: None,
            model: None,
            timeout: Duration::from_secs(30),
        }
    }
}

impl SearchSettings {
    /// The rules between the settings: `(path, message)` of the first broken one.
    pub(super) fn problem(&self) -> Option<(&'static str, String)> {
        match self.embedder {
            EmbedderKind::Local if self.model_dir.is_none() => Some((
                "search.model_dir",
                "is required with PORTAL_EMBEDDER=local".into(),
            )),
            EmbedderKind::OpenAi if self.base_url.is_none() => Some((
                "search.base_url",
                "is required with PORTAL_EMBEDDER=openai".into(),
            )),
            EmbedderKind::OpenAi if self.model.is_none() => Some((
                "search.model",
                "is required with PORTAL_EMBEDDER=openai".into(),
            )),
            EmbedderKind::Oci => Some((
                "search.embedder",
                "oci is not supported by this build yet (use local, openai or none)".into(),
            )),
            _ => None,
        }
    }
}

/// The names of the search settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("embedder", "PORTAL_EMBEDDER"),
    Name::new("model_dir", "PORTAL_EMBEDDER_MODEL_DIR"),
    Name::new("base_url", "PORTAL_EMBEDDER_BASE_URL"),
    Name::new("api_key", "PORTAL_EMBEDDER_API_KEY"),
    Name::new("model", "PORTAL_EMBEDDER_MODEL").unset("(none)"),
    Name::new("timeout_secs", "PORTAL_EMBEDDER_TIMEOUT_SECS"),
];
