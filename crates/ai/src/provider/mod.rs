//! The provider-neutral chat model interface every backend implements.
//!
//! A provider turns a [`ChatRequest`] into a stream of [`StreamEvent`]s. Text arrives as
//! deltas; tool calls arrive as a start (id, name) followed by argument deltas, exactly as
//! the wire protocols split them, and are complete when the stream finishes.
//!
//! Three backends speak real wire protocols over HTTP: [`openai`] (any OpenAI-compatible
//! Chat Completions server), [`anthropic`] (the Messages API) and [`oci`] (OCI Generative
//! AI, signed with the portal's OCI key). [`from_settings`] picks one from configuration.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::BoxStream;
use portal_core::config::{AiProviderKind, AiSettings};
use portal_oci::OciClient;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod anthropic;
mod http;
pub mod oci;
pub mod openai;
pub mod registry;
mod sse;

pub use http::HttpOptions;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The engineer.
    User,
    /// The model.
    Assistant,
    /// A tool result answering one of the assistant's tool calls.
    Tool,
}

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id for the call, echoed back with the result.
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments as the model produced them (JSON text, possibly invalid).
    pub arguments: String,
}

/// One message of the conversation fed to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// Text (for `Tool`, the result as the model should read it).
    pub content: String,
    /// Calls the assistant made in this message (assistant only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call this message answers (tool only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: text.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// An assistant message, with the tool calls it made.
    pub fn assistant(text: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        Message {
            role: Role::Assistant,
            content: text.into(),
            tool_calls,
            tool_call_id: None,
        }
    }

    /// A tool result.
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            role: Role::Tool,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.into()),
        }
    }
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolDef {
    /// Tool name.
    pub name: String,
    /// What it does, written for a model.
    pub description: String,
    /// JSON Schema of its arguments (an object schema).
    pub parameters: Value,
}

/// One model call.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// Model id as the provider names it.
    pub model: String,
    /// System prompt.
    pub system: String,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Tools the model may call (empty: none).
    pub tools: Vec<ToolDef>,
    /// Output token cap.
    pub max_tokens: u32,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinishReason {
    /// It finished its answer.
    Stop,
    /// It wants the tool calls it made to run.
    ToolCalls,
    /// It hit the output token cap.
    Length,
    /// The provider filtered the output.
    ContentFilter,
    /// Anything else the provider said.
    Other,
}

/// Token counts of one model call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// More answer text.
    TextDelta(String),
    /// A tool call begins; `index` identifies it in later deltas.
    ToolCallStart {
        /// Position of the call in this answer.
        index: usize,
        /// The provider's call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// More argument JSON for the call at `index`.
    ToolCallDelta {
        /// Position of the call in this answer.
        index: usize,
        /// Argument text to append.
        delta: String,
    },
    /// The answer is complete. Always the last event of a successful stream.
    Finish {
        /// Why it stopped.
        reason: FinishReason,
        /// Token counts, when the provider reports them.
        usage: Usage,
    },
}

/// Why a model call failed, in terms a chat user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider is rate limiting us.
    #[error("the model provider is rate limiting requests")]
    RateLimited {
        /// How long the provider asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// No answer (or no next chunk) within the timeout.
    #[error("the model provider did not answer in time")]
    Timeout,
    /// The provider refused our credentials.
    #[error("the model provider refused the configured credentials")]
    Unauthorized,
    /// The provider refused the request itself (unknown model, context too long, ...).
    #[error("the model provider refused the request: {0}")]
    BadRequest(String),
    /// The provider failed (5xx) or is unavailable.
    #[error("the model provider failed: {0}")]
    Unavailable(String),
    /// The connection failed or broke.
    #[error("could not reach the model provider: {0}")]
    Transport(String),
    /// The provider answered something we cannot read.
    #[error("the model provider sent an unreadable answer: {0}")]
    Protocol(String),
}

impl ProviderError {
    /// Whether repeating the request could help, before any output was streamed.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Unavailable(_)
                | ProviderError::Transport(_)
        )
    }
}

/// A model offered to callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// Model id.
    pub id: String,
    /// Provider kind (`openai`, `anthropic`, `oci`).
    pub provider: String,
    /// Whether it is the default.
    pub default: bool,
    /// Where its provider is configured.
    pub source: Source,
    /// The stored provider's id (`None`: the bootstrap provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// The provider's display name.
    pub provider_name: String,
}

