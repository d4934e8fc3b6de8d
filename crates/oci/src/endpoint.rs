//! Region → service endpoint resolution.
//!
//! OCI endpoints come from per-service templates such as
//! `https://iaas.{region}.{secondLevelDomain}`, where the second-level domain
//! depends on the region's realm (`oraclecloud.com` for the commercial `oc1`
//! realm). Each service also has a base path (API version, e.g. `/20160918`) that
//! prefixes every operation path. For the emulator, an override base URL replaces
//! scheme, host and port of every service while keeping its base path, so one
//! emulator can serve all services on one port.

use std::borrow::Cow;

use url::Url;

/// Errors building endpoint URLs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    /// The resolved endpoint or override is not a valid absolute URL.
    #[error("invalid endpoint URL `{url}`: {reason}")]
    InvalidUrl {
        /// The offending text.
        url: String,
        /// Why the URL parser rejected it.
        reason: String,
    },
    /// An override must be `http` or `https` with a host.
    #[error("endpoint override `{0}` must be an http(s) URL with a host")]
    InvalidOverride(String),
    /// Operation paths must start with `/`.
    #[error("request path `{0}` must start with `/`")]
    InvalidPath(String),
    /// An empty region was given.
    #[error("region is empty")]
    EmptyRegion,
    /// A path parameter was empty, `.` or `..`: the URL parser would resolve it
    /// as a dot segment (`%2E%2E` included) and the signed request would reach
    /// another operation of the service.
    #[error("path parameter {0:?} must not be empty, `.` or `..`")]
    DotSegment(String),
}

/// An OCI service: endpoint template and API base path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Service {
    /// Short name, for logs and errors.
    pub name: Cow<'static, str>,
    /// Template with `{region}` and `{secondLevelDomain}` placeholders.
    pub endpoint_template: Cow<'static, str>,
    /// API base path such as `/20160918`; `/` when operation paths carry no prefix.
    pub base_path: Cow<'static, str>,
}

