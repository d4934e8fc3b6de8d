//! AI providers as data, composed: the core's rules and storage, then this
//! replica's registry forgets its rows at once (the others refresh within
//! `portal_core::ai_providers::REFRESH`); "Test" sends a one-token
//! completion through the guarded client and records what it found.

use std::sync::Arc;

use portal_ai::provider::registry::{Outbound, Registry};
use portal_core::ai_providers::AiProvider;
use portal_core::identity::Principal;
use portal_core::service::ai_providers::{self as svc, Fields};
use portal_core::service::Ctx;
use portal_core::{CoreError, CoreResult};
use portal_webhooks::{GuardedClient, SystemLookup};

use crate::App;

/// What "Test" found, and the provider as it is now flagged.
pub struct Tested {
    /// The provider, its test status recorded.
    pub provider: AiProvider,
    /// Why the test failed (`None`: it worked).
    pub error: Option<String>,
}

/// The outbound side of stored providers: the SSRF-guarded client without a
/// whole-request timeout (answers stream), and the OCI client that signs.
pub(crate) fn outbound(app: &App) -> Result<Outbound, String> {
    let s = &app.settings;
    let guarded = GuardedClient::streaming(
        s.outbound.policy(),
        s.outbound.timeout,
        Arc::new(SystemLookup),
    )?;
    Ok(Outbound {
        policy: s.outbound.policy(),
        client: guarded.http().clone(),
        oci: app.cloud.get().map(|c| c.client.clone()),
    })
}

impl App {
    /// This replica's provider registry (building the chat engine if needed).
    pub fn ai_registry(&self) -> CoreResult<Arc<Registry>> {
        let engine = crate::chat::start(self).map_err(CoreError::Internal)?;
        Ok(engine.providers.clone())
    }

    fn ai_changed(&self) {
        if let Some(engine) = self.chat.get() {
            engine.providers.forget();
        }
    }

    /// Adds a provider (`admin:all`); this replica offers it at once.
    pub async fn create_ai_provider(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        f: Fields,
    ) -> CoreResult<AiProvider> {
        let r = svc::create(ctx, p, &self.settings.outbound.policy(), f).await?;
        self.ai_changed();
        Ok(r)
    }

    /// Changes a provider (`admin:all`); this replica follows at once.
    pub async fn update_ai_provider(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        id: &str,
        f: Fields,
    ) -> CoreResult<AiProvider> {
        let r = svc::update(ctx, p, &self.settings.outbound.policy(), id, f).await?;
        self.ai_changed();
        Ok(r)
    }

    /// Removes a provider (`admin:all`); this replica stops offering it at once.
    pub async fn delete_ai_provider(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        id: &str,
    ) -> CoreResult<AiProvider> {
        let r = svc::delete(ctx, p, id).await?;
        self.ai_changed();
        Ok(r)
    }

    /// Tests a provider now and records the outcome: a failure flags it (it
    /// leaves `GET /api/models` and the pickers), a success clears the flag.
    pub async fn test_ai_provider(
        &self,
        ctx: &Ctx<'_>,
        p: &Principal,
        id: &str,
    ) -> CoreResult<Tested> {
        let row = svc::get(ctx, p, id).await?;
        let outcome = self.ai_registry()?.test(&row).await;
        if let Err(e) = &outcome {
            tracing::info!(provider = %row.name, error = %e, "AI provider test failed");
        }
        let error = outcome.as_ref().err().cloned();
        let provider = svc::record_test(ctx, p, row, outcome).await?;
        self.ai_changed();
        Ok(Tested { provider, error })
    }
}
