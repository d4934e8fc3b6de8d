//! An Oracle Cloud Infrastructure emulator speaking OCI's REST wire format.
//!
//! The portal uses it as its embedded default cloud and every test uses it as the
//! cloud under test: one HTTP listener serves Compute, VirtualNetwork,
//! Blockstorage, Object Storage, Autonomous Database, Identity, Load Balancer,
//! Monitoring, Logging Search, Usage, Resource Search, Limits/Quotas and the
//! Instance Agent, routed by path (see [`routes`]). Every request must carry a
//! valid OCI HTTP signature ([`auth`]); resources move through OCI's lifecycle
//! states on a configurable clock ([`lifecycle`]); state persists to
//! `<data dir>/oci-emulator/state.json`; a deterministic demo tenancy is seeded on
//! first start, with its API key and an OCI SDK config file written next to it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use portal_oci_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::open(EmulatorConfig::new("/tmp/portal-data"))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! println!("config: {}", emu.config_path().display());
//! emu.serve(listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod catalog;
pub mod faults;
mod generate;
mod idempotency;
mod keys;
pub mod lifecycle;
pub mod logquery;
pub mod logs;
pub mod metrics;
pub mod mql;
pub mod routes;
pub mod searchql;
mod seed;
mod server;
mod services;
mod shared;
pub mod state;
pub mod wire;

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use portal_oci::signer::{PrivateKey, RequestSigner};
use portal_oci::verify::PublicKey;

pub use faults::FaultPlan;
pub use routes::{Operation, OPERATIONS};

/// Errors opening or serving the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A file or directory could not be read or written.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `state.json` exists but is not valid.
    #[error("state file {path} is corrupt: {source}")]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// `state.json` was written by an incompatible version.
    #[error("state file version {0} is not supported")]
    UnsupportedStateVersion(u32),
    /// The demo key could not be generated, read or used.
    #[error("demo API key: {0}")]
    Key(String),
    /// A public key given to [`Emulator::add_api_key`] is not a valid RSA key.
    #[error("invalid public key: {0}")]
    InvalidPublicKey(#[from] portal_oci::KeyError),
    /// The configuration is not usable.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The HTTP server failed.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

/// How to open an emulator.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// The portal's data directory; the emulator keeps everything under
    /// `<data_dir>/oci-emulator/`.
    pub data_dir: PathBuf,
    /// Time each lifecycle transition takes (PROVISIONING → RUNNING, ...).
    /// Default 2 s; tests use zero or a few milliseconds.
    pub transition_delay: Duration,
    /// Region the emulator pretends to be (home region of the demo tenancy).
    pub region: String,
    /// Reject requests whose `date` is more than 5 minutes away from now, as OCI
    /// does. Turn off only to replay fixed-date signing vectors.
    pub verify_clock_skew: bool,
    /// How long a successful POST's `opc-retry-token` is remembered (OCI: 24 h).
    pub retry_token_ttl: Duration,
    /// About how many generated resources to add to a freshly seeded
    /// tenancy (benchmarks; 0: the demo tenancy alone).
    pub generate: usize,
}

impl EmulatorConfig {
    /// Defaults: 2 s transitions, `us-ashburn-1`, clock-skew check on, retry
    /// tokens kept 24 h.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            transition_delay: Duration::from_secs(2),
            region: "us-ashburn-1".to_string(),
            verify_clock_skew: true,
            retry_token_ttl: Duration::from_secs(24 * 3600),
            generate: 0,
        }
    }
}

