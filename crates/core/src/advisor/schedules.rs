//! What adapters call about schedules: create, list, read, change (pause,
//! resume, new pattern), delete. A schedule's runs read the cloud as its
//! creator (re-checked at every run: a removed member's schedule fails and
//! pauses itself), so creating or changing one needs `tools:execute`.

use crate::kinds::AuditAction;
use serde_json::json;

use super::schedule::{tick_job, Overlap, Pattern, Schedule};
use crate::error::{CoreError, CoreResult};
use crate::identity::{Principal, PrincipalSnapshot};
use crate::rbac::Permission;
use crate::service::Ctx;

/// Schedules one organisation may have.
pub const MAX_SCHEDULES: usize = 20;

/// The settings of a schedule, as given.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Cron pattern (UTC).
    pub cron: Option<String>,
    /// Overlap policy.
    pub overlap: Option<Overlap>,
    /// Catch-up window (seconds, 0–86 400).
    pub catch_up_seconds: Option<i64>,
    /// Most jitter (seconds, 0–3 600).
    pub jitter_seconds: Option<i64>,
    /// Failed runs in a row that pause it (1–100).
    pub max_failures: Option<i64>,
    /// Pause (true) or resume (false).
    pub paused: Option<bool>,
}

fn range(field: &str, v: Option<i64>, lo: i64, hi: i64) -> CoreResult<()> {
    match v {
        Some(n) if !(lo..=hi).contains(&n) => Err(CoreError::Validation(format!(
            "{field}: must be between {lo} and {hi}"
        ))),
        _ => Ok(()),
    }
}

fn apply(s: &mut Schedule, set: &Settings) -> CoreResult<()> {
    range("catchUpSeconds", set.catch_up_seconds, 0, 86_400)?;
    range("jitterSeconds", set.jitter_seconds, 0, 3_600)?;
    range("maxFailures", set.max_failures, 1, 100)?;
    if let Some(c) = &set.cron {
        Pattern::parse(c)?;
        s.cron = c.clone();
    }
    if let Some(o) = set.overlap {
        s.overlap = o;
    }
    if let Some(n) = set.catch_up_seconds {
        s.catch_up_ms = n * 1000;
    }
    if let Some(n) = set.jitter_seconds {
        s.jitter_ms = n * 1000;
    }
    if let Some(n) = set.max_failures {
        s.max_failures = n;
    }
    Ok(())
}

/// The remembered principal of a schedule: the member, not their browser
/// session (a schedule outlives a sign-out; permissions are still re-checked).
fn snapshot(p: &Principal) -> PrincipalSnapshot {
    let mut snap = PrincipalSnapshot::of(p);
    if snap.key_id.is_none() {
        snap.session = false;
        snap.session_id = None;
    }
    snap
}

/// Creates a schedule running as the caller; its first tick is queued with it.
pub async fn create(ctx: &Ctx<'_>, p: &Principal, set: &Settings) -> CoreResult<Schedule> {
    p.require(Permission::ToolsExecute)?;
    let org = p.org()?;
    let Some(cron) = &set.cron else {
        return Err(CoreError::Validation("cron: required".into()));
    };
    if ctx.store.list_advisor_schedules(&org.id).await?.len() >= MAX_SCHEDULES {
        return Err(CoreError::Conflict(format!(
            "An organisation has at most {MAX_SCHEDULES} schedules"
        )));
    }
    let mut s = Schedule {
        id: crate::service::auth::uuid_v4(),
        org_id: org.id.clone(),
        cron: cron.clone(),
        overlap: Overlap::Skip,
        catch_up_ms: 300_000,
        jitter_ms: 0,
        max_failures: 3,
        failures: 0,
        paused: set.paused.unwrap_or(false),
        paused_reason: None,
        principal: snapshot(p),
        created_by: p.actor(),
        next_at: None,
        last_tick_at: None,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    apply(&mut s, set)?;
    let mut j = ctx.journal();
    if !s.paused {
        s.next_at = Pattern::parse(&s.cron)?.next_after(ctx.now);
        if let Some(n) = s.next_at {
            j.job(tick_job(&s, n));
        }
    }
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::AdvisorScheduleCreated,
        Some(&s.id),
        "success",
        json!({"cron": s.cron}),
    );
    ctx.store.create_advisor_schedule(&s, &j).await?;
    Ok(s)
}

/// One schedule.
pub async fn get(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<Schedule> {
    p.require(Permission::ToolsRead)?;
    ctx.store
        .get_advisor_schedule(&p.org()?.id, id)
        .await?
        .ok_or_else(|| CoreError::NotFound("Schedule not found".into()))
}

/// The organisation's schedules.
pub async fn list(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<Schedule>> {
    p.require(Permission::ToolsRead)?;
    Ok(ctx.store.list_advisor_schedules(&p.org()?.id).await?)
}

/// Changes a schedule. A new pattern or a resume queues the next tick from
/// now (and resets the failure count); a pause stops the ticks.
pub async fn update(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    set: &Settings,
) -> CoreResult<Schedule> {
    p.require(Permission::ToolsExecute)?;
    let org = p.org()?;
    let mut s = get(ctx, p, id).await?;
    let read_at = s.updated_at;
    apply(&mut s, set)?;
    let mut j = ctx.journal();
    match set.paused {
        Some(true) => {
            s.paused = true;
            s.next_at = None;
        }
        Some(false) => {
            s.paused = false;
            s.paused_reason = None;
            s.failures = 0;
        }
        None => {}
    }
    let retime = set.cron.is_some() || set.paused == Some(false) || set.jitter_seconds.is_some();
    if !s.paused && (retime || s.next_at.is_none()) {
        s.next_at = Pattern::parse(&s.cron)?.next_after(ctx.now);
        if let Some(n) = s.next_at {
            j.job(tick_job(&s, n));
        }
    }
    s.updated_at = ctx.now.max(read_at + 1);
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::AdvisorScheduleUpdated,
        Some(&s.id),
        "success",
        json!({"cron": s.cron, "paused": s.paused}),
    );
    if !ctx.store.update_advisor_schedule(&s, read_at, &j).await? {
        return Err(CoreError::Conflict(
            "The schedule changed; read it again".into(),
        ));
    }
    Ok(s)
}

/// Deletes a schedule (its runs stay; a queued tick finds nothing and ends).
pub async fn delete(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<()> {
    p.require(Permission::ToolsExecute)?;
    let org = p.org()?;
    let mut j = ctx.journal();
    j.audit(
        Some(&org.id),
        &p.actor(),
        AuditAction::AdvisorScheduleDeleted,
        Some(id),
        "success",
        json!({}),
    );
    if !ctx.store.delete_advisor_schedule(&org.id, id, &j).await? {
        return Err(CoreError::NotFound("Schedule not found".into()));
    }
    Ok(())
}
