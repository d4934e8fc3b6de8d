//! Portal-wide settings, changed at run time by platform admins: branding
//! (name, logo, accent colours), sign-in (JIT provisioning, session
//! lifetime), maintenance mode and the terms/privacy links. Not the
//! per-organisation settings (four-eyes, compartments: `service::members`).
//!
//! Every replica reads them through [`SettingsCache`], refreshed from the
//! database at most [`REFRESH`] old, so a change reaches every replica within
//! that time without a restart.

use crate::kinds::AuditAction;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};
use crate::identity::{Principal, SESSION_TTL_MS};
use crate::journal::Journal;
use crate::service::Ctx;
use crate::store::StoreResult;

/// How stale a replica's copy may be.
pub const REFRESH: Duration = Duration::from_secs(2);
/// The default portal name.
pub const DEFAULT_NAME: &str = "OCI Self-Service Portal";
/// The largest logo accepted, as a data URL.
pub const MAX_LOGO_CHARS: usize = 48 * 1024;
/// Session lifetimes accepted, in hours.
pub const SESSION_HOURS: std::ops::RangeInclusive<i64> = 1..=720;

/// The settings as stored (and as the API shows them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PortalSettings {
    /// Shown in the header, titles and footer.
    pub name: String,
    /// A `data:image/…;base64,…` URL shown in the header ("" = none).
    pub logo: String,
    /// The accent colour in light mode, `#rrggbb` ("" = the default).
    pub accent_color: String,
    /// The accent colour in dark mode, `#rrggbb` ("" = the default).
    pub accent_color_dark: String,
    /// Whether single sign-on may create accounts on first sign-in (the OIDC
    /// callback reads it); when off, only existing users sign in.
    pub jit_provisioning: bool,
    /// How long a new browser session lasts, in hours.
    pub session_hours: i64,
    /// While on, every write is refused (503 `MAINTENANCE`) except sign-in,
    /// sign-out and these settings; reads work; pages show a banner.
    pub maintenance: bool,
    /// The banner's message ("" = a default one).
    pub maintenance_message: String,
    /// Link to the terms of use in the footer and on the sign-in page ("" = none).
    pub terms_url: String,
    /// Link to the privacy notice in the footer and on the sign-in page ("" = none).
    pub privacy_url: String,
    /// When they last changed (epoch ms; 0 = never).
    pub updated_at: i64,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self {
            name: DEFAULT_NAME.into(),
            logo: String::new(),
            accent_color: String::new(),
            accent_color_dark: String::new(),
            jit_provisioning: true,
            session_hours: SESSION_TTL_MS / 3_600_000,
            maintenance: false,
            maintenance_message: String::new(),
            terms_url: String::new(),
            privacy_url: String::new(),
            updated_at: 0,
        }
    }
}

impl PortalSettings {
    /// A new session's lifetime in ms.
    pub fn session_ttl_ms(&self) -> i64 {
        self.session_hours
            .clamp(*SESSION_HOURS.start(), *SESSION_HOURS.end())
            * 3_600_000
    }

    /// The banner text while in maintenance.
    pub fn banner(&self) -> &str {
        if self.maintenance_message.is_empty() {
            "The portal is in maintenance: you can look around, but changes are paused."
        } else {
            &self.maintenance_message
        }
    }
}

/// A change: only the given fields change ("" clears a text field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub logo: Option<String>,
    pub accent_color: Option<String>,
    pub accent_color_dark: Option<String>,
    pub jit_provisioning: Option<bool>,
    pub session_hours: Option<i64>,
    pub maintenance: Option<bool>,
    pub maintenance_message: Option<String>,
    pub terms_url: Option<String>,
    pub privacy_url: Option<String>,
}

/// Their storage: one row.
#[async_trait]
pub trait PortalSettingsRepo: Send + Sync {
    /// The stored settings (`None`: never changed).
    async fn portal_settings(&self) -> StoreResult<Option<PortalSettings>>;

    /// Replaces them, with the journal's records.
    async fn put_portal_settings(&self, s: &PortalSettings, j: &Journal<'_>) -> StoreResult<()>;
}

fn bad(field: &str, msg: &str) -> CoreError {
    CoreError::Validation(format!("{field}: {msg}"))
}

fn color(field: &str, raw: &str) -> CoreResult<String> {
    let t = raw.trim();
    let ok = t.is_empty()
        || (t.len() == 7 && t.starts_with('#') && t[1..].bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(bad(field, "must be a colour like #0b5cad, or empty"))
    }
}

fn link(field: &str, raw: &str) -> CoreResult<String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    if t.len() > 500 {
        return Err(bad(field, "must be at most 500 characters"));
    }
    match url::Url::parse(t) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(u.to_string()),
        _ => Err(bad(field, "must be an http(s) URL, or empty")),
    }
}

