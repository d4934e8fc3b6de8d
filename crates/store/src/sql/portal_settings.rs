//! The portal-wide settings: one row holding them as JSON (they are read
//! whole and change rarely; new fields need no migration).

use async_trait::async_trait;
use portal_core::journal::Journal;
use portal_core::portal_settings::{PortalSettings, PortalSettingsRepo};
use portal_core::store::StoreResult;
use portal_core::StoreError;

use super::{decode, journal, Db, Exec, Sql, SqlStore};
use crate::args;

static GET: Sql = Sql::new("SELECT value FROM portal_settings WHERE id = 1");
static PUT: Sql = Sql::new(
    "INSERT INTO portal_settings (id, value, updated_at) VALUES (1, $1, $2) \
     ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
);

#[async_trait]
impl<B: Db> PortalSettingsRepo for SqlStore<B> {
    async fn portal_settings(&self) -> StoreResult<Option<PortalSettings>> {
        let mut c = self.0.reader().await?;
        let Some(text) = c.opt(&GET, &[], decode::text).await? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Other(format!("portal settings: {e}")))
    }

    async fn put_portal_settings(&self, s: &PortalSettings, j: &Journal<'_>) -> StoreResult<()> {
        let value = serde_json::to_string(s).map_err(|e| StoreError::Other(e.to_string()))?;
        let mut tx = self.0.begin().await?;
        tx.execute(&PUT, &args![value, s.updated_at]).await?;
        journal::write(&mut tx, j).await?;
        tx.commit().await
    }
}
