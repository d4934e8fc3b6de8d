//! OCI config file parsing (`~/.oci/config`).
//!
//! The format is the INI dialect read by the OCI SDKs (Python `configparser` with
//! interpolation off): `[PROFILE]` sections, `key = value` or `key: value` lines,
//! full-line `#`/`;` comments, case-insensitive keys, and a `[DEFAULT]` section whose
//! values every other profile inherits. Parsing it ourselves lets the portal reuse
//! the credentials operators already configured for the OCI CLI.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Name of the profile the SDKs use when none is given, and the section every
/// other profile inherits from.
pub const DEFAULT_PROFILE: &str = "DEFAULT";

/// Keys every profile must end up with (after `[DEFAULT]` inheritance).
pub const REQUIRED_KEYS: [&str; 5] = ["user", "fingerprint", "key_file", "tenancy", "region"];

/// A secret string (key pass phrase, in-memory key material).
///
/// Wrapped so it can never end up in logs by accident: both `Debug` and `Display`
/// print `[REDACTED]`. Use [`Secret::expose`] where the value is really needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself; call only where it is consumed (e.g. key decryption).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Errors from reading or validating an OCI config file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read OCI config file {path}: {source}")]
    Io {
        /// The path that was tried (after `~` expansion).
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid INI as the OCI SDKs read it.
    #[error("OCI config syntax error at line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The requested profile has no section in the file.
    #[error("profile [{profile}] not found in OCI config (available: {available})")]
    ProfileNotFound {
        /// The profile that was asked for.
        profile: String,
        /// Comma-separated profiles that do exist, to help fix a typo.
        available: String,
    },
    /// A required key is absent from the profile and from `[DEFAULT]`.
    #[error("OCI config profile [{profile}] is missing required key `{key}`")]
    MissingKey {
        /// The missing key, e.g. `fingerprint`.
        key: &'static str,
        /// The profile being loaded.
        profile: String,
    },
    /// A key is present but its value cannot be right.
    #[error("OCI config profile [{profile}] has an invalid `{key}`: {reason}")]
    InvalidValue {
        /// The offending key.
        key: &'static str,
        /// The profile being loaded.
        profile: String,
        /// Why it was rejected.
        reason: String,
    },
}

/// One resolved profile of an OCI config file.
///
/// `Debug` is safe to log: the pass phrase is a [`Secret`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciConfig {
    /// The profile this was loaded from.
    pub profile: String,
    /// User OCID.
    pub user: String,
    /// API key fingerprint (`aa:bb:...`, 16 colon-separated hex bytes).
    pub fingerprint: String,
    /// Path to the PEM private key, with a leading `~` already expanded.
    pub key_file: PathBuf,
    /// Pass phrase of an encrypted key, if configured.
    pub pass_phrase: Option<Secret>,
    /// Tenancy OCID.
    pub tenancy: String,
    /// Region identifier or short code (e.g. `us-ashburn-1`, `iad`).
    pub region: String,
}

impl OciConfig {
    /// The `keyId` OCI expects in the signature: `<tenancy>/<user>/<fingerprint>`.
    pub fn key_id(&self) -> String {
        format!("{}/{}/{}", self.tenancy, self.user, self.fingerprint)
    }
}

/// Path the SDKs read by default: `~/.oci/config`.
pub fn default_config_path() -> PathBuf {
    expand_tilde("~/.oci/config")
}

/// Expand a leading `~` or `~/` to `$HOME`, as the SDKs do for `key_file`.
///
/// `~user` forms are left untouched, as is everything when `HOME` is unset.
pub fn expand_tilde(path: &str) -> PathBuf {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    match (home, path) {
        (Some(home), "~") => PathBuf::from(home),
        (Some(home), p) if p.starts_with("~/") => PathBuf::from(home).join(&p[2..]),
        _ => PathBuf::from(path),
    }
}

/// Read `path` (with `~` expansion) and resolve `profile`.
pub fn load_config(path: impl AsRef<Path>, profile: &str) -> Result<OciConfig, ConfigError> {
    let path = path.as_ref();
    let path = match path.to_str() {
        Some(s) => expand_tilde(s),
        None => path.to_path_buf(),
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
        path: path.clone(),
        source,
    })?;
    parse_config(&text, profile)
}

