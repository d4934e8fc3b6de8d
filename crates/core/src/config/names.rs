//! The names of the settings: each concern keeps one table, the only place a
//! setting's environment variable is spelled.

/// One setting: its field (serde name) inside its concern and its variable.
pub(super) struct Name {
    /// The field's serde name, e.g. `request_timeout_secs` (TOML: `[http] request_timeout_secs`).
    pub(super) field: &'static str,
    /// The environment variable, e.g. `PORTAL_REQUEST_TIMEOUT_SECS`.
    pub(super) env: &'static str,
    /// What `portal config check` prints when the setting has no value.
    pub(super) unset: &'static str,
}

impl Name {
    /// A setting whose variable is `env`.
    pub(super) const fn new(field: &'static str, env: &'static str) -> Self {
        Name {
            field,
            env,
            unset: "(none)",
        }
    }

    /// Says what an empty value means in `config check`.
    pub(super) const fn unset(self, unset: &'static str) -> Self {
        Name { unset, ..self }
    }

    /// The flat TOML key every release has accepted: the variable without
    /// `PORTAL_`, in lower case (`rate_limit_api`).
    pub(super) fn flat_key(&self) -> String {
        self.env.trim_start_matches("PORTAL_").to_ascii_lowercase()
    }
}

/// A concern's table and where its struct sits in `Settings` (`""` = top level).
pub(super) struct Concern {
    pub(super) key: &'static str,
    pub(super) names: &'static [Name],
}

impl Concern {
    /// The dotted path of one of its fields, e.g. `http.bind`.
    pub(super) fn path(&self, name: &Name) -> String {
        if self.key.is_empty() {
            name.field.to_string()
        } else {
            format!("{}.{}", self.key, name.field)
        }
    }
}

/// Every setting as `(path, name)`, in the order `config check` prints them.
pub(super) fn all() -> impl Iterator<Item = (String, &'static Name)> {
    super::CONCERNS
        .iter()
        .flat_map(|c| c.names.iter().map(move |n| (c.path(n), n)))
}

/// The setting at a dotted path.
pub(super) fn by_path(path: &str) -> Option<&'static Name> {
    all().find(|(p, _)| p == path).map(|(_, n)| n)
}
