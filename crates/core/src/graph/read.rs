//! Reading a tenancy for its resource graph: the read tools, each through
//! the gateway as the caller (its permission, the organisation's
//! compartment policy, activity and audit), lists fanning out over every
//! compartment the organisation may use.

use std::time::Duration;

use serde_json::{json, Value};

use super::resources::Inventory;
use crate::error::CoreResult;
use crate::identity::Principal;
use crate::service::tools::{self as gateway, GatewayHooks, ToolRunner};
use crate::service::Ctx;

/// Most items one list reads.
const LIST_LIMIT: i64 = 1000;

/// The cloud a graph reads.
pub struct Cloud<'a> {
    /// The tool catalogue.
    pub tools: &'a dyn ToolRunner,
    /// Metrics of executions.
    pub hooks: &'a dyn GatewayHooks,
    /// Each read's deadline.
    pub timeout: Duration,
}

impl Cloud<'_> {
    async fn call(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        tool: &str,
        args: Value,
    ) -> CoreResult<Value> {
        let req = gateway::Request {
            name: tool,
            args: &args,
            tool_call_id: None,
            approval_id: None,
        };
        let done = gateway::execute(ctx, self.tools, self.hooks, p, req, self.timeout).await?;
        Ok(done.result)
    }

    /// Every item of a list tool, across the organisation's compartments.
    async fn list(&self, ctx: &Ctx<'_>, p: &Principal, tool: &str) -> CoreResult<Vec<Value>> {
        let v = self
            .call(ctx, p, tool, json!({"limit": LIST_LIMIT}))
            .await?;
        Ok(v.get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// What a resource graph is built from, read as `p`.
    pub async fn inventory(&self, ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Inventory> {
        let (compartments, vcns, subnets, security_lists, instances) = tokio::try_join!(
            self.list(ctx, p, "listCompartments"),
            self.list(ctx, p, "listVcns"),
            self.list(ctx, p, "listSubnets"),
            self.list(ctx, p, "listSecurityLists"),
            self.list(ctx, p, "listInstances"),
        )?;
        let (vnic_attachments, volumes, volume_attachments, lbs) = tokio::try_join!(
            self.list(ctx, p, "listVnicAttachments"),
            self.list(ctx, p, "listBlockVolumes"),
            self.list(ctx, p, "listVolumeAttachments"),
            self.list(ctx, p, "listLoadBalancers"),
        )?;
        let mut vnics = Vec::new();
        for a in &vnic_attachments {
            let gone = matches!(
                a.get("lifecycleState").and_then(Value::as_str),
                Some("DETACHED" | "DETACHING")
            );
            if let (false, Some(id)) = (gone, a.get("vnicId").and_then(Value::as_str)) {
                vnics.push(self.call(ctx, p, "getVnic", json!({"vnicId": id})).await?);
            }
        }
        let mut load_balancers = Vec::new();
        for lb in &lbs {
            if let Some(id) = lb.get("id").and_then(Value::as_str) {
                let args = json!({"loadBalancerId": id});
                load_balancers.push(self.call(ctx, p, "getLoadBalancer", args).await?);
            }
        }
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
}
