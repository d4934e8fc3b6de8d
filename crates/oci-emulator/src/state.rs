//! The emulated tenancy's state: every resource as its wire JSON plus a lazily
//! evaluated lifecycle, Object Storage object metadata, stored log entries, and the
//! persistence of all of it to `state.json` (atomic temp-file + rename).
//!
//! Resources are stored as the JSON objects OCI would return (camelCase fields as
//! in the API models) rather than as Rust structs: the emulator mostly moves
//! resources between states and filters them, and keeping the wire shape as the
//! storage shape means the emitted field names are exactly the stored ones, which
//! the contract test checks against the API subset.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lifecycle::Lifecycle;
use crate::wire::{Millis, Reply};
use crate::EmulatorError;

/// Resource kinds (keys of [`State::resources`]).
pub mod kind {
    /// Compute instance.
    pub const INSTANCE: &str = "instance";
    /// Compute image.
    pub const IMAGE: &str = "image";
    /// Boot volume.
    pub const BOOT_VOLUME: &str = "bootVolume";
    /// Block volume.
    pub const VOLUME: &str = "volume";
    /// Block volume backup.
    pub const VOLUME_BACKUP: &str = "volumeBackup";
    /// Boot volume attachment.
    pub const BOOT_VOLUME_ATTACHMENT: &str = "bootVolumeAttachment";
    /// Block volume attachment.
    pub const VOLUME_ATTACHMENT: &str = "volumeAttachment";
    /// VNIC attachment.
    pub const VNIC_ATTACHMENT: &str = "vnicAttachment";
    /// VNIC.
    pub const VNIC: &str = "vnic";
    /// Console history capture.
    pub const CONSOLE_HISTORY: &str = "consoleHistory";
    /// VCN.
    pub const VCN: &str = "vcn";
    /// Subnet.
    pub const SUBNET: &str = "subnet";
    /// Security list.
    pub const SECURITY_LIST: &str = "securityList";
    /// Route table.
    pub const ROUTE_TABLE: &str = "routeTable";
    /// Internet gateway.
    pub const INTERNET_GATEWAY: &str = "internetGateway";
    /// NAT gateway.
    pub const NAT_GATEWAY: &str = "natGateway";
    /// Object Storage bucket.
    pub const BUCKET: &str = "bucket";
    /// Autonomous Database.
    pub const AUTONOMOUS_DATABASE: &str = "autonomousDatabase";
    /// Compartment.
    pub const COMPARTMENT: &str = "compartment";
    /// IAM user.
    pub const USER: &str = "user";
    /// IAM group.
    pub const GROUP: &str = "group";
    /// IAM policy.
    pub const POLICY: &str = "policy";
    /// Load balancer.
    pub const LOAD_BALANCER: &str = "loadBalancer";
    /// Monitoring alarm.
    pub const ALARM: &str = "alarm";
    /// Compartment quota.
    pub const QUOTA: &str = "quota";
    /// Instance agent command.
    pub const AGENT_COMMAND: &str = "instanceAgentCommand";
    /// Instance agent command execution (one per command and target instance).
    pub const AGENT_EXECUTION: &str = "instanceAgentCommandExecution";
    /// Container Registry repository.
    pub const CONTAINER_REPOSITORY: &str = "containerRepository";
    /// Container image (one per pushed manifest).
    pub const CONTAINER_IMAGE: &str = "containerImage";
}

/// One resource: its wire JSON (without `lifecycleState`) and its lifecycle.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Res {
    /// Wire fields.
    pub body: Map<String, Value>,
    /// Lifecycle timeline; empty for resources without `lifecycleState`.
    #[serde(default, skip_serializing_if = "Lifecycle::is_empty")]
    pub lc: Lifecycle,
}

impl Res {
    /// A resource with a fixed lifecycle state.
    pub fn new(body: Map<String, Value>, lc: Lifecycle) -> Self {
        Self { body, lc }
    }

    /// The `id` field.
    pub fn id(&self) -> &str {
        self.str("id").unwrap_or("")
    }

