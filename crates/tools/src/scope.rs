//! Where a tool call acts, for organisations' compartment policies: the
//! compartments named in its arguments, and those of the resources it names,
//! each with its ancestors so that allowing a compartment allows its children.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::Method;
use portal_core::service::tools::{Scope, ToolError};
use portal_oci::client::{OciClient, RequestOptions};
use portal_oci::endpoint::{encode_path_param, Service};
use serde_json::{Map, Value};

/// Tools that touch no customer compartment: tenancy metadata and offline data.
const UNBOUND: &[&str] = &[
    "listRegions",
    "listRegionSubscriptions",
    "getObjectStorageNamespace",
    "getTenancy",
    "listLimitServices",
    "generateTerraform",
];

/// How long a compartment's parent is remembered (compartments rarely move).
const PARENT_TTL: Duration = Duration::from_secs(60);

/// Deepest compartment nesting OCI allows is six levels; stop well after that.
const MAX_DEPTH: usize = 10;

/// Where to read a resource (by OCID type) to learn its compartment.
fn resource_path(ty: &str) -> Option<(Service, &'static str)> {
    Some(match ty {
        "instance" => (Service::COMPUTE, "/instances/"),
        "volume" => (Service::BLOCKSTORAGE, "/volumes/"),
        "bootvolume" => (Service::BLOCKSTORAGE, "/bootVolumes/"),
        "volumebackup" => (Service::BLOCKSTORAGE, "/volumeBackups/"),
        "vcn" => (Service::VIRTUAL_NETWORK, "/vcns/"),
        "subnet" => (Service::VIRTUAL_NETWORK, "/subnets/"),
        "securitylist" => (Service::VIRTUAL_NETWORK, "/securityLists/"),
        "routetable" => (Service::VIRTUAL_NETWORK, "/routeTables/"),
        "vnic" => (Service::VIRTUAL_NETWORK, "/vnics/"),
        "autonomousdatabase" => (Service::DATABASE, "/autonomousDatabases/"),
        "loadbalancer" => (Service::LOAD_BALANCER, "/loadBalancers/"),
        "alarm" => (Service::MONITORING, "/alarms/"),
        _ => return None,
    })
}

/// Remembered compartment parents.
#[derive(Default)]
pub(crate) struct Ancestry {
    parents: Mutex<HashMap<String, (String, Instant)>>,
}

impl Ancestry {
    fn cached(&self, id: &str) -> Option<String> {
        let map = self.parents.lock().ok()?;
        map.get(id)
            .filter(|(_, at)| at.elapsed() < PARENT_TTL)
            .map(|(p, _)| p.clone())
    }

    fn remember(&self, id: &str, parent: &str) {
        if let Ok(mut map) = self.parents.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(id.to_string(), (parent.to_string(), Instant::now()));
        }
    }
}

fn ocid_type(v: &str) -> Option<&str> {
    let mut parts = v.split('.');
    (parts.next() == Some("ocid1"))
        .then(|| parts.next())
        .flatten()
}

async fn read(
    client: &OciClient,
    service: &Service,
    path: &str,
    what: &str,
) -> Result<Value, ToolError> {
    match client
        .send(
            Method::GET,
            service,
            path,
            &[],
            None,
            &RequestOptions::default(),
        )
        .await
    {
        Ok(r) => Ok(r.body),
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {
            Err(ToolError::NotFound(format!("{what} not found")))
        }
        Err(e) => Err(ToolError::Cloud(e.to_string())),
    }
}

fn compartment_of(body: &Value, what: &str) -> Result<String, ToolError> {
    body.get("compartmentId")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| ToolError::Cloud(format!("{what} has no compartmentId")))
}

/// Where `name` with validated `args` acts.
pub(crate) async fn scope(
    client: &OciClient,
    ancestry: &Ancestry,
    spec: &portal_core::tools::ToolSpec,
    args: &Map<String, Value>,
) -> Result<Scope, ToolError> {
    if UNBOUND.contains(&spec.name) || spec.category == "pricing" {
        return Ok(Scope::Unbound);
    }
    let mut compartments: Vec<String> = Vec::new();
    for p in spec.params {
        let Some(v) = args.get(p.name).and_then(Value::as_str) else {
            continue;
        };
        let found = if p.name == "bucketName" {
            let ns = read(client, &Service::OBJECT_STORAGE, "/n", "namespace").await?;
            let ns = ns.as_str().unwrap_or_default();
            let what = format!("bucket {v}");
            let path = format!("/n/{ns}/b/{}", encode_path_param(v, true));
            Some(compartment_of(
                &read(client, &Service::OBJECT_STORAGE, &path, &what).await?,
                &what,
            )?)
        } else {
            match ocid_type(v) {
                Some("compartment" | "tenancy") => Some(v.to_string()),
                Some(ty) => match resource_path(ty) {
                    Some((service, prefix)) => {
                        let what = format!("{ty} {v}");
                        let path = format!("{prefix}{}", encode_path_param(v, true));
                        Some(compartment_of(
                            &read(client, &service, &path, &what).await?,
                            &what,
                        )?)
                    }
                    None => None,
                },
                None => None,
            }
        };
        if let Some(c) = found {
            if !compartments.contains(&c) {
                compartments.push(c);
            }
        }
    }
    // Nothing named: the call defaults to the tenancy's root compartment (or spans it).
    if compartments.is_empty() {
        return Ok(Scope::Tenancy);
    }
    let mut paths = Vec::with_capacity(compartments.len());
    for c in compartments {
        paths.push(ancestors(client, ancestry, c).await?);
    }
    Ok(Scope::Compartments(paths))
}

/// `c` and its ancestors up to the tenancy, nearest first.
async fn ancestors(
    client: &OciClient,
    ancestry: &Ancestry,
    c: String,
) -> Result<Vec<String>, ToolError> {
    let mut path = vec![c];
    while path.len() < MAX_DEPTH {
        let Some(cur) = path.last() else { break };
        if ocid_type(cur) == Some("tenancy") {
            break;
        }
        let parent = match ancestry.cached(cur) {
            Some(p) => p,
            None => {
                let what = format!("compartment {cur}");
                let p = format!("/compartments/{}", encode_path_param(cur, true));
                let body = read(client, &Service::IDENTITY, &p, &what).await?;
                let parent = compartment_of(&body, &what)?;
                ancestry.remember(cur, &parent);
                parent
            }
        };
        if path.contains(&parent) {
            break;
        }
        path.push(parent);
    }
    Ok(path)
}
