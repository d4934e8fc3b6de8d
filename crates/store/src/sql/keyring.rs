//! The keyring's versions, and re-sealing every sealed column in one
//! transaction when the master secret rotates.

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::keyring::{KeyVersion, KeyringRepo, ResealRow, SealedColumn};
use portal_core::store::StoreResult;
use portal_core::StoreError;

use super::{journal, Db, Exec, Row, Sql, SqlStore};
use crate::args;

static VERSIONS: Sql =
    Sql::new("SELECT version, check_mac, durable_sealed, created_at FROM keyring ORDER BY version");
static INSERT: Sql = Sql::new(
    "INSERT INTO keyring (version, check_mac, durable_sealed, created_at) VALUES ($1, $2, $3, $4)",
);
/// Serialises rotations on PostgreSQL (SQLite's single writer already does).
static LOCK: Sql = Sql::new("LOCK TABLE keyring IN EXCLUSIVE MODE");

fn version(r: &dyn Row) -> StoreResult<KeyVersion> {
    Ok(KeyVersion {
        version: u32::try_from(r.int(0)?).map_err(|e| StoreError::Other(e.to_string()))?,
        check: r.text(1)?,
        durable_sealed: r.text(2)?,
        created_at: r.int(3)?,
    })
}

fn pair(r: &dyn Row) -> StoreResult<(String, String)> {
    Ok((r.text(0)?, r.text(1)?))
}

#[async_trait]
impl<B: Db> KeyringRepo for SqlStore<B> {
    async fn key_versions(&self) -> StoreResult<Vec<KeyVersion>> {
        let mut c = self.0.reader().await?;
        c.rows(&VERSIONS, &[], version).await
    }

    async fn rotate(
        &self,
        columns: &[SealedColumn],
        reseal: &ResealRow<'_>,
        versions: &[KeyVersion],
        j: &Journal<'_>,
    ) -> StoreResult<Vec<(String, u64)>> {
        let mut tx = self.0.begin().await?;
        if B::DIALECT == super::Dialect::Postgres {
            tx.execute(&LOCK, &[]).await?;
        }
        let current = tx.rows(&VERSIONS, &[], version).await?;
        let expected = current.last().map_or(1, |c| c.version + 1);
        if versions.first().map(|v| v.version) != Some(expected) {
            return Err(StoreError::Conflict(format!(
                "another rotation made version {} first",
                expected.saturating_sub(1)
            )));
        }
        let mut counts = Vec::with_capacity(columns.len());
        for col in columns {
            // Names come from the compile-time list, never from input.
            let select = Sql::dynamic(format!(
                "SELECT {id}, {c} FROM {t} WHERE {c} IS NOT NULL",
                id = col.id,
                c = col.column,
                t = col.table
            ));
            let update = Sql::dynamic(format!(
                "UPDATE {t} SET {c} = $2 WHERE {id} = $1",
                id = col.id,
                c = col.column,
                t = col.table
            ));
            let rows = tx.rows(&select, &[], pair).await?;
            for (id, value) in &rows {
                let new = reseal(col, id, value).map_err(StoreError::Conflict)?;
                tx.execute(&update, &args![id, new]).await?;
            }
            counts.push((format!("{}.{}", col.table, col.column), rows.len() as u64));
        }
        for v in versions {
            let version = i64::from(v.version);
            tx.execute(
                &INSERT,
                &args![version, v.check, v.durable_sealed, v.created_at],
            )
            .await?;
        }
        journal::write(&mut tx, j).await?;
        tx.commit().await?;
        Ok(counts)
    }
}
