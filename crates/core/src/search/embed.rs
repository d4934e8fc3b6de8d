//! Embedders behind one port: text in, unit vectors out. Their dimensions
//! come from the model (never written here); the model id names the vectors
//! in storage, so a model change is seen and re-embeds.

use async_trait::async_trait;

/// What a text is embedded for (some models embed queries and documents
/// differently, e.g. Cohere's `input_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A stored message chunk.
    Document,
    /// A search query.
    Query,
}

/// Why an embedding could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model or its server cannot answer now (retry later).
    #[error("embedder unavailable: {0}")]
    Unavailable(String),
    /// The model answered something unusable (wrong count or dimensions).
    #[error("embedder answered badly: {0}")]
    Invalid(String),
}

/// A text embedder. Implementations run CPU-heavy work off the async
/// threads and return L2-normalised vectors of [`Embedder::dims`] floats,
/// one per text, in order.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// A stable id of the model (`local:all-MiniLM-L6-v2`, `openai:…`).
    fn model_id(&self) -> &str;
    /// The vectors' length, as the model reports it.
    fn dims(&self) -> usize;
    /// One vector per text.
    async fn embed(&self, texts: &[String], purpose: Purpose) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Checks an embedder's answer: one vector per text, each `dims` long and
/// finite; then normalises them (providers differ on whether they do).
pub fn checked(
    mut vs: Vec<Vec<f32>>,
    texts: usize,
    dims: usize,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    if vs.len() != texts {
        return Err(EmbedError::Invalid(format!(
            "{} vectors for {texts} texts",
            vs.len()
        )));
    }
    for v in &mut vs {
        if v.len() != dims || v.iter().any(|x| !x.is_finite()) {
            return Err(EmbedError::Invalid(format!(
                "a vector of {} values (expected {dims} finite ones)",
                v.len()
            )));
        }
        normalize(v);
    }
    Ok(vs)
}

/// The stored form: little-endian f32s.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A stored vector; `None` when the bytes are not whole f32s.
pub fn from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    if !b.len().is_multiple_of(4) {
        return None;
    }
    Some(
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// Words per chunk: MiniLM reads at most 128 word pieces, and English runs
/// about 1.3 pieces a word, so 96 words fit with room to spare.
pub const CHUNK_WORDS: usize = 96;
/// Words a chunk repeats from the one before, so a sentence cut at a chunk's
/// edge is still whole in one of them.
pub const CHUNK_OVERLAP: usize = 16;
/// Chunks embedded per message at most (a huge tool result is indexed by its
/// start; the full-text index still holds all of it).
pub const MAX_CHUNKS: usize = 32;

/// A message's text cut into overlapping windows of whitespace-separated
/// tokens; nothing for a text without any.
pub fn chunks(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < words.len() && out.len() < MAX_CHUNKS {
        let end = (at + CHUNK_WORDS).min(words.len());
        out.push(words[at..end].join(" "));
        if end == words.len() {
            break;
        }
        at = end - CHUNK_OVERLAP;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_overlap_and_cover_the_text() {
        assert!(chunks("  \n ").is_empty());
        assert_eq!(chunks("a b  c"), vec!["a b c"]);
        let text: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
        let c = chunks(&text.join(" "));
        assert_eq!(c.len(), 3);
        assert!(c[0].starts_with("w0 ") && c[0].ends_with(" w95"));
        assert!(c[1].starts_with("w80 ") && c[1].ends_with(" w175"));
        assert!(c[2].starts_with("w160 ") && c[2].ends_with(" w199"));
        let huge = "x ".repeat(CHUNK_WORDS * 100);
        assert_eq!(chunks(&huge).len(), MAX_CHUNKS);
    }

    #[test]
    fn vectors_round_trip_and_answers_are_checked() {
        let v = vec![0.5f32, -1.25, 3.0];
        assert_eq!(from_bytes(&to_bytes(&v)), Some(v));
        assert_eq!(from_bytes(&[1, 2, 3]), None);
        let ok = checked(vec![vec![3.0, 4.0]], 1, 2).expect("valid");
        assert!((ok[0][0] - 0.6).abs() < 1e-6 && (ok[0][1] - 0.8).abs() < 1e-6);
        assert!(checked(vec![vec![1.0]], 1, 2).is_err());
        assert!(checked(vec![vec![1.0, 0.0]], 2, 2).is_err());
        assert!(checked(vec![vec![f32::NAN, 0.0]], 1, 2).is_err());
    }
}
