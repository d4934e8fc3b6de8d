//! OIDC sign-in, composed: a provider from the store (core), the protocol
//! from `portal-oidc` over the SSRF-guarded client, and the browser binding
//! (`state`, `nonce`, PKCE verifier) sealed into a short-lived cookie whose
//! state is spent in the database at the callback, so it works once, on
//! any replica.

use std::sync::Arc;

use portal_core::identity::Principal;
use portal_core::service::auth::SignedIn;
use portal_core::service::sso as svc;
use portal_core::service::Ctx;
use portal_core::service::{password_policy, sso_sessions};
use portal_core::sso::{ExternalIdentity, GroupsSource, IdentityProvider};
use portal_core::CoreError;
pub use portal_oidc::Callback;
use portal_oidc::{OidcError, Pending, Rp, RpConfig};
use portal_webhooks::{GuardedClient, SystemLookup};
use serde::{Deserialize, Serialize};

use crate::App;

/// How long a started sign-in may take (the cookie's life).
pub const PENDING_TTL_MS: i64 = 10 * 60 * 1000;
/// The callback path every provider redirects to (registered at the OP).
pub const CALLBACK_PATH: &str = "/auth/sso/callback";
const SEAL_CONTEXT: &str = "sso-pending";

/// What the browser's cookie carries, sealed.
#[derive(Serialize, Deserialize)]
struct Sealed {
    idp: String,
    exp: i64,
    #[serde(flatten)]
    pending: Pending,
    next: String,
}

/// A started sign-in.
pub struct Begun {
    /// The OP's authorization URL.
    pub url: String,
    /// The cookie value binding the sign-in to this browser.
    pub cookie: String,
}

/// A finished sign-in, and where to go next.
pub struct Finished {
    /// The new session.
    pub signed: SignedIn,
    /// The in-portal path to go to.
    pub next: String,
}

/// The outcome of "test connection".
pub struct TestOutcome {
    /// The step that failed (`None`: all passed).
    pub failed_step: Option<&'static str>,
    /// What went wrong, or what was found.
    pub detail: String,
    /// The keys the OP publishes (0 when it failed).
    pub keys: usize,
}

/// The relying party of this process.
pub struct Sso {
    rp: Rp,
}

impl Sso {
    pub(crate) fn new(app: &App) -> Result<Self, String> {
        let s = &app.settings;
        let client = GuardedClient::new(
            s.outbound.policy(),
            s.outbound.timeout,
            Arc::new(SystemLookup),
        )?;
        Ok(Self {
            rp: Rp::new(client),
        })
    }
}

fn redirect_uri(app: &App) -> String {
    format!(
        "{}{CALLBACK_PATH}",
        app.settings.http.public_url.trim_end_matches('/')
    )
}

/// The exact redirect URI to register at every OP.
pub fn callback_url(app: &App) -> String {
    redirect_uri(app)
}

/// Where an OP sends the browser after RP-initiated logout (register it at
/// the OP as a post-logout redirect URI).
pub fn post_logout_url(app: &App) -> String {
    format!(
        "{}/login",
        app.settings.http.public_url.trim_end_matches('/')
    )
}

fn config(app: &App, p: &IdentityProvider, secret: Option<String>) -> RpConfig {
    RpConfig {
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        client_secret: secret,
        redirect_uri: redirect_uri(app),
        scopes: p.scopes.clone(),
    }
}

/// Logged in full; the person sees the stage only.
fn failed(e: OidcError) -> CoreError {
    tracing::warn!(error = %e, "SSO sign-in failed");
    let stage = match &e {
        OidcError::Config(_) => "the provider's configuration",
        OidcError::Discovery(_) | OidcError::Jwks(_) => "reaching the identity provider",
        OidcError::State => "matching this browser's sign-in",
        OidcError::Issuer(_) => "checking who answered",
        OidcError::Token(_) => "exchanging the code",
        OidcError::IdToken(_) => "checking the ID token",
        OidcError::Userinfo(_) => "reading the user's profile",
    };
    match e {
        OidcError::Discovery(_) | OidcError::Jwks(_) => {
            CoreError::Upstream(format!("Single sign-on failed while {stage}"))
        }
        _ => CoreError::Forbidden(format!("Single sign-on failed while {stage}")),
    }
}

impl App {
    /// The relying party (built on first use).
    pub fn sso(&self) -> Result<&Sso, CoreError> {
        if let Some(s) = self.sso.get() {
            return Ok(s);
        }
        let s = Sso::new(self).map_err(CoreError::Internal)?;
        Ok(self.sso.get_or_init(|| s))
    }

    /// Starts a sign-in with an enabled provider; `next` is where to land.
    pub async fn sso_begin(
        &self,
        ctx: &Ctx<'_>,
        idp_id: &str,
        next: &str,
    ) -> Result<Begun, CoreError> {
        let (p, secret) = svc::for_sign_in(ctx, idp_id).await?;
        let cfg = config(self, &p, secret.map(|s| s.expose().clone()));
        let started = self.sso()?.rp.begin(&cfg).await.map_err(failed)?;
        let sealed = Sealed {
            idp: p.id,
            exp: ctx.now + PENDING_TTL_MS,
            pending: started.pending,
            next: next.to_string(),
        };
        let json = serde_json::to_vec(&sealed).map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(Begun {
            url: started.url,
            cookie: self.keys.seal(SEAL_CONTEXT, &json),
        })
    }