/// Where a provider is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// `PORTAL_AI_*`: the read-only bootstrap provider.
    Environment,
    /// Stored as data (`/api/admin/ai-providers`).
    Database,
}

/// The display name of the bootstrap provider.
pub const ENVIRONMENT_NAME: &str = "Environment (PORTAL_AI_PROVIDER)";

/// A stream of answer pieces; ends after `Finish` or at the first error.
pub type EventStream = BoxStream<'static, Result<StreamEvent, ProviderError>>;

/// A chat model backend. Dropping the returned stream cancels the provider request.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Provider kind, for metrics and `GET /api/models` (`openai`, `anthropic`, `oci`).
    fn kind(&self) -> &'static str;

    /// Starts one model call; the stream yields its answer as it arrives.
    ///
    /// Returns once the provider accepted the call (its response head arrived), after at
    /// most two retries of rate limits, 5xx and transport failures. Errors after that come
    /// through the stream and are never retried, so output is never duplicated. Every tool
    /// call started in the stream has non-empty argument text by its `Finish`.
    async fn stream(&self, request: ChatRequest) -> Result<EventStream, ProviderError>;
}

/// Why a provider could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `PORTAL_AI_PROVIDER=oci` signs with the OCI client's key, so it needs one.
    #[error("PORTAL_AI_PROVIDER=oci needs an OCI client (PORTAL_CLOUD=oci) to sign its calls")]
    OciClientRequired,
    /// The provider needs an API key and none is configured.
    #[error("PORTAL_AI_API_KEY is required with PORTAL_AI_PROVIDER={0}")]
    ApiKeyRequired(&'static str),
    /// The base URL (or the OCI endpoint built from it) is not usable.
    #[error("invalid model provider URL: {0}")]
    InvalidUrl(String),
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the model provider's HTTP client: {0}")]
    HttpClient(String),
}

/// The configured provider, or `None` when chat runs without a model (`PORTAL_AI_PROVIDER=none`).
///
/// `oci` is the portal's OCI client; only the `oci` provider uses it (for its signer,
/// region and endpoint override).
pub fn from_settings(
    settings: &AiSettings,
    oci: Option<&OciClient>,
) -> Result<Option<Arc<dyn Provider>>, SetupError> {
    let http = HttpOptions::from_settings(settings);
    let provider: Arc<dyn Provider> = match settings.provider {
        AiProviderKind::None => return Ok(None),
        AiProviderKind::OpenAi => Arc::new(openai::OpenAiProvider::new(openai::OpenAiConfig {
            base_url: settings.base_url.clone(),
            api_key: settings.api_key.clone(),
            http,
        })?),
        AiProviderKind::Anthropic => Arc::new(anthropic::AnthropicProvider::new(
            anthropic::AnthropicConfig {
                base_url: settings.base_url.clone(),
                api_key: settings
                    .api_key
                    .clone()
                    .ok_or(SetupError::ApiKeyRequired("anthropic"))?,
                http,
            },
        )?),
        AiProviderKind::Oci => Arc::new(oci::OciProvider::new(oci::OciConfig {
            client: oci.ok_or(SetupError::OciClientRequired)?.clone(),
            base_url: settings.base_url.clone(),
            compartment_id: settings.oci_compartment.clone(),
            http,
        })?),
    };
    Ok(Some(provider))
}

/// The models callers may pick: the default first, then the extra ones (deduplicated).
/// Empty when no provider is configured.
pub fn models(settings: &AiSettings) -> Vec<ModelInfo> {
    if settings.provider == AiProviderKind::None {
        return Vec::new();
    }
    let provider = settings.provider.as_str();
    let mut out: Vec<ModelInfo> = Vec::new();
    let ids = settings
        .model
        .iter()
        .map(|m| (m, true))
        .chain(settings.extra_models.iter().map(|m| (m, false)));
    for (id, default) in ids {
        let id = id.trim();
        if id.is_empty() || out.iter().any(|m| m.id == id) {
            continue;
        }
        out.push(ModelInfo {
            id: id.to_string(),
            provider: provider.to_string(),
            default,
            source: Source::Environment,
            provider_id: None,
            provider_name: ENVIRONMENT_NAME.into(),
        });
    }
    out
}
