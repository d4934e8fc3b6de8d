//! Webhook subscriptions of the caller's organisation (`admin:webhooks`):
//! audited CRUD, secret rotation with a grace period, the delivery log,
//! redelivery and test messages. The signing secret is generated here, shown
//! once, and stored sealed under the data key.

use crate::kinds::{AuditAction, EventKind};
use serde_json::json;

use super::auth::uuid_v4;
use super::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::journal::Journal;
use crate::model::Org;
use crate::outbound::OutboundPolicy;
use crate::rbac::Permission;
use crate::store::DeliveryFilter;
use crate::validate;
use crate::webhooks::delivery::{body_of, new_msg_id, seal_context};
use crate::webhooks::signing::SigningKey;
use crate::webhooks::{
    Attempt, Delivery, DeliveryState, EventFilter, NewDelivery, Webhook, WebhookStatus,
};
use crate::Secret;

/// Longest grace period of a rotated secret (7 days).
const MAX_GRACE_SECS: i64 = 7 * 86_400;
/// Grace period when none is asked for (24 h).
const DEFAULT_GRACE_SECS: i64 = 86_400;
/// Redeliveries one "since" request may queue.
const MAX_REDELIVER: i64 = 1000;

/// A subscription's editable fields.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// Receiver URL.
    pub url: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Event kinds and `prefix.*` patterns.
    pub event_types: Option<Vec<String>>,
    /// `active`, `paused` or `disabled`.
    pub status: Option<String>,
}

/// A created or rotated subscription: `secret` is shown once.
pub struct WithSecret {
    /// The signing secret, `whsec_…`.
    pub secret: Secret<String>,
    /// The stored subscription.
    pub webhook: Webhook,
}

fn org(p: &Principal) -> CoreResult<&Org> {
    p.require(Permission::AdminWebhooks)?;
    p.org()
}

fn check_url(policy: &OutboundPolicy, raw: &str) -> CoreResult<String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(CoreError::Validation("url: at most 2000 characters".into()));
    }
    policy
        .check_url(raw)
        .map(|t| t.url.to_string())
        .map_err(|e| CoreError::Validation(format!("url: {e}")))
}

fn filter(types: &[String]) -> CoreResult<EventFilter> {
    EventFilter::parse(types).map_err(|e| CoreError::Validation(format!("eventTypes: {e}")))
}

fn status(raw: &str) -> CoreResult<WebhookStatus> {
    WebhookStatus::parse(raw)
        .ok_or_else(|| CoreError::Validation("status: must be active, paused or disabled".into()))
}

fn description(raw: &str) -> CoreResult<String> {
    let d = raw.trim();
    if d.chars().count() > 500 || d.chars().any(char::is_control) {
        return Err(CoreError::Validation(
            "description: at most 500 characters, no control characters".into(),
        ));
    }
    Ok(d.to_string())
}

async fn find(ctx: &Ctx<'_>, org: &Org, id: &str) -> CoreResult<Webhook> {
    ctx.store.get_webhook(&org.id, id).await?.ok_or_else(gone)
}

/// The journal of a change to `w`: its audit entry, written with the change.
fn journal<'a>(
    ctx: &Ctx<'a>,
    p: &Principal,
    w: &Webhook,
    action: AuditAction,
    detail: serde_json::Value,
) -> Journal<'a> {
    let mut j = ctx.journal();
    j.audit(
        Some(&w.org_id),
        &p.actor(),
        action,
        Some(&format!("webhook:{}", w.id)),
        "success",
        detail,
    );
    j
}

fn gone() -> CoreError {
    CoreError::NotFound("webhook not found".into())
}

