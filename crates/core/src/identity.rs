//! Who is calling: credentials (session tokens, API keys), their resolution
//! into a principal, the short-lived cache that keeps resolution off the
//! database under load, and batched `last_used_at` writes.

use crate::ids::{OrgId, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::crypto::{random_bytes, sha256_hex};
use crate::error::{CoreError, CoreResult};
use crate::model::{Org, User};
use crate::rbac::{decide, AuthMethod, Permission, PermissionSet, Role};
use crate::store::Store;

/// Prefix of every API key.
pub const API_KEY_PREFIX: &str = "portal_";
/// Session lifetime; refreshed on use.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;
/// Sessions are extended at most this often (one write per day per session).
pub const SESSION_REFRESH_MS: i64 = 24 * 3600 * 1000;
/// How long a resolved credential is trusted without asking the database.
/// Revocation takes effect within this time on every replica.
pub const CACHE_TTL: Duration = Duration::from_secs(4);

/// Current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh API key: `(secret shown once, SHA-256 hex stored, display prefix)`.
pub fn new_api_key() -> (String, String, String) {
    let key = format!("{API_KEY_PREFIX}{}", hex::encode(random_bytes::<32>()));
    let hash = sha256_hex(key.as_bytes());
    let prefix = key[API_KEY_PREFIX.len()..API_KEY_PREFIX.len() + 8].to_string();
    (key, hash, prefix)
}

/// True for strings shaped like our API keys (`portal_` + 64 lower-case hex).
pub fn looks_like_api_key(s: &str) -> bool {
    s.strip_prefix(API_KEY_PREFIX).is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A fresh opaque token (sessions, setup): `(token, SHA-256 hex)`.
pub fn new_token() -> (String, String) {
    let t = hex::encode(random_bytes::<32>());
    let h = sha256_hex(t.as_bytes());
    (t, h)
}

/// The authenticated caller, with everything guards and services need.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Stable id named in sessions, approvals and audit: `user:<id>` or `key:<id>`.
    pub id: String,
    /// The acting user (sessions and user-owned keys).
    pub user: Option<User>,
    /// The organisation the caller works in.
    pub org: Option<Org>,
    /// The caller's role there (users only).
    pub role: Option<Role>,
    /// Effective permissions.
    pub permissions: PermissionSet,
    /// How the caller authenticated.
    pub method: AuthMethod,
    /// Browser session id, for sessions.
    pub session_id: Option<String>,
    /// Session expiry, for sessions.
    pub session_expires_at: Option<i64>,
    /// API key id, for keys.
    pub key_id: Option<String>,
}

impl Principal {
    /// The one permission decision (see [`decide`]).
    pub fn can(&self, p: Permission) -> bool {
        decide(self.permissions, self.method, p)
    }

    /// Refuses unless the caller holds `p`.
    pub fn require(&self, p: Permission) -> CoreResult<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!("Permission {p} is required")))
        }
    }

    /// The active organisation, or 403 when the caller has none.
    pub fn org(&self) -> CoreResult<&Org> {
        self.org.as_ref().ok_or_else(|| {
            CoreError::Forbidden("No active organization; join or select one first".into())
        })
    }

    /// True for platform admins signed in with a session.
    pub fn is_platform_admin(&self) -> bool {
        self.method == AuthMethod::Session && self.user.as_ref().is_some_and(|u| u.platform_admin)
    }

    /// Actor string for audit records: the principal, plus the key it came through.
    pub fn actor(&self) -> String {
        match (&self.key_id, self.id.starts_with("user:")) {
            (Some(k), true) => format!("{} via key:{k}", self.id),
            _ => self.id.clone(),
        }
    }
}

