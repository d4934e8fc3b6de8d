//! AI providers as data (`admin:all`; audited on the system chain; the API
//! key sealed, never returned): add, change, remove, and record what a test
//! found. A provider whose test failed is flagged and no longer offered.

use crate::kinds::AuditAction;
use serde_json::json;

use super::auth::uuid_v4;
use super::Ctx;
use crate::ai_providers::{AiProvider, ProviderType, TestStatus};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::outbound::OutboundPolicy;
use crate::rbac::Permission;
use crate::validate::text;
use crate::Secret;

/// Longest model id accepted.
const MAX_MODEL: usize = 200;
/// Most models a provider may offer.
const MAX_MODELS: usize = 100;
/// Longest test failure kept.
const MAX_ERROR: usize = 500;

/// A provider's editable fields (absent: unchanged, or the default on create).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// Display name.
    pub name: Option<String>,
    /// `openai-compatible`, `anthropic`, `oci` or `azure-openai`.
    pub kind: Option<String>,
    /// Base URL ("": the provider's own endpoint, where it has one).
    pub base_url: Option<String>,
    /// API key (`Some(None)`: remove it).
    pub api_key: Option<Option<Secret<String>>>,
    /// Models besides the default.
    pub models: Option<Vec<String>>,
    /// The default model.
    pub default_model: Option<String>,
    /// Offered to chat.
    pub enabled: Option<bool>,
}

fn gone() -> CoreError {
    CoreError::NotFound("AI provider not found".into())
}

fn bad(m: impl Into<String>) -> CoreError {
    CoreError::Validation(m.into())
}

fn model(field: &str, v: &str) -> CoreResult<String> {
    let v = text(field, v, MAX_MODEL)?;
    if v.chars().any(char::is_whitespace) {
        return Err(bad(format!("{field}: a model id has no spaces")));
    }
    Ok(v)
}

fn base_url(policy: &OutboundPolicy, kind: ProviderType, v: &str) -> CoreResult<String> {
    let v = v.trim();
    if v.is_empty() {
        if kind == ProviderType::AzureOpenAi {
            return Err(bad(
                "baseUrl: is required for azure-openai (https://<resource>.openai.azure.com/openai/v1)",
            ));
        }
        return Ok(String::new());
    }
    let v = text("baseUrl", v, 2000)?;
    policy
        .check_url(&v)
        .map_err(|e| bad(format!("baseUrl: {e}")))?;
    Ok(v.trim_end_matches('/').to_string())
}

/// Applies `f` to `p`, validating each field given; connection changes clear
/// the test flag (the new settings are untested).
fn apply(ctx: &Ctx<'_>, policy: &OutboundPolicy, p: &mut AiProvider, f: Fields) -> CoreResult<()> {
    let before = p.clone();
    if let Some(v) = f.name {
        p.name = text("name", &v, 100)?;
    }
    if let Some(v) = f.kind {
        p.kind = ProviderType::parse(v.trim()).ok_or_else(|| {
            bad("type: must be openai-compatible, anthropic, oci or azure-openai")
        })?;
    }
    if let Some(v) = f.base_url {
        p.base_url = v;
    }
    // Judged again whenever the type changes (azure-openai needs one).
    p.base_url = base_url(policy, p.kind, &p.base_url)?;
    if let Some(k) = f.api_key {
        p.api_key_sealed = match k {
            Some(k) => {
                let v = text("apiKey", k.expose(), 4000)?;
                Some(
                    ctx.keys
                        .seal(&AiProvider::seal_context(&p.id), v.as_bytes()),
                )
            }
            None => None,
        };
    }
    if p.kind.needs_key() && p.api_key_sealed.is_none() {
        return Err(bad(format!("apiKey: is required for {}", p.kind.as_str())));
    }
    if let Some(v) = f.default_model {
        p.default_model = model("defaultModel", &v)?;
    }
    if let Some(v) = f.models {
        if v.len() > MAX_MODELS {
            return Err(bad(format!("models: at most {MAX_MODELS} entries")));
        }
        p.models = v
            .iter()
            .map(|m| model("models", m))
            .collect::<CoreResult<_>>()?;
    }
    if let Some(v) = f.enabled {
        p.enabled = v;
    }
    let reconnected = p.kind != before.kind
        || p.base_url != before.base_url
        || p.api_key_sealed != before.api_key_sealed
        || p.model_ids() != before.model_ids();
    if reconnected {
        p.test_status = TestStatus::Untested;
        p.test_error = None;
    }
    Ok(())
}

fn journal<'a>(
    ctx: &Ctx<'a>,
    actor: &Principal,
    p: &AiProvider,
    action: AuditAction,
) -> crate::journal::Journal<'a> {
    let mut j = ctx.journal();
    j.audit(
        None,
        &actor.actor(),
        action,
        Some(&format!("ai-provider:{}", p.id)),
        "success",
        json!({"name": p.name, "type": p.kind.as_str(), "baseUrl": p.base_url,
               "hasApiKey": p.api_key_sealed.is_some(), "defaultModel": p.default_model,
               "models": p.models, "enabled": p.enabled, "testStatus": p.test_status.as_str()}),
    );
    j
}