fn logo(raw: &str) -> CoreResult<String> {
    const TYPES: [&str; 5] = ["png", "jpeg", "gif", "webp", "svg+xml"];
    let t = raw.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    if t.len() > MAX_LOGO_CHARS {
        return Err(bad(
            "logo",
            &format!("must be at most {MAX_LOGO_CHARS} characters"),
        ));
    }
    let body = t
        .strip_prefix("data:image/")
        .and_then(|r| r.split_once(";base64,"))
        .filter(|(ty, _)| TYPES.contains(ty))
        .map(|(_, b)| b);
    match body {
        Some(b) if base64::engine::general_purpose::STANDARD.decode(b).is_ok() => Ok(t.into()),
        _ => Err(bad(
            "logo",
            "must be a data:image/(png|jpeg|gif|webp|svg+xml);base64,… URL, or empty",
        )),
    }
}

fn optional_text(field: &str, raw: &str, max: usize) -> CoreResult<String> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    crate::validate::text(field, raw, max)
}

impl SettingsChange {
    /// `current` with this change applied as given, unchecked: only to show a
    /// refused form again with what was typed.
    pub fn apply_unchecked(self, mut s: PortalSettings) -> PortalSettings {
        let set = |dst: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set(&mut s.name, self.name);
        set(&mut s.logo, self.logo);
        set(&mut s.accent_color, self.accent_color);
        set(&mut s.accent_color_dark, self.accent_color_dark);
        set(&mut s.maintenance_message, self.maintenance_message);
        set(&mut s.terms_url, self.terms_url);
        set(&mut s.privacy_url, self.privacy_url);
        s.jit_provisioning = self.jit_provisioning.unwrap_or(s.jit_provisioning);
        s.session_hours = self.session_hours.unwrap_or(s.session_hours);
        s.maintenance = self.maintenance.unwrap_or(s.maintenance);
        s
    }

    /// `current` with this change applied, every field checked.
    pub fn apply(self, mut s: PortalSettings) -> CoreResult<PortalSettings> {
        if let Some(v) = self.name {
            s.name = crate::validate::text("name", &v, 60)?;
        }
        if let Some(v) = self.logo {
            s.logo = logo(&v)?;
        }
        if let Some(v) = self.accent_color {
            s.accent_color = color("accentColor", &v)?;
        }
        if let Some(v) = self.accent_color_dark {
            s.accent_color_dark = color("accentColorDark", &v)?;
        }
        if let Some(v) = self.jit_provisioning {
            s.jit_provisioning = v;
        }
        if let Some(v) = self.session_hours {
            if !SESSION_HOURS.contains(&v) {
                return Err(bad("sessionHours", "must be between 1 and 720"));
            }
            s.session_hours = v;
        }
        if let Some(v) = self.maintenance {
            s.maintenance = v;
        }
        if let Some(v) = self.maintenance_message {
            s.maintenance_message = optional_text("maintenanceMessage", &v, 500)?;
        }
        if let Some(v) = self.terms_url {
            s.terms_url = link("termsUrl", &v)?;
        }
        if let Some(v) = self.privacy_url {
            s.privacy_url = link("privacyUrl", &v)?;
        }
        Ok(s)
    }
}

/// A replica's copy of the settings, refreshed when older than [`REFRESH`].
#[derive(Default)]
pub struct SettingsCache(RwLock<Option<(Instant, Arc<PortalSettings>)>>);

impl SettingsCache {
    /// The settings, at most [`REFRESH`] old. When the database cannot be read
    /// the last copy (or the defaults) serves, so reads keep working.
    pub async fn get(&self, repo: &dyn PortalSettingsRepo) -> Arc<PortalSettings> {
        if let Some(s) = self.fresh() {
            return s;
        }
        match repo.portal_settings().await {
            Ok(s) => {
                let s = Arc::new(s.unwrap_or_default());
                self.put(s.clone());
                s
            }
            Err(e) => {
                tracing::debug!(error = %e, "portal settings not refreshed");
                self.last().unwrap_or_default()
            }
        }
    }

    /// The copy held, however old (`None` before the first read).
    pub fn last(&self) -> Option<Arc<PortalSettings>> {
        self.0.read().ok()?.as_ref().map(|(_, s)| s.clone())
    }