/// Creates a subscription (active unless a status is given) with a fresh secret.
pub async fn create(
    ctx: &Ctx<'_>,
    p: &Principal,
    policy: &OutboundPolicy,
    f: Fields,
) -> CoreResult<WithSecret> {
    let org = org(p)?;
    let url = check_url(
        policy,
        f.url
            .as_deref()
            .ok_or_else(|| CoreError::Validation("url: is required".into()))?,
    )?;
    let types = f
        .event_types
        .ok_or_else(|| CoreError::Validation("eventTypes: is required".into()))?;
    let id = uuid_v4();
    let key = SigningKey::generate();
    let secret = key.to_text();
    let w = Webhook {
        id: id.clone(),
        org_id: org.id.clone(),
        url,
        description: description(f.description.as_deref().unwrap_or(""))?,
        filter: filter(&types)?,
        status: status(f.status.as_deref().unwrap_or("active"))?,
        secret_sealed: ctx
            .keys
            .seal(&seal_context(&id), secret.expose().as_bytes()),
        previous_secret_sealed: None,
        previous_expires_at: None,
        failing_since: None,
        disabled_reason: None,
        created_by: p.actor(),
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let j = journal(
        ctx,
        p,
        &w,
        AuditAction::WebhookCreated,
        json!({"url": w.url, "eventTypes": w.filter.patterns(), "status": w.status.as_str()}),
    );
    ctx.store.create_webhook(&w, &j).await?;
    Ok(WithSecret { secret, webhook: w })
}

/// The organisation's subscriptions.
pub async fn list(ctx: &Ctx<'_>, p: &Principal) -> CoreResult<Vec<Webhook>> {
    Ok(ctx.store.list_webhooks(&org(p)?.id).await?)
}

/// One subscription.
pub async fn get(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<Webhook> {
    find(ctx, org(p)?, id).await
}

/// Changes a subscription. Setting it `active` again resumes its queue where
/// it stopped (and clears the portal's reason for disabling it).
pub async fn update(
    ctx: &Ctx<'_>,
    p: &Principal,
    policy: &OutboundPolicy,
    id: &str,
    f: Fields,
) -> CoreResult<Webhook> {
    let org = org(p)?;
    let mut w = find(ctx, org, id).await?;
    if let Some(u) = &f.url {
        w.url = check_url(policy, u)?;
    }
    if let Some(d) = &f.description {
        w.description = description(d)?;
    }
    if let Some(t) = &f.event_types {
        w.filter = filter(t)?;
    }
    if let Some(s) = &f.status {
        let s = status(s)?;
        if s != w.status {
            w.failing_since = None;
            w.disabled_reason = None;
        }
        w.status = s;
    }
    w.updated_at = ctx.now;
    let j = journal(
        ctx,
        p,
        &w,
        AuditAction::WebhookUpdated,
        json!({"url": w.url, "eventTypes": w.filter.patterns(), "status": w.status.as_str(),
               "description": w.description}),
    );
    if !ctx.store.update_webhook(&w, &j).await? {
        return Err(gone());
    }
    Ok(w)
}

/// Deletes a subscription with its queue and log.
pub async fn delete(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<()> {
    let org = org(p)?;
    let w = find(ctx, org, id).await?;
    let j = journal(
        ctx,
        p,
        &w,
        AuditAction::WebhookDeleted,
        json!({"url": w.url}),
    );
    if !ctx.store.delete_webhook(&org.id, id, &j).await? {
        return Err(gone());
    }
    Ok(())
}

/// A new signing secret; the old one keeps signing for `grace_secs`
/// (default 24 h, at most 7 days; 0 stops it at once).
pub async fn rotate(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    grace_secs: Option<i64>,
) -> CoreResult<WithSecret> {
    let org = org(p)?;
    let grace = grace_secs.unwrap_or(DEFAULT_GRACE_SECS);
    if !(0..=MAX_GRACE_SECS).contains(&grace) {
        return Err(CoreError::Validation(format!(
            "graceSeconds: must be between 0 and {MAX_GRACE_SECS}"
        )));
    }
    let mut w = find(ctx, org, id).await?;
    let secret = SigningKey::generate().to_text();
    w.previous_secret_sealed = Some(std::mem::replace(
        &mut w.secret_sealed,
        ctx.keys
            .seal(&seal_context(&w.id), secret.expose().as_bytes()),
    ));
    w.previous_expires_at = Some(ctx.now + grace * 1000);
    w.updated_at = ctx.now;
    let j = journal(
        ctx,
        p,
        &w,
        AuditAction::WebhookSecretRotated,
        json!({"graceSeconds": grace}),
    );
    if !ctx.store.update_webhook(&w, &j).await? {
        return Err(gone());
    }
    Ok(WithSecret { secret, webhook: w })
}

/// A subscription's deliveries, newest first.
pub async fn deliveries(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    state: Option<&str>,
    before_id: Option<i64>,
    limit: Option<i64>,
) -> CoreResult<Vec<Delivery>> {
    let org = org(p)?;
    find(ctx, org, id).await?;
    let state = match state {
        None => None,
        Some(s) => Some(DeliveryState::parse(s).ok_or_else(|| {
            CoreError::Validation("state: must be pending, delivered or failed".into())
        })?),
    };
    let f = DeliveryFilter {
        state,
        before_id,
        limit: validate::limit("limit", limit, 50, 200)?,
    };
    Ok(ctx.store.list_deliveries(&org.id, id, &f).await?)
}

/// One delivery with its attempts.
pub async fn delivery(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    delivery_id: i64,
) -> CoreResult<(Delivery, Vec<Attempt>)> {
    let org = org(p)?;
    let d = ctx
        .store
        .get_delivery(&org.id, id, delivery_id)
        .await?
        .ok_or_else(|| CoreError::NotFound("delivery not found".into()))?;
    let attempts = ctx.store.list_attempts(&org.id, d.id).await?;
    Ok((d, attempts))
}

fn again(d: &Delivery, now: i64, n: i64) -> NewDelivery {
    NewDelivery {
        org_id: d.org_id.clone(),
        webhook_id: d.webhook_id.clone(),
        event_id: d.event_id,
        redelivery: now * 1000 + n,
        msg_id: d.msg_id.clone(),
        kind: d.kind.clone(),
        body: d.body.clone(),
        created_at: now,
    }
}

/// Sends one delivery again (same `webhook-id` and body), at the end of the queue.
pub async fn redeliver(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    delivery_id: i64,
) -> CoreResult<i64> {
    let org = org(p)?;
    let w = find(ctx, org, id).await?;
    let d = ctx
        .store
        .get_delivery(&org.id, id, delivery_id)
        .await?
        .ok_or_else(|| CoreError::NotFound("delivery not found".into()))?;
    let j = journal(
        ctx,
        p,
        &w,
        AuditAction::WebhookRedelivered,
        json!({"deliveryId": d.id, "msgId": d.msg_id}),
    );
    let ids = ctx
        .store
        .queue_extra_deliveries(&[again(&d, ctx.now, 0)], &j)
        .await?;
    ids.first()
        .copied()
        .ok_or_else(|| CoreError::Upstream("no delivery queued".into()))
}

/// Sends again every delivery queued since `since` (ms), oldest first; how many.
pub async fn redeliver_since(
    ctx: &Ctx<'_>,
    p: &Principal,
    id: &str,
    since: i64,
) -> CoreResult<usize> {
    let org = org(p)?;
    let w = find(ctx, org, id).await?;
    let all = ctx
        .store
        .deliveries_since(&org.id, id, since, MAX_REDELIVER)
        .await?;
    let copies: Vec<NewDelivery> = all
        .iter()
        .enumerate()
        .map(|(n, d)| again(d, ctx.now, n as i64))
        .collect();
    let j = journal(
        ctx,
        p,
        &w,
        AuditAction::WebhookRedelivered,
        json!({"since": since, "count": copies.len()}),
    );
    Ok(ctx.store.queue_extra_deliveries(&copies, &j).await?.len())
}

/// Queues a `webhook.test` message to this subscription (whatever its filter).
pub async fn send_test(ctx: &Ctx<'_>, p: &Principal, id: &str) -> CoreResult<i64> {
    let org = org(p)?;
    let w = find(ctx, org, id).await?;
    let data = json!({"webhookId": w.id, "message": "A test message from the portal."});
    let d = NewDelivery {
        org_id: org.id.clone(),
        webhook_id: w.id.clone(),
        event_id: None,
        // An original (redeliveries get a distinct number; NULL events never collide).
        redelivery: 0,
        msg_id: new_msg_id(),
        kind: EventKind::WebhookTest.as_str().into(),
        body: body_of(EventKind::WebhookTest.as_str(), ctx.now, data),
        created_at: ctx.now,
    };
    let j = journal(
        ctx,
        p,
        &w,
        AuditAction::WebhookTested,
        json!({"msgId": d.msg_id}),
    );
    let ids = ctx.store.queue_extra_deliveries(&[d], &j).await?;
    ids.first()
        .copied()
        .ok_or_else(|| CoreError::Upstream("no delivery queued".into()))
}
