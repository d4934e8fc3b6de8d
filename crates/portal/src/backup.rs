//! `portal backup` and `portal restore`: SQLite through its online backup API;
//! PostgreSQL through its own tools, which these commands name.

use std::path::PathBuf;

use anyhow::Context;
use portal_app::App;
use portal_core::{DatabaseKind, Settings};
use portal_store::sqlite_backup;

const PG_BACKUP: &str = "PostgreSQL is backed up with its own tools, consistently while the portal serves:\n\
    \x20   pg_dump --format=custom --file=portal.dump \"$PORTAL_DATABASE_URL\"\n\
    and restored into a fresh database with:\n\
    \x20   createdb portal_restored && pg_restore --no-owner --dbname=postgres://…/portal_restored portal.dump\n\
    (see the README's \"Backups\")";

/// Writes a snapshot of the live database to `to`.
pub async fn backup(settings: Settings, to: PathBuf) -> anyhow::Result<()> {
    let DatabaseKind::Sqlite(db) = &settings.database.url else {
        anyhow::bail!("{PG_BACKUP}");
    };
    if !db.exists() {
        anyhow::bail!("{}: no database to back up", db.display());
    }
    let (src, dest) = (db.clone(), to.clone());
    let copied = tokio::task::spawn_blocking(move || sqlite_backup::backup(&src, &dest))
        .await
        .context("the backup task")??;
    println!(
        "backed up {} to {} ({} pages, schema version {})",
        db.display(),
        to.display(),
        copied.pages,
        copied.schema_version
    );
    Ok(())
}

/// Replaces the configured database with the backup at `from`, then migrates.
pub async fn restore(settings: Settings, from: PathBuf) -> anyhow::Result<()> {
    let DatabaseKind::Sqlite(db) = &settings.database.url else {
        anyhow::bail!("{PG_BACKUP}");
    };
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        portal_core::config::create_private_dir(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let (src, target) = (from.clone(), db.clone());
    let copied = tokio::task::spawn_blocking(move || sqlite_backup::restore(&src, &target))
        .await
        .context("the restore task")??;
    let app = App::open_store(settings.clone(), true).await?;
    let version = app.store.schema_version().await?;
    println!(
        "restored {} into {} (backup at schema version {}, now {}); check the audit chains with `portal audit verify`",
        from.display(),
        db.display(),
        copied.schema_version,
        version
    );
    Ok(())
}
