//! Which provider answers which model: the bootstrap provider of
//! `PORTAL_AI_*` (read-only, first) and the providers admins store as data
//! (each built once per version of its row, calling out through the
//! SSRF-guarded client). Rows come from the core's [`ProviderCache`], so a
//! change reaches this replica within its refresh time, at once when this
//! replica made it ([`Registry::forget`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use portal_core::ai_providers::{AiProvider, ProviderCache, ProviderType};
use portal_core::config::AiSettings;
use portal_core::crypto::Keys;
use portal_core::outbound::OutboundPolicy;
use portal_core::Store;
use portal_oci::OciClient;

use super::{
    anthropic, oci, openai, ChatRequest, HttpOptions, Message, ModelInfo, Provider, StreamEvent,
};

/// How long "Test" waits for the one-token answer.
const TEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What data-defined providers call out with.
pub struct Outbound {
    /// The rules their base URLs must meet (IP literals are judged here; host
    /// names again by the client's resolver at connect time).
    pub policy: OutboundPolicy,
    /// The SSRF-guarded client (no whole-request timeout: answers stream).
    pub client: reqwest::Client,
    /// The portal's OCI client, which signs `oci` providers' calls.
    pub oci: Option<OciClient>,
}

/// A provider and the model to ask it for.
pub struct Picked {
    /// The provider.
    pub provider: Arc<dyn Provider>,
    /// The model id.
    pub model: String,
}

/// A stored provider built for the version (`updated_at`) of its row.
type Built = (i64, Arc<dyn Provider>);

/// The providers of this replica.
pub struct Registry {
    env_settings: AiSettings,
    env: Option<Arc<dyn Provider>>,
    store: Arc<dyn Store>,
    keys: Keys,
    outbound: Option<Outbound>,
    rows: ProviderCache,
    built: Mutex<HashMap<String, Built>>,
}

