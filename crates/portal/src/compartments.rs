//! `portal admin org-compartments`: a host operator assigns an organisation
//! its cloud compartments (the organisation boundary in the shared tenancy),
//! and the cloud facts the CLI needs for it and for the first-org demo rule.

use anyhow::Context;
use portal_core::{CloudMode, Settings};

/// The configured cloud's mode and tenancy OCID, read without serving it.
/// For the emulator, its config file (written whenever it starts) names the
/// tenancy; only a never-started emulator is opened (and seeded) here.
pub fn cloud(settings: &Settings) -> anyhow::Result<Option<(CloudMode, String)>> {
    let (path, profile) = match settings.cloud.mode {
        CloudMode::None => return Ok(None),
        CloudMode::Emulator => {
            let path = settings.data_dir.join("oci-emulator").join("config");
            if !path.exists() {
                portal_oci_emulator::Emulator::open(portal_oci_emulator::EmulatorConfig::new(
                    settings.data_dir.clone(),
                ))
                .context("opening the OCI emulator's state")?;
            }
            (path, "DEFAULT".to_string())
        }
        CloudMode::Oci => (
            settings
                .cloud
                .oci_config_file
                .clone()
                .unwrap_or_else(portal_oci::config::default_config_path),
            settings.cloud.oci_profile.clone(),
        ),
    };
    let config = portal_oci::config::load_config(&path, &profile)
        .with_context(|| format!("reading the tenancy from {}", path.display()))?;
    Ok(Some((settings.cloud.mode, config.tenancy)))
}

/// What to assign: the given OCIDs, the whole tenancy, or nothing.
pub enum Choice {
    /// These compartment OCIDs (comma-separated on the command line).
    Set(String),
    /// The whole tenancy (its OCID).
    All,
    /// Nothing: every tool call touching the cloud is refused.
    None,
}

/// Assigns `slug`'s compartments; prints what is now assigned.
pub async fn assign(
    settings: &Settings,
    ctx: &portal_core::service::Ctx<'_>,
    slug: &str,
    choice: Choice,
) -> anyhow::Result<()> {
    // The cloud's tenancy: needed for --all, checks a tenancy OCID given with --set.
    let tenancy = match choice {
        Choice::All => cloud(settings)?.map(|(_, t)| t),
        _ => cloud(settings).ok().flatten().map(|(_, t)| t),
    };
    let list: Vec<String> = match choice {
        Choice::Set(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Choice::All => match &tenancy {
            Some(tenancy) => vec![tenancy.clone()],
            None => anyhow::bail!(
                "--all: no cloud is configured (PORTAL_CLOUD=none); name the tenancy's OCID with --set"
            ),
        },
        Choice::None => Vec::new(),
    };
    let org = portal_core::service::compartments::assign_cli(ctx, slug, &list, tenancy.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if org.allowed_compartments.is_empty() {
        println!(
            "{}: no compartments assigned (tool calls touching the cloud are refused)",
            org.slug
        );
    } else {
        println!("{}: {}", org.slug, org.allowed_compartments.join(","));
    }
    Ok(())
}
