//! Where a tool call acts, for organisations' compartment policies: the
//! compartment it runs in, those of the resources it names through OCID
//! parameters, and where a new policy's statements grant access — each with
//! its ancestors so that allowing a compartment allows its children.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::Method;
use portal_core::service::tools::{Scope, ToolError};
use portal_core::tools::Kind;
use portal_oci::client::{OciClient, RequestOptions};
use portal_oci::endpoint::{encode_path_param, Service};
use serde_json::{Map, Value};

use crate::policy::{self, Location};
use crate::tenancy;

/// Tools that touch no customer compartment: tenancy metadata and offline data.
const UNBOUND: &[&str] = &[
    "listRegions",
    "listRegionSubscriptions",
    "getObjectStorageNamespace",
    "getTenancy",
    "generateTerraform",
];
// Not `listLimitServices`: it lists in the tenancy's root compartment (and is
// only useful with the limit tools, which span the tenancy too).

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
        "instanceagentcommand" => (Service::INSTANCE_AGENT, "/instanceAgentCommands/"),
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

/// Every value of a parameter declared as an OCID, at any depth (lists,
/// objects), with its declared type and the argument path.
fn declared_ocids<'a>(
    kind: &Kind,
    v: &'a Value,
    path: String,
    out: &mut Vec<(Option<&'static str>, &'a str, String)>,
) {
    match (kind, v) {
        (Kind::Ocid(ty), Value::String(s)) => out.push((*ty, s, path)),
        (Kind::Array { items, .. }, Value::Array(list)) => {
            for (i, x) in list.iter().enumerate() {
                declared_ocids(items, x, format!("{path}/{i}"), out);
            }
        }
        (Kind::Object { fields, .. }, Value::Object(m)) => {
            for f in *fields {
                if let Some(x) = m.get(f.name) {
                    declared_ocids(&f.kind, x, format!("{path}/{}", f.name), out);
                }
            }
        }
        _ => {}
    }
}

/// The compartment a resource named by its OCID lives in; `None` for a
/// platform image (Oracle's, shared by every tenancy: using one acts in no
/// customer compartment).
async fn compartment_of_ocid(
    client: &OciClient,
    tenancy: &str,
    declared: Option<&str>,
    v: &str,
    at: &str,
) -> Result<Option<String>, ToolError> {
    let ty = match declared {
        Some("compartment") => "compartment",
        Some(t) => t,
        None => ocid_type(v).unwrap_or_default(),
    };
    if matches!(ty, "compartment" | "tenancy") {
        return Ok(Some(v.to_string()));
    }
    let what = format!("{ty} {v}");
    let enc =
        |v: &str| encode_path_param(v, true).map_err(|e| ToolError::Invalid(format!("{at}: {e}")));
    if ty == "image" {
        let body = read(
            client,
            &Service::COMPUTE,
            &format!("/images/{}", enc(v)?),
            &what,
        )
        .await?;
        return Ok(body
            .get("compartmentId")
            .and_then(Value::as_str)
            .filter(|c| *c != tenancy)
            .map(String::from));
    }
    let Some((service, prefix)) = resource_path(ty) else {
        // Fail closed: a resource whose compartment cannot be told is refused.
        return Err(ToolError::Invalid(format!(
            "{at}: cannot tell which compartment {what} is in"
        )));
    };
    let path = format!("{prefix}{}", enc(v)?);
    Ok(Some(compartment_of(
        &read(client, &service, &path, &what).await?,
        &what,
    )?))
}

