//! What adapters call: start a run, read runs and findings, acknowledge or
//! dismiss a finding, the home page's summary. Reading needs `tools:read`;
//! running and deciding `tools:execute` (a run executes read tools as the
//! caller). Everything is scoped to the caller's organisation.

use crate::kinds::AuditAction;
use serde::Serialize;
use serde_json::json;

use super::model::*;
use super::RUN_ATTEMPTS;
use crate::error::{CoreError, CoreResult};
use crate::identity::{Principal, PrincipalSnapshot};
use crate::jobs::{JobKind, NewJob};
use crate::model::Page;
use crate::rbac::Permission;
use crate::service::Ctx;

/// Largest page.
pub const MAX_PAGE: i64 = 100;
/// Longest dismissal: a year.
pub const MAX_DISMISS_MS: i64 = 366 * 86_400_000;

fn page(limit: i64, offset: i64) -> CoreResult<()> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(CoreError::Validation(format!(
            "limit: must be between 1 and {MAX_PAGE}"
        )));
    }
    if offset < 0 {
        return Err(CoreError::Validation("offset: must not be negative".into()));
    }
    Ok(())
}

/// The job that executes a run.
pub fn run_job(run: &AdvisorRun, at: i64) -> NewJob {
    let payload = json!({"orgId": run.org_id, "runId": run.id}).to_string();
    NewJob {
        id: format!("adv-{}", run.id),
        kind: JobKind::AdvisorRun,
        payload,
        run_after: at,
        max_attempts: RUN_ATTEMPTS,
    }
}

/// A queued run as `p`.
pub fn new_run(
    p: &Principal,
    org_id: &str,
    trigger: Trigger,
    schedule: Option<&str>,
    now: i64,
) -> AdvisorRun {
    new_run_as(
        &PrincipalSnapshot::of(p),
        &p.actor(),
        org_id,
        trigger,
        schedule,
        now,
    )
}

/// A queued run as the remembered principal `snap` (actor id `by`).
pub fn new_run_as(
    snap: &PrincipalSnapshot,
    by: &str,
    org_id: &str,
    trigger: Trigger,
    schedule: Option<&str>,
    now: i64,
) -> AdvisorRun {
    AdvisorRun {
        id: crate::service::auth::uuid_v4(),
        org_id: org_id.into(),
        status: RunStatus::Queued,
        trigger,
        schedule_id: schedule.map(str::to_owned),
        tick_at: None,
        started_by: by.into(),
        principal: snap.clone(),
        summary: RunSummary::default(),
        error: None,
        created_at: now,
        started_at: None,
        finished_at: None,
    }
}

/// Starts a run now as the caller; it proceeds in the background.
pub async fn start(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<AdvisorRun> {
    p.require(Permission::ToolsExecute)?;
    let org = p.org()?;
    let run = new_run(p, &org.id, Trigger::Manual, None, ctx.now);
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::AdvisorRunStarted,
        Some(&run.id),
        "success",
        json!({"trigger": "manual"}),
    )
    .job(run_job(&run, ctx.now));
    ctx.store.create_advisor_run(&run, &j).await?;
    Ok(run)
}

