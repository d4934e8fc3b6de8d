//! The cloud that answers the tools: the embedded emulator, real OCI, or none.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fields;
use super::names::Name;

/// Which cloud answers the tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudMode {
    /// The in-process OCI emulator with its seeded demo tenancy (development default).
    Emulator,
    /// Real OCI (or a standalone emulator) through the OCI config file.
    Oci,
    /// No cloud: tools are unavailable.
    None,
}

impl CloudMode {
    /// Stable name, shown in `/health` and tool results.
    pub fn as_str(self) -> &'static str {
        match self {
            CloudMode::Emulator => "emulator",
            CloudMode::Oci => "oci",
            CloudMode::None => "none",
        }
    }
}

/// Cloud settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CloudSettings {
    /// Which cloud answers the tools (required in production).
    pub mode: CloudMode,
    /// OCI config file (`PORTAL_CLOUD=oci`); default `~/.oci/config`.
    pub oci_config_file: Option<PathBuf>,
    /// Profile in the OCI config file.
    pub oci_profile: String,
    /// Base URL that replaces every OCI service endpoint (e.g. a standalone emulator).
    #[serde(deserialize_with = "fields::optional_origin")]
    pub oci_endpoint: Option<String>,
    /// How long graph analytics and approval impacts reuse one read of an
    /// organisation's tenancy (0: read on every request; at most 60 s).
    #[serde(rename = "snapshot_ttl_ms", with = "fields::millis")]
    pub snapshot_ttl: Duration,
}

impl Default for CloudSettings {
    fn default() -> Self {
        Self {
            mode: CloudMode::Emulator,
            oci_config_file: None,
            oci_profile: "DEFAULT".into(),
            oci_endpoint: None,
            snapshot_ttl: Duration::from_secs(5),
        }
    }
}

/// The names of the cloud settings.
pub(super) const NAMES: &[Name] = &[
    Name::new("mode", "PORTAL_CLOUD"),
    Name::new("oci_config_file", "PORTAL_OCI_CONFIG_FILE").unset("~/.oci/config"),
    Name::new("oci_profile", "PORTAL_OCI_PROFILE"),
    Name::new("oci_endpoint", "PORTAL_OCI_ENDPOINT").unset("(OCI's endpoints)"),
    Name::new("snapshot_ttl_ms", "PORTAL_SNAPSHOT_TTL_MS"),
];