    /// Finishes a sign-in from the callback and the browser's cookie.
    pub async fn sso_finish(
        &self,
        ctx: &Ctx<'_>,
        cookie: Option<&str>,
        cb: &Callback,
    ) -> Result<Finished, CoreError> {
        let expired = || {
            CoreError::Forbidden(
                "This sign-in has expired or was started in another browser; start again".into(),
            )
        };
        let raw = cookie
            .and_then(|c| self.keys.open(SEAL_CONTEXT, c))
            .ok_or_else(expired)?;
        let sealed: Sealed = serde_json::from_slice(&raw).map_err(|_| expired())?;
        if sealed.exp <= ctx.now {
            return Err(expired());
        }
        if !portal_core::crypto::constant_time_eq(
            cb.state.as_bytes(),
            sealed.pending.state.as_bytes(),
        ) {
            return Err(failed(OidcError::State));
        }
        // Spent before the code is exchanged: a replay gets nowhere.
        svc::spend_state(ctx, &sealed.pending.state, sealed.exp).await?;
        let (p, secret) = svc::for_sign_in(ctx, &sealed.idp).await?;
        let cfg = config(self, &p, secret.map(|s| s.expose().clone()));
        let userinfo = p.groups_source == GroupsSource::Userinfo;
        let id = self
            .sso()?
            .rp
            .finish(&cfg, &sealed.pending, cb, userinfo)
            .await
            .map_err(failed)?;
        let claims = match (p.groups_source, id.userinfo_claims) {
            (GroupsSource::Userinfo, Some(u)) => u,
            _ => id.id_token_claims,
        };
        let ext = ExternalIdentity {
            issuer: id.issuer,
            subject: id.subject,
            email: id.email,
            email_verified: id.email_verified,
            name: id.name,
            claims,
        };
        let signed = svc::complete(ctx, &p, &ext, &id.id_token).await?;
        Ok(Finished {
            signed,
            next: sealed.next,
        })
    }

    /// "Test connection": discovery, then the key set, fetched now.
    pub async fn sso_test(
        &self,
        ctx: &Ctx<'_>,
        actor: &Principal,
        idp_id: &str,
    ) -> Result<TestOutcome, CoreError> {
        let p = svc::get(ctx, actor, idp_id).await?;
        self.test_provider(&p).await
    }

    async fn test_provider(&self, p: &IdentityProvider) -> Result<TestOutcome, CoreError> {
        Ok(match self.sso()?.rp.test(&p.issuer).await {
            Ok(r) => TestOutcome {
                failed_step: None,
                detail: format!(
                    "discovery and keys fetched: issuer {}, {} key(s){}",
                    r.issuer,
                    r.keys,
                    if r.end_session {
                        ", RP-initiated logout offered"
                    } else {
                        ""
                    }
                ),
                keys: r.keys,
            },
            Err((step, m)) => TestOutcome {
                failed_step: Some(step.as_str()),
                detail: m,
                keys: 0,
            },
        })
    }

    /// Where the browser goes after the portal session `session_id` ended:
    /// the OP's end-session endpoint (with `id_token_hint` and the
    /// post-logout redirect) when an OIDC sign-in opened the session and the
    /// OP offers RP-initiated logout; `None` otherwise, and whenever the OP
    /// cannot be asked (signing out never fails on the OP). Call it before
    /// the session is revoked.
    pub async fn sso_sign_out_url(&self, ctx: &Ctx<'_>, session_id: &str) -> Option<String> {
        let (p, token) = match sso_sessions::logout_target(ctx, session_id).await {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "RP-initiated logout skipped");
                return None;
            }
        };
        let cfg = config(self, &p, None);
        let rp = &self.sso().ok()?.rp;
        match rp
            .logout_url(&cfg, Some(token.expose()), &post_logout_url(self))
            .await
        {
            Ok(url) => url,
            Err(e) => {
                tracing::warn!(error = %e, idp = %p.id, "RP-initiated logout skipped");
                None
            }
        }
    }

    /// Allows or refuses password sign-in for the caller's organisation.
    /// Turning it off needs single sign-on to work: a provider among
    /// [`password_policy::candidates`] that passes the connection test now.
    pub async fn set_password_sign_in(
        &self,
        ctx: &Ctx<'_>,
        actor: &Principal,
        on: bool,
    ) -> Result<(), CoreError> {
        let mut working = None;
        if !on {
            for p in password_policy::candidates(ctx, actor).await? {
                if self.test_provider(&p).await?.failed_step.is_none() {
                    working = Some(p);
                    break;
                }
            }
        }
        password_policy::set(ctx, actor, on, working.as_ref()).await
    }

    /// A provider was edited: its cached metadata goes.
    pub fn sso_forget(&self, issuer: &str) {
        if let Some(s) = self.sso.get() {
            s.rp.forget(issuer);
        }
    }
}
