//! The gateway's read path for analytics (the resource graph, the blast
//! radius approvers see): the same rules as [`super::tools::execute`] —
//! `tools:execute`, read tools only, argument validation, the organisation's
//! compartment policy (and the runner confined to its compartments), a
//! deadline, metrics — but no activity record, audit entry or outbox event
//! per read. Rendering an approval or a graph is looking, not acting: a
//! page view must not grow the ledger or show up as tool usage.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::tools::{find, GatewayHooks, ToolError, ToolRunner};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::model::ExecutionStatus;
use crate::rbac::Permission;
use crate::tools::Risk;

/// Runs the read tool `name` with `args` for `p`, unrecorded; a tool that
/// changes anything is refused (those go through the gateway proper).
pub async fn read(
    runner: &dyn ToolRunner,
    hooks: &dyn GatewayHooks,
    p: &Principal,
    name: &str,
    args: &Value,
    timeout: Duration,
) -> CoreResult<Value> {
    p.require(Permission::ToolsExecute)?;
    let org = p.org()?;
    let spec = find(runner, name)?;
    if spec.risk != Risk::Read {
        return Err(CoreError::Forbidden(format!(
            "{name} changes the cloud: analytics run read tools only"
        )));
    }
    let args = spec.validate(args).map_err(CoreError::Validation)?;
    runner.check(name, &args).map_err(CoreError::Validation)?;
    super::compartments::check(runner, org, name, &args).await?;
    let start = Instant::now();
    let run = runner.run_within(name, &args, &org.allowed_compartments);
    let outcome = match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(ToolError::Cloud(format!(
            "{name} did not finish within {} s",
            timeout.as_secs()
        ))),
    };
    let status = match &outcome {
        Ok(_) => ExecutionStatus::Success,
        Err(_) => ExecutionStatus::Error,
    };
    hooks.executed(name, status.as_str(), start.elapsed().as_secs_f64());
    match outcome {
        Ok(v) => Ok(v),
        Err(ToolError::Cloud(m)) => Err(CoreError::Upstream(m)),
        Err(ToolError::NotFound(m)) => Err(CoreError::NotFound(m)),
        Err(ToolError::Invalid(m)) => Err(CoreError::Validation(m)),
    }
}
