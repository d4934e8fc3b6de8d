//! The one merge: the TOML file, then the `PORTAL_*` environment, over the
//! defaults that `Default` gives every field the layers leave out.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::names::{self, Name};
use super::tree::{Leaf, Origin, Raw, Tree};
use super::{ConfigError, CONCERNS};

/// The values the user gave, by dotted path; everything else is a default.
pub(super) struct Layers(BTreeMap<String, Leaf>);

impl Layers {
    /// Reads the file (if any) and the environment; a blank value means "unset".
    pub(super) fn gather<I>(file: Option<&Path>, env: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut layers = Layers(BTreeMap::new());
        if let Some(path) = file {
            let failed = |message: String| ConfigError::File {
                path: path.display().to_string(),
                message,
            };
            let text = fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
            let table: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| failed(e.message().to_string()))?;
            layers.file_table(table, "").map_err(failed)?;
        }
        for (key, value) in env {
            if let Some((path, _)) = names::all().find(|(_, n)| n.env == key) {
                layers.put(path, Raw::Text(value), Origin::Env(key));
            }
        }
        Ok(layers)
    }

    /// Accepts nested tables (`[http] bind = …`) and, at the top, the flat keys
    /// of earlier releases (`bind = …`, `rate_limit_api = …`).
    fn file_table(&mut self, table: toml::Table, prefix: &str) -> Result<(), String> {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            let flat = || {
                prefix
                    .is_empty()
                    .then(|| names::all().find(|(_, n)| n.flat_key() == key))
                    .flatten()
            };
            match value {
                toml::Value::Table(t) if CONCERNS.iter().any(|c| c.key == path) => {
                    self.file_table(t, &path)?
                }
                value if names::by_path(&path).is_some() => {
                    self.put(path.clone(), Raw::Toml(value), Origin::File(path))
                }
                value => match flat() {
                    Some((target, _)) => self.put(target, Raw::Toml(value), Origin::File(key)),
                    None => return Err(format!("unknown setting {path:?}")),
                },
            }
        }
        Ok(())
    }

    fn put(&mut self, path: String, raw: Raw, origin: Origin) {
        let blank = match &raw {
            Raw::Text(s) | Raw::Toml(toml::Value::String(s)) => s.trim().is_empty(),
            _ => false,
        };
        if blank {
            self.0.remove(&path);
        } else {
            self.0.insert(path, Leaf { raw, origin });
        }
    }

    /// True when a layer gave this setting a value.
    pub(super) fn is_set(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }

    /// The name to report for a setting: what the user wrote, else its variable.
    pub(super) fn name_of(&self, path: &str) -> String {
        match self.0.get(path) {
            Some(leaf) => leaf.origin.name().to_string(),
            None => names::by_path(path)
                .map_or(path, |n: &Name| n.env)
                .to_string(),
        }
    }

    /// The tree serde reads.
    pub(super) fn tree(&self) -> Tree {
        let mut tree = Tree::default();
        for (path, leaf) in &self.0 {
            tree.insert(path, leaf.clone());
        }
        tree
    }
}