    /// A string field.
    pub fn str(&self, field: &str) -> Option<&str> {
        self.body.get(field).and_then(Value::as_str)
    }

    /// Effective lifecycle state at `now`.
    pub fn state(&self, now: Millis) -> Option<&str> {
        self.lc.state(now)
    }

    /// The wire JSON at `now` (body plus the effective `lifecycleState`).
    pub fn render(&self, now: Millis) -> Value {
        let mut body = self.body.clone();
        if let Some(state) = self.lc.state(now) {
            body.insert("lifecycleState".into(), Value::String(state.to_string()));
        }
        Value::Object(body)
    }

    /// [`Res::render`] as a 200 reply with `etag`.
    pub fn reply(&self, now: Millis) -> Reply {
        Reply::resource(self.render(now))
    }
}

/// Metadata of one stored object; the bytes live in a content-addressed blob file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// Object name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Base64 MD5 of the content (`content-md5`).
    pub md5: String,
    /// Hex SHA-256 of the content: the blob file name.
    pub sha256: String,
    /// Object etag.
    pub etag: String,
    /// `content-type`.
    pub content_type: String,
    /// `opc-meta-*` user metadata (without the prefix).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Creation time.
    pub time_created: Millis,
    /// Last modification time.
    pub time_modified: Millis,
    /// `Standard`, `InfrequentAccess` or `Archive`.
    pub storage_tier: String,
    /// `opc-multipart-md5` (`<base64 md5 of the parts' md5s>-<part count>`) of an
    /// object assembled from a multipart upload; such objects have no `content-md5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart_md5: Option<String>,
}

/// One uploaded part of a multipart upload; the bytes live in
/// `objects/uploads/<uploadId>/<partNum>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UploadPart {
    /// Size in bytes.
    pub size: u64,
    /// Base64 MD5 of the part (`opc-content-md5`).
    pub md5: String,
    /// The part's etag (given back in `partsToCommit`).
    pub etag: String,
}

/// An in-progress Object Storage multipart upload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MultipartUpload {
    /// The bucket's OCID.
    pub bucket_id: String,
    /// The bucket's name.
    pub bucket: String,
    /// The object being assembled.
    pub object: String,
    /// Creation time.
    pub time_created: Millis,
    /// Storage tier of the resulting object.
    pub storage_tier: String,
    /// `content-type` of the resulting object.
    pub content_type: String,
    /// `opc-meta-*` user metadata of the resulting object.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Uploaded parts by part number.
    #[serde(default)]
    pub parts: BTreeMap<u32, UploadPart>,
}

/// A resource a work request acts on (`WorkRequestResource`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkRequestResource {
    /// `CREATED`, `UPDATED`, `DELETED` or `RELATED` once the work request succeeded.
    pub action_type: String,
    /// Resource type (`instance`, `volumeAttachment`, ...).
    pub entity_type: String,
    /// The resource's OCID.
    pub identifier: String,
    /// Path of the resource (`/20160918/instances/<id>`).
    pub entity_uri: String,
}

/// A Core Services work request (`oci.work_requests`): its status is derived
/// from the three timestamps, like lifecycle states.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkRequest {
    /// OCID.
    pub id: String,
    /// `TerminateInstance`, `DetachVolume`, ...
    pub operation_type: String,
    /// Compartment of the resource.
    pub compartment_id: String,
    /// Affected resources.
    pub resources: Vec<WorkRequestResource>,
    /// ACCEPTED from here.
    pub time_accepted: Millis,
    /// IN_PROGRESS from here.
    pub time_started: Millis,
    /// SUCCEEDED from here.
    pub time_finished: Millis,
}

/// Most work requests kept; the oldest are dropped first.
pub const MAX_WORK_REQUESTS: usize = 2_000;

/// One stored log entry (the `logContent` OCI Logging Search returns).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogRecord {
    /// Event time (ms since epoch): the result's `datetime`.
    pub datetime: Millis,
    /// Compartment of the log.
    pub compartment_id: String,
    /// The `logContent` object.
    pub content: Value,
}

