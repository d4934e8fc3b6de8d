//! Advisor runs and findings: statements, row decoders and repository. A
//! run's end writes its row, the findings it changed and its journal in one
//! transaction; a finding refreshed by a scan keeps its stored lifecycle.

use async_trait::async_trait;
use portal_core::advisor::model::{
    AdvisorRun, Category, Finding, FindingFilter, FindingStatus, RunStatus, Severity, Trigger,
};
use portal_core::journal::Journal;
use portal_core::model::Page;
use portal_core::store::{AdvisorRepo, StoreResult};
use portal_core::StoreError;

use super::workflows::json;
use super::{decode, journal, touched, Db, Exec, Row, Sql, SqlStore};
use crate::args;

macro_rules! run_cols {
    () => {
        "id, org_id, status, trigger, schedule_id, started_by, principal, summary, error, \
         created_at, started_at, finished_at, tick_at"
    };
}
macro_rules! finding_cols {
    () => {
        "id, org_id, check_id, resource_id, resource_name, category, severity, status, title, \
         evidence, savings_cents, fix, note, dismissed_until, decided_by, last_run_id, \
         first_seen_at, last_seen_at, resolved_at, updated_at"
    };
}

static INSERT_RUN: Sql = Sql::new(concat!(
    "INSERT INTO advisor_runs (",
    run_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
));
static SAVE_RUN: Sql = Sql::new(
    "UPDATE advisor_runs SET status = $3, summary = $4, error = $5, started_at = $6, \
     finished_at = $7 WHERE org_id = $1 AND id = $2",
);
static GET_RUN: Sql = Sql::new(concat!(
    "SELECT ",
    run_cols!(),
    " FROM advisor_runs WHERE org_id = $1 AND id = $2"
));
static COUNT_RUNS: Sql = Sql::new(
    "SELECT COUNT(*) FROM advisor_runs WHERE org_id = $1 AND ($2::TEXT IS NULL OR schedule_id = $2)",
);
static LIST_RUNS: Sql = Sql::new(concat!(
    "SELECT ",
    run_cols!(),
    " FROM advisor_runs WHERE org_id = $1 AND ($2::TEXT IS NULL OR schedule_id = $2) \
     ORDER BY created_at DESC, id{C} LIMIT $3 OFFSET $4"
));
/// A scan's write: new rows whole; existing ones refreshed, their lifecycle
/// (status, note, dismissal, resolution) replaced only when `$21` says it moves.
static UPSERT_FINDING: Sql = Sql::new(concat!(
    "INSERT INTO advisor_findings (",
    finding_cols!(),
    ", severity_rank) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
     $16, $17, $18, $19, $20, $22) \
     ON CONFLICT (id) DO UPDATE SET resource_name = excluded.resource_name, \
     title = excluded.title, evidence = excluded.evidence, savings_cents = excluded.savings_cents, \
     fix = excluded.fix, last_run_id = excluded.last_run_id, last_seen_at = CASE WHEN \
     excluded.status = 'resolved' THEN advisor_findings.last_seen_at ELSE excluded.last_seen_at END, \
     severity = excluded.severity, severity_rank = excluded.severity_rank, \
     status = CASE WHEN $21 THEN excluded.status ELSE advisor_findings.status END, \
     note = CASE WHEN $21 THEN excluded.note ELSE advisor_findings.note END, \
     dismissed_until = CASE WHEN $21 THEN excluded.dismissed_until ELSE advisor_findings.dismissed_until END, \
     decided_by = CASE WHEN $21 THEN excluded.decided_by ELSE advisor_findings.decided_by END, \
     resolved_at = CASE WHEN $21 THEN excluded.resolved_at ELSE advisor_findings.resolved_at END, \
     updated_at = CASE WHEN $21 THEN excluded.updated_at ELSE advisor_findings.updated_at END"
));
static ALL_FINDINGS: Sql = Sql::new(concat!(
    "SELECT ",
    finding_cols!(),
    " FROM advisor_findings WHERE org_id = $1 ORDER BY id{C}"
));
static GET_FINDING: Sql = Sql::new(concat!(
    "SELECT ",
    finding_cols!(),
    " FROM advisor_findings WHERE org_id = $1 AND id = $2"
));
macro_rules! finding_filter {
    () => {
        " FROM advisor_findings WHERE org_id = $1 \
         AND ($2::TEXT IS NULL OR $2 LIKE '%,' || status || ',%') \
         AND ($3::TEXT IS NULL OR severity = $3) AND ($4::TEXT IS NULL OR category = $4) \
         AND ($5::TEXT IS NULL OR check_id = $5)"
    };
}
static COUNT_FINDINGS: Sql = Sql::new(concat!("SELECT COUNT(*)", finding_filter!()));
static LIST_FINDINGS: Sql = Sql::new(concat!(
    "SELECT ",
    finding_cols!(),
    finding_filter!(),
    " ORDER BY severity_rank, last_seen_at DESC, id{C} LIMIT $6 OFFSET $7"
));
static DECIDE: Sql = Sql::new(
    "UPDATE advisor_findings SET status = $3, note = $4, dismissed_until = $5, decided_by = $6, \
     updated_at = $7 WHERE org_id = $1 AND id = $2 AND updated_at = $8 AND status <> 'resolved'",
);