/// Adds a provider (name, type and default model required).
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Principal,
    policy: &OutboundPolicy,
    f: Fields,
) -> CoreResult<AiProvider> {
    actor.require(Permission::AdminAll)?;
    for (given, field) in [
        (f.name.is_some(), "name"),
        (f.kind.is_some(), "type"),
        (f.default_model.is_some(), "defaultModel"),
    ] {
        if !given {
            return Err(bad(format!("{field}: is required")));
        }
    }
    let mut p = AiProvider {
        id: uuid_v4(),
        name: String::new(),
        kind: ProviderType::OpenAiCompatible,
        base_url: String::new(),
        api_key_sealed: None,
        models: Vec::new(),
        default_model: String::new(),
        enabled: true,
        test_status: TestStatus::Untested,
        test_error: None,
        tested_at: None,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    apply(ctx, policy, &mut p, f)?;
    let j = journal(ctx, actor, &p, AuditAction::AiProviderCreated);
    ctx.store
        .create_ai_provider(&p, &j)
        .await
        .map_err(|e| match e {
            crate::StoreError::Conflict(_) => {
                CoreError::Conflict("name: another AI provider has this name".into())
            }
            e => e.into(),
        })?;
    Ok(p)
}

/// Every provider.
pub async fn list(ctx: &Ctx<'_>, actor: &Principal) -> CoreResult<Vec<AiProvider>> {
    actor.require(Permission::AdminAll)?;
    Ok(ctx.store.list_ai_providers().await?)
}

/// One provider.
pub async fn get(ctx: &Ctx<'_>, actor: &Principal, id: &str) -> CoreResult<AiProvider> {
    actor.require(Permission::AdminAll)?;
    ctx.store.get_ai_provider(id).await?.ok_or_else(gone)
}

async fn write(
    ctx: &Ctx<'_>,
    actor: &Principal,
    p: &AiProvider,
    action: AuditAction,
) -> CoreResult<()> {
    let j = journal(ctx, actor, p, action);
    match ctx.store.update_ai_provider(p, &j).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(gone()),
        Err(crate::StoreError::Conflict(_)) => Err(CoreError::Conflict(
            "name: another AI provider has this name".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Changes a provider; absent fields stay.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Principal,
    policy: &OutboundPolicy,
    id: &str,
    f: Fields,
) -> CoreResult<AiProvider> {
    let mut p = get(ctx, actor, id).await?;
    apply(ctx, policy, &mut p, f)?;
    p.updated_at = ctx.now;
    write(ctx, actor, &p, AuditAction::AiProviderUpdated).await?;
    Ok(p)
}

/// Deletes a provider (sessions that used its models fall back to the default).
pub async fn delete(ctx: &Ctx<'_>, actor: &Principal, id: &str) -> CoreResult<AiProvider> {
    let p = get(ctx, actor, id).await?;
    let j = journal(ctx, actor, &p, AuditAction::AiProviderDeleted);
    if !ctx.store.delete_ai_provider(id, &j).await? {
        return Err(gone());
    }
    Ok(p)
}

/// Records what a test of `p` found (`Err`: why it failed): a failure flags
/// the provider (hidden from pickers), a success clears the flag.
pub async fn record_test(
    ctx: &Ctx<'_>,
    actor: &Principal,
    mut p: AiProvider,
    outcome: Result<(), String>,
) -> CoreResult<AiProvider> {
    actor.require(Permission::AdminAll)?;
    let (status, error) = match outcome {
        Ok(()) => (TestStatus::Ok, None),
        Err(e) => (
            TestStatus::Failed,
            Some(e.chars().take(MAX_ERROR).collect()),
        ),
    };
    p.test_status = status;
    p.test_error = error;
    p.tested_at = Some(ctx.now);
    write(ctx, actor, &p, AuditAction::AiProviderTested).await?;
    Ok(p)
}

/// Opens a provider's API key (`None`: none stored, or it does not open).
pub fn api_key(ctx: &Ctx<'_>, p: &AiProvider) -> Option<Secret<String>> {
    open_key(ctx.keys, p)
}

/// Opens a provider's API key with `keys` (the chat engine holds no context).
pub fn open_key(keys: &crate::crypto::Keys, p: &AiProvider) -> Option<Secret<String>> {
    let sealed = p.api_key_sealed.as_deref()?;
    let plain = keys.open(&AiProvider::seal_context(&p.id), sealed)?;
    String::from_utf8(plain).ok().map(Secret::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip_and_unknown_ones_are_refused() {
        for t in ProviderType::ALL {
            assert_eq!(ProviderType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ProviderType::parse("google"), None);
        assert!(ProviderType::Anthropic.needs_key());
        assert!(!ProviderType::Oci.needs_key());
    }

    #[test]
    fn base_urls_follow_the_outbound_rules() {
        let strict = OutboundPolicy::default();
        let t = ProviderType::OpenAiCompatible;
        assert!(base_url(&strict, t, "https://api.example.com/v1/").is_ok());
        assert_eq!(
            base_url(&strict, t, "https://api.example.com/v1/").unwrap(),
            "https://api.example.com/v1"
        );
        for refused in [
            "http://api.example.com/v1",
            "https://127.0.0.1:8080/v1",
            "https://169.254.169.254/",
            "https://user:pw@api.example.com/",
            "not a url",
        ] {
            let e = base_url(&strict, t, refused).unwrap_err();
            assert!(
                matches!(&e, CoreError::Validation(m) if m.starts_with("baseUrl")),
                "{refused}: {e:?}"
            );
        }
        assert!(base_url(&strict, ProviderType::AzureOpenAi, "").is_err());
        assert_eq!(base_url(&strict, ProviderType::Anthropic, "").unwrap(), "");
    }
}
