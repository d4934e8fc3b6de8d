//! AI model providers as data: admins add, change, test and remove them at
//! run time (`service::ai_providers`); the provider configured by
//! `PORTAL_AI_*` stays as the read-only bootstrap provider.
//!
//! Every replica reads the rows through [`ProviderCache`], refreshed from the
//! database when older than [`REFRESH`], so a change reaches every replica
//! within that time without a restart; the replica that made the change
//! forgets its copy at once.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::journal::Journal;
use crate::store::StoreResult;

/// How stale a replica's copy of the providers may be.
pub const REFRESH: Duration = Duration::from_secs(2);

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderType {
    /// Any OpenAI-compatible Chat Completions server (`Authorization: Bearer`).
    OpenAiCompatible,
    /// Anthropic's Messages API.
    Anthropic,
    /// OCI Generative AI, signed with the portal's OCI key (no API key).
    Oci,
    /// Azure OpenAI's v1 API (`{resource}/openai/v1`, `api-key` header).
    AzureOpenAi,
}

impl ProviderType {
    /// Every type, in the order pickers show them.
    pub const ALL: [ProviderType; 4] = [
        ProviderType::OpenAiCompatible,
        ProviderType::Anthropic,
        ProviderType::Oci,
        ProviderType::AzureOpenAi,
    ];

    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::OpenAiCompatible => "openai-compatible",
            ProviderType::Anthropic => "anthropic",
            ProviderType::Oci => "oci",
            ProviderType::AzureOpenAi => "azure-openai",
        }
    }

    /// The type spelled `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The type of the bootstrap provider configured as `kind` (`None`: no model).
    pub fn of_environment(kind: crate::config::AiProviderKind) -> Option<Self> {
        use crate::config::AiProviderKind as K;
        match kind {
            K::None => None,
            K::OpenAi => Some(ProviderType::OpenAiCompatible),
            K::Anthropic => Some(ProviderType::Anthropic),
            K::Oci => Some(ProviderType::Oci),
        }
    }

    /// Whether calls need an API key (OCI signs with the portal's key instead).
    pub fn needs_key(self) -> bool {
        matches!(self, ProviderType::Anthropic | ProviderType::AzureOpenAi)
    }
}

/// What the last "Test" found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// Never tested since its connection settings last changed.
    Untested,
    /// The one-token completion worked.
    Ok,
    /// It failed: the provider is flagged and hidden from model pickers.
    Failed,
}

impl TestStatus {
    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Untested => "untested",
            TestStatus::Ok => "ok",
            TestStatus::Failed => "failed",
        }
    }

    /// The status spelled `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [TestStatus::Untested, TestStatus::Ok, TestStatus::Failed]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A provider stored as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiProvider {
    /// Id (a UUID).
    pub id: String,
    /// Shown in pickers and the admin page (unique).
    pub name: String,
    /// Its protocol.
    pub kind: ProviderType,
    /// Base URL (for OpenAI-compatible ones, up to `/v1`).
    pub base_url: String,
    /// The API key, sealed for [`AiProvider::seal_context`]; never returned.
    pub api_key_sealed: Option<String>,
    /// Models callers may pick besides the default.
    pub models: Vec<String>,
    /// The model used when a caller names none.
    pub default_model: String,
    /// Offered to chat at all.
    pub enabled: bool,
    /// What the last test found.
    pub test_status: TestStatus,
    /// Why the last test failed.
    pub test_error: Option<String>,
    /// When it was last tested (epoch ms).
    pub tested_at: Option<i64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change of its settings.
    pub updated_at: i64,
}

impl AiProvider {
    /// The seal context of its API key (bound to the row).
    pub fn seal_context(id: &str) -> String {
        format!("ai-provider-key:{id}")
    }

    /// Whether chat offers it: enabled and not flagged as failing.
    pub fn offered(&self) -> bool {
        self.enabled && self.test_status != TestStatus::Failed
    }

    /// Its models, the default first, without duplicates.
    pub fn model_ids(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in std::iter::once(&self.default_model).chain(&self.models) {
            if !m.is_empty() && !out.contains(m) {
                out.push(m.clone());
            }
        }
        out
    }
}

/// Their storage (platform data: no organisation).
#[async_trait]
pub trait AiProviderRepo: Send + Sync {
    /// Stores a provider with its journal (`Conflict` when the name is taken).
    async fn create_ai_provider(&self, p: &AiProvider, j: &Journal<'_>) -> StoreResult<()>;
    /// Every provider, oldest first.
    async fn list_ai_providers(&self) -> StoreResult<Vec<AiProvider>>;
    /// One provider.
    async fn get_ai_provider(&self, id: &str) -> StoreResult<Option<AiProvider>>;
    /// Writes a provider's changeable fields with its journal; false when absent.
    async fn update_ai_provider(&self, p: &AiProvider, j: &Journal<'_>) -> StoreResult<bool>;
    /// Deletes a provider with its journal; false when absent.
    async fn delete_ai_provider(&self, id: &str, j: &Journal<'_>) -> StoreResult<bool>;
}

/// A replica's copy of the provider rows.
#[derive(Default)]
pub struct ProviderCache(RwLock<Option<(Instant, Arc<Vec<AiProvider>>)>>);

impl ProviderCache {
    /// The providers, at most [`REFRESH`] old. When the database cannot be
    /// read the last copy serves (or none), so chat keeps working.
    pub async fn get(&self, repo: &dyn AiProviderRepo) -> Arc<Vec<AiProvider>> {
        let held = self.0.read().ok().and_then(|g| g.clone());
        if let Some((at, rows)) = &held {
            if at.elapsed() < REFRESH {
                return rows.clone();
            }
        }
        match repo.list_ai_providers().await {
            Ok(rows) => {
                let rows = Arc::new(rows);
                if let Ok(mut g) = self.0.write() {
                    *g = Some((Instant::now(), rows.clone()));
                }
                rows
            }
            Err(e) => {
                tracing::debug!(error = %e, "AI providers not refreshed");
                held.map(|(_, rows)| rows).unwrap_or_default()
            }
        }
    }

    /// Drops the copy (this replica changed a provider): the next read is fresh.
    pub fn forget(&self) {
        if let Ok(mut g) = self.0.write() {
            *g = None;
        }
    }
}
