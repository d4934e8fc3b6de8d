//! The guarded client and its resolver.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use futures_util::StreamExt as _;
use portal_core::outbound::{OutboundPolicy, Refusal};
use portal_core::webhooks::{SendResult, Sender};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Response bytes read at most.
pub const MAX_BODY: usize = 4096;

/// Resolves a host name to addresses (the system resolver, or a test's).
pub trait Lookup: Send + Sync + 'static {
    /// The addresses of `host`.
    fn lookup(
        &self,
        host: &str,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
}

/// The operating system's resolver.
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: &str,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        let host = host.to_string();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    }
}

/// The resolver reqwest connects through: resolves, judges, and hands back
/// only addresses that passed (all of them, or none).
struct GuardResolver {
    lookup: Arc<dyn Lookup>,
    policy: Arc<OutboundPolicy>,
}

impl Resolve for GuardResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let lookup = self.lookup.clone();
        let policy = self.policy.clone();
        Box::pin(async move {
            let ips = lookup.lookup(&host).await?;
            if ips.is_empty() {
                return Err(Box::new(Refusal::Unresolved) as _);
            }
            for ip in &ips {
                policy.check_addr(&host, *ip).map_err(Box::new)?;
            }
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The SSRF-guarded HTTP client.
#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
    lookup: Arc<dyn Lookup>,
}

impl GuardedClient {
    /// A client applying `policy`, giving each call `timeout`, resolving
    /// through `lookup`.
    pub fn new(
        policy: OutboundPolicy,
        timeout: Duration,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, String> {
        Self::build(policy, timeout, Some(timeout), lookup)
    }

    /// A client for answers that stream for long (model providers): only
    /// the connect is bounded; the caller bounds the silence between chunks.
    pub fn streaming(
        policy: OutboundPolicy,
        connect_timeout: Duration,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, String> {
        Self::build(policy, connect_timeout, None, lookup)
    }

    fn build(
        policy: OutboundPolicy,
        connect_timeout: Duration,
        timeout: Option<Duration>,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, String> {
        let policy = Arc::new(policy);
        let mut builder = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardResolver {
                lookup: lookup.clone(),
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(connect_timeout)
            .user_agent(concat!("oci-portal-webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(t) = timeout {
            builder = builder.timeout(t);
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            policy,
            lookup,
        })
    }

    /// Judges a URL now, resolving its host (a check at create time; the
    /// connect judges again, whatever DNS answers then).
    pub async fn check(&self, url: &str) -> Result<(), Refusal> {
        let t = self.policy.check_url(url)?;
        if t.literal.is_some() {
            return Ok(());
        }
        let ips = self
            .lookup
            .lookup(&t.host)
            .await
            .map_err(|_| Refusal::Unresolved)?;
        if ips.is_empty() {
            return Err(Refusal::Unresolved);
        }
        ips.into_iter()
            .try_for_each(|ip| self.policy.check_addr(&t.host, ip))
    }

    /// The policy it applies.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// The guarded reqwest client itself, for callers that speak another
    /// protocol over it (the OIDC relying party). Its resolver judges every
    /// host name; callers judge IP-literal URLs with [`Self::policy`] first.
    pub fn http(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Every cause of a reqwest error, so the guard's refusal shows through.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

fn retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    portal_core::webhooks::schedule::parse_retry_after_secs(v).or_else(|| {
        let at = httpdate::parse_http_date(v.trim()).ok()?;
        Some(at.duration_since(SystemTime::now()).unwrap_or_default())
    })
}

#[async_trait]
impl Sender for GuardedClient {
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: &[u8]) -> SendResult {
        let target = match self.policy.check_url(url) {
            Ok(t) => t,
            Err(e) => {
                return SendResult::Failed {
                    error: format!("refused by the outbound guard: {e}"),
                }
            }
        };
        let mut req = self
            .client
            .post(target.url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let started = Instant::now();
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return SendResult::Failed {
                    error: describe(&e),
                }
            }
        };
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        let mut kept = Vec::with_capacity(MAX_BODY);
        let mut stream = resp.bytes_stream();
        while kept.len() < MAX_BODY {
            match stream.next().await {
                Some(Ok(chunk)) => {
                    let room = MAX_BODY - kept.len();
                    kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                // A body cut short still answered with its status.
                Some(Err(_)) | None => break,
            }
        }
        tracing::debug!(status, elapsed = ?started.elapsed(), host = %target.host, "outbound call");
        SendResult::Response {
            status,
            retry_after,
            body: String::from_utf8_lossy(&kept).into_owned(),
        }
    }
}
