//! `portal`: the OCI Self-Service Portal in one binary.

mod backup;
mod cli_input;
mod compartments;
mod healthcheck;
mod logging;
mod rekey;
#[cfg(feature = "otlp")]
mod telemetry;

/// mimalloc: request handling allocates many small, short-lived buffers on
/// several threads, where glibc's allocator spends its time in locks and
/// consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use portal_app::App;
use portal_core::config::Role;
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
    Serve {
        /// all (one process), api (API, MCP, metrics, background work; no
        /// pages) or web (pages and health; /api/* forwarded to --api-upstream).
        #[arg(long, value_name = "ROLE")]
        role: Option<portal_core::config::Role>,
        /// With --role web: the API tier's origin, e.g. http://10.0.2.15:8080.
        #[arg(long, value_name = "URL")]
        api_upstream: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage accounts (headless installs).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Create and revoke API keys.
    #[command(name = "api-key")]
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Check the tamper-evident audit ledger.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Copy the SQLite database into a new file while the portal keeps serving
    /// (SQLite's online backup API: one consistent snapshot). For PostgreSQL
    /// use pg_dump (the README's "Backups" shows the commands).
    Backup {
        /// The new backup file (never overwritten).
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace the SQLite database with a backup, then apply pending
    /// migrations. Refuses a backup from a newer schema. Stop the portal first.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
    /// Ask the running portal's /healthz (on PORTAL_BIND, or --addr); exits 0
    /// only when it answers 200. For container health checks.
    Healthz {
        /// Address to ask instead of the configured bind address.
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
    },
    /// Search indexes.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// List and run cloud tools (through the same gateway as the API).
    Tools {
        #[command(subcommand)]
        command: ToolsCommand,
    },
    /// Run the OCI emulator standalone: OCI's REST wire format, request
    /// signatures verified, a seeded demo tenancy kept in <data dir>/oci-emulator/.
    /// Writes an OCI config file and key for its demo user that the official OCI
    /// CLI and SDKs use unchanged (`--config-file F --endpoint URL`).
    #[command(name = "oci-emulator")]
    OciEmulator {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9090")]
        bind: std::net::SocketAddr,
        /// Time a resource spends in a transitional state (PROVISIONING, STOPPING, …), in ms.
        #[arg(long, default_value_t = 2000)]
        delay_ms: u64,
        /// Add about this many generated resources (VCNs, subnets, instances,
        /// VNICs, volumes) to a freshly seeded tenancy, for benchmarks.
        #[arg(long, default_value_t = 0)]
        generate: usize,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user (or reset an existing user's password) and make them a
    /// member of an organisation, creating the organisation if it is missing.
    /// The password is read from standard input.
    CreateUser {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Role in the organisation: admin, operator or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Also make the user a platform admin (creates organisations).
        #[arg(long)]
        platform_admin: bool,
        /// Read the password from standard input (required).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Assign an organisation the cloud compartments its tools may act in (with
    /// their sub-compartments); audited. New organisations have none, except the
    /// first one under the embedded emulator, which gets the demo tenancy.
    #[command(name = "org-compartments")]
    #[command(group(clap::ArgGroup::new("what").required(true).args(["set", "all", "none"])))]
    OrgCompartments {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Compartment OCIDs, comma-separated (the tenancy's OCID: the whole tenancy).
        #[arg(long, value_name = "OCID,...")]
        set: Option<String>,
        /// The whole tenancy.
        #[arg(long)]
        all: bool,
        /// Take every compartment away.
        #[arg(long)]
        none: bool,
    },
    /// Rotate the master secret: re-seal every sealed secret (webhook, IdP,
    /// AI provider secrets, parked tool arguments) under a new key, in one
    /// transaction. Stop the replicas first; restart them with the new key.
    /// Without PORTAL_SECRET_KEY the data dir's key file is replaced.
    Rekey {
        /// Read the new key (at least 32 characters) from standard input; without
        /// it a random key is generated (only when the key lives in the data dir).
        #[arg(long)]
        new_key_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it (only the key) on standard output. Without
    /// --user the key is a service principal with exactly the listed permissions;
    /// with --user it acts as that member (listed ∩ the member's permissions).
    Create {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Key name, unique in the organisation.
        #[arg(long)]
        name: String,
        /// Comma-separated permissions, e.g. tools:read,sessions:read.
        #[arg(long, value_delimiter = ',')]
        permissions: Vec<String>,
        /// Act as this member (email).
        #[arg(long)]
        user: Option<String>,
        /// The member (email) accountable for a service key: four-eyes treats
        /// the key and this person as one. Without it the key cannot take part
        /// in four-eyes decisions.
        #[arg(long)]
        created_by: Option<String>,
        /// Expire after this many days.
        #[arg(long)]
        expires_days: Option<i64>,
    },
    /// Revoke a key by name.
    Revoke {
        /// Organisation slug.
        #[arg(long)]
        org: String,
        /// Key name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum ToolsCommand {
    /// The catalogue: name, risk, category and description of every tool.
    List,
    /// Run a tool as the principal of an API key, through the gateway (permissions,
    /// validation, approvals, audit, activity), against the configured cloud.
    /// Prints the result as JSON; exits 3 when an approval is needed first.
    ///
    /// Secrets never go on the command line (other users see it in the process
    /// list, and it stays in shell history): secret arguments (a script, a
    /// password, cloud-init user data) only through --args-file, the key only
    /// through PORTAL_API_KEY or --api-key-file.
    Run {
        /// Tool name, e.g. listInstances.
        name: String,
        /// Arguments as a JSON object, for tools without secret arguments (default `{}`).
        #[arg(long, conflicts_with = "args_file")]
        args: Option<String>,
        /// Read the arguments (a JSON object) from this file; `-` reads standard input.
        #[arg(long, value_name = "PATH")]
        args_file: Option<PathBuf>,
        /// Read the API key to act as from this file; `-` reads standard input
        /// (default: the PORTAL_API_KEY environment variable).
        #[arg(long, value_name = "PATH")]
        api_key_file: Option<PathBuf>,
        /// Refused: use PORTAL_API_KEY or --api-key-file.
        #[arg(long, hide = true)]
        api_key: Option<String>,
        /// Spend this granted approval.
        #[arg(long)]
        approval_id: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute a chain (an organisation's, or the system chain without --org).
    /// Exits 0 only when it is intact.
    Verify {
        /// Organisation slug.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Embed every stored message that has no vector of the configured
    /// embedder's model (all of them after a model change), printing progress.
    Reindex,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets redacted.
    /// Exits non-zero, naming the offending setting, when something is wrong.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `serve`'s flags are one more layer over the environment (same checks, same names).
    let flags: Vec<(String, String)> = match &cli.command {
        Command::Serve { role, api_upstream } => role
            .map(|r| ("PORTAL_ROLE".to_string(), r.as_str().to_string()))
            .into_iter()
            .chain(
                api_upstream
                    .clone()
                    .map(|u| ("PORTAL_API_UPSTREAM".to_string(), u)),
            )
            .collect(),
        _ => Vec::new(),
    };
    let settings = match Settings::load(cli.config.as_deref(), std::env::vars().chain(flags)) {
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
        Command::Migrate => run(settings, logging::Sink::Stderr, migrate),
        Command::Serve { .. } => run(settings, logging::Sink::Stdout, serve),
        Command::Admin { command } => {
            run(settings, logging::Sink::Stderr, move |s| admin(s, command))
        }
        Command::ApiKey { command } => run(settings, logging::Sink::Stderr, move |s| {
            api_key(s, command)
        }),
        Command::Tools {
            command: ToolsCommand::List,
        } => {
            for t in portal_tools::TOOLS {
                println!(
                    "{:<26} {:<8} {:<14} {}",
                    t.name,
                    t.risk.as_str(),
                    t.category,
                    t.description
                );
            }
            Ok(())
        }
        Command::Tools {
            command:
                ToolsCommand::Run {
                    name,
                    args,
                    args_file,
                    api_key_file,
                    api_key,
                    approval_id,
                },
        } => match cli_input::tool_input(&name, args, args_file, api_key_file, api_key) {
            Ok((args, key)) => run(settings, logging::Sink::Stderr, move |s| {
                tools_run(s, name, args, key, approval_id)
            }),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        Command::OciEmulator {
            bind,
            delay_ms,
            generate,
        } => run(settings, logging::Sink::Stderr, move |s| {
            oci_emulator(s, bind, delay_ms, generate)
        }),
        Command::Audit { command } => {
            run(settings, logging::Sink::Stderr, move |s| audit(s, command))
        }
        Command::Healthz { addr } => {
            healthcheck::check(addr.unwrap_or_else(|| healthcheck::target(settings.http.bind)))
        }
        Command::Backup { to } => run(settings, logging::Sink::Stderr, move |s| {
            backup::backup(s, to)
        }),
        Command::Restore { from } => run(settings, logging::Sink::Stderr, move |s| {
            backup::restore(s, from)
        }),
        Command::Search {
            command: SearchCommand::Reindex,
        } => run(settings, logging::Sink::Stderr, reindex),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run<F, Fut>(settings: Settings, sink: logging::Sink, f: F) -> anyhow::Result<()>
where
    F: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let _guard = logging::init(&settings, sink)?;
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
    let app = App::open_store(settings, true).await?;
    let version = app.store.schema_version().await?;
    println!("database is at schema version {version}");
    Ok(())
}

/// Descriptors kept back from the connection cap for the database pool, SQLite
/// files, the in-process emulator, logs and the runtime itself.
const RESERVED_DESCRIPTORS: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (systemd and shells often
/// start services at 1024 or less) and returns the soft limit now in force.
#[cfg(unix)]
fn raise_nofile_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass, which lives on this frame.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = lim.rlim_max;
        }
    }
    Some(lim.rlim_cur)
}

#[cfg(not(unix))]
fn raise_nofile_limit() -> Option<u64> {
    None
}

/// Keeps the connection cap below the descriptor limit, so the cap (not the
/// kernel) decides which connections are refused and the server stays reachable.
fn fit_connection_cap(settings: &mut Settings) {
    let Some(limit) = raise_nofile_limit() else {
        return;
    };
    let room =
        usize::try_from(limit.saturating_sub(RESERVED_DESCRIPTORS).max(16)).unwrap_or(usize::MAX);
    if settings.limits.max_connections > room {
        tracing::warn!(
            configured = settings.limits.max_connections,
            effective = room,
            nofile = limit,
            "PORTAL_MAX_CONNECTIONS lowered to fit the open-file limit"
        );
        settings.limits.max_connections = room;
    }
}

async fn serve(mut settings: Settings) -> anyhow::Result<()> {
    fit_connection_cap(&mut settings);
    let bind = settings.http.bind;
    let role = settings.http.role;
    let upstream = portal_http::proxy::Upstream::from_settings(&settings.http)?;
    let app = App::open(settings).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, role = role.as_str(), api_upstream = upstream.as_ref().map(|u| u.base()), public_url = %app.settings.http.public_url, database = app.store.backend().as_str(), "portal listening");
    if let Some(token) = app.prepare_setup().await? {
        let path = app.settings.data_dir.join(portal_app::setup::TOKEN_FILE);
        eprintln!(
            "\nNo admin exists yet. Open this link to create the first one (it carries a one-time\n\
             setup token, also in {}):\n\n    {}/setup?token={token}\n\n\
             or with curl:\n\n\
             curl -X POST {}/api/setup/admin -H 'Authorization: Bearer {token}' \\\n\
             \x20    -H 'Content-Type: application/json' \\\n\
             \x20    -d '{{\"email\":\"you@example.com\",\"password\":\"…12+ characters…\",\"name\":\"You\",\"orgName\":\"Acme\"}}'\n\
             or headless: portal admin create-user --help\n",
            path.display(),
            app.settings.http.public_url,
            app.settings.http.public_url
        );
    }
    let state = portal_http::AppState::of_tier(app, upstream);
    // The API tier serves no pages (they 404 as JSON); the web tier keeps the
    // API's routes for /health, /healthz and whatever PORTAL_PROXY_ROUTES leaves local.
    let router = match role {
        Role::Api => portal_http::pipeline(state.clone(), portal_api::router(&state), None),
        Role::All | Role::Web => {
            let routes = portal_api::router(&state).merge(portal_web::router());
            portal_http::pipeline(state.clone(), routes, Some(portal_web::error_page))
        }
    };
    portal_http::serve_router(listener, state, router, portal_http::shutdown_signal()).await?;
    tracing::info!("portal stopped");
    Ok(())
}

/// Opens (and migrates) the database and derives the keys, for CLI commands.
async fn open(settings: &Settings) -> anyhow::Result<App> {
    Ok(App::open_store(settings.clone(), true).await?)
}

async fn admin(settings: Settings, command: AdminCommand) -> anyhow::Result<()> {
    let (email, name, org, role, platform_admin, password_stdin) = match command {
        AdminCommand::CreateUser {
            email,
            name,
            org,
            role,
            platform_admin,
            password_stdin,
        } => (email, name, org, role, platform_admin, password_stdin),
        AdminCommand::Rekey { new_key_stdin } => return rekey::run(&settings, new_key_stdin).await,
        AdminCommand::OrgCompartments {
            org,
            set,
            all,
            none: _,
        } => {
            let choice = match (set, all) {
                (Some(list), _) => compartments::Choice::Set(list),
                (None, true) => compartments::Choice::All,
                (None, false) => compartments::Choice::None,
            };
            let app = open(&settings).await?;
            return compartments::assign(&settings, &app.system_ctx("portal-cli"), &org, choice)
                .await;
        }
    };
    if !password_stdin {
        anyhow::bail!("--password-stdin is required: pass the password on standard input, never as an argument");
    }
    let role: portal_core::rbac::Role = role
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    let app = open(&settings).await?;
    // Only the embedded emulator's first organisation is given compartments here.
    let cloud = match settings.cloud.mode {
        portal_core::CloudMode::Emulator => compartments::cloud(&settings).unwrap_or_else(|e| {
            eprintln!("warning: {e:#}; the organisation gets no cloud compartments");
            None
        }),
        _ => None,
    };
    let done = portal_core::service::setup::create_user_cli(
        &app.system_ctx("portal-cli"),
        &email,
        &name,
        &org,
        role,
        platform_admin,
        password,
        cloud.as_ref().map(|(mode, t)| (*mode, t.as_str())),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(path) =
        Some(settings.data_dir.join(portal_app::setup::TOKEN_FILE)).filter(|p| p.exists())
    {
        let _ = std::fs::remove_file(path);
    }
    println!(
        "user {} ({}) is {} of {}{}{}",
        done.user.email,
        done.user.id,
        role.as_str(),
        done.org.slug,
        if done.org_created {
            " (organisation created)"
        } else {
            ""
        },
        if done.user.platform_admin {
            "; platform admin"
        } else {
            ""
        }
    );
    Ok(())
}

async fn api_key(settings: Settings, command: ApiKeyCommand) -> anyhow::Result<()> {
    let app = open(&settings).await?;
    let ctx = app.system_ctx("portal-cli");
    match command {
        ApiKeyCommand::Create {
            org,
            name,
            permissions,
            user,
            created_by,
            expires_days,
        } => {
            let created = portal_core::service::keys::create_cli(
                &ctx,
                &org,
                &name,
                &permissions,
                user.as_deref(),
                created_by.as_deref(),
                expires_days,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", created.key);
        }
        ApiKeyCommand::Revoke { org, name } => {
            portal_core::service::keys::revoke_cli(&ctx, &org, &name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("revoked {name} in {org}");
        }
    }
    Ok(())
}

async fn reindex(settings: Settings) -> anyhow::Result<()> {
    let app = open(&settings).await?;
    app.connect_embedder().await?;
    let done = app
        .reindex(|done, total| eprintln!("reindex: {done}/{total} messages embedded"))
        .await?;
    println!("reindex: done, {done} messages embedded");
    Ok(())
}

async fn audit(settings: Settings, command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { org } = command;
    let app = open(&settings).await?;
    let (store, ctx) = (&app.store, app.system_ctx("portal-cli"));
    let chain = match &org {
        Some(slug) => {
            let o = store
                .org_by_slug(slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("organisation {slug:?} not found"))?;
            portal_core::audit::org_chain(&o.id)
        }
        None => portal_core::audit::SYSTEM_CHAIN.to_string(),
    };
    let v = portal_core::service::audit::verify_chain(&ctx, &chain)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&v)?);
    if v.valid {
        Ok(())
    } else {
        anyhow::bail!(
            "audit chain {chain} is NOT intact: {}",
            v.reason.unwrap_or_default()
        )
    }
}

async fn oci_emulator(
    settings: Settings,
    bind: std::net::SocketAddr,
    delay_ms: u64,
    generate: usize,
) -> anyhow::Result<()> {
    let mut config = portal_oci_emulator::EmulatorConfig::new(settings.data_dir.clone());
    config.transition_delay = std::time::Duration::from_millis(delay_ms);
    config.generate = generate;
    let emulator =
        portal_oci_emulator::Emulator::open(config).context("opening the OCI emulator")?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    println!("OCI emulator listening on {endpoint}");
    println!("config: {}", emulator.config_path().display());
    println!(
        "try:    oci --config-file {} --endpoint {endpoint} iam compartment list",
        emulator.config_path().display()
    );
    emulator
        .serve(listener, portal_http::shutdown_signal())
        .await
        .context("serving the OCI emulator")?;
    Ok(())
}

struct NoMetrics;

impl portal_core::service::tools::GatewayHooks for NoMetrics {
    fn executed(&self, _: &str, _: &str, _: f64) {}
}

async fn tools_run(
    settings: Settings,
    name: String,
    args: serde_json::Value,
    api_key: String,
    approval_id: Option<String>,
) -> anyhow::Result<()> {
    let app = open(&settings).await?;
    let now = portal_core::identity::now_ms();
    let principal = portal_core::identity::resolve_api_key(app.store.as_ref(), api_key.trim(), now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("the API key is unknown, expired or revoked"))?;
    let cloud = app
        .connect_cloud()
        .await?
        .ok_or_else(|| anyhow::anyhow!("PORTAL_CLOUD=none: no cloud to run tools against"))?;
    let ctx = app.system_ctx("portal-cli");
    let approval_id = approval_id.map(portal_core::ids::ApprovalId::from);
    let req = portal_core::service::tools::Request {
        name: &name,
        args: &args,
        tool_call_id: None,
        approval_id: approval_id.as_ref(),
    };
    let outcome = portal_core::service::tools::execute(
        &ctx,
        cloud.tools.as_ref(),
        &NoMetrics,
        &principal,
        req,
        portal_app::TOOL_TIMEOUT,
    )
    .await;
    app.shutdown.cancel();
    match outcome {
        Ok(done) => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"executionId": done.id, "tool": done.spec.name, "cloud": done.cloud, "durationMs": done.duration_ms, "result": done.result})
                )?
            );
            Ok(())
        }
        Err(portal_core::CoreError::ApprovalRequired(a)) => {
            eprintln!("{name} needs an approval: approvalId {} (approvers decide at {}); run again once it is granted", a.id, portal_core::service::approvals::approve_url(&settings.http.public_url, &a.id));
            std::process::exit(3);
        }
        Err(e) => anyhow::bail!("{e}"),
    }
}
