//! The chat model provider (the limits of a chat turn are in [`super::chat`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::chat::ChatSettings;
use super::fields;
use super::names::Name;
use crate::secret::Secret;

/// Which model provider answers chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AiProviderKind {
    /// No model: chat says so and still runs `/tool NAME {json}` commands.
    #[serde(rename = "none")]
    None,
    /// Any OpenAI-compatible Chat Completions endpoint.
    #[serde(rename = "openai")]
    OpenAi,
    /// Anthropic's Messages API.
    #[serde(rename = "anthropic")]
    Anthropic,
    /// OCI Generative AI inference, signed with the OCI client's key.
    #[serde(rename = "oci")]
    Oci,
}

impl AiProviderKind {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AiProviderKind::None => "none",
            AiProviderKind::OpenAi => "openai",
            AiProviderKind::Anthropic => "anthropic",
            AiProviderKind::Oci => "oci",
        }
    }
}

/// Chat configuration, kept behind one type so run-time provider management can replace it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AiSettings {
    /// The provider.
    pub provider: AiProviderKind,
    /// The provider's base URL (for OpenAI-compatible ones, up to `/v1`).
    #[serde(deserialize_with = "fields::http_url")]
    pub base_url: Option<String>,
    /// The provider's key.
    #[serde(deserialize_with = "fields::trimmed_secret")]
    pub api_key: Option<Secret<String>>,
    /// The default model.
    #[serde(deserialize_with = "fields::trimmed")]
    pub model: Option<String>,
    /// Further models callers may pick.
    #[serde(rename = "models", deserialize_with = "fields::words")]
    pub extra_models: Vec<String>,
    /// Compartment billed for OCI Generative AI calls (default: the tenancy).
    #[serde(rename = "compartment", deserialize_with = "fields::trimmed")]
    pub oci_compartment: Option<String>,
    /// Longest wait for the provider's first byte and between chunks.
    #[serde(rename = "timeout_secs", with = "fields::secs")]
    pub timeout: Duration,
    /// The limits of a chat turn.
    pub chat: ChatSettings,
}

impl Default for AiSettings {
    fn default() -> Self {
        Self {
            provider: AiProviderKind::None,
            base_url: None,
            api_key: None,
            model: None,
            extra_models: Vec::new(),
            oci_compartment: None,
            timeout: Duration::from_secs(60),
            chat: ChatSettings::default(),
        }
    }
}

impl AiSettings {
    /// The rules between the provider settings: `(path, message)` of the first broken one.
    pub(super) fn problem(&self) -> Option<(&'static str, String)> {
        if self.provider != AiProviderKind::None && self.model.is_none() {
            return Some((
                "ai.model",
                format!(
                    "is required with PORTAL_AI_PROVIDER={}",
                    self.provider.as_str()
                ),
            ));
        }
        if self.provider == AiProviderKind::Anthropic && self.api_key.is_none() {
            return Some((
                "ai.api_key",
                "is required with PORTAL_AI_PROVIDER=anthropic".into(),
            ));
        }
        self.chat.problem()
    }
}

/// The names of the provider settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("provider", "PORTAL_AI_PROVIDER"),
    Name::new("base_url", "PORTAL_AI_BASE_URL").unset("(the provider's own)"),
    Name::new("api_key", "PORTAL_AI_API_KEY"),
    Name::new("model", "PORTAL_AI_MODEL"),
    Name::new("models", "PORTAL_AI_MODELS"),
    Name::new("compartment", "PORTAL_AI_COMPARTMENT").unset("(the tenancy)"),
    Name::new("timeout_secs", "PORTAL_AI_TIMEOUT_SECS"),
];