/// A running emulator instance. Cheap to clone: all clones share one state.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("dir", &self.inner.dir)
            .field("tenancy", &self.inner.tenancy_id)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) config: EmulatorConfig,
    pub(crate) dir: PathBuf,
    pub(crate) state_path: PathBuf,
    pub(crate) blob_dir: PathBuf,
    pub(crate) config_path: PathBuf,
    pub(crate) key_path: PathBuf,
    pub(crate) tenancy_id: String,
    pub(crate) demo_user_id: String,
    pub(crate) demo_key_id: String,
    pub(crate) demo_key_pem: String,
    pub(crate) state: Mutex<state::State>,
    /// `state.json` shared with other processes on the same data directory.
    pub(crate) shared: shared::SharedState,
    pub(crate) keys: RwLock<HashMap<String, PublicKey>>,
    pub(crate) faults: Mutex<Vec<FaultPlan>>,
    pub(crate) retry_tokens: Mutex<idempotency::RetryTokens>,
    pub(crate) faults_served: AtomicU64,
    pub(crate) requests_served: AtomicU64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EmulatorError + '_ {
    move |source| EmulatorError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Emulator {
    /// Open the emulator in `config.data_dir`: load `state.json` or seed the demo
    /// tenancy, load or generate the demo user's RSA key, and (re)write the OCI
    /// SDK config file.
    pub fn open(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        if config.region.trim().is_empty() {
            return Err(EmulatorError::InvalidConfig("region is empty".into()));
        }
        let dir = config.data_dir.join("oci-emulator");
        state::create_private_dir(&dir).map_err(io_err(&dir))?;
        // Absolute paths, so the config file works from any working directory.
        let dir = std::fs::canonicalize(&dir).map_err(io_err(&dir))?;
        let blob_dir = dir.join("objects");
        state::create_private_dir(&blob_dir).map_err(io_err(&blob_dir))?;
        let state_path = dir.join("state.json");
        let key_path = dir.join("demo_user_key.pem");
        let config_path = dir.join("config");

        let key = keys::load_or_create(&key_path)?;

        let shared = shared::SharedState::open(&dir, &state_path)?;
        let held = shared.lock()?;
        let mut st = match state::load(&state_path)? {
            Some(st) => st,
            None => {
                let now = wire::now_ms();
                let mut st = seed::seed(&config.region, now, &blob_dir)?;
                generate::grow(&mut st, now, &blob_dir, config.generate)?;
                st
            }
        };
        st.meta.region = config.region.clone();
        let bytes = serde_json::to_vec(&st)
            .map_err(|e| EmulatorError::InvalidConfig(format!("cannot serialise state: {e}")))?;
        shared.write(&held, &bytes).map_err(io_err(&state_path))?;
        drop(held);

        let tenancy_id = st.meta.tenancy_id.clone();
        let demo_user_id = st.meta.demo_user_id.clone();
        let demo_key_id = format!("{tenancy_id}/{demo_user_id}/{}", key.fingerprint);
        keys::write_config(
            &config_path,
            &demo_user_id,
            &key.fingerprint,
            &tenancy_id,
            &config.region,
            &key_path,
        )?;

        let mut key_map = HashMap::new();
        key_map.insert(demo_key_id.clone(), key.public.clone());

        Ok(Self {
            inner: Arc::new(Inner {
                config,
                dir,
                state_path,
                blob_dir,
                config_path,
                key_path,
                tenancy_id,
                demo_user_id,
                demo_key_id,
                demo_key_pem: key.private_pem,
                state: Mutex::new(st),
                shared,
                keys: RwLock::new(key_map),
                faults: Mutex::new(Vec::new()),
                retry_tokens: Mutex::new(idempotency::RetryTokens::default()),
                faults_served: AtomicU64::new(0),
                requests_served: AtomicU64::new(0),
            }),
        })
    }

    /// The axum router serving every OCI service; mount it on a loopback listener
    /// to embed the emulator in another process.
    pub fn router(&self) -> axum::Router {
        server::router(self.clone())
    }

    /// Serve on `listener` until `shutdown` resolves.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), EmulatorError> {
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(EmulatorError::Serve)
    }

    /// The OCI CLI/SDK config file (`[DEFAULT]` profile for the demo user).
    pub fn config_path(&self) -> &Path {
        &self.inner.config_path
    }

    /// The demo user's private key file (PKCS#8 PEM, mode 0600).
    pub fn key_path(&self) -> &Path {
        &self.inner.key_path
    }

    /// `<data dir>/oci-emulator`.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The demo tenancy's OCID.
    pub fn tenancy_id(&self) -> &str {
        &self.inner.tenancy_id
    }

    /// The demo user's OCID.
    pub fn demo_user_id(&self) -> &str {
        &self.inner.demo_user_id
    }

    /// The demo key's `keyId` (`tenancy/user/fingerprint`).
    pub fn demo_key_id(&self) -> &str {
        &self.inner.demo_key_id
    }

    /// The Object Storage namespace of the demo tenancy.
    pub fn namespace(&self) -> String {
        self.lock_state().meta.namespace.clone()
    }

    /// The region the emulator serves.
    pub fn region(&self) -> &str {
        &self.inner.config.region
    }

    /// A request signer for the demo user's API key.
    pub fn demo_signer(&self) -> RequestSigner {
        // The PEM was generated or parsed successfully in `open`, so parsing the
        // same text again cannot fail.
        #[allow(clippy::expect_used)]
        let key = PrivateKey::from_pem(&self.inner.demo_key_pem, None)
            .expect("demo key was validated when the emulator was opened");
        RequestSigner::new(self.inner.demo_key_id.clone(), key)
    }

    /// Accept signatures made with `key_id` (`tenancy/user/fingerprint`) and the
    /// matching private key. Registered keys live in memory only.
    pub fn add_api_key(&self, key_id: &str, public_pem: &str) -> Result<(), EmulatorError> {
        let key = PublicKey::from_pem(public_pem)?;
        self.inner
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key_id.to_string(), key);
        Ok(())
    }

    /// Answer the next `plan.count` requests matching `plan.path_prefix` with
    /// `plan.status` and an OCI error body, to exercise client retries.
    pub fn inject_faults(&self, plan: FaultPlan) {
        self.inner
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(plan);
    }

    /// How many injected faults have been answered so far.
    pub fn faults_served(&self) -> u64 {
        self.inner.faults_served.load(Ordering::Relaxed)
    }

    /// How many requests (of any outcome) have been answered so far.
    pub fn requests_served(&self) -> u64 {
        self.inner.requests_served.load(Ordering::Relaxed)
    }

    /// The implemented operations (name, method, path template).
    pub fn operations() -> &'static [Operation] {
        OPERATIONS
    }

    pub(crate) fn lock_state(&self) -> std::sync::MutexGuard<'_, state::State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