fn parse<T>(what: &str, v: &str, f: fn(&str) -> Option<T>) -> StoreResult<T> {
    f(v).ok_or_else(|| StoreError::Other(format!("unknown {what} {v}")))
}

pub(crate) fn run(r: &dyn Row) -> StoreResult<AdvisorRun> {
    Ok(AdvisorRun {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        status: parse("run status", &r.text(2)?, RunStatus::parse)?,
        trigger: parse("trigger", &r.text(3)?, Trigger::parse)?,
        schedule_id: r.opt_text(4)?,
        started_by: r.text(5)?,
        principal: json(&r.text(6)?)?,
        summary: json(&r.text(7)?)?,
        error: r.opt_text(8)?,
        created_at: r.int(9)?,
        started_at: r.opt_int(10)?,
        finished_at: r.opt_int(11)?,
        tick_at: r.opt_int(12)?,
    })
}

fn finding(r: &dyn Row) -> StoreResult<Finding> {
    Ok(Finding {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        check_id: r.text(2)?,
        resource_id: r.text(3)?,
        resource_name: r.text(4)?,
        category: parse("category", &r.text(5)?, Category::parse)?,
        severity: parse("severity", &r.text(6)?, Severity::parse)?,
        status: parse("finding status", &r.text(7)?, FindingStatus::parse)?,
        title: r.text(8)?,
        evidence: json(&r.text(9)?)?,
        savings_cents: r.opt_int(10)?,
        fix: json(&r.text(11)?)?,
        note: r.opt_text(12)?,
        dismissed_until: r.opt_int(13)?,
        decided_by: r.opt_text(14)?,
        last_run_id: r.text(15)?,
        first_seen_at: r.int(16)?,
        last_seen_at: r.int(17)?,
        resolved_at: r.opt_int(18)?,
        updated_at: r.int(19)?,
    })
}

pub(crate) fn text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn rank(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as i64
}

/// Inserts a run (inside the caller's transaction).
pub(crate) async fn insert_run<E: Exec>(tx: &mut E, run: &AdvisorRun) -> StoreResult<()> {
    tx.execute(
        &INSERT_RUN,
        &args![
            run.id,
            run.org_id,
            run.status.as_str(),
            run.trigger.as_str(),
            run.schedule_id,
            run.started_by,
            text(&run.principal),
            text(&run.summary),
            run.error,
            run.created_at,
            run.started_at,
            run.finished_at,
            run.tick_at
        ],
    )
    .await?;
    Ok(())
}

