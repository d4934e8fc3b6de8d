//! Lists without a compartment search the tenancy: every ACTIVE compartment
//! in the subtree the organisation's compartment policy allows (the whole
//! tenancy, or the assigned compartments and their sub-compartments), a few
//! at a time, merged up to the call's limit, with a note saying how many
//! compartments were searched. A list naming its compartment is unchanged.

use futures_util::stream::{self, StreamExt};
use http::Method;
use portal_core::service::compartments::whole_tenancy;
use portal_core::service::tools::ToolError;
use portal_oci::client::RequestOptions;
use portal_oci::endpoint::{encode_path_param, Service};
use serde_json::{json, Map, Value};

use crate::rest::{limit, oci_error, pick};
use crate::{catalogue, OciTools};

/// The list tools that search every allowed compartment when no
/// `compartmentId` is given: lists of the resources a compartment holds.
/// Not lists of what every compartment sees alike (`listShapes`, `listImages`),
/// calls about one named resource, metrics, or `listCompartments` (a subtree
/// listing of its own, see [`subtree_listing`]).
pub const FAN_OUT: &[&str] = &[
    "listInstances",
    "listVolumeAttachments",
    "listVnicAttachments",
    "listBlockVolumes",
    "listBootVolumes",
    "listVolumeBackups",
    "listContainerRepos",
    "listContainerImages",
    "listAutonomousDatabases",
    "listPolicies",
    "listLoadBalancers",
    "listVcns",
    "listSubnets",
    "listSecurityLists",
    "listRouteTables",
    "listInternetGateways",
    "listNatGateways",
    "listBuckets",
    "listAlarms",
    "getAlarmStatus",
];

/// How many compartments are listed at once.
const CONCURRENCY: usize = 4;

/// Most compartments one call searches.
const MAX_SEARCHED: usize = 100;

/// Deepest compartment nesting OCI allows is six levels; stop well after that.
const MAX_DEPTH: usize = 10;

/// What a compartment listing keeps.
pub(crate) const COMPARTMENT_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "compartmentId",
    "lifecycleState",
];

/// Whether this call searches every allowed compartment: a [`FAN_OUT`] list
/// without `compartmentId`.
pub(crate) fn fans_out(name: &str, args: &Map<String, Value>) -> bool {
    FAN_OUT.contains(&name) && !args.contains_key("compartmentId")
}

/// Whether this call lists the allowed subtree's compartments themselves:
/// `listCompartments` without `compartmentId`, for an organisation not
/// assigned the whole tenancy (which lists the tenancy's tree as before).
pub(crate) fn subtree_listing(name: &str, args: &Map<String, Value>) -> bool {
    name == "listCompartments" && !args.contains_key("compartmentId")
}

fn active(c: &Value) -> bool {
    c.get("lifecycleState").and_then(Value::as_str) == Some("ACTIVE")
}

fn id_of(c: &Value) -> Option<&str> {
    c.get("id").and_then(Value::as_str)
}

impl OciTools {
    /// The children of compartment `parent` (any state).
    async fn children(&self, parent: &str) -> Result<Vec<Value>, ToolError> {
        self.client
            .list_all(
                &Service::IDENTITY,
                "/compartments",
                &[("compartmentId", parent), ("accessLevel", "ANY")],
                &RequestOptions::default(),
            )
            .await
            .map_err(oci_error)
    }

    /// The ACTIVE compartments under `root` (not `root` itself), walked level
    /// by level (OCI lists a subtree in one call only from the tenancy).
    pub(crate) async fn walk(&self, root: &str) -> Result<Vec<Value>, ToolError> {
        let mut out: Vec<Value> = Vec::new();
        let mut level = vec![root.to_string()];
        for _ in 0..MAX_DEPTH {
            let mut next = Vec::new();
            for parent in &level {
                for c in self.children(parent).await? {
                    let Some(id) = id_of(&c).map(String::from) else {
                        continue;
                    };
                    if active(&c) && !out.iter().any(|o| id_of(o) == Some(&id)) {
                        next.push(id);
                        out.push(c);
                    }
                }
            }
            if next.is_empty() || out.len() > MAX_SEARCHED {
                break;
            }
            level = next;
        }
        Ok(out)
    }

