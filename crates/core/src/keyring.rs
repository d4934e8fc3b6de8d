//! The versioned keyring: which master secret is current, and every column
//! holding a sealed value, so `portal admin rekey` can re-seal them all.
//!
//! A rotation (see [`rekey`]) opens each sealed value with the current keys,
//! seals it again under the new master secret as the next version, and records
//! that version (with the audit and approval keys sealed under it, so they
//! outlive the old master) — all in one transaction. Afterwards the old master
//! secret is not needed for anything.

use crate::kinds::AuditAction;
use async_trait::async_trait;
use serde_json::Value;

use crate::crypto::{DurableKeys, Keys};
use crate::secret::Secret;
use crate::store::{StoreError, StoreResult};

/// The context a chat turn's pending tool call's arguments are sealed for.
pub fn chat_turn_context(turn_id: &str, call_id: &str) -> String {
    format!("chat-turn:{turn_id}:{call_id}")
}

/// The context the durable keys of a keyring version are sealed for.
fn durable_context(version: u32) -> String {
    format!("keyring-durable:{version}")
}

/// Re-seals one value: the context it is bound to and the sealed text, to the
/// new sealed text (`None`: it does not open under the current keys).
pub type Reseal<'a> = &'a (dyn Fn(&str, &str) -> Option<String> + Sync);

/// Rewrites one row's column: the column, the row's id and its content, to
/// the new content (`Err`: what would not open).
pub type ResealRow<'a> = dyn Fn(&SealedColumn, &str, &str) -> Result<String, String> + Sync + 'a;

/// How a column holds its sealed value(s).
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// The column is one sealed value, bound to the context this function
    /// makes from the row's id.
    Value(fn(&str) -> String),
    /// The column is a chat turn's JSON state; its `pending[].sealedArgs` are
    /// sealed, each bound to [`chat_turn_context`].
    ChatTurnState,
}

/// A column that holds sealed values.
#[derive(Debug, Clone, Copy)]
pub struct SealedColumn {
    /// Its table.
    pub table: &'static str,
    /// The table's (text) primary key column.
    pub id: &'static str,
    /// The column (NULL: nothing sealed in that row).
    pub column: &'static str,
    /// What is in it.
    pub shape: Shape,
}

/// Every sealed column. A new one (an IdP client secret, an AI provider key,
/// an MCP server token) is one entry here; rekey then re-seals it.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "webhooks",
        id: "id",
        column: "secret_sealed",
        shape: Shape::Value(crate::webhooks::delivery::seal_context),
    },
    SealedColumn {
        table: "webhooks",
        id: "id",
        column: "previous_secret_sealed",
        shape: Shape::Value(crate::webhooks::delivery::seal_context),
    },
    SealedColumn {
        table: "approvals",
        id: "id",
        column: "args_sealed",
        shape: Shape::Value(crate::service::approvals::seal_context),
    },
    SealedColumn {
        table: "identity_providers",
        id: "id",
        column: "client_secret_sealed",
        shape: Shape::Value(crate::sso::IdentityProvider::seal_context),
    },
    SealedColumn {
        table: "sso_sessions",
        id: "session_id",
        column: "id_token_sealed",
        shape: Shape::Value(crate::sso::id_token_seal_context),
    },
    SealedColumn {
        table: "ai_providers",
        id: "id",
        column: "api_key_sealed",
        shape: Shape::Value(crate::ai_providers::AiProvider::seal_context),
    },
    SealedColumn {
        table: "mcp_servers",
        id: "id",
        column: "credentials_sealed",
        shape: Shape::Value(crate::mcp::McpServer::seal_context),
    },
    SealedColumn {
        table: "chat_turns",
        id: "id",
        column: "state",
        shape: Shape::ChatTurnState,
    },
];