macro_rules! services {
    ($($(#[$doc:meta])* $id:ident = ($name:literal, $tpl:literal, $base:literal);)*) => {
        impl Service {
            $( $(#[$doc])* pub const $id: Service = Service::from_static($name, $tpl, $base); )*

            /// All built-in services (those in the portal's OCI API subset).
            pub const ALL: &'static [Service] = &[$(Service::$id),*];
        }
    };
}

services! {
    /// Compute (`ComputeClient`).
    COMPUTE = ("compute", "https://iaas.{region}.{secondLevelDomain}", "/20160918");
    /// Networking (`VirtualNetworkClient`).
    VIRTUAL_NETWORK = ("virtual_network", "https://iaas.{region}.{secondLevelDomain}", "/20160918");
    /// Block Volume (`BlockstorageClient`).
    BLOCKSTORAGE = ("blockstorage", "https://iaas.{region}.{secondLevelDomain}", "/20160918");
    /// Object Storage; paths carry no version prefix.
    OBJECT_STORAGE = ("object_storage", "https://objectstorage.{region}.{secondLevelDomain}", "/");
    /// Database / Autonomous Database.
    DATABASE = ("database", "https://database.{region}.{secondLevelDomain}", "/20160918");
    /// Identity.
    IDENTITY = ("identity", "https://identity.{region}.oci.{secondLevelDomain}", "/20160918");
    /// Load Balancer.
    LOAD_BALANCER = ("load_balancer", "https://iaas.{region}.{secondLevelDomain}", "/20170115");
    /// Monitoring (telemetry).
    MONITORING = ("monitoring", "https://telemetry.{region}.{secondLevelDomain}", "/20180401");
    /// Logging Search.
    LOG_SEARCH = ("loggingsearch", "https://logging.{region}.oci.{secondLevelDomain}", "/20190909");
    /// Usage API.
    USAGE_API = ("usage_api", "https://usageapi.{region}.oci.{secondLevelDomain}", "/20200107");
    /// Resource Search.
    RESOURCE_SEARCH = ("resource_search", "https://query.{region}.oci.{secondLevelDomain}", "/20180409");
    /// Limits; paths carry their own version prefix.
    LIMITS = ("limits", "https://limits.{region}.oci.{secondLevelDomain}", "/");
    /// Quotas (same host as Limits).
    QUOTAS = ("quotas", "https://limits.{region}.oci.{secondLevelDomain}", "/");
    /// Compute Instance Agent (`ComputeInstanceAgentClient`, `PluginClient`).
    INSTANCE_AGENT = ("compute_instance_agent", "https://iaas.{region}.oci.{secondLevelDomain}", "/20180530");
    /// Container registry artifacts.
    ARTIFACTS = ("artifacts", "https://artifacts.{region}.oci.{secondLevelDomain}", "/20160918");
    /// Generative AI inference (chat / embed).
    GENERATIVE_AI_INFERENCE = ("generative_ai_inference", "https://inference.generativeai.{region}.oci.{secondLevelDomain}", "/20231130");
}

impl Service {
    /// A service from static strings (usable in `const`).
    pub const fn from_static(
        name: &'static str,
        endpoint_template: &'static str,
        base_path: &'static str,
    ) -> Self {
        Self {
            name: Cow::Borrowed(name),
            endpoint_template: Cow::Borrowed(endpoint_template),
            base_path: Cow::Borrowed(base_path),
        }
    }

    /// A service not built in (read its template from the SDK).
    pub fn new(
        name: impl Into<String>,
        endpoint_template: impl Into<String>,
        base_path: impl Into<String>,
    ) -> Self {
        Self {
            name: Cow::Owned(name.into()),
            endpoint_template: Cow::Owned(endpoint_template.into()),
            base_path: Cow::Owned(base_path.into()),
        }
    }

    /// True for Object Storage, whose path parameters use strict encoding.
    pub fn is_object_storage(&self) -> bool {
        self.name == "object_storage"
    }

    /// Host endpoint (no base path) in `region`, e.g.
    /// `https://iaas.us-ashburn-1.oraclecloud.com`.
    ///
    /// Region short codes (`iad`) are expanded; the realm's second-level domain is
    /// used, `oraclecloud.com` for unknown regions. As in the SDK, a region that
    /// contains a `.` is taken as a full domain (`{region}.{secondLevelDomain}` is
    /// replaced by it).
    pub fn endpoint(&self, region: &str) -> Result<String, EndpointError> {
        let region = canonical_region(region);
        if region.is_empty() {
            return Err(EndpointError::EmptyRegion);
        }
        let tpl = &self.endpoint_template;
        let endpoint = if region.contains('.') {
            match tpl.find("{region}") {
                Some(pos) => format!("{}{}", &tpl[..pos], region),
                None => tpl.replace("{secondLevelDomain}", &region),
            }
        } else {
            tpl.replace("{region}", &region)
                .replace("{secondLevelDomain}", second_level_domain(&region))
        };
        Ok(endpoint)
    }

    /// Base URL for operation paths: endpoint (or override) plus base path, without
    /// a trailing slash (e.g. `https://iaas.us-ashburn-1.oraclecloud.com/20160918`).
    ///
    /// With `override_base` (e.g. `http://127.0.0.1:8080`), scheme, host and port
    /// come from the override and the service base path is kept; a path on the
    /// override is kept as a prefix (`http://h/oci` → `http://h/oci/20160918`).
    pub fn base_url(
        &self,
        region: &str,
        override_base: Option<&Url>,
    ) -> Result<String, EndpointError> {
        let base_path = self.base_path.trim_end_matches('/');
        match override_base {
            Some(o) => {
                let host = match o.host_str() {
                    Some(h) if matches!(o.scheme(), "http" | "https") => h,
                    _ => return Err(EndpointError::InvalidOverride(o.to_string())),
                };
                let port = o.port().map(|p| format!(":{p}")).unwrap_or_default();
                let prefix = o.path().trim_end_matches('/');
                Ok(format!(
                    "{}://{}{}{}{}",
                    o.scheme(),
                    host,
                    port,
                    prefix,
                    base_path
                ))
            }
            None => Ok(format!(
                "{}{}",
                self.endpoint(region)?.trim_end_matches('/'),
                base_path
            )),
        }
    }

    /// Full request URL: base URL + `path` (already percent-encoded, starting with
    /// `/`) + query pairs (form-encoded, in the given order).
    ///
    /// Empty, `.` and `..` segments (also as `%2E`) are refused with
    /// [`EndpointError::DotSegment`]: the URL parser would resolve them.
    pub fn url(
        &self,
        region: &str,
        override_base: Option<&Url>,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Url, EndpointError> {
        if !path.starts_with('/') {
            return Err(EndpointError::InvalidPath(path.to_string()));
        }
        // Defence in depth: whatever built the path, no dot segment (which the
        // URL parser would resolve) and no empty inner segment reaches it. A
        // trailing `/` is kept: some operations have one (`GetNamespace` is `GET /n/`).
        let bare = path.split(['?', '#']).next().unwrap_or(path);
        let inner = bare[1..].strip_suffix('/').unwrap_or(&bare[1..]);
        if let Some(seg) = inner.split('/').find(|seg| dot_segment(seg)) {
            if !inner.is_empty() {
                return Err(EndpointError::DotSegment(seg.to_string()));
            }
        }
        let text = format!("{}{}", self.base_url(region, override_base)?, path);
        let mut url = Url::parse(&text).map_err(|e| EndpointError::InvalidUrl {
            url: text.clone(),
            reason: e.to_string(),
        })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }
}

/// Lower-cased region identifier, with short codes (`iad`, `PHX`) expanded.
pub fn canonical_region(region: &str) -> String {
    let region = region.trim().to_ascii_lowercase();
    REGIONS
        .iter()
        .find(|(_, code, _)| *code == region)
        .map(|(id, _, _)| (*id).to_string())
        .unwrap_or(region)
}

/// Realm key (`oc1`, `oc2`, ...) of a known region or short code.
pub fn realm_of(region: &str) -> Option<&'static str> {
    let region = canonical_region(region);
    REGIONS
        .iter()
        .find(|(id, _, _)| *id == region)
        .map(|(_, _, realm)| *realm)
}

/// Second-level domain of a realm key; `None` for unknown realms.
pub fn realm_domain(realm: &str) -> Option<&'static str> {
    REALMS
        .iter()
        .find(|(r, _)| r.eq_ignore_ascii_case(realm))
        .map(|(_, d)| *d)
}

/// Second-level domain for a region; `oraclecloud.com` (oc1) when the region or
/// its realm is unknown, as the SDK defaults.
pub fn second_level_domain(region: &str) -> &'static str {
    realm_of(region)
        .and_then(realm_domain)
        .unwrap_or("oraclecloud.com")
}

/// Percent-encode a path parameter value the way the SDK does.
///
/// Default (`strict = false`): Python `quote` with `/` left as is. Strict (Object
/// Storage): every reserved character including `/` is encoded.
///
/// An empty value, `.` or `..` is refused: percent-encoding cannot stop the URL
/// parser from resolving `%2E%2E` as `..`, which would move the signed request
/// to a parent path (`getBucket ".."` became `GET /n/{ns}/`).
pub fn encode_path_param(value: &str, strict: bool) -> Result<String, EndpointError> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(EndpointError::DotSegment(value.to_string()));
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'_' | b'.' | b'-' | b'~')
            || (!strict && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

/// Whether a path segment is a dot segment (or empty) once percent-decoded.
fn dot_segment(seg: &str) -> bool {
    let decoded = seg.replace("%2E", ".").replace("%2e", ".");
    decoded.is_empty() || decoded == "." || decoded == ".."
}

/// Known realms and their second-level domains (OCI SDK 2.189.0).
const REALMS: &[(&str, &str)] = &[
    ("oc1", "oraclecloud.com"),
    ("oc2", "oraclegovcloud.com"),
    ("oc3", "oraclegovcloud.com"),
    ("oc4", "oraclegovcloud.uk"),
    ("oc8", "oraclecloud8.com"),
    ("oc9", "oraclecloud9.com"),
    ("oc10", "oraclecloud10.com"),
    ("oc14", "oraclecloud14.com"),
    ("oc15", "oraclecloud15.com"),
    ("oc19", "oraclecloud.eu"),
    ("oc20", "oraclecloud20.com"),
    ("oc21", "oraclecloud21.com"),
    ("oc23", "oraclecloud23.com"),
    ("oc24", "oraclecloud24.com"),
    ("oc26", "oraclecloud26.com"),
    ("oc29", "oraclecloud29.com"),
    ("oc35", "oraclecloud35.com"),
    ("oc42", "oraclecloud42.com"),
    ("oc51", "oraclecloud51.com"),
    ("oc52", "oraclecloud52.com"),
];

/// Known regions: (identifier, short code, realm), from OCI SDK 2.189.0.
const REGIONS: &[(&str, &str, &str)] = &[
    ("ap-chuncheon-1", "yny", "oc1"),
    ("ap-hyderabad-1", "hyd", "oc1"),
    ("ap-melbourne-1", "mel", "oc1"),
    ("ap-mumbai-1", "bom", "oc1"),
    ("ap-osaka-1", "kix", "oc1"),
    ("ap-seoul-1", "icn", "oc1"),
    ("ap-sydney-1", "syd", "oc1"),
    ("ap-tokyo-1", "nrt", "oc1"),
    ("ca-montreal-1", "yul", "oc1"),
    ("ca-toronto-1", "yyz", "oc1"),
    ("eu-amsterdam-1", "ams", "oc1"),
    ("eu-frankfurt-1", "fra", "oc1"),
    ("eu-zurich-1", "zrh", "oc1"),
    ("me-jeddah-1", "jed", "oc1"),
    ("me-dubai-1", "dxb", "oc1"),
    ("sa-saopaulo-1", "gru", "oc1"),
    ("uk-cardiff-1", "cwl", "oc1"),
    ("uk-london-1", "lhr", "oc1"),
    ("us-ashburn-1", "iad", "oc1"),
    ("us-phoenix-1", "phx", "oc1"),
    ("us-sanjose-1", "sjc", "oc1"),
    ("sa-vinhedo-1", "vcp", "oc1"),
    ("sa-santiago-1", "scl", "oc1"),
    ("il-jerusalem-1", "mtz", "oc1"),
    ("eu-marseille-1", "mrs", "oc1"),
    ("ap-singapore-1", "sin", "oc1"),
    ("me-abudhabi-1", "auh", "oc1"),
    ("eu-milan-1", "lin", "oc1"),
    ("eu-stockholm-1", "arn", "oc1"),
    ("af-johannesburg-1", "jnb", "oc1"),
    ("eu-paris-1", "cdg", "oc1"),
    ("mx-queretaro-1", "qro", "oc1"),
    ("eu-madrid-1", "mad", "oc1"),
    ("us-chicago-1", "ord", "oc1"),
    ("mx-monterrey-1", "mty", "oc1"),
    ("us-saltlake-2", "aga", "oc1"),
    ("sa-bogota-1", "bog", "oc1"),
    ("sa-valparaiso-1", "vap", "oc1"),
    ("ap-singapore-2", "xsp", "oc1"),
    ("me-riyadh-1", "ruh", "oc1"),
    ("ap-delhi-1", "onm", "oc1"),
    ("ap-batam-1", "hsg", "oc1"),
    ("eu-madrid-3", "orf", "oc1"),
    ("eu-turin-1", "nrq", "oc1"),
    ("ap-kulai-2", "jbp", "oc1"),
    ("af-casablanca-1", "lej", "oc1"),
    ("us-langley-1", "lfi", "oc2"),
    ("us-luke-1", "luf", "oc2"),
    ("us-gov-ashburn-1", "ric", "oc3"),
    ("us-gov-chicago-1", "pia", "oc3"),
    ("us-gov-phoenix-1", "tus", "oc3"),
    ("uk-gov-london-1", "ltn", "oc4"),
    ("uk-gov-cardiff-1", "brs", "oc4"),
    ("ap-chiyoda-1", "nja", "oc8"),
    ("ap-ibaraki-1", "ukb", "oc8"),
    ("me-dcc-muscat-1", "mct", "oc9"),
    ("me-ibri-1", "ibr", "oc9"),
    ("ap-dcc-canberra-1", "wga", "oc10"),
    ("eu-dcc-milan-1", "bgy", "oc14"),
    ("eu-dcc-milan-2", "mxp", "oc14"),
    ("eu-dcc-dublin-2", "snn", "oc14"),
    ("eu-dcc-rating-2", "dtm", "oc14"),
    ("eu-dcc-rating-1", "dus", "oc14"),
    ("eu-dcc-dublin-1", "ork", "oc14"),
    ("ap-dcc-gazipur-1", "dac", "oc15"),
    ("eu-madrid-2", "vll", "oc19"),
    ("eu-frankfurt-2", "str", "oc19"),
    ("eu-jovanovac-1", "beg", "oc20"),
    ("me-dcc-doha-1", "doh", "oc21"),
    ("me-alrayyan-1", "vve", "oc21"),
    ("us-somerset-1", "ebb", "oc23"),
    ("us-thames-1", "ebl", "oc23"),
    ("eu-dcc-zurich-1", "avz", "oc24"),
    ("eu-crissier-1", "avf", "oc24"),
    ("me-abudhabi-3", "ahu", "oc26"),
    ("me-alain-1", "rba", "oc26"),
    ("me-abudhabi-2", "rkt", "oc29"),
    ("me-abudhabi-4", "shj", "oc29"),
    ("ap-seoul-2", "dtz", "oc35"),
    ("ap-suwon-1", "dln", "oc35"),
    ("ap-chuncheon-2", "bno", "oc35"),
    ("us-ashburn-2", "yxj", "oc42"),
    ("us-newark-1", "pgc", "oc42"),
    ("eu-budapest-1", "jsk", "oc51"),
    ("sa-riodejaneiro-1", "hnw", "oc52"),
];
