//! Any OpenAI-compatible `POST {base}/embeddings` (OpenAI, Ollama, vLLM):
//! `{model, input: [..]}` → `{data: [{index, embedding}]}`. The dimensions
//! are learned from the server's first answer ([`OpenAiEmbedder::connect`]).

use async_trait::async_trait;
use portal_core::search::embed::{checked, EmbedError, Embedder, Purpose};
use portal_core::Secret;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// An OpenAI-compatible embeddings server.
pub struct OpenAiEmbedder {
    client: reqwest::Client,
    url: String,
    key: Option<Secret<String>>,
    model: String,
    id: String,
    dims: usize,
}

#[derive(Deserialize)]
struct Answer {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// Connects to `base_url` (up to `/v1`) and asks the model once for its
    /// dimensions.
    pub async fn connect(
        base_url: &str,
        key: Option<Secret<String>>,
        model: &str,
        timeout: Duration,
    ) -> Result<Self, EmbedError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("portal-ai/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EmbedError::Unavailable(e.to_string()))?;
        let mut e = Self {
            client,
            url: format!("{}/embeddings", base_url.trim_end_matches('/')),
            key,
            model: model.to_string(),
            id: format!("openai:{model}"),
            dims: 0,
        };
        let probe = e.call(&["dimensions".to_string()]).await?;
        e.dims = probe.first().map(Vec::len).unwrap_or(0);
        if e.dims == 0 {
            return Err(EmbedError::Invalid("the model answered no vector".into()));
        }
        Ok(e)
    }

    async fn call(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut req = self
            .client
            .post(&self.url)
            .json(&json!({"model": self.model, "input": texts}));
        if let Some(k) = &self.key {
            req = req.bearer_auth(k.expose());
        }
        let res = req
            .send()
            .await
            .map_err(|e| EmbedError::Unavailable(e.without_url().to_string()))?;
        let status = res.status();
        if !status.is_success() {
            return Err(EmbedError::Unavailable(format!(
                "the server answered {status}"
            )));
        }
        let mut answer: Answer = res
            .json()
            .await
            .map_err(|e| EmbedError::Invalid(e.without_url().to_string()))?;
        answer.data.sort_by_key(|i| i.index);
        Ok(answer.data.into_iter().map(|i| i.embedding).collect())
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn dims(&self) -> usize {
        self.dims
    }

    async fn embed(&self, texts: &[String], _: Purpose) -> Result<Vec<Vec<f32>>, EmbedError> {
        let vs = self.call(texts).await?;
        checked(vs, texts.len(), self.dims)
    }
}
