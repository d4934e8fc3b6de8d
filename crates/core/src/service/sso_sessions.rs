//! The browser sessions an OIDC sign-in opened: which provider, and its ID
//! token sealed under the data key (it names the person and is accepted as
//! `id_token_hint`), so signing out can end the session at the OP too
//! (OpenID Connect RP-Initiated Logout 1.0).

use super::Ctx;
use crate::error::CoreResult;
use crate::sso::{id_token_seal_context, IdentityProvider};
use crate::Secret;

/// Remembers that `p` opened browser session `session_id`, with its ID token.
pub async fn record(
    ctx: &Ctx<'_>,
    p: &IdentityProvider,
    session_id: &str,
    id_token: &str,
) -> CoreResult<()> {
    let sealed = ctx
        .keys
        .seal(&id_token_seal_context(session_id), id_token.as_bytes());
    ctx.store
        .record_sso_session(session_id, &p.id, &sealed, ctx.now)
        .await?;
    Ok(())
}

/// Where signing out of `session_id` continues: the provider that opened it
/// (while it is enabled) and the ID token it gave. `None` for password
/// sessions, for a provider since disabled or deleted, and for a token that
/// no longer opens (signing out locally must never fail on it).
pub async fn logout_target(
    ctx: &Ctx<'_>,
    session_id: &str,
) -> CoreResult<Option<(IdentityProvider, Secret<String>)>> {
    let Some((idp_id, sealed)) = ctx.store.sso_session(session_id).await? else {
        return Ok(None);
    };
    let Some(p) = ctx.store.get_idp(&idp_id).await?.filter(|p| p.enabled) else {
        return Ok(None);
    };
    let token = ctx
        .keys
        .open(&id_token_seal_context(session_id), &sealed)
        .and_then(|raw| String::from_utf8(raw).ok());
    Ok(token.map(|t| (p, Secret::new(t))))
}