async fn save_run<E: Exec>(w: &mut E, run: &AdvisorRun) -> StoreResult<u64> {
    w.execute(
        &SAVE_RUN,
        &args![
            run.org_id,
            run.id,
            run.status.as_str(),
            text(&run.summary),
            run.error,
            run.started_at,
            run.finished_at
        ],
    )
    .await
}

#[async_trait]
impl<B: Db> AdvisorRepo for SqlStore<B> {
    async fn create_advisor_run(&self, run: &AdvisorRun, j: &Journal<'_>) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        insert_run(&mut tx, run).await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn save_advisor_run(&self, run: &AdvisorRun) -> StoreResult<()> {
        let mut w = self.0.writer().await?;
        touched(save_run(&mut w, run).await?)?;
        w.commit().await
    }

    async fn finish_advisor_run(
        &self,
        run: &AdvisorRun,
        findings: &[(Finding, bool)],
        j: &Journal<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        touched(save_run(&mut tx, run).await?)?;
        for (f, moves) in findings {
            tx.execute(
                &UPSERT_FINDING,
                &args![
                    f.id,
                    f.org_id,
                    f.check_id,
                    f.resource_id,
                    f.resource_name,
                    f.category.as_str(),
                    f.severity.as_str(),
                    f.status.as_str(),
                    f.title,
                    text(&f.evidence),
                    f.savings_cents,
                    text(&f.fix),
                    f.note,
                    f.dismissed_until,
                    f.decided_by,
                    f.last_run_id,
                    f.first_seen_at,
                    f.last_seen_at,
                    f.resolved_at,
                    f.updated_at,
                    *moves,
                    rank(f.severity)
                ],
            )
            .await?;
        }
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn get_advisor_run(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<AdvisorRun>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET_RUN, &args![org_id, id], run).await
    }

    async fn list_advisor_runs(
        &self,
        org_id: &portal_core::ids::OrgId,
        schedule_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<AdvisorRun>> {
        let (limit, offset) = B::DIALECT.page(limit, offset);
        let mut c = self.0.reader().await?;
        let total = c
            .one(&COUNT_RUNS, &args![org_id, schedule_id], decode::int)
            .await?;
        let items = c
            .rows(&LIST_RUNS, &args![org_id, schedule_id, limit, offset], run)
            .await?;
        Ok(Page { items, total })
    }

    async fn all_findings(&self, org_id: &portal_core::ids::OrgId) -> StoreResult<Vec<Finding>> {
        let mut c = self.0.reader().await?;
        c.rows(&ALL_FINDINGS, &args![org_id], finding).await
    }

    async fn list_findings(
        &self,
        org_id: &portal_core::ids::OrgId,
        f: &FindingFilter,
    ) -> StoreResult<Page<Finding>> {
        let (limit, offset) = B::DIALECT.page(f.limit, f.offset);
        let statuses = (!f.status.is_empty()).then(|| {
            let names: Vec<&str> = f.status.iter().map(|s| s.as_str()).collect();
            format!(",{},", names.join(","))
        });
        let severity = f.severity.map(|s| s.as_str());
        let category = f.category.map(|c| c.as_str());
        let check = f.check_id.as_deref();
        let mut c = self.0.reader().await?;
        let total = c
            .one(
                &COUNT_FINDINGS,
                &args![org_id, statuses, severity, category, check],
                decode::int,
            )
            .await?;
        let items = c
            .rows(
                &LIST_FINDINGS,
                &args![org_id, statuses, severity, category, check, limit, offset],
                finding,
            )
            .await?;
        Ok(Page { items, total })
    }

    async fn get_finding(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<Finding>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET_FINDING, &args![org_id, id], finding).await
    }

    async fn decide_finding(
        &self,
        f: &Finding,
        read_at: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut tx = self.0.begin().await?;
        let n = tx
            .execute(
                &DECIDE,
                &args![
                    f.org_id,
                    f.id,
                    f.status.as_str(),
                    f.note,
                    f.dismissed_until,
                    f.decided_by,
                    f.updated_at,
                    read_at
                ],
            )
            .await?;
        journal::commit_touched(tx, n, j).await
    }
}
