//! Workflow definitions and their frozen versions: statements, row decoders
//! and repository. The definition is stored as its JSON (the export format);
//! name, description and tags are also columns, for lists and search.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::model::Page;
use portal_core::store::{StoreResult, WorkflowRepo};
use portal_core::workflows::model::{Workflow, WorkflowFilter, WorkflowStatus, WorkflowVersion};
use portal_core::workflows::Definition;
use portal_core::StoreError;

use super::{decode, journal, touched, Db, Exec, Row, Sql, SqlStore};
use crate::args;

macro_rules! workflow_cols {
    () => {
        "id, org_id, owner_id, status, version, definition, created_at, updated_at"
    };
}
macro_rules! version_cols {
    () => {
        "workflow_id, org_id, version, definition, published_by, created_at"
    };
}

static INSERT: Sql = Sql::new(
    "INSERT INTO workflows (id, org_id, owner_id, status, version, definition, created_at, \
     updated_at, name, description, tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
);
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    workflow_cols!(),
    " FROM workflows WHERE org_id = $1 AND id = $2"
));
macro_rules! filter {
    () => {
        " FROM workflows WHERE org_id = $1 AND ($2::TEXT IS NULL OR status = $2) \
         AND ($3::TEXT IS NULL OR LOWER(name) LIKE $3 ESCAPE '\\') \
         AND ($4::TEXT IS NULL OR tags LIKE $4 ESCAPE '\\')"
    };
}
static COUNT: Sql = Sql::new(concat!("SELECT COUNT(*)", filter!()));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    workflow_cols!(),
    filter!(),
    " ORDER BY updated_at DESC, id{C} LIMIT $5 OFFSET $6"
));
static SAVE: Sql = Sql::new(
    "UPDATE workflows SET status = $3, version = $4, definition = $5, updated_at = $6, \
     name = $7, description = $8, tags = $9 WHERE org_id = $1 AND id = $2 AND updated_at = $10",
);
/// Publishing moves the status and version; the version row's key fences a
/// concurrent publish of the same number.
static PUBLISH: Sql = Sql::new(
    "UPDATE workflows SET status = $3, version = $4, updated_at = $5 WHERE org_id = $1 AND id = $2",
);
static DELETE: Sql = Sql::new("DELETE FROM workflows WHERE org_id = $1 AND id = $2");
static INSERT_VERSION: Sql = Sql::new(concat!(
    "INSERT INTO workflow_versions (",
    version_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6)"
));
static GET_VERSION: Sql = Sql::new(concat!(
    "SELECT ",
    version_cols!(),
    " FROM workflow_versions WHERE org_id = $1 AND workflow_id = $2 AND version = $3"
));
static LIST_VERSIONS: Sql = Sql::new(concat!(
    "SELECT ",
    version_cols!(),
    " FROM workflow_versions WHERE org_id = $1 AND workflow_id = $2 ORDER BY version DESC"
));

/// A stored JSON column, decoded (a bad one is a store error, not a panic).
pub(crate) fn json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(format!("bad stored JSON: {e}")))
}

fn definition(text: &str) -> StoreResult<Definition> {
    Definition::from_json(text).map_err(|e| StoreError::Other(format!("bad stored workflow: {e}")))
}

fn workflow(r: &dyn Row) -> StoreResult<Workflow> {
    let status = r.text(3)?;
    Ok(Workflow {
        id: r.text(0)?,
        org_id: r.text(1)?.into(),
        owner_id: r.text(2)?,
        status: WorkflowStatus::parse(&status)
            .ok_or_else(|| StoreError::Other(format!("unknown workflow status {status}")))?,
        version: r.int(4)?,
        definition: definition(&r.text(5)?)?,
        created_at: r.int(6)?,
        updated_at: r.int(7)?,
    })
}

fn version(r: &dyn Row) -> StoreResult<WorkflowVersion> {
    Ok(WorkflowVersion {
        workflow_id: r.text(0)?,
        org_id: r.text(1)?.into(),
        version: r.int(2)?,
        definition: definition(&r.text(3)?)?,
        published_by: r.text(4)?,
        created_at: r.int(5)?,
    })
}