/// Identity of the seeded tenancy and the demo user.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Seed for deterministic generation.
    pub seed: u64,
    /// When the demo tenancy was seeded.
    pub seeded_at: Millis,
    /// Tenancy OCID.
    pub tenancy_id: String,
    /// Tenancy name.
    pub tenancy_name: String,
    /// Object Storage namespace.
    pub namespace: String,
    /// The demo user's OCID.
    pub demo_user_id: String,
    /// Home region.
    pub region: String,
}

/// Format version of `state.json`.
pub const STATE_VERSION: u32 = 1;

/// Most log entries kept; older ones are dropped first.
pub const MAX_LOG_RECORDS: usize = 5_000;

/// The whole emulated cloud.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// Tenancy identity.
    pub meta: Meta,
    /// kind → id → resource.
    pub resources: BTreeMap<String, BTreeMap<String, Res>>,
    /// bucket OCID → object name → metadata.
    pub objects: BTreeMap<String, BTreeMap<String, ObjectMeta>>,
    /// In-progress multipart uploads by upload id.
    #[serde(default)]
    pub uploads: BTreeMap<String, MultipartUpload>,
    /// Work requests by OCID.
    #[serde(default)]
    pub work_requests: BTreeMap<String, WorkRequest>,
    /// Stored audit log entries, oldest first (service logs are derived, see [`crate::logs`]).
    pub logs: Vec<LogRecord>,
    /// Monotonic counter feeding OCID generation.
    pub counter: u64,
}

impl State {
    /// All resources of a kind.
    pub fn all(&self, kind: &str) -> impl Iterator<Item = &Res> {
        self.resources
            .get(kind)
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// One resource.
    pub fn get(&self, kind: &str, id: &str) -> Option<&Res> {
        self.resources.get(kind).and_then(|m| m.get(id))
    }

    /// One resource, mutably.
    pub fn get_mut(&mut self, kind: &str, id: &str) -> Option<&mut Res> {
        self.resources.get_mut(kind).and_then(|m| m.get_mut(id))
    }

    /// Insert (or replace) a resource under its `id`.
    pub fn insert(&mut self, kind: &str, res: Res) {
        let id = res.id().to_string();
        self.resources
            .entry(kind.to_string())
            .or_default()
            .insert(id, res);
    }

    /// Insert a resource under an explicit key (for models without an `id`).
    pub fn insert_as(&mut self, kind: &str, key: &str, res: Res) {
        self.resources
            .entry(kind.to_string())
            .or_default()
            .insert(key.to_string(), res);
    }

    /// Remove a resource.
    pub fn remove(&mut self, kind: &str, id: &str) -> Option<Res> {
        self.resources.get_mut(kind).and_then(|m| m.remove(id))
    }

    /// Generate a new OCID: `ocid1.<type>.oc1.<region-code>.<suffix>` (regional) or
    /// `ocid1.<type>.oc1..<suffix>` (global, e.g. identity resources).
    pub fn new_ocid(&mut self, ocid_type: &str, regional: bool) -> String {
        self.counter += 1;
        let suffix = ocid_suffix(self.meta.seed, self.counter);
        if regional {
            format!(
                "ocid1.{ocid_type}.oc1.{}.{suffix}",
                region_code(&self.meta.region)
            )
        } else {
            format!("ocid1.{ocid_type}.oc1..{suffix}")
        }
    }

    /// True when `id` is the tenancy or an existing, not deleted compartment.
    pub fn compartment_exists(&self, id: &str) -> bool {
        id == self.meta.tenancy_id
            || self
                .get(kind::COMPARTMENT, id)
                .is_some_and(|c| c.lc.state(i64::MAX) != Some("DELETED"))
    }

    /// `id` and every compartment below it.
    pub fn compartment_subtree(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_string()];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i].clone();
            for c in self.all(kind::COMPARTMENT) {
                if c.str("compartmentId") == Some(parent.as_str()) {
                    out.push(c.id().to_string());
                }
            }
            i += 1;
        }
        out
    }

    /// Display name of a compartment (the tenancy name for the root).
    pub fn compartment_name(&self, id: &str) -> String {
        if id == self.meta.tenancy_id {
            return self.meta.tenancy_name.clone();
        }
        self.get(kind::COMPARTMENT, id)
            .and_then(|c| c.str("name"))
            .unwrap_or("")
            .to_string()
    }

    /// `/`-separated path from the root to a compartment (`Production/prod-apps`).
    pub fn compartment_path(&self, id: &str) -> String {
        let mut parts = Vec::new();
        let mut cur = id.to_string();
        for _ in 0..10 {
            if cur == self.meta.tenancy_id {
                break;
            }
            let Some(c) = self.get(kind::COMPARTMENT, &cur) else {
                break;
            };
            parts.push(c.str("name").unwrap_or("").to_string());
            cur = c.str("compartmentId").unwrap_or("").to_string();
        }
        parts.reverse();
        parts.join("/")
    }

    /// Append a log entry, dropping the oldest beyond [`MAX_LOG_RECORDS`].
    pub fn push_log(&mut self, record: LogRecord) {
        self.logs.push(record);
        if self.logs.len() > MAX_LOG_RECORDS {
            let excess = self.logs.len() - MAX_LOG_RECORDS;
            self.logs.drain(..excess);
        }
    }
}