impl SealedColumn {
    /// The column's new content with every sealed value in it re-sealed;
    /// `Err` names what would not open.
    pub fn reseal(&self, id: &str, value: &str, f: Reseal<'_>) -> Result<String, String> {
        let fail = || format!("{}.{} of {id} does not open", self.table, self.column);
        match self.shape {
            Shape::Value(context) => f(&context(id), value).ok_or_else(fail),
            Shape::ChatTurnState => {
                let mut state: Value = serde_json::from_str(value).map_err(|_| fail())?;
                if let Some(pending) = state.get_mut("pending").and_then(Value::as_array_mut) {
                    for call in pending {
                        let call_id = call.get("id").and_then(Value::as_str).unwrap_or_default();
                        let ctx = chat_turn_context(id, call_id);
                        let Some(sealed) = call.get("sealedArgs").and_then(Value::as_str) else {
                            continue;
                        };
                        let new = f(&ctx, sealed).ok_or_else(fail)?;
                        call["sealedArgs"] = Value::String(new);
                    }
                }
                Ok(state.to_string())
            }
        }
    }
}

/// A version of the master secret, as the keyring records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersion {
    /// 1, 2, …
    pub version: u32,
    /// [`Keys::check_value`] of its master secret.
    pub check: String,
    /// The durable keys, sealed under this version's data key.
    pub durable_sealed: String,
    /// When it became current (epoch ms).
    pub created_at: i64,
}

/// What a rotation re-sealed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RekeyReport {
    /// The new key version.
    pub version: u32,
    /// Sealed values re-sealed, per `table.column`.
    pub columns: Vec<(String, u64)>,
}

/// The keyring's storage.
#[async_trait]
pub trait KeyringRepo: Send + Sync {
    /// Every recorded version, oldest first.
    async fn key_versions(&self) -> StoreResult<Vec<KeyVersion>>;

    /// In one transaction: rewrites every non-NULL value of `columns` through
    /// `reseal` (row id, old content → new content) and records `versions`
    /// (the first must follow the last recorded one). Nothing changes if any
    /// value fails (`Conflict` with its message) or another rotation recorded
    /// a version first.
    async fn rotate(
        &self,
        columns: &[SealedColumn],
        reseal: &ResealRow<'_>,
        versions: &[KeyVersion],
        j: &crate::journal::Journal<'_>,
    ) -> StoreResult<Vec<(String, u64)>>;
}

/// Why the keys could not be loaded or rotated.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The master secret is not the keyring's current version.
    #[error("PORTAL_SECRET_KEY is not the current key (version {current}){hint}")]
    WrongKey {
        /// The current version.
        current: u32,
        /// What the given key is, if recognised.
        hint: String,
    },
    /// The new master secret is the current one.
    #[error("the new key is the current key")]
    SameKey,
    /// A value that should open does not.
    #[error("rekey refused, nothing changed: {0}")]
    Unopenable(String),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The keys of `master` as the keyring says: version 1 with derived keys
/// before any rotation, else the recorded version with its durable keys.
pub async fn load<R: KeyringRepo + ?Sized>(
    repo: &R,
    master: &Secret<Vec<u8>>,
) -> Result<Keys, KeyringError> {
    let versions = repo.key_versions().await?;
    let Some(current) = versions.last() else {
        return Ok(Keys::derive(master));
    };
    let probe = Keys::derive(master);
    let check = probe.check_value();
    if !crate::crypto::constant_time_eq(check.as_bytes(), current.check.as_bytes()) {
        let hint = match versions.iter().find(|v| v.check == check) {
            Some(old) => format!(
                "; it is version {}, rotated out by `portal admin rekey`",
                old.version
            ),
            None => "; set the key the last `portal admin rekey` installed".to_string(),
        };
        return Err(KeyringError::WrongKey {
            current: current.version,
            hint,
        });
    }
    let provisional = Keys::versioned(master, current.version, None);
    let durable = provisional
        .open(&durable_context(current.version), &current.durable_sealed)
        .and_then(|b| DurableKeys::decode(&b))
        .ok_or_else(|| KeyringError::Unopenable("the keyring's durable keys".into()))?;
    Ok(Keys::versioned(master, current.version, Some(&durable)))
}