/// One run.
pub async fn get_run(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<AdvisorRun> {
    p.require(Permission::ToolsRead)?;
    ctx.store
        .get_advisor_run(&p.org()?.id, id)
        .await?
        .ok_or_else(|| CoreError::NotFound("Advisor run not found".into()))
}

/// Runs, newest first.
pub async fn list_runs(
    ctx: &Ctx<'_>,
    p: &Principal,
    limit: i64,
    offset: i64,
) -> CoreResult<Page<AdvisorRun>> {
    p.require(Permission::ToolsRead)?;
    page(limit, offset)?;
    Ok(ctx
        .store
        .list_advisor_runs(&p.org()?.id, None, limit, offset)
        .await?)
}

/// Findings matching `f`.
pub async fn list_findings(
    ctx: &Ctx<'_>,
    p: &Principal,
    f: &FindingFilter,
) -> CoreResult<Page<Finding>> {
    p.require(Permission::ToolsRead)?;
    page(f.limit, f.offset)?;
    Ok(ctx.store.list_findings(&p.org()?.id, f).await?)
}

/// One finding.
pub async fn get_finding(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<Finding> {
    p.require(Permission::ToolsRead)?;
    ctx.store
        .get_finding(&p.org()?.id, id)
        .await?
        .ok_or_else(|| CoreError::NotFound("Finding not found".into()))
}

/// A decision on a finding.
pub enum Decision {
    /// Someone owns it.
    Acknowledge,
    /// Accepted until this time (ms).
    Dismiss {
        /// When the dismissal lapses.
        until: i64,
    },
}

/// Acknowledges or dismisses an open (or acknowledged, or dismissed) finding.
pub async fn decide(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    decision: Decision,
    note: Option<String>,
) -> CoreResult<Finding> {
    p.require(Permission::ToolsExecute)?;
    let org = p.org()?;
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(CoreError::Validation(
            "note: at most 2000 characters".into(),
        ));
    }
    let mut f = get_finding(ctx, p, id).await?;
    if f.status == FindingStatus::Resolved {
        return Err(CoreError::Conflict("The finding is resolved".into()));
    }
    let read_at = f.updated_at;
    let action = match decision {
        Decision::Acknowledge => {
            f.status = FindingStatus::Acknowledged;
            f.dismissed_until = None;
            AuditAction::AdvisorFindingAcknowledged
        }
        Decision::Dismiss { until } => {
            if until <= ctx.now || until - ctx.now > MAX_DISMISS_MS {
                return Err(CoreError::Validation(
                    "until: must be in the future, at most a year ahead".into(),
                ));
            }
            if note.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return Err(CoreError::Validation(
                    "note: say why it is dismissed".into(),
                ));
            }
            f.status = FindingStatus::Dismissed;
            f.dismissed_until = Some(until);
            AuditAction::AdvisorFindingDismissed
        }
    };
    f.note = note;
    f.decided_by = Some(p.actor());
    f.updated_at = ctx.now.max(read_at + 1);
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        action,
        Some(&f.id),
        "success",
        json!({"note": f.note, "until": f.dismissed_until}),
    );
    if !ctx.store.decide_finding(&f, read_at, &j).await? {
        return Err(CoreError::Conflict(
            "The finding changed; read it again".into(),
        ));
    }
    Ok(f)
}

/// The home page's numbers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Open and acknowledged findings by severity (critical, high, medium, low).
    pub by_severity: Vec<(Severity, i64)>,
    /// Their estimated monthly savings (cents).
    pub savings_cents: i64,
    /// The latest run.
    pub last_run: Option<AdvisorRun>,
}

/// Counts by severity, savings and the latest run.
pub async fn summary(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Summary> {
    p.require(Permission::ToolsRead)?;
    let org = &p.org()?.id;
    let all = ctx.store.all_findings(org).await?;
    let live: Vec<&Finding> = all
        .iter()
        .filter(|f| matches!(f.status, FindingStatus::Open | FindingStatus::Acknowledged))
        .collect();
    let by_severity = Severity::ALL
        .iter()
        .map(|s| (*s, live.iter().filter(|f| f.severity == *s).count() as i64))
        .collect();
    let savings_cents = live.iter().filter_map(|f| f.savings_cents).sum();
    let last_run = ctx
        .store
        .list_advisor_runs(org, None, 1, 0)
        .await?
        .items
        .into_iter()
        .next();
    Ok(Summary {
        by_severity,
        savings_cents,
        last_run,
    })
}

/// The chat prompt that asks the agent to carry out a finding's fix plan
/// (each call then goes through the gateway and its approvals).
pub fn fix_prompt(f: &Finding) -> String {
    let check = super::checks::find(&f.check_id);
    let mut p = format!(
        "The advisor found: {} (check {}, resource {}).",
        f.title, f.check_id, f.resource_id
    );
    if let Some(c) = check {
        p.push_str(&format!(" Remediation: {}", c.remediation));
    }
    if f.fix.is_empty() {
        p.push_str(" No tool in the catalogue fixes this; explain the manual steps.");
    } else {
        p.push_str(
            " Carry out this plan, one tool call per step, asking for approval where needed:",
        );
        for (i, s) in f.fix.iter().enumerate() {
            p.push_str(&format!("\n{}. {} {}", i + 1, s.tool, s.args));
        }
    }
    p
}
