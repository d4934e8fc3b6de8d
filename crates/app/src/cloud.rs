//! The cloud the tools talk to: the in-process OCI emulator (the embedded
//! default), real OCI through the OCI config file, or none. Either way the
//! production code path is the same: a signed REST client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_core::health::{Check, Status};
use portal_core::{CloudMode, Settings};
use portal_oci::client::{ClientOptions, OciClient, RequestOptions};
use portal_oci::endpoint::Service;
use portal_oci_emulator::{Emulator, EmulatorConfig};
use tokio_util::sync::CancellationToken;

/// A connected cloud.
pub struct Cloud {
    /// Which cloud answers (`emulator` or `oci`), named in health and tool results.
    pub mode: CloudMode,
    /// The signed REST client.
    pub client: OciClient,
    /// The tenancy's OCID.
    pub tenancy: String,
    /// Home region.
    pub region: String,
    /// Where requests go when not OCI's own endpoints.
    pub endpoint: Option<String>,
    /// The tool catalogue running against this cloud.
    pub tools: Arc<dyn portal_core::service::tools::ToolRunner>,
    /// The last check and when it ran: readiness probes may come many times a
    /// second, a signed round trip is not needed for each.
    last_check: std::sync::Mutex<Option<(Instant, Check)>>,
    /// Held while one caller refreshes the check (single flight).
    refreshing: tokio::sync::Mutex<()>,
}

/// How long a cloud check result is reused.
const CHECK_TTL: Duration = Duration::from_secs(5);

fn tools(
    client: &OciClient,
    tenancy: &str,
    mode: CloudMode,
) -> Arc<dyn portal_core::service::tools::ToolRunner> {
    Arc::new(portal_tools::OciTools::new(
        client.clone(),
        tenancy,
        mode.as_str(),
    ))
}

/// Why the cloud could not be set up; start-up stops with this message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CloudError(String);

fn options(endpoint: Option<&str>) -> Result<ClientOptions, CloudError> {
    let endpoint_override = match endpoint {
        Some(e) => Some(
            e.parse()
                .map_err(|e| CloudError(format!("PORTAL_OCI_ENDPOINT: {e}")))?,
        ),
        None => None,
    };
    Ok(ClientOptions {
        endpoint_override,
        timeout: Duration::from_secs(30),
        ..ClientOptions::default()
    })
}

/// Connects the configured cloud. For the emulator, starts it in-process on a
/// loopback port (its state lives in `<data dir>/oci-emulator/`) until `shutdown`.
pub async fn connect(
    settings: &Settings,
    shutdown: CancellationToken,
) -> Result<Option<Arc<Cloud>>, CloudError> {
    match settings.cloud.mode {
        CloudMode::None => Ok(None),
        CloudMode::Emulator => {
            let data_dir = settings.data_dir.clone();
            let emulator =
                tokio::task::spawn_blocking(move || Emulator::open(EmulatorConfig::new(data_dir)))
                    .await
                    .map_err(|e| CloudError(format!("starting the OCI emulator: {e}")))?
                    .map_err(|e| CloudError(format!("starting the OCI emulator: {e}")))?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| CloudError(format!("binding the OCI emulator: {e}")))?;
            let addr = listener
                .local_addr()
                .map_err(|e| CloudError(e.to_string()))?;
            let endpoint = format!("http://{addr}");
            let server = emulator.clone();
            tokio::spawn(async move {
                if let Err(e) = server.serve(listener, shutdown.cancelled_owned()).await {
                    tracing::error!(error = %e, "the in-process OCI emulator stopped");
                }
            });
            let client = OciClient::new(
                emulator.demo_signer(),
                emulator.region(),
                options(Some(&endpoint))?,
            )
            .map_err(|e| CloudError(format!("OCI client: {e}")))?;
            tracing::info!(%endpoint, config = %emulator.config_path().display(), "in-process OCI emulator running");
            Ok(Some(Arc::new(Cloud {
                mode: CloudMode::Emulator,
                tools: tools(&client, emulator.tenancy_id(), CloudMode::Emulator),
                client,
                tenancy: emulator.tenancy_id().to_string(),
                region: emulator.region().to_string(),
                endpoint: Some(endpoint),
                last_check: std::sync::Mutex::new(None),
                refreshing: tokio::sync::Mutex::new(()),
            })))
        }
        CloudMode::Oci => {
            let path = settings
                .cloud
                .oci_config_file
                .clone()
                .unwrap_or_else(portal_oci::config::default_config_path);
            let config = portal_oci::config::load_config(&path, &settings.cloud.oci_profile)
                .map_err(|e| CloudError(format!("PORTAL_OCI_CONFIG_FILE: {e}")))?;
            let client =
                OciClient::from_config(&config, options(settings.cloud.oci_endpoint.as_deref())?)
                    .map_err(|e| CloudError(format!("PORTAL_OCI_CONFIG_FILE: {e}")))?;
            Ok(Some(Arc::new(Cloud {
                mode: CloudMode::Oci,
                tools: tools(&client, &config.tenancy, CloudMode::Oci),
                client,
                tenancy: config.tenancy.clone(),
                region: config.region.clone(),
                endpoint: settings.cloud.oci_endpoint.clone(),
                last_check: std::sync::Mutex::new(None),
                refreshing: tokio::sync::Mutex::new(()),
            })))
        }
    }
}

impl Cloud {
    fn cached(&self) -> Option<Check> {
        let last = self.last_check.lock().ok()?;
        last.as_ref()
            .filter(|(at, _)| at.elapsed() < CHECK_TTL)
            .map(|(_, c)| c.clone())
    }

    /// The cloud's health, from a check at most [`CHECK_TTL`] old. Concurrent
    /// callers share one signed call: the first refreshes, the others wait for it,
    /// so no number of `/health` requests makes more than one call per TTL.
    pub async fn check(&self, timeout: Duration) -> Check {
        if let Some(c) = self.cached() {
            return c;
        }
        let _one = self.refreshing.lock().await;
        if let Some(c) = self.cached() {
            return c;
        }
        let c = self.check_now(timeout).await;
        if let Ok(mut last) = self.last_check.lock() {
            *last = Some((Instant::now(), c.clone()));
        }
        c
    }

    /// A signed `GetTenancy` round trip: proves reachability and credentials.
    /// Not critical: the portal serves without its cloud (tools report errors).
    pub async fn check_now(&self, timeout: Duration) -> Check {
        let mut details = serde_json::Map::new();
        details.insert("cloud".into(), self.mode.as_str().into());
        details.insert("region".into(), self.region.clone().into());
        let start = Instant::now();
        let path = format!("/tenancies/{}", self.tenancy);
        let service = Service::IDENTITY;
        let opts = RequestOptions::default();
        let call = self
            .client
            .send(http::Method::GET, &service, &path, &[], None, &opts);
        let status = match tokio::time::timeout(timeout, call).await {
            Ok(Ok(_)) => Status::Ok,
            Ok(Err(e)) => {
                details.insert("error".into(), e.to_string().into());
                Status::Error
            }
            Err(_) => {
                details.insert("error".into(), "timed out".into());
                Status::Error
            }
        };
        Check {
            status,
            latency_ms: Some(start.elapsed().as_secs_f64() * 1000.0),
            details,
            critical: false,
        }
    }
}