/// Parse config file text and resolve `profile` (values fall back to `[DEFAULT]`).
///
/// Validates what the SDK validates: the required keys, the fingerprint's shape and
/// that `user`/`tenancy` look like OCIDs. `security_token_file` and unknown keys are
/// ignored.
pub fn parse_config(text: &str, profile: &str) -> Result<OciConfig, ConfigError> {
    let sections = parse_ini(text)?;
    let own = sections
        .get(profile)
        .ok_or_else(|| ConfigError::ProfileNotFound {
            profile: profile.to_string(),
            available: sections.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
    let defaults = sections.get(DEFAULT_PROFILE);
    let get = |key: &str| -> Option<&str> {
        own.get(key)
            .or_else(|| defaults.and_then(|d| d.get(key)))
            .map(String::as_str)
    };
    let required = |key: &'static str| -> Result<String, ConfigError> {
        match get(key) {
            Some(v) if !v.is_empty() => Ok(v.to_string()),
            _ => Err(ConfigError::MissingKey {
                key,
                profile: profile.to_string(),
            }),
        }
    };

    let user = required("user")?;
    let fingerprint = required("fingerprint")?;
    let key_file = required("key_file")?;
    let tenancy = required("tenancy")?;
    let region = required("region")?;
    let pass_phrase = get("pass_phrase")
        .filter(|p| !p.is_empty())
        .map(Secret::new);

    let invalid = |key: &'static str, reason: &str| ConfigError::InvalidValue {
        key,
        profile: profile.to_string(),
        reason: reason.to_string(),
    };
    if !is_fingerprint(&fingerprint) {
        return Err(invalid(
            "fingerprint",
            "expected 16 colon-separated lower-case hex bytes (aa:bb:...)",
        ));
    }
    if !is_ocid_like(&user) {
        return Err(invalid("user", "does not look like an OCID"));
    }
    if !is_ocid_like(&tenancy) {
        return Err(invalid("tenancy", "does not look like an OCID"));
    }

    Ok(OciConfig {
        profile: profile.to_string(),
        user,
        fingerprint,
        key_file: expand_tilde(&key_file),
        pass_phrase,
        tenancy,
        region,
    })
}

type Section = BTreeMap<String, String>;

/// Parse the INI text into sections; keys are lower-cased, section names kept as is.
fn parse_ini(text: &str) -> Result<BTreeMap<String, Section>, ConfigError> {
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    let mut current: Option<String> = None;
    // Key of the last option, for indented continuation lines.
    let mut last_key: Option<String> = None;

    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let syntax = |message: &str| ConfigError::Syntax {
            line: line_no,
            message: message.to_string(),
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            last_key = None;
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented {
            if let (Some(section), Some(key)) = (&current, &last_key) {
                if let Some(value) = sections.get_mut(section).and_then(|s| s.get_mut(key)) {
                    value.push('\n');
                    value.push_str(trimmed);
                    continue;
                }
            }
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| syntax("section header is missing its closing `]`"))?;
            if name.is_empty() {
                return Err(syntax("empty section name"));
            }
            if sections.contains_key(name) {
                return Err(syntax(&format!("duplicate section [{name}]")));
            }
            sections.insert(name.to_string(), Section::new());
            current = Some(name.to_string());
            last_key = None;
            continue;
        }
        let section = current
            .as_ref()
            .ok_or_else(|| syntax("key outside of any [section]"))?;
        let split = trimmed
            .find(['=', ':'])
            .ok_or_else(|| syntax("expected `key = value`"))?;
        let key = trimmed[..split].trim().to_ascii_lowercase();
        let value = trimmed[split + 1..].trim().to_string();
        if key.is_empty() {
            return Err(syntax("empty key"));
        }
        let entries = sections.entry(section.clone()).or_default();
        if entries.contains_key(&key) {
            return Err(syntax(&format!("duplicate key `{key}` in [{section}]")));
        }
        entries.insert(key.clone(), value);
        last_key = Some(key);
    }
    Ok(sections)
}

/// `^([0-9a-f]{2}:){15}[0-9a-f]{2}$`, the SDK's fingerprint check.
fn is_fingerprint(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 16
        && parts.iter().all(|p| {
            p.len() == 2
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The SDK's OCID check: at least five `.`/`:`-separated segments of
/// `[0-9A-Za-z_-]`, the first and last non-empty.
fn is_ocid_like(s: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if !s.chars().all(|c| allowed(c) || c == '.' || c == ':') {
        return false;
    }
    let segments: Vec<&str> = s.split(['.', ':']).collect();
    segments.len() >= 5
        && segments.first().is_some_and(|f| !f.is_empty())
        && segments.last().is_some_and(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_shape() {
        assert!(is_fingerprint(
            "8a:25:90:84:dc:d6:99:d6:cc:04:46:95:34:72:c5:96"
        ));
        assert!(!is_fingerprint(
            "8A:25:90:84:dc:d6:99:d6:cc:04:46:95:34:72:c5:96"
        ));
        assert!(!is_fingerprint("8a:25:90"));
    }

    #[test]
    fn ocid_shape() {
        assert!(is_ocid_like("ocid1.user.oc1..aaaaexample"));
        assert!(is_ocid_like("ocid1.tenancy.oc1..x"));
        assert!(!is_ocid_like("not-an-ocid"));
        assert!(!is_ocid_like("ocid1.user.oc1..aaa/evil"));
    }

    #[test]
    fn continuation_lines_extend_values() {
        let s = parse_ini("[A]\nk = one\n  two\n").unwrap();
        assert_eq!(s["A"]["k"], "one\ntwo");
    }

    #[test]
    fn syntax_errors_carry_line_numbers() {
        match parse_ini("[A]\nk = 1\nnonsense\n") {
            Err(ConfigError::Syntax { line, .. }) => assert_eq!(line, 3),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            parse_ini("k = v\n"),
            Err(ConfigError::Syntax { line: 1, .. })
        ));
        assert!(matches!(
            parse_ini("[A]\nk=1\nK=2\n"),
            Err(ConfigError::Syntax { line: 3, .. })
        ));
    }
}
