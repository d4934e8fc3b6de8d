//! The configuration tests: [`loading`] (layers, precedence, the names in
//! errors) and [`names`] (the tables of names, `config check`, the README).

mod loading;
mod names;
mod outbound;
mod tiers;

use std::fs;
use std::path::PathBuf;

pub(super) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn toml_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.toml");
    fs::write(&path, text).unwrap();
    (dir, path)
}