/// Resolves a browser session token.
pub async fn resolve_session(
    store: &dyn Store,
    token: &str,
    now: i64,
) -> CoreResult<Option<Principal>> {
    let Some(s) = store
        .auth_session_by_hash(&sha256_hex(token.as_bytes()))
        .await?
    else {
        return Ok(None);
    };
    if s.revoked_at.is_some() || s.expires_at <= now {
        return Ok(None);
    }
    let (org, role) = active_membership(store, &s.user.id, s.active_org_id.as_ref()).await?;
    // A one-time password not yet changed: the session holds no permission at
    // all (adapters also refuse every route but changing it, with a clear code).
    let permissions = match role {
        Some(r) if !s.user.must_change_password => r.permissions(),
        _ => PermissionSet::EMPTY,
    };
    Ok(Some(Principal {
        id: format!("user:{}", s.user.id),
        permissions,
        user: Some(s.user),
        org,
        role,
        method: AuthMethod::Session,
        session_id: Some(s.id),
        session_expires_at: Some(s.expires_at),
        key_id: None,
    }))
}

/// The session's organisation if the user still belongs to it, else their most recently used one.
pub async fn active_membership(
    store: &dyn Store,
    user_id: &UserId,
    preferred: Option<&OrgId>,
) -> CoreResult<(Option<Org>, Option<Role>)> {
    if let Some(org_id) = preferred {
        if let Some(role) = store.member_role(org_id, user_id).await? {
            return Ok((store.org_by_id(org_id).await?, Some(role)));
        }
    }
    Ok(match store.user_orgs(user_id).await?.into_iter().next() {
        Some((o, r)) => (Some(o), Some(r)),
        None => (None, None),
    })
}

/// Resolves an API key. A user-owned key acts as its owner with the listed
/// permissions ∩ the owner's current ones; a service key has exactly the listed ones.
pub async fn resolve_api_key(
    store: &dyn Store,
    key: &str,
    now: i64,
) -> CoreResult<Option<Principal>> {
    if !looks_like_api_key(key) {
        return Ok(None);
    }
    let Some(k) = store.api_key_by_hash(&sha256_hex(key.as_bytes())).await? else {
        return Ok(None);
    };
    if k.revoked_at.is_some() || k.expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let listed = PermissionSet::parse(k.permissions.iter().map(String::as_str)).unwrap_or_default();
    let Some(org) = store.org_by_id(&k.org_id).await? else {
        return Ok(None);
    };
    let (id, user, role, permissions) = match &k.owner_user_id {
        Some(uid) => {
            let Some(user) = store.user_by_id(uid).await? else {
                return Ok(None);
            };
            let Some(role) = store.member_role(&k.org_id, uid).await? else {
                return Ok(None);
            };
            (
                format!("user:{uid}"),
                Some(user),
                Some(role),
                listed.intersect(role.permissions()),
            )
        }
        None => (format!("key:{}", k.id), None, None, listed),
    };
    Ok(Some(Principal {
        id,
        user,
        org: Some(org),
        role,
        permissions,
        method: AuthMethod::ApiKey,
        session_id: None,
        session_expires_at: None,
        key_id: Some(k.id),
    }))
}

/// Result of resolving a credential, as cached.
#[derive(Clone)]
enum Cached {
    Found(Arc<Principal>),
    Invalid,
}

/// A short-lived, bounded cache of resolved credentials keyed by the SHA-256 of
/// the credential, so steady traffic costs no database round-trip.
pub struct PrincipalCache {
    shards: Vec<Mutex<HashMap<String, (Cached, Instant)>>>,
    ttl: Duration,
    cap_per_shard: usize,
}

/// What the cache (or the database behind it) says about a credential.
pub enum Resolution {
    /// Verified.
    Principal(Arc<Principal>),
    /// Unknown, expired or revoked.
    Invalid,
}

