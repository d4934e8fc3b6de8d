//! Chat sessions (the conversations list). Each belongs to one principal in
//! one organisation; anyone else gets "not found".

use super::auth::uuid_v4;
use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::model::{ChatSession, Page};
use crate::rbac::Permission;
use crate::validate;

/// Model recorded when none is asked for.
pub const DEFAULT_MODEL: &str = "default";

fn not_found() -> CoreError {
    CoreError::NotFound("Session not found".into())
}

/// Creates a session for the caller.
pub async fn create(
    ctx: &Ctx<'_>,
    p: &Principal,
    title: Option<&str>,
    model: Option<&str>,
) -> CoreResult<ChatSession> {
    p.require(Permission::SessionsWrite)?;
    let org = p.org()?;
    let title = title.map(|t| validate::text("title", t, 200)).transpose()?;
    let model = validate::text("model", model.unwrap_or(DEFAULT_MODEL), 100)?;
    let s = ChatSession {
        id: uuid_v4().into(),
        org_id: org.id.clone(),
        principal_id: p.id.clone(),
        title,
        model,
        status: "active".into(),
        message_count: 0,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    ctx.store.create_chat_session(&s).await?;
    Ok(s)
}

/// The caller's sessions, newest first.
pub async fn list(
    ctx: &Ctx<'_>,
    p: &Principal,
    limit: Option<i64>,
    offset: Option<i64>,
) -> CoreResult<Page<ChatSession>> {
    p.require(Permission::SessionsRead)?;
    let limit = validate::limit("limit", limit, 50, 100)?;
    let offset = validate::offset("offset", offset)?;
    Ok(ctx
        .store
        .list_chat_sessions(&p.org()?.id, &p.id, limit, offset)
        .await?)
}

/// One of the caller's sessions.
pub async fn get(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &crate::ids::SessionId,
) -> CoreResult<ChatSession> {
    p.require(Permission::SessionsRead)?;
    ctx.store
        .get_chat_session(&p.org()?.id, &p.id, id)
        .await?
        .ok_or_else(not_found)
}

/// Renames one of the caller's sessions (`None` clears the title).
pub async fn rename(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &crate::ids::SessionId,
    title: Option<&str>,
) -> CoreResult<ChatSession> {
    p.require(Permission::SessionsWrite)?;
    let org = p.org()?;
    let title = title.map(|t| validate::text("title", t, 200)).transpose()?;
    if !ctx
        .store
        .rename_chat_session(&org.id, &p.id, id, title.as_deref(), ctx.now)
        .await?
    {
        return Err(not_found());
    }
    ctx.store
        .get_chat_session(&org.id, &p.id, id)
        .await?
        .ok_or_else(not_found)
}

/// Deletes one of the caller's sessions and its messages.
pub async fn delete(ctx: &Ctx<'_>, p: &Principal, id: &crate::ids::SessionId) -> CoreResult<()> {
    p.require(Permission::SessionsWrite)?;
    if !ctx
        .store
        .delete_chat_session(&p.org()?.id, &p.id, id)
        .await?
    {
        return Err(not_found());
    }
    Ok(())
}