/// `LIKE` pattern for a substring, with `\`, `%` and `_` escaped.
fn contains(s: &str) -> String {
    let mut p = String::from("%");
    for ch in s.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn tags(w: &Workflow) -> String {
    serde_json::to_string(&w.definition.tags).unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl<B: Db> WorkflowRepo for SqlStore<B> {
    async fn create_workflow(&self, w: &Workflow, j: &Journal<'_>) -> StoreResult<()> {
        let mut c = self.0.begin().await?;
        c.execute(
            &INSERT,
            &args![
                w.id,
                w.org_id,
                w.owner_id,
                w.status.as_str(),
                w.version,
                w.definition.to_json(),
                w.created_at,
                w.updated_at,
                w.definition.name,
                w.definition.description,
                tags(w)
            ],
        )
        .await?;
        journal::write(&mut c, j).await?;
        c.commit().await
    }

    async fn get_workflow(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
    ) -> StoreResult<Option<Workflow>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![org_id, id], workflow).await
    }

    async fn list_workflows(
        &self,
        org_id: &portal_core::ids::OrgId,
        f: &WorkflowFilter,
    ) -> StoreResult<Page<Workflow>> {
        let (limit, offset) = B::DIALECT.page(f.limit, f.offset);
        let status = f.status.map(|s| s.as_str());
        let search = f.search.as_deref().map(|s| contains(&s.to_lowercase()));
        let tag = f
            .tag
            .as_deref()
            .map(|t| contains(&serde_json::Value::from(t).to_string()));
        let mut c = self.0.reader().await?;
        let total = c
            .one(&COUNT, &args![org_id, status, search, tag], decode::int)
            .await?;
        let items = c
            .rows(
                &LIST,
                &args![org_id, status, search, tag, limit, offset],
                workflow,
            )
            .await?;
        Ok(Page { items, total })
    }

    async fn save_workflow(
        &self,
        w: &Workflow,
        expected_updated_at: i64,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = c
            .execute(
                &SAVE,
                &args![
                    w.org_id,
                    w.id,
                    w.status.as_str(),
                    w.version,
                    w.definition.to_json(),
                    w.updated_at,
                    w.definition.name,
                    w.definition.description,
                    tags(w),
                    expected_updated_at
                ],
            )
            .await?;
        journal::commit_touched(c, n, j).await
    }

    async fn delete_workflow(
        &self,
        org_id: &portal_core::ids::OrgId,
        id: &str,
        j: &Journal<'_>,
    ) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = c.execute(&DELETE, &args![org_id, id]).await?;
        journal::commit_touched(c, n, j).await
    }

    async fn publish_workflow(
        &self,
        w: &Workflow,
        v: &WorkflowVersion,
        j: &Journal<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.0.begin().await?;
        tx.execute(
            &INSERT_VERSION,
            &args![
                v.workflow_id,
                v.org_id,
                v.version,
                v.definition.to_json(),
                v.published_by,
                v.created_at
            ],
        )
        .await?;
        touched(
            tx.execute(
                &PUBLISH,
                &args![w.org_id, w.id, w.status.as_str(), w.version, w.updated_at],
            )
            .await?,
        )?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }

    async fn get_workflow_version(
        &self,
        org_id: &portal_core::ids::OrgId,
        workflow_id: &str,
        version: i64,
    ) -> StoreResult<Option<WorkflowVersion>> {
        let mut c = self.0.reader().await?;
        c.opt(
            &GET_VERSION,
            &args![org_id, workflow_id, version],
            self::version,
        )
        .await
    }

    async fn list_workflow_versions(
        &self,
        org_id: &portal_core::ids::OrgId,
        workflow_id: &str,
    ) -> StoreResult<Vec<WorkflowVersion>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST_VERSIONS, &args![org_id, workflow_id], version)
            .await
    }
}