impl PrincipalCache {
    /// A cache whose entries live for `ttl`.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            shards: (0..16).map(|_| Mutex::new(HashMap::new())).collect(),
            ttl,
            cap_per_shard: (capacity / 16).max(16),
        }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, (Cached, Instant)>> {
        let b = key.as_bytes();
        let i = b.first().copied().unwrap_or(0) as usize ^ b.last().copied().unwrap_or(0) as usize;
        &self.shards[i % self.shards.len()]
    }

    fn get(&self, key: &str) -> Option<Cached> {
        let map = self.shard(key).lock().ok()?;
        match map.get(key) {
            Some((v, at)) if at.elapsed() < self.ttl => Some(v.clone()),
            _ => None,
        }
    }

    fn put(&self, key: String, v: Cached) {
        if let Ok(mut map) = self.shard(&key).lock() {
            if map.len() >= self.cap_per_shard {
                let ttl = self.ttl;
                map.retain(|_, (_, at)| at.elapsed() < ttl);
                if map.len() >= self.cap_per_shard {
                    map.clear();
                }
            }
            map.insert(key, (v, Instant::now()));
        }
    }

    /// Forgets a credential (sign-out, revocation on this replica: immediate).
    pub fn forget(&self, credential: &str) {
        let key = sha256_hex(credential.as_bytes());
        if let Ok(mut map) = self.shard(&key).lock() {
            map.remove(&key);
        }
    }

    /// Forgets whatever is cached for browser session `session_id` (signed out,
    /// switched organisation): the session's own token is not known to core.
    pub fn forget_session(&self, session_id: &str) {
        for s in &self.shards {
            if let Ok(mut m) = s.lock() {
                m.retain(|_, (v, _)| match v {
                    Cached::Found(p) => p.session_id.as_deref() != Some(session_id),
                    Cached::Invalid => true,
                });
            }
        }
    }

    /// Forgets every entry (role changes, key revocations by id).
    pub fn clear(&self) {
        for s in &self.shards {
            if let Ok(mut m) = s.lock() {
                m.clear();
            }
        }
    }

    /// Resolves a credential through the cache; `Unavailable` when the database
    /// is needed and away (callers answer 503, never 401).
    pub async fn resolve(
        &self,
        store: &dyn Store,
        credential: Credential<'_>,
        now: i64,
    ) -> CoreResult<Resolution> {
        let raw = match credential {
            Credential::ApiKey(k) => k,
            Credential::Session(t) => t,
        };
        let key = sha256_hex(raw.as_bytes());
        if let Some(c) = self.get(&key) {
            return Ok(match c {
                Cached::Found(p) => Resolution::Principal(p),
                Cached::Invalid => Resolution::Invalid,
            });
        }
        let found = match credential {
            Credential::ApiKey(k) => resolve_api_key(store, k, now).await?,
            Credential::Session(t) => resolve_session(store, t, now).await?,
        };
        let (cached, res) = match found {
            Some(p) => {
                let p = Arc::new(p);
                (Cached::Found(p.clone()), Resolution::Principal(p))
            }
            None => (Cached::Invalid, Resolution::Invalid),
        };
        self.put(key, cached);
        Ok(res)
    }
}