/// Short region code used in OCIDs (`iad` for `us-ashburn-1`).
pub fn region_code(region: &str) -> String {
    const CODES: &[(&str, &str)] = &[
        ("us-ashburn-1", "iad"),
        ("us-phoenix-1", "phx"),
        ("us-chicago-1", "ord"),
        ("us-sanjose-1", "sjc"),
        ("eu-frankfurt-1", "fra"),
        ("eu-amsterdam-1", "ams"),
        ("eu-zurich-1", "zrh"),
        ("eu-paris-1", "cdg"),
        ("eu-madrid-1", "mad"),
        ("eu-milan-1", "lin"),
        ("eu-stockholm-1", "arn"),
        ("uk-london-1", "lhr"),
        ("ap-tokyo-1", "nrt"),
        ("ap-osaka-1", "kix"),
        ("ap-sydney-1", "syd"),
        ("ap-mumbai-1", "bom"),
        ("ap-singapore-1", "sin"),
        ("ca-toronto-1", "yyz"),
        ("sa-saopaulo-1", "gru"),
    ];
    CODES
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, c)| (*c).to_string())
        .unwrap_or_else(|| region.to_string())
}

/// SplitMix64: the emulator's deterministic hash/PRNG step.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hash a string with a seed (FNV-1a folded through [`mix`]).
pub fn hash_str(seed: u64, s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// A uniform float in `[0, 1)` from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn ocid_suffix(seed: u64, counter: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::from("aaaaaaaa");
    let base = mix(seed ^ counter.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut h = 0;
    for i in 0..52u64 {
        // 12 base32 characters (60 bits) per fresh hash.
        if i % 12 == 0 {
            h = mix(base.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        }
        out.push(char::from(ALPHABET[(h & 31) as usize]));
        h >>= 5;
    }
    out
}

/// Load `state.json`, `None` when it does not exist yet.
pub fn load(path: &Path) -> Result<Option<State>, EmulatorError> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(EmulatorError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let state: State =
        serde_json::from_slice(&text).map_err(|source| EmulatorError::CorruptState {
            path: path.to_path_buf(),
            source,
        })?;
    if state.version != STATE_VERSION {
        return Err(EmulatorError::UnsupportedStateVersion(state.version));
    }
    Ok(Some(state))
}

/// Write `bytes` to `path` atomically: a temp file in the same directory, fsync,
/// then rename over the target. The file is private to its owner (0600 on
/// Unix): the state holds the tenancy's resources, objects and secrets.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        fastrand::u64(..)
    ));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates `dir` (and missing parents) readable by its owner only (0700 on
/// Unix). An existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}