    /// Every ACTIVE compartment an organisation assigned `allowed` may use,
    /// the tenancy's root first when it is assigned the whole tenancy. Never
    /// reads outside the assigned subtrees: those are walked from their roots.
    async fn allowed_compartments(&self, allowed: &[String]) -> Result<Vec<Value>, ToolError> {
        if whole_tenancy(allowed) {
            let q = [
                ("compartmentId", self.tenancy.as_str()),
                ("compartmentIdInSubtree", "true"),
                ("accessLevel", "ANY"),
            ];
            let mut all = self
                .client
                .list_all(
                    &Service::IDENTITY,
                    "/compartments",
                    &q,
                    &RequestOptions::default(),
                )
                .await
                .map_err(oci_error)?;
            all.retain(active);
            let root = json!({"id": self.tenancy, "name": "(root)", "lifecycleState": "ACTIVE"});
            all.insert(0, root);
            return Ok(all);
        }
        let mut out: Vec<Value> = Vec::new();
        for root in allowed {
            if out.iter().any(|c| id_of(c) == Some(root)) {
                continue;
            }
            let path = format!(
                "/compartments/{}",
                encode_path_param(root, true).map_err(|e| ToolError::Invalid(e.to_string()))?
            );
            let opts = RequestOptions::default();
            let c = match self
                .client
                .send(Method::GET, &Service::IDENTITY, &path, &[], None, &opts)
                .await
            {
                Ok(r) => r.body,
                // An assigned compartment deleted since is no longer searched.
                Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => continue,
                Err(e) => return Err(oci_error(e)),
            };
            if !active(&c) {
                continue;
            }
            out.push(c);
            for c in self.walk(root).await? {
                if !out.iter().any(|o| id_of(o) == id_of(&c)) {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// `listCompartments` without a compartment for an organisation confined
    /// to some compartments: those it may use, with their sub-compartments.
    pub(crate) async fn list_allowed_compartments(
        &self,
        args: &Map<String, Value>,
        allowed: &[String],
    ) -> Result<Value, ToolError> {
        let mut all = self.allowed_compartments(allowed).await?;
        let n = all.len();
        all.truncate(limit(args));
        let items: Vec<Value> = all.iter().map(|c| pick(c, COMPARTMENT_FIELDS)).collect();
        let count = items.len();
        Ok(json!({
            "items": items,
            "count": count,
            "note": format!("The {n} compartments your organisation may use (those assigned to it and their sub-compartments)."),
        }))
    }

    /// Runs list tool `name` in every compartment an organisation assigned
    /// `allowed` may use, [`CONCURRENCY`] at a time, until `limit` items.
    pub(crate) async fn fan_out(
        &self,
        name: &str,
        args: &Map<String, Value>,
        allowed: &[String],
    ) -> Result<Value, ToolError> {
        let tool = catalogue::find(name)
            .ok_or_else(|| ToolError::NotFound(format!("{name} is not in this catalogue")))?;
        let mut ids: Vec<String> = self
            .allowed_compartments(allowed)
            .await?
            .iter()
            .filter_map(|c| id_of(c).map(String::from))
            .collect();
        let found = ids.len();
        ids.truncate(MAX_SEARCHED);
        let total = ids.len();
        let max = limit(args);
        let per_compartment = ids.into_iter().map(|c| {
            let mut a = args.clone();
            a.insert("compartmentId".into(), Value::String(c.clone()));
            async move {
                let r = tool.run(self, &a).await;
                (c, r)
            }
        });
        let mut results = stream::iter(per_compartment).buffered(CONCURRENCY);
        let (mut items, mut failed, mut searched) = (Vec::new(), Vec::new(), 0usize);
        let mut first_error = None;
        while let Some((c, r)) = results.next().await {
            searched += 1;
            match r {
                Ok(body) => {
                    for mut item in crate::rest::items_of(&body, "items") {
                        if let Value::Object(m) = &mut item {
                            m.entry("compartmentId")
                                .or_insert_with(|| Value::String(c.clone()));
                        }
                        items.push(item);
                    }
                }
                Err(e) => {
                    failed.push(json!({"compartmentId": c, "error": e.message()}));
                    first_error.get_or_insert(e);
                }
            }
            if items.len() >= max {
                break;
            }
        }
        if let Some(e) = first_error.filter(|_| failed.len() == searched) {
            return Err(e);
        }
        items.truncate(max);
        Ok(merged(
            items,
            failed,
            searched,
            total,
            found,
            max,
            whole_tenancy(allowed),
        ))
    }
}

/// The merged result: the list tools' `{items, count}` with `searched` and a note.
fn merged(
    items: Vec<Value>,
    failed: Vec<Value>,
    searched: usize,
    total: usize,
    found: usize,
    max: usize,
    whole: bool,
) -> Value {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let subtree = if whole {
        "the tenancy's root and every sub-compartment"
    } else {
        "the compartments assigned to your organisation and their sub-compartments"
    };
    let mut note = format!(
        "Searched {searched} compartment{} ({subtree}); name compartmentId to list just one.",
        plural(searched)
    );
    if searched < total {
        note.push_str(&format!(
            " Stopped after {searched} of {total} at the limit of {max} items."
        ));
    }
    if found > total {
        note.push_str(&format!(
            " Only the first {total} of {found} compartments are searched."
        ));
    }
    if !failed.is_empty() {
        note.push_str(&format!(
            " {} compartment{} could not be searched (see searched.failed).",
            failed.len(),
            plural(failed.len())
        ));
    }
    let mut searched_v = json!({"compartments": searched});
    if !failed.is_empty() {
        searched_v["failed"] = Value::Array(failed);
    }
    let count = items.len();
    json!({"items": items, "count": count, "searched": searched_v, "note": note})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fan_out_tools_are_lists_with_an_optional_compartment_and_a_limit() {
        for name in FAN_OUT {
            let spec = catalogue::spec(name).unwrap_or_else(|| panic!("{name} is a tool"));
            assert_eq!(spec.risk, portal_core::tools::Risk::Read, "{name}");
            let c = spec.params.iter().find(|p| p.name == "compartmentId");
            assert!(
                c.is_some_and(|p| !p.required),
                "{name}: optional compartmentId"
            );
            assert!(
                spec.params.iter().any(|p| p.name == "limit"),
                "{name}: limit"
            );
        }
        // The model is told what an absent compartment means, on exactly these tools.
        for t in catalogue::CATALOGUE {
            let says_any = t.spec.params.iter().any(|p| {
                p.name == "compartmentId"
                    && p.description == crate::params::ANY_COMPARTMENT.description
            });
            assert_eq!(says_any, FAN_OUT.contains(&t.spec.name), "{}", t.spec.name);
        }
        let args = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(fans_out("listInstances", &args(json!({}))));
        assert!(!fans_out(
            "listInstances",
            &args(json!({"compartmentId": "ocid1.compartment.oc1..a"}))
        ));
        assert!(!fans_out("listShapes", &args(json!({}))));
    }

    #[test]
    fn the_note_says_how_many_compartments_were_searched() {
        let v = merged(vec![json!({"id": "a"})], vec![], 5, 5, 5, 100, true);
        assert_eq!(v["count"], 1);
        assert_eq!(v["searched"]["compartments"], 5);
        assert!(v["note"]
            .as_str()
            .is_some_and(|n| n.starts_with("Searched 5 compartments (the tenancy's root")));
        let v = merged(
            vec![],
            vec![json!({"compartmentId": "c"})],
            2,
            3,
            120,
            1,
            false,
        );
        let note = v["note"].as_str().unwrap_or_default();
        assert!(note.contains("assigned to your organisation"), "{note}");
        assert!(note.contains("Stopped after 2 of 3"), "{note}");
        assert!(note.contains("first 3 of 120"), "{note}");
        assert!(note.contains("1 compartment could not"), "{note}");
        assert_eq!(v["searched"]["failed"][0]["compartmentId"], "c");
    }
}
