//! AI providers as data: statements, row decoder and repository.

use async_trait::async_trait;
use portal_core::ai_providers::{AiProvider, AiProviderRepo, ProviderType, TestStatus};
use portal_core::journal::Journal;
use portal_core::store::StoreResult;
use portal_core::StoreError;

use super::{journal, Db, Exec, Row, Sql, SqlStore};
use crate::args;

macro_rules! cols {
    () => {
        "id, name, kind, base_url, api_key_sealed, models, default_model, enabled, \
         test_status, test_error, tested_at, created_at, updated_at"
    };
}

static INSERT: Sql = Sql::new(concat!(
    "INSERT INTO ai_providers (",
    cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
));
static LIST: Sql = Sql::new(concat!(
    "SELECT ",
    cols!(),
    " FROM ai_providers ORDER BY created_at, id"
));
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    cols!(),
    " FROM ai_providers WHERE id = $1"
));
static UPDATE: Sql = Sql::new(
    "UPDATE ai_providers SET name = $2, kind = $3, base_url = $4, api_key_sealed = $5, \
     models = $6, default_model = $7, enabled = $8, test_status = $9, test_error = $10, \
     tested_at = $11, updated_at = $13 WHERE id = $1 AND created_at = $12",
);
static DELETE: Sql = Sql::new("DELETE FROM ai_providers WHERE id = $1");

fn decode(r: &dyn Row) -> StoreResult<AiProvider> {
    let unknown =
        |what: &str, v: &str| StoreError::Other(format!("AI provider: unknown {what} {v:?}"));
    let kind = r.text(2)?;
    let status = r.text(8)?;
    Ok(AiProvider {
        id: r.text(0)?,
        name: r.text(1)?,
        kind: ProviderType::parse(&kind).ok_or_else(|| unknown("type", &kind))?,
        base_url: r.text(3)?,
        api_key_sealed: r.opt_text(4)?,
        models: serde_json::from_str(&r.text(5)?)
            .map_err(|e| StoreError::Other(format!("AI provider models: {e}")))?,
        default_model: r.text(6)?,
        enabled: r.flag(7)?,
        test_status: TestStatus::parse(&status).ok_or_else(|| unknown("test status", &status))?,
        test_error: r.opt_text(9)?,
        tested_at: r.opt_int(10)?,
        created_at: r.int(11)?,
        updated_at: r.int(12)?,
    })
}

async fn write<E: Exec>(c: &mut E, sql: &Sql, p: &AiProvider) -> StoreResult<u64> {
    let models = serde_json::to_string(&p.models).map_err(|e| StoreError::Other(e.to_string()))?;
    c.execute(
        sql,
        &args![
            p.id,
            p.name,
            p.kind.as_str(),
            p.base_url,
            p.api_key_sealed,
            models,
            p.default_model,
            p.enabled,
            p.test_status.as_str(),
            p.test_error,
            p.tested_at,
            p.created_at,
            p.updated_at
        ],
    )
    .await
}

#[async_trait]
impl<B: Db> AiProviderRepo for SqlStore<B> {
    async fn create_ai_provider(&self, p: &AiProvider, j: &Journal<'_>) -> StoreResult<()> {
        let mut c = self.0.begin().await?;
        write(&mut c, &INSERT, p).await?;
        journal::write(&mut c, j).await?;
        c.commit().await
    }

    async fn list_ai_providers(&self) -> StoreResult<Vec<AiProvider>> {
        let mut c = self.0.reader().await?;
        c.rows(&LIST, &args![], decode).await
    }

    async fn get_ai_provider(&self, id: &str) -> StoreResult<Option<AiProvider>> {
        let mut c = self.0.reader().await?;
        c.opt(&GET, &args![id], decode).await
    }

    async fn update_ai_provider(&self, p: &AiProvider, j: &Journal<'_>) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = write(&mut c, &UPDATE, p).await?;
        journal::commit_touched(c, n, j).await
    }

    async fn delete_ai_provider(&self, id: &str, j: &Journal<'_>) -> StoreResult<bool> {
        let mut c = self.0.begin().await?;
        let n = c.execute(&DELETE, &args![id]).await?;
        journal::commit_touched(c, n, j).await
    }
}
