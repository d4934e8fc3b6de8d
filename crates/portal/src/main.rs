//! `portal`: the OCI Self-Service Portal in one binary.

mod logging;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use portal_core::Settings;

/// OCI Self-Service Portal: an AI-driven self-service portal for Oracle Cloud
/// Infrastructure. With no configuration it runs on an SQLite file in ./data;
/// every setting can come from a TOML file (--config) or PORTAL_* variables.
#[derive(Parser)]
#[command(name = "portal", version, propagate_version = true)]
struct Cli {
    /// Optional TOML configuration file (keys are the PORTAL_* names without
    /// the prefix, in lower case, e.g. `bind = "0.0.0.0:8080"`).
    #[arg(long, global = true, env = "PORTAL_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (JSON API, docs, metrics). Applies pending database
    /// migrations first unless PORTAL_SKIP_MIGRATIONS is set. Stops gracefully on
    /// SIGTERM or Ctrl-C.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets redacted.
    /// Exits non-zero, naming the offending setting, when something is wrong.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Config {
            command: ConfigCommand::Check,
        } => config_check(&settings),
        Command::Migrate => run(settings, migrate),
        Command::Serve => run(settings, serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run<F, Fut>(settings: Settings, f: F) -> anyhow::Result<()>
where
    F: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let _guard = logging::init(&settings)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f(settings))
}

fn config_check(settings: &Settings) -> anyhow::Result<()> {
    settings.load_or_create_secret_key()?;
    println!("configuration is valid");
    for (k, v) in settings.describe() {
        println!("{k}={v}");
    }
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let store = portal_store::open(&settings, true)
        .await
        .context("opening the database")?;
    let version = store.schema_version().await?;
    println!("database is at schema version {version}");
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    settings.load_or_create_secret_key()?;
    let store = portal_store::open(&settings, !settings.skip_migrations)
        .await
        .context("opening the database")?;
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("binding {}", settings.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, public_url = %settings.public_url, database = store.backend().as_str(), "portal listening");
    let state = portal_api::AppState::new(settings, store);
    portal_api::serve(listener, state, portal_api::shutdown_signal()).await?;
    tracing::info!("portal stopped");
    Ok(())
}