impl Registry {
    /// The bootstrap provider (`env`, built from `settings`) and, when
    /// `outbound` is given, the stored ones.
    pub fn new(
        settings: AiSettings,
        env: Option<Arc<dyn Provider>>,
        store: Arc<dyn Store>,
        keys: Keys,
        outbound: Option<Outbound>,
    ) -> Self {
        Self {
            env_settings: settings,
            env,
            store,
            keys,
            outbound,
            rows: ProviderCache::default(),
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The bootstrap configuration (`PORTAL_AI_*`).
    pub fn environment(&self) -> &AiSettings {
        &self.env_settings
    }

    /// Forgets the stored rows: the next read is fresh (this replica changed one).
    pub fn forget(&self) {
        self.rows.forget();
    }

    /// The models callers may pick: the bootstrap provider's first, then each
    /// enabled stored provider's that is not flagged as failing (a model id
    /// offered twice belongs to the first). Exactly one is the default: the
    /// bootstrap default, else the first stored provider's.
    pub async fn models(&self) -> Vec<ModelInfo> {
        self.offers().await.into_iter().map(|(m, _)| m).collect()
    }

    /// Whether any model is offered.
    pub async fn any(&self) -> bool {
        !self.offers().await.is_empty()
    }

    /// The provider for `model` (the default when absent or no longer
    /// offered: a resumed turn whose provider went away continues on it).
    pub async fn pick(&self, model: Option<&str>) -> Option<Picked> {
        let offers = self.offers().await;
        let chosen = model
            .and_then(|m| offers.iter().find(|(o, _)| o.id == m))
            .or_else(|| offers.iter().find(|(o, _)| o.default))?;
        Some(Picked {
            provider: chosen.1.clone(),
            model: chosen.0.id.clone(),
        })
    }

    async fn offers(&self) -> Vec<(ModelInfo, Arc<dyn Provider>)> {
        let mut out: Vec<(ModelInfo, Arc<dyn Provider>)> = Vec::new();
        if let Some(env) = &self.env {
            for m in super::models(&self.env_settings) {
                out.push((m, env.clone()));
            }
        }
        if self.outbound.is_none() {
            return out;
        }
        let rows = self.rows.get(self.store.as_ref()).await;
        for row in rows.iter().filter(|r| r.offered()) {
            let provider = match self.built_for(row) {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!(provider = %row.name, error = %e, "AI provider not offered");
                    continue;
                }
            };
            for id in row.model_ids() {
                if out.iter().any(|(m, _)| m.id == id) {
                    continue;
                }
                let default = out.is_empty();
                out.push((
                    ModelInfo {
                        default,
                        provider: row.kind.as_str().into(),
                        source: super::Source::Database,
                        provider_id: Some(row.id.clone()),
                        provider_name: row.name.clone(),
                        id,
                    },
                    provider.clone(),
                ));
            }
        }
        out
    }

    fn built_for(&self, row: &AiProvider) -> Result<Arc<dyn Provider>, String> {
        if let Ok(built) = self.built.lock() {
            if let Some((at, p)) = built.get(&row.id) {
                if *at == row.updated_at {
                    return Ok(p.clone());
                }
            }
        }
        let p = self.build(row, HttpOptions::from_settings(&self.env_settings))?;
        if let Ok(mut built) = self.built.lock() {
            built.insert(row.id.clone(), (row.updated_at, p.clone()));
        }
        Ok(p)
    }

    /// A provider for `row` calling through the guarded client.
    pub fn build(&self, row: &AiProvider, http: HttpOptions) -> Result<Arc<dyn Provider>, String> {
        let out = self
            .outbound
            .as_ref()
            .ok_or("stored AI providers are not available in this process")?;
        let base_url = (!row.base_url.is_empty()).then(|| row.base_url.clone());
        if let Some(url) = &base_url {
            out.policy
                .check_url(url)
                .map_err(|e| format!("refused by the outbound guard: {e}"))?;
        }
        let api_key = portal_core::service::ai_providers::open_key(&self.keys, row);
        if row.api_key_sealed.is_some() && api_key.is_none() {
            return Err("the stored API key does not open under the current keys".into());
        }
        let client = out.client.clone();
        let setup = |e: super::SetupError| e.to_string();
        Ok(match row.kind {
            ProviderType::OpenAiCompatible | ProviderType::AzureOpenAi => {
                let p = openai::OpenAiProvider::new(openai::OpenAiConfig {
                    base_url,
                    api_key,
                    http,
                })
                .map_err(setup)?
                .with_client(client);
                if row.kind == ProviderType::AzureOpenAi {
                    Arc::new(p.azure())
                } else {
                    Arc::new(p)
                }
            }
            ProviderType::Anthropic => Arc::new(
                anthropic::AnthropicProvider::new(anthropic::AnthropicConfig {
                    base_url,
                    api_key: api_key.ok_or("an API key is required for anthropic")?,
                    http,
                })
                .map_err(setup)?
                .with_client(client),
            ),
            ProviderType::Oci => Arc::new(
                oci::OciProvider::new(oci::OciConfig {
                    client: out.oci.clone().ok_or(
                        "the oci type signs with the portal's OCI key: it needs PORTAL_CLOUD=oci",
                    )?,
                    base_url,
                    compartment_id: None,
                    http,
                })
                .map_err(setup)?
                .with_client(client),
            ),
        })
    }

    /// Sends a one-token completion to `row`'s default model now: `Err` says why it failed.
    pub async fn test(&self, row: &AiProvider) -> Result<(), String> {
        let http = HttpOptions {
            timeout: TEST_TIMEOUT,
            connect_timeout: TEST_TIMEOUT,
            max_retries: 0,
            ..HttpOptions::default()
        };
        let provider = self.build(row, http)?;
        let request = ChatRequest {
            model: row.default_model.clone(),
            system: String::new(),
            messages: vec![Message::user("Reply with one word: ok")],
            tools: Vec::new(),
            max_tokens: 1,
        };
        let run = async {
            let mut stream = provider.stream(request).await.map_err(|e| e.to_string())?;
            while let Some(ev) = stream.next().await {
                if let StreamEvent::Finish { .. } = ev.map_err(|e| e.to_string())? {
                    return Ok(());
                }
            }
            Err("the answer ended before it finished".to_string())
        };
        tokio::time::timeout(TEST_TIMEOUT, run)
            .await
            .unwrap_or_else(|_| Err("the model provider did not answer in time".into()))
    }
}