/// A presented credential.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// `Authorization: Bearer portal_…` or `X-API-Key`.
    ApiKey(&'a str),
    /// The session cookie's token.
    Session(&'a str),
}

/// Collects API key uses and writes `last_used_at` in batches.
#[derive(Default)]
pub struct KeyUsage(Mutex<HashMap<String, i64>>);

impl KeyUsage {
    /// Notes a use (cheap: a map insert).
    pub fn note(&self, key_id: &str, at: i64) {
        if let Ok(mut m) = self.0.lock() {
            match m.get_mut(key_id) {
                Some(v) => *v = at,
                None => {
                    m.insert(key_id.to_string(), at);
                }
            }
        }
    }

    /// Writes and clears what was noted.
    pub async fn flush(&self, store: &dyn Store) {
        let batch: Vec<(String, i64)> = match self.0.lock() {
            Ok(mut m) => m.drain().collect(),
            Err(_) => return,
        };
        if let Err(e) = store.touch_api_keys(&batch).await {
            tracing::debug!(error = %e, "could not record API key use; will retry");
            if let Ok(mut m) = self.0.lock() {
                for (k, v) in batch {
                    m.entry(k).or_insert(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_format() {
        let (key, hash, prefix) = new_api_key();
        assert!(looks_like_api_key(&key));
        assert_eq!(key.len(), 71);
        assert_eq!(hash, sha256_hex(key.as_bytes()));
        assert_eq!(&key[7..15], prefix);
        assert!(!looks_like_api_key("portal_xyz"));
        assert!(!looks_like_api_key(&key.to_uppercase()));
    }
}

/// What a paused chat turn remembers of the principal it acts as, so that it
/// can resume later, on any replica, with no more rights than the principal
/// has at that moment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalSnapshot {
    /// `user:<id>` or `key:<id>`.
    pub id: String,
    /// The key the principal used, if any (it must still be live to resume).
    pub key_id: Option<String>,
    /// Whether it authenticated with a browser session.
    pub session: bool,
    /// That browser session: the turn resumes only while it is still signed in
    /// (a sign-out or a password change stops it). Absent in snapshots taken
    /// before this was recorded; such session turns do not resume.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Permission names held when the turn started.
    pub permissions: Vec<String>,
}

impl PrincipalSnapshot {
    /// Remembers `p`.
    pub fn of(p: &Principal) -> Self {
        Self {
            id: p.id.clone(),
            key_id: p.key_id.clone(),
            session: p.method == AuthMethod::Session,
            session_id: p.session_id.clone(),
            permissions: p
                .permissions
                .names()
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }
}

/// Why a paused turn may no longer act for its principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResumeRefused {
    /// The organisation was deleted.
    #[error("The organization this turn ran in no longer exists; it was stopped.")]
    OrgGone,
    /// The API key was revoked or expired.
    #[error("The API key this turn acted through was revoked or expired; it was stopped.")]
    KeyRevoked,
    /// The user was removed from the organisation (or deleted).
    #[error("The person this turn acted for no longer has access; it was stopped.")]
    NoLongerMember,
    /// The browser session that started the turn was signed out, revoked by a
    /// password change, or expired.
    #[error("The browser session that started this turn has ended (signed out or password changed); it was stopped.")]
    SessionEnded,
}

/// Rebuilds the principal a paused turn acts as, in `org_id`: its permissions
/// are those it had ∩ those it has now (a demotion or a narrowed key shrinks
/// them). Refused when it no longer exists there (removed member, revoked key,
/// ended browser session), saying why.
pub async fn resume_principal(
    store: &dyn Store,
    org_id: &crate::ids::OrgId,
    snap: &PrincipalSnapshot,
    now: i64,
) -> CoreResult<Result<Principal, ResumeRefused>> {
    let Some(org) = store.org_by_id(org_id).await? else {
        return Ok(Err(ResumeRefused::OrgGone));
    };
    if snap.session {
        let live = match &snap.session_id {
            Some(sid) => store.auth_session_active(sid, now).await?,
            None => false,
        };
        if !live {
            return Ok(Err(ResumeRefused::SessionEnded));
        }
    }
    let had = PermissionSet::parse(snap.permissions.iter().map(String::as_str)).unwrap_or_default();
    let mut permissions = had;
    if let Some(key_id) = &snap.key_id {
        let keys = store.list_api_keys(org_id).await?;
        let Some(k) = keys.iter().find(|k| &k.id == key_id) else {
            return Ok(Err(ResumeRefused::KeyRevoked));
        };
        if k.revoked_at.is_some() || k.expires_at.is_some_and(|e| e <= now) {
            return Ok(Err(ResumeRefused::KeyRevoked));
        }
        let listed =
            PermissionSet::parse(k.permissions.iter().map(String::as_str)).unwrap_or_default();
        permissions = permissions.intersect(listed);
    }
    let (user, role) = match snap.id.strip_prefix("user:") {
        Some(uid) => {
            let uid = UserId::from(uid);
            let Some(user) = store.user_by_id(&uid).await? else {
                return Ok(Err(ResumeRefused::NoLongerMember));
            };
            let Some(role) = store.member_role(org_id, &uid).await? else {
                return Ok(Err(ResumeRefused::NoLongerMember));
            };
            permissions = permissions.intersect(role.permissions());
            (Some(user), Some(role))
        }
        None => (None, None),
    };
    Ok(Ok(Principal {
        id: snap.id.clone(),
        user,
        org: Some(org),
        role,
        permissions,
        method: if snap.session {
            AuthMethod::Session
        } else {
            AuthMethod::ApiKey
        },
        session_id: snap.session_id.clone(),
        session_expires_at: None,
        key_id: snap.key_id.clone(),
    }))
}
