//! `portal admin rekey`: rotates the master secret and, when the key lives in
//! the data dir, replaces its file — never before the database has the new
//! version, never losing the new key if that step fails.

use std::io::Read;

use anyhow::Context;
use portal_core::{Secret, Settings};

/// The name of the key file in the data dir (see `Settings::load_or_create_secret_key`).
const KEY_FILE: &str = "secret-key";

pub async fn run(settings: &Settings, new_key_stdin: bool) -> anyhow::Result<()> {
    let in_file = settings.secret_key.is_none();
    let new_key = if new_key_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the new key from standard input")?;
        text.trim().to_string()
    } else if in_file {
        hex::encode(portal_core::crypto::random_bytes::<32>())
    } else {
        anyhow::bail!(
            "--new-key-stdin is required when PORTAL_SECRET_KEY is set: pass the new key on standard input"
        );
    };
    if new_key.len() < 32 {
        anyhow::bail!("the new key must be at least 32 characters");
    }
    let app = portal_app::App::open_store(settings.clone(), true).await?;
    let path = settings.data_dir.join(KEY_FILE);
    let staged = settings.data_dir.join(format!("{KEY_FILE}.new"));
    if in_file {
        // Kept beside the old one until the rotation commits.
        portal_core::config::write_private_file(&staged, new_key.as_bytes())
            .with_context(|| format!("writing {}", staged.display()))?;
    }
    let report = match app.rekey(&Secret::new(new_key.into_bytes())).await {
        Ok(r) => r,
        Err(e) => {
            if in_file {
                let _ = std::fs::remove_file(&staged);
            }
            return Err(anyhow::anyhow!("{e}"));
        }
    };
    let total: u64 = report.columns.iter().map(|(_, n)| n).sum();
    for (column, n) in &report.columns {
        eprintln!("  {column}: {n}");
    }
    if in_file {
        std::fs::rename(&staged, &path).with_context(|| {
            format!(
                "the keys rotated but {} could not replace {}: move it there by hand",
                staged.display(),
                path.display()
            )
        })?;
        eprintln!(
            "re-sealed {total} secret(s) under key version {}; {} holds the new key: restart the portal",
            report.version,
            path.display()
        );
    } else {
        eprintln!(
            "re-sealed {total} secret(s) under key version {}; set PORTAL_SECRET_KEY to the new key on every replica and restart them",
            report.version
        );
    }
    Ok(())
}