    fn fresh(&self) -> Option<Arc<PortalSettings>> {
        let g = self.0.read().ok()?;
        g.as_ref()
            .filter(|(at, _)| at.elapsed() < REFRESH)
            .map(|(_, s)| s.clone())
    }

    /// Replaces the copy (after this replica changed the settings).
    pub fn put(&self, s: Arc<PortalSettings>) {
        if let Ok(mut g) = self.0.write() {
            *g = Some((Instant::now(), s));
        }
    }
}

/// The current settings (anyone: the page shell shows them to everyone).
pub async fn get(ctx: &Ctx<'_>) -> CoreResult<PortalSettings> {
    Ok(ctx.store.portal_settings().await?.unwrap_or_default())
}

/// Changes the settings (platform admins only; audited on the system chain).
pub async fn update(
    ctx: &Ctx<'_>,
    p: &Principal,
    change: SettingsChange,
) -> CoreResult<PortalSettings> {
    if !p.is_platform_admin() {
        return Err(CoreError::Forbidden(
            "Only platform admins change the portal settings".into(),
        ));
    }
    let before = get(ctx).await?;
    let mut after = change.apply(before.clone())?;
    after.updated_at = ctx.now;
    let mut changed: Vec<&str> = Vec::new();
    let pairs: [(&str, bool); 10] = [
        ("name", before.name != after.name),
        ("logo", before.logo != after.logo),
        ("accentColor", before.accent_color != after.accent_color),
        (
            "accentColorDark",
            before.accent_color_dark != after.accent_color_dark,
        ),
        (
            "jitProvisioning",
            before.jit_provisioning != after.jit_provisioning,
        ),
        ("sessionHours", before.session_hours != after.session_hours),
        ("maintenance", before.maintenance != after.maintenance),
        (
            "maintenanceMessage",
            before.maintenance_message != after.maintenance_message,
        ),
        ("termsUrl", before.terms_url != after.terms_url),
        ("privacyUrl", before.privacy_url != after.privacy_url),
    ];
    for (name, differs) in pairs {
        if differs {
            changed.push(name);
        }
    }
    let mut j = ctx.journal();
    j.audit(
        None,
        &p.id,
        AuditAction::PortalSettingsChanged,
        None,
        "success",
        serde_json::json!({"changed": changed, "maintenance": after.maintenance}),
    );
    ctx.store.put_portal_settings(&after, &j).await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_checked_field_by_field() {
        let s = PortalSettings::default();
        let ok = SettingsChange {
            name: Some(" Acme Cloud ".into()),
            accent_color: Some("#0B5CAD".into()),
            logo: Some("data:image/png;base64,iVBORw0KGgo=".into()),
            terms_url: Some("https://example.com/terms".into()),
            session_hours: Some(8),
            ..Default::default()
        }
        .apply(s.clone())
        .unwrap();
        assert_eq!(ok.name, "Acme Cloud");
        assert_eq!(ok.accent_color, "#0b5cad");
        assert_eq!(ok.session_ttl_ms(), 8 * 3_600_000);
        for (change, field) in [
            (
                SettingsChange {
                    name: Some(" ".into()),
                    ..Default::default()
                },
                "name",
            ),
            (
                SettingsChange {
                    accent_color: Some("red".into()),
                    ..Default::default()
                },
                "accentColor",
            ),
            (
                SettingsChange {
                    logo: Some("https://x/logo.png".into()),
                    ..Default::default()
                },
                "logo",
            ),
            (
                SettingsChange {
                    logo: Some("data:image/png;base64,!!".into()),
                    ..Default::default()
                },
                "logo",
            ),
            (
                SettingsChange {
                    logo: Some("data:text/html;base64,AAAA".into()),
                    ..Default::default()
                },
                "logo",
            ),
            (
                SettingsChange {
                    terms_url: Some("javascript:alert(1)".into()),
                    ..Default::default()
                },
                "termsUrl",
            ),
            (
                SettingsChange {
                    session_hours: Some(0),
                    ..Default::default()
                },
                "sessionHours",
            ),
            (
                SettingsChange {
                    session_hours: Some(721),
                    ..Default::default()
                },
                "sessionHours",
            ),
        ] {
            match change.apply(s.clone()) {
                Err(CoreError::Validation(m)) => assert!(m.starts_with(field), "{m}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        let cleared = SettingsChange {
            logo: Some(String::new()),
            ..Default::default()
        }
        .apply(ok)
        .unwrap();
        assert_eq!(cleared.logo, "");
    }
}
