//! Graph analytics and approval blast radii over the configured cloud: the
//! reader (tools, metrics, deadline, the process's tenancy snapshots) is
//! assembled here once, so adapters only pass the caller and the question.

use portal_core::graph::impact::{self, Impact};
use portal_core::graph::model::GraphAnswer;
use portal_core::graph::read::Cloud;
use portal_core::graph::service::{self, Query};
use portal_core::identity::Principal;
use portal_core::model::Approval;
use portal_core::service::Ctx;
use portal_core::{CoreError, CoreResult};

use crate::{App, TOOL_TIMEOUT};

impl App {
    /// How graph analytics read the tenancy (`None`: no cloud configured).
    pub fn tenancy_reader(&self) -> Option<Cloud<'_>> {
        let cloud = self.cloud.get()?;
        Some(Cloud {
            tools: cloud.tools.as_ref(),
            hooks: &self.metrics,
            timeout: TOOL_TIMEOUT,
            snapshots: self.contexts.tenancy(),
        })
    }

    /// Answers a graph query for `p`'s organisation (`/api/graph`).
    pub async fn graph_query(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        q: &Query,
    ) -> CoreResult<GraphAnswer> {
        service::query(ctx, self.tenancy_reader().as_ref(), p, q).await
    }

    /// What each of `approvals` would affect if approved (destructive calls
    /// only), in order; an error when the cloud cannot be read.
    pub async fn approval_impacts(
        &self,
        p: &Principal,
        approvals: &[Approval],
    ) -> CoreResult<Vec<Option<Impact>>> {
        if approvals.iter().all(|a| impact::target(a).is_none()) {
            return Ok(vec![None; approvals.len()]);
        }
        let cloud = self
            .tenancy_reader()
            .ok_or_else(|| CoreError::NotFound("no cloud is configured".into()))?;
        impact::of_approvals(&cloud, p, approvals).await
    }
}
