//! The cloud tool catalogue. Each tool is a typed [`ToolSpec`] plus the OCI
//! REST calls that implement it through the signed client; the gateway in
//! `portal-core` is the only caller.
//!
//! Tools that change the cloud declare `confirm` or `danger` risk; the gateway
//! only runs them with a granted approval.
//!
//! One module per area holds that area's tools: `compute`, `network`,
//! `loadbalancer`, `blockstorage`, `objectstorage`, `artifacts`, `database`,
//! `identity`, `limits`, `search`, `billing`, `observability`, `logging`, and
//! the offline `pricing` and `terraform`. Each lists its [`Tool`]s, every one a
//! spec together with the function that implements it (no dispatch on names, so
//! a spec cannot exist without its implementation); `catalogue` joins them.
//! `params` has the parameters they share, `rules` OCI's value rules, `rest`
//! the REST plumbing.

mod params;

mod catalogue;

mod artifacts;
mod billing;
mod blockstorage;
mod compute;
mod database;
mod identity;
mod limits;
mod loadbalancer;
mod logging;
mod network;
mod objectstorage;
mod observability;
mod policy;
mod pricing;
mod rest;
mod rules;
mod scope;
mod search;
mod tenancy;
mod terraform;

use async_trait::async_trait;
use portal_core::service::compartments::whole_tenancy;
use portal_core::service::tools::{Scope, ToolError, ToolRunner};
use portal_core::tools::ToolSpec;
use portal_oci::client::OciClient;
use serde_json::{Map, Value};

pub use catalogue::{Tool, CATALOGUE};
pub use pricing::PriceList;
pub use tenancy::FAN_OUT;

/// The catalogue's specs.
pub static TOOLS: &[ToolSpec] = catalogue::SPECS;

/// The catalogue running against one cloud through the signed client.
pub struct OciTools {
    client: OciClient,
    tenancy: String,
    cloud: &'static str,
    ancestry: scope::Ancestry,
}

impl OciTools {
    /// Tools acting in `tenancy` through `client`; `cloud` names the cloud in results.
    pub fn new(client: OciClient, tenancy: impl Into<String>, cloud: &'static str) -> Self {
        Self {
            client,
            tenancy: tenancy.into(),
            cloud,
            ancestry: scope::Ancestry::default(),
        }
    }
}

#[async_trait]
impl ToolRunner for OciTools {
    fn specs(&self) -> std::borrow::Cow<'static, [ToolSpec]> {
        std::borrow::Cow::Borrowed(TOOLS)
    }

    fn cloud(&self) -> &'static str {
        self.cloud
    }

    fn spec(&self, name: &str) -> Option<&'static ToolSpec> {
        catalogue::spec(name)
    }

    fn check(&self, name: &str, args: &Map<String, Value>) -> Result<(), String> {
        network::check(name, args)
    }

    fn four_eyes(&self, name: &str, args: &Map<String, Value>) -> bool {
        four_eyes(name, args)
    }

    async fn run(&self, name: &str, args: &Map<String, Value>) -> Result<Value, ToolError> {
        let tool = catalogue::find(name)
            .ok_or_else(|| ToolError::NotFound(format!("{name} is not in this catalogue")))?;
        tool.run(self, args).await
    }

    async fn run_within(
        &self,
        name: &str,
        args: &Map<String, Value>,
        allowed: &[String],
    ) -> Result<Value, ToolError> {
        if tenancy::fans_out(name, args) {
            return self.fan_out(name, args, allowed).await;
        }
        if tenancy::subtree_listing(name, args) && !whole_tenancy(allowed) {
            return self.list_allowed_compartments(args, allowed).await;
        }
        self.run(name, args).await
    }

    async fn scope(&self, name: &str, args: &Map<String, Value>) -> Result<Scope, ToolError> {
        let spec = catalogue::spec(name)
            .ok_or_else(|| ToolError::NotFound(format!("{name} is not in this catalogue")))?;
        scope::scope(&self.client, &self.ancestry, &self.tenancy, spec, args).await
    }
}

/// Calls a second person must approve whatever the organisation's four-eyes
/// setting: running a script on an instance, changing IAM policy, and
/// launching an instance with cloud-init `userData` (a script run as root at
/// boot). Their payloads are what an attacker would want to self-approve.
pub fn four_eyes(name: &str, args: &Map<String, Value>) -> bool {
    match name {
        "runInstanceCommand" | "createPolicy" => true,
        "launchInstance" => args
            .get("userData")
            .and_then(Value::as_str)
            .is_some_and(|u| !u.is_empty()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_iam_always_need_a_second_person() {
        let args = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(four_eyes(
            "runInstanceCommand",
            &args(serde_json::json!({"script": "id"}))
        ));
        assert!(four_eyes("createPolicy", &args(serde_json::json!({}))));
        assert!(four_eyes(
            "launchInstance",
            &args(serde_json::json!({"userData": "I2Nsb3VkLWNvbmZpZw=="}))
        ));
        assert!(!four_eyes("launchInstance", &args(serde_json::json!({}))));
        assert!(!four_eyes(
            "launchInstance",
            &args(serde_json::json!({"userData": ""}))
        ));
        assert!(!four_eyes("stopInstance", &args(serde_json::json!({}))));
    }

    #[test]
    fn the_catalogue_holds_every_area_once_with_unique_names() {
        assert_eq!(TOOLS.len(), 87);
        let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len(), "tool names are unique");
        assert!(TOOLS.iter().all(|t| !t.description.is_empty()));
    }
}