/// Where `spec` with validated `args` acts: computed from what the call does.
/// The compartment it runs in (given, or the tenancy's root by default) always
/// counts; so do the compartments of the resources it names through
/// parameters declared as OCIDs (or bucket names), and, for `createPolicy`,
/// where its statements grant access. Free text never counts. A list without
/// a compartment that searches every allowed one (`tenancy::FAN_OUT`) names
/// none itself: `Allowed` when nothing else is named.
pub(crate) async fn scope(
    client: &OciClient,
    ancestry: &Ancestry,
    tenancy: &str,
    spec: &portal_core::tools::ToolSpec,
    args: &Map<String, Value>,
) -> Result<Scope, ToolError> {
    if UNBOUND.contains(&spec.name) || spec.category == "pricing" {
        return Ok(Scope::Unbound);
    }
    let mut compartments: Vec<String> = Vec::new();
    let add = |c: String, list: &mut Vec<String>| {
        if !list.contains(&c) {
            list.push(c);
        }
    };
    // A list without a compartment searches only what the organisation may
    // use (`tenancy::fan_out`); otherwise the compartment the call runs in,
    // as `OciTools::compartment` picks it.
    let everywhere =
        tenancy::fans_out(spec.name, args) || tenancy::subtree_listing(spec.name, args);
    if spec.params.iter().any(|p| p.name == "compartmentId") && !everywhere {
        let c = args
            .get("compartmentId")
            .and_then(Value::as_str)
            .unwrap_or(tenancy);
        add(c.to_string(), &mut compartments);
    }
    let mut ocids = Vec::new();
    for p in spec.params {
        if let Some(v) = args.get(p.name) {
            declared_ocids(&p.kind, v, format!("args/{}", p.name), &mut ocids);
        }
    }
    for (ty, v, at) in ocids {
        if let Some(c) = compartment_of_ocid(client, tenancy, ty, v, &at).await? {
            add(c, &mut compartments);
        }
    }
    // Resources named by name.
    if let Some(v) = args.get("bucketName").and_then(Value::as_str) {
        let ns = read(client, &Service::OBJECT_STORAGE, "/n", "namespace").await?;
        let ns = ns.as_str().unwrap_or_default();
        let what = format!("bucket {v}");
        let name = encode_path_param(v, true)
            .map_err(|e| ToolError::Invalid(format!("args/bucketName: {e}")))?;
        let path = format!("/n/{ns}/b/{name}");
        let c = compartment_of(
            &read(client, &Service::OBJECT_STORAGE, &path, &what).await?,
            &what,
        )?;
        add(c, &mut compartments);
    }
    if spec.name == "createPolicy" {
        let own = args
            .get("compartmentId")
            .and_then(Value::as_str)
            .unwrap_or(tenancy);
        for c in statement_compartments(client, ancestry, tenancy, own, args).await? {
            add(c, &mut compartments);
        }
    }
    if compartments.is_empty() && everywhere {
        return Ok(Scope::Allowed);
    }
    // Nothing named: the call spans the tenancy (a tenancy-level list, a search).
    if compartments.is_empty() {
        return Ok(Scope::Tenancy);
    }
    let mut paths = Vec::with_capacity(compartments.len());
    for c in compartments {
        paths.push(ancestors(client, ancestry, c).await?);
    }
    Ok(Scope::Compartments(paths))
}

/// Where the statements of a policy to be created in `own` grant access. Each
/// must stay within the policy's own compartment and its sub-compartments (as
/// OCI itself requires); one that does not, or cannot be placed, is refused
/// with a 400 naming it.
async fn statement_compartments(
    client: &OciClient,
    ancestry: &Ancestry,
    tenancy: &str,
    own: &str,
    args: &Map<String, Value>,
) -> Result<Vec<String>, ToolError> {
    let statements = args
        .get("statements")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let at = format!("args/statements/{i}");
        let s = s.as_str().unwrap_or_default();
        let outside = |what: &str| {
            ToolError::Invalid(format!(
                "{at}: grants access in {what}, outside the policy's compartment {own} and its sub-compartments"
            ))
        };
        let c =
            match policy::location(s).map_err(|why| ToolError::Invalid(format!("{at}: {why}")))? {
                Location::Tenancy if own == tenancy => tenancy.to_string(),
                Location::Tenancy => return Err(outside("the tenancy")),
                Location::Id(id) => {
                    let path = ancestors(client, ancestry, id.clone()).await?;
                    if !path.iter().any(|c| c == own) {
                        return Err(outside(&id));
                    }
                    id
                }
                Location::Path(names) => match descend(client, own, &names).await? {
                    Some(c) => c,
                    None => {
                        // OCI also accepts the policy's own compartment named first.
                        let own_name = if own == tenancy {
                            None
                        } else {
                            let what = format!("compartment {own}");
                            let p = format!(
                                "/compartments/{}",
                                encode_path_param(own, true).map_err(|e| ToolError::Invalid(
                                    format!("args/compartmentId: {e}")
                                ))?
                            );
                            read(client, &Service::IDENTITY, &p, &what)
                                .await?
                                .get("name")
                                .and_then(Value::as_str)
                                .map(String::from)
                        };
                        let first = names.first().map(String::as_str).unwrap_or_default();
                        let found = match own_name {
                            Some(n) if n.eq_ignore_ascii_case(first) => {
                                descend(client, own, &names[1..]).await?
                            }
                            _ => None,
                        };
                        found.ok_or_else(|| outside(&format!("compartment {}", names.join(":"))))?
                    }
                },
            };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The compartment reached from `from` through child names (case-insensitive,
/// as OCI compares them); `None` when a name is not a child.
async fn descend(
    client: &OciClient,
    from: &str,
    names: &[String],
) -> Result<Option<String>, ToolError> {
    let mut cur = from.to_string();
    for name in names {
        let children = client
            .list_all(
                &Service::IDENTITY,
                "/compartments",
                &[("compartmentId", cur.as_str()), ("accessLevel", "ANY")],
                &RequestOptions::default(),
            )
            .await
            .map_err(|e| ToolError::Cloud(e.to_string()))?;
        let next = children.iter().find(|c| {
            c.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
                && c.get("lifecycleState").and_then(Value::as_str) != Some("DELETED")
        });
        match next.and_then(|c| c.get("id")).and_then(Value::as_str) {
            Some(id) => cur = id.to_string(),
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
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
                let id =
                    encode_path_param(cur, true).map_err(|e| ToolError::Invalid(e.to_string()))?;
                let p = format!("/compartments/{id}");
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
