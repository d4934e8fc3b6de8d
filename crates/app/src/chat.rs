//! Wires the chat engine to this process: the configured model provider, the
//! cloud's tools, the metrics registry, and a worker that resumes approved turns.

use std::sync::Arc;

use portal_ai::chat::{ChatEngine, ChatHooks};
use portal_ai::guard::input::Category;
use portal_ai::provider::registry::Registry;
use portal_core::config::AiSettings;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};

use crate::metrics::Metrics;
use crate::App;

/// Chat series: tokens, time to first token, tool rounds, guardrail hits.
#[derive(Clone)]
pub struct ChatMetrics {
    tokens: IntCounterVec,
    first_token: HistogramVec,
    rounds: HistogramVec,
    guardrail: IntCounterVec,
}

impl ChatMetrics {
    /// Creates the series and registers them, each configured model's at zero
    /// (`provider="none",model="none"` when chat has no model) so every family
    /// exists from start-up.
    pub fn register(m: &Metrics, ai: &AiSettings) -> prometheus::Result<Self> {
        let tokens = IntCounterVec::new(
            Opts::new(
                "chat_tokens_total",
                "Model tokens by provider, model and direction (in, out).",
            ),
            &["provider", "model", "direction"],
        )?;
        let first_token = HistogramVec::new(
            HistogramOpts::new(
                "chat_time_to_first_token_seconds",
                "Time from asking the model to its first streamed piece.",
            )
            .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
            &["provider", "model"],
        )?;
        let rounds = HistogramVec::new(
            HistogramOpts::new("chat_tool_rounds", "Tool rounds per finished chat turn.")
                .buckets(vec![0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0]),
            &[],
        )?;
        let guardrail = IntCounterVec::new(
            Opts::new(
                "chat_guardrail_hits_total",
                "Guardrail hits: refusal categories and redacted secret kinds.",
            ),
            &["category"],
        )?;
        let models = portal_ai::provider::models(ai);
        let labels: Vec<(&str, &str)> = if models.is_empty() {
            vec![("none", "none")]
        } else {
            models
                .iter()
                .map(|mi| (mi.provider.as_str(), mi.id.as_str()))
                .collect()
        };
        for (provider, model) in labels {
            for direction in ["in", "out"] {
                tokens.with_label_values(&[provider, model, direction]);
            }
            first_token.with_label_values(&[provider, model]);
        }
        rounds.with_label_values(&[] as &[&str]);
        for category in Category::ALL {
            guardrail.with_label_values(&[category.as_str()]);
        }
        m.register(Box::new(tokens.clone()))?;
        m.register(Box::new(first_token.clone()))?;
        m.register(Box::new(rounds.clone()))?;
        m.register(Box::new(guardrail.clone()))?;
        Ok(Self {
            tokens,
            first_token,
            rounds,
            guardrail,
        })
    }
}

impl ChatHooks for ChatMetrics {
    fn tokens(&self, provider: &str, model: &str, input: u64, output: u64) {
        self.tokens
            .with_label_values(&[provider, model, "in"])
            .inc_by(input);
        self.tokens
            .with_label_values(&[provider, model, "out"])
            .inc_by(output);
    }

    fn first_token(&self, provider: &str, model: &str, seconds: f64) {
        self.first_token
            .with_label_values(&[provider, model])
            .observe(seconds);
    }

    fn rounds(&self, rounds: u32) {
        self.rounds
            .with_label_values(&[] as &[&str])
            .observe(f64::from(rounds));
    }

    fn guardrail(&self, category: &str) {
        self.guardrail.with_label_values(&[category]).inc();
    }
}

/// Tool metrics for executions started by chat turns and workflow steps (the same series as the API's).
pub(crate) struct ToolHooks(IntCounterVec, HistogramVec);

/// The gateway hooks of background tool runs.
pub(crate) fn tool_hooks(state: &App) -> Arc<ToolHooks> {
    Arc::new(ToolHooks(
        state.metrics.tool_executions.clone(),
        state.metrics.tool_duration.clone(),
    ))
}

impl portal_core::service::tools::GatewayHooks for ToolHooks {
    fn executed(&self, tool: &str, status: &str, seconds: f64) {
        self.0.with_label_values(&[tool, status]).inc();
        self.1.with_label_values(&[tool]).observe(seconds);
    }
}

/// Builds the chat engine (its resumed turns run as jobs). Fails when the provider
/// configuration cannot work (e.g. `oci` without a cloud to sign with).
pub fn start(state: &App) -> Result<Arc<ChatEngine>, String> {
    if let Some(engine) = state.chat.get() {
        return Ok(engine.clone());
    }
    let cloud = state.cloud.get();
    let provider = portal_ai::provider::from_settings(&state.settings.ai, cloud.map(|c| &c.client))
        .map_err(|e| format!("PORTAL_AI_PROVIDER: {e}"))?;
    let hooks =
        ChatMetrics::register(&state.metrics, &state.settings.ai).map_err(|e| e.to_string())?;
    let outbound =
        crate::ai_providers::outbound(state).map_err(|e| format!("AI providers: {e}"))?;
    let providers = Arc::new(Registry::new(
        state.settings.ai.clone(),
        provider,
        state.store.clone(),
        state.keys.clone(),
        Some(outbound),
    ));
    let engine = Arc::new(
        ChatEngine::new(
            state.contexts.clone(),
            providers,
            cloud.map(|c| c.tools.clone()),
            tool_hooks(state),
            Arc::new(hooks),
            state.settings.http.public_url.clone(),
            crate::TOOL_TIMEOUT,
        )
        .with_catalogues(Arc::new(crate::mcp::ChatCatalogues(Arc::downgrade(
            &state.0,
        )))),
    );
    if state.chat.set(engine.clone()).is_err() {
        // Another caller won the race; use theirs (only one worker runs).
        return state
            .chat
            .get()
            .cloned()
            .ok_or_else(|| "chat engine vanished".to_string());
    }
    Ok(engine)
}
