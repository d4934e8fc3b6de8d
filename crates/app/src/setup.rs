//! First run: while no admin exists, a one-time token (printed at start and
//! kept in `<data dir>/setup-token`) lets one request create the first admin.

use std::path::Path;
use std::sync::Mutex;

use portal_core::crypto::{constant_time_eq, sha256_hex};
use portal_core::Store;

/// File holding the setup token inside the data dir.
pub const TOKEN_FILE: &str = "setup-token";

/// SHA-256 of the live setup token, if any.
#[derive(Default)]
pub struct SetupToken(Mutex<Option<String>>);

impl SetupToken {
    /// At start: when no admin exists, makes a fresh token, writes it (0600)
    /// and returns it for printing; otherwise removes any stale token file.
    pub async fn prepare(
        &self,
        store: &dyn Store,
        data_dir: &Path,
    ) -> Result<Option<String>, portal_core::StoreError> {
        let path = data_dir.join(TOKEN_FILE);
        if store.admin_exists().await? {
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        let (token, hash) = portal_core::identity::new_token();
        let _ = std::fs::remove_file(&path);
        if let Err(e) = portal_core::config::create_private_dir(data_dir)
            .and_then(|_| portal_core::config::write_private_file(&path, token.as_bytes()))
        {
            tracing::warn!(error = %e, path = %path.display(), "could not write the setup token file");
        }
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(hash);
        }
        Ok(Some(token))
    }

    /// Whether `presented` is the live token (constant time).
    pub fn matches(&self, presented: &str) -> bool {
        let hash = sha256_hex(presented.as_bytes());
        self.0
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .is_some_and(|h| constant_time_eq(h.as_bytes(), hash.as_bytes()))
    }

    /// Whether a token is live.
    pub fn is_live(&self) -> bool {
        self.0.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    /// The first admin exists: the token is spent and its file removed.
    pub fn retire(&self, data_dir: &Path) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = None;
        }
        let _ = std::fs::remove_file(data_dir.join(TOKEN_FILE));
    }
}

/// What a presented setup token is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupCheck {
    /// The live token: the first admin may be created.
    Valid,
    /// Not the live token.
    Wrong,
    /// Setup is over (an admin exists); the token is retired.
    Complete,
}

impl crate::App {
    /// Whether the first admin still has to be created.
    pub async fn setup_required(&self) -> Result<bool, portal_core::StoreError> {
        Ok(!self.store.admin_exists().await?)
    }

    /// At start: a fresh setup token to print while no admin exists.
    pub async fn prepare_setup(&self) -> Result<Option<String>, portal_core::StoreError> {
        self.setup
            .prepare(self.store.as_ref(), &self.settings.data_dir)
            .await
    }

    /// Checks a presented setup token (retiring it once setup is over).
    pub async fn check_setup_token(
        &self,
        presented: &str,
    ) -> Result<SetupCheck, portal_core::StoreError> {
        if self.store.admin_exists().await? {
            self.finish_setup();
            return Ok(SetupCheck::Complete);
        }
        Ok(if self.setup.matches(presented) {
            SetupCheck::Valid
        } else {
            SetupCheck::Wrong
        })
    }

    /// The first admin exists: the setup token is spent.
    pub fn finish_setup(&self) {
        self.setup.retire(&self.settings.data_dir);
    }
}
