//! Reading a tenancy for its resource graph: the read tools through the
//! gateway's read path as the caller (its permission, the organisation's
//! compartment policy; no activity or audit per read, see
//! [`crate::service::tool_reads`]), lists fanning out over every compartment
//! the organisation may use, kept briefly as a [`Snapshots`] entry.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::resources::{Inventory, ResourceGraph};
use super::snapshot::Snapshots;
use crate::error::CoreResult;
use crate::identity::Principal;
use crate::rbac::Permission;
use crate::service::tool_reads;
use crate::service::tools::{GatewayHooks, ToolRunner};

/// Most items one list reads.
const LIST_LIMIT: i64 = 1000;
/// Most `get` reads under way at once (VNICs, load balancers).
const LANES: usize = 5;

/// The cloud a graph reads.
pub struct Cloud<'a> {
    /// The tool catalogue.
    pub tools: &'a dyn ToolRunner,
    /// Metrics of executions.
    pub hooks: &'a dyn GatewayHooks,
    /// Each read's deadline.
    pub timeout: Duration,
    /// The process's snapshots.
    pub snapshots: &'a Snapshots,
}

impl Cloud<'_> {
    async fn call(&self, p: &Principal, tool: &str, args: Value) -> CoreResult<Value> {
        tool_reads::read(self.tools, self.hooks, p, tool, &args, self.timeout).await
    }

    /// Every item of a list tool, across the organisation's compartments.
    async fn list(&self, p: &Principal, tool: &str) -> CoreResult<Vec<Value>> {
        let v = self.call(p, tool, json!({"limit": LIST_LIMIT})).await?;
        Ok(v.get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// `tool` for each id (as argument `key`), at most [`LANES`] at a time,
    /// answers in the order of `ids`.
    async fn gets(
        &self,
        p: &Principal,
        tool: &str,
        key: &str,
        ids: &[&str],
    ) -> CoreResult<Vec<Value>> {
        let lane = |n: usize| async move {
            let mut out = Vec::new();
            for (i, id) in ids.iter().enumerate().skip(n).step_by(LANES) {
                out.push((i, self.call(p, tool, json!({ key: id })).await?));
            }
            CoreResult::Ok(out)
        };
        let (a, b, c, d, e) = tokio::try_join!(lane(0), lane(1), lane(2), lane(3), lane(4))?;
        let mut all: Vec<(usize, Value)> = [a, b, c, d, e].into_iter().flatten().collect();
        all.sort_by_key(|(i, _)| *i);
        Ok(all.into_iter().map(|(_, v)| v).collect())
    }

    /// What a resource graph is built from, read as `p` now.
    pub async fn inventory(&self, p: &Principal) -> CoreResult<Inventory> {
        let (compartments, vcns, subnets, security_lists, instances) = tokio::try_join!(
            self.list(p, "listCompartments"),
            self.list(p, "listVcns"),
            self.list(p, "listSubnets"),
            self.list(p, "listSecurityLists"),
            self.list(p, "listInstances"),
        )?;
        let (vnic_attachments, volumes, volume_attachments, lbs) = tokio::try_join!(
            self.list(p, "listVnicAttachments"),
            self.list(p, "listBlockVolumes"),
            self.list(p, "listVolumeAttachments"),
            self.list(p, "listLoadBalancers"),
        )?;
        let vnic_ids: Vec<&str> = vnic_attachments
            .iter()
            .filter(|a| {
                !matches!(
                    a.get("lifecycleState").and_then(Value::as_str),
                    Some("DETACHED" | "DETACHING")
                )
            })
            .filter_map(|a| a.get("vnicId").and_then(Value::as_str))
            .collect();
        let lb_ids: Vec<&str> = lbs
            .iter()
            .filter_map(|lb| lb.get("id").and_then(Value::as_str))
            .collect();
        let (vnics, load_balancers) = tokio::try_join!(
            self.gets(p, "getVnic", "vnicId", &vnic_ids),
            self.gets(p, "getLoadBalancer", "loadBalancerId", &lb_ids),
        )?;
        Ok(Inventory {
            compartments,
            vcns,
            subnets,
            security_lists,
            instances,
            vnic_attachments,
            vnics,
            volumes,
            volume_attachments,
            load_balancers,
        })
    }

    /// The resource graph of what `p`'s organisation may see: `p` must be
    /// allowed to run read tools; the graph itself may come from the
    /// organisation's snapshot (see [`Snapshots`] for why that is sound).
    pub async fn graph(&self, p: &Principal) -> CoreResult<Arc<ResourceGraph>> {
        p.require(Permission::ToolsExecute)?;
        let org = p.org()?;
        self.snapshots
            .get(&org.id, &org.allowed_compartments, || self.inventory(p))
            .await
    }
}