/// Rotates the master secret from `current` (the loaded keys) to `new_master`:
/// re-seals every value of [`SEALED_COLUMNS`] and records the new version, in
/// one transaction.
pub async fn rekey<R: KeyringRepo + ?Sized>(
    repo: &R,
    current: &Keys,
    new_master: &Secret<Vec<u8>>,
    now: i64,
) -> Result<RekeyReport, KeyringError> {
    // Audited on the system chain, under the audit key (which the rotation keeps).
    let mut j = crate::journal::Journal::new(current, None, now);
    j.audit(
        None,
        "system:cli",
        AuditAction::KeyringRotated,
        None,
        "success",
        serde_json::json!({"fromVersion": current.version(), "toVersion": current.version() + 1}),
    );
    let version = current.version() + 1;
    let durable = current.durable();
    let next = Keys::versioned(new_master, version, Some(&durable));
    if next.check_value() == current.check_value() {
        return Err(KeyringError::SameKey);
    }
    let record = |k: &Keys| KeyVersion {
        version: k.version(),
        check: k.check_value(),
        durable_sealed: k.seal(
            &durable_context(k.version()),
            durable.encode().expose().as_bytes(),
        ),
        created_at: now,
    };
    // The first rotation also records version 1, so its key is recognised
    // (and refused by name) afterwards.
    let mut records = Vec::with_capacity(2);
    if repo.key_versions().await?.is_empty() {
        records.push(record(current));
    }
    records.push(record(&next));
    let f = |ctx: &str, sealed: &str| -> Option<String> {
        current
            .open(ctx, sealed)
            .map(|plain| next.seal(ctx, &plain))
    };
    let reseal = |col: &SealedColumn, id: &str, value: &str| col.reseal(id, value, &f);
    match repo.rotate(SEALED_COLUMNS, &reseal, &records, &j).await {
        Ok(columns) => Ok(RekeyReport { version, columns }),
        Err(StoreError::Conflict(m)) => Err(KeyringError::Unopenable(m)),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_turn_states_reseal_each_pending_call_for_its_own_context() {
        let old = Keys::derive(&Secret::new(b"o".repeat(32)));
        let new = Keys::versioned(&Secret::new(b"n".repeat(32)), 2, Some(&old.durable()));
        let a = old.seal(&chat_turn_context("t1", "a"), b"{\"x\":1}");
        let b = old.seal(&chat_turn_context("t1", "b"), b"{\"y\":2}");
        let state = serde_json::json!({"messageId": "m", "pending": [
            {"id": "a", "name": "n", "sealedArgs": a, "announced": false},
            {"id": "b", "name": "n", "sealedArgs": b, "announced": true}
        ]})
        .to_string();
        let col = SEALED_COLUMNS
            .iter()
            .find(|c| c.table == "chat_turns")
            .unwrap();
        let f = |ctx: &str, s: &str| old.open(ctx, s).map(|p| new.seal(ctx, &p));
        let out: Value = serde_json::from_str(&col.reseal("t1", &state, &f).unwrap()).unwrap();
        assert_eq!(out["messageId"], "m", "the rest of the state is kept");
        for (i, (id, plain)) in [("a", "{\"x\":1}"), ("b", "{\"y\":2}")].iter().enumerate() {
            let sealed = out["pending"][i]["sealedArgs"].as_str().unwrap();
            let ctx = chat_turn_context("t1", id);
            assert_eq!(new.open(&ctx, sealed).as_deref(), Some(plain.as_bytes()));
        }
        // Sealed for another turn: it does not open, and the whole row fails.
        assert!(col.reseal("t2", &state, &f).is_err());
        assert_eq!(col.reseal("t3", "{}", &f).as_deref(), Ok("{}"));
        let hook = &SEALED_COLUMNS[0];
        let s = old.seal("webhook-secret:w1", b"s");
        assert!(hook.reseal("w1", &s, &f).unwrap().starts_with("v2:"));
        assert!(hook.reseal("w2", &s, &f).is_err());
    }
}
