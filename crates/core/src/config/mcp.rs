//! MCP servers the portal starts itself, spoken to over stdio: only from a
//! file the operator names (`PORTAL_MCP_STDIO_FILE`, TOML `[mcp] stdio_file`),
//! never from the API, since each one is a command run on the portal's host.
//!
//! The file lists `[[server]]` tables:
//!
//! ```toml
//! [[server]]
//! name = "files"            # the prefix of its tools' names (a-z, 0-9, '-')
//! org = "acme"              # the organisation (slug or id) whose catalogue it joins
//! command = "/usr/bin/mcp-files"
//! args = ["--root", "/srv/share"]
//! env = { FILES_TOKEN = "…" }   # its whole environment with PATH, HOME, LANG
//! risks = { read_file = "read" } # tools not named here are `confirm`
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::names::Name;
use crate::secret::Secret;
use crate::tools::Risk;

/// MCP client settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct McpSettings {
    /// The file listing the stdio servers (none: no stdio servers).
    pub stdio_file: Option<PathBuf>,
    /// The servers that file lists (read at start-up).
    #[serde(skip)]
    pub stdio: Vec<StdioServer>,
}

/// One stdio server as the file gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdioServer {
    /// Its slug, the prefix of its tools' names (unique in its organisation).
    pub name: String,
    /// The organisation (slug or id) whose catalogue its tools join.
    pub org: String,
    /// The program (a path, or a name looked up in `PATH`).
    pub command: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Its environment beyond `PATH`, `HOME` and `LANG` (the portal's own,
    /// with its secrets, is not passed on).
    #[serde(default)]
    pub env: BTreeMap<String, Secret<String>>,
    /// Risk per tool name (`read`, `confirm`, `danger`); others are `confirm`.
    #[serde(default, deserialize_with = "risks")]
    pub risks: BTreeMap<String, Risk>,
}

fn risks<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Risk>, D::Error> {
    let raw = BTreeMap::<String, String>::deserialize(d)?;
    raw.into_iter()
        .map(|(tool, r)| match Risk::parse(r.trim()) {
            Some(risk) => Ok((tool, risk)),
            None => Err(serde::de::Error::custom(format!(
                "risks.{tool}: must be read, confirm or danger, not {r:?}"
            ))),
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    server: Vec<StdioServer>,
}

/// Reads and checks the file: a message naming the problem when it is wrong.
pub(super) fn read_file(path: &Path) -> Result<Vec<StdioServer>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File =
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    let mut seen = std::collections::BTreeSet::new();
    for s in &file.server {
        if !crate::mcp::valid_name(&s.name) {
            return Err(format!(
                "{}: server name {:?} must be 1-30 characters of a-z, 0-9 and '-'",
                path.display(),
                s.name
            ));
        }
        if s.command.trim().is_empty() || s.org.trim().is_empty() {
            return Err(format!(
                "{}: server {} needs a command and an org",
                path.display(),
                s.name
            ));
        }
        if !seen.insert((s.org.clone(), s.name.clone())) {
            return Err(format!(
                "{}: server {} is listed twice for org {}",
                path.display(),
                s.name,
                s.org
            ));
        }
    }
    Ok(file.server)
}

/// The names of the MCP settings.
pub(super) const NAMES: &[Name] = &[Name::new("stdio_file", "PORTAL_MCP_STDIO_FILE")];
