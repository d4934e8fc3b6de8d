//! Wire shapes (camelCase JSON) of domain rows, and their conversions.

use portal_core::audit::AuditRecord;
use portal_core::identity::Principal;
use portal_core::model::{Activity, ApiKey, ChatSession, Member, Org, User};
use portal_core::rbac::{AuthMethod, Role};
use serde::Serialize;
use utoipa::ToSchema;

/// Epoch milliseconds as RFC 3339 UTC with milliseconds (`2026-11-25T22:43:31.563Z`).
///
/// Hand-rolled (days-to-civil arithmetic): list responses format two
/// timestamps per row, and this is on the hot path of every listing.
pub fn ts(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Parses an RFC 3339 timestamp into epoch milliseconds.
pub fn parse_ts(field: &str, s: &str) -> Result<i64, crate::ApiError> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            crate::ApiError::Validation(format!("query/{field}: must be an RFC 3339 timestamp"))
        })
}

/// A user.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// User id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Instance-wide administrator.
    pub platform_admin: bool,
    /// Signed in with a one-time password: only changing it is allowed until then.
    pub must_change_password: bool,
    /// Creation time.
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            name: u.name.clone(),
            platform_admin: u.platform_admin,
            must_change_password: u.must_change_password,
            created_at: ts(u.created_at),
        }
    }
}

/// An organisation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgView {
    /// Organisation id.
    pub id: String,
    /// Unique slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The caller's role there, where relevant.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "admin")]
    pub role: Option<Role>,
}

impl OrgView {
    /// From a row and an optional role.
    pub fn new(o: &Org, role: Option<Role>) -> Self {
        Self {
            id: o.id.to_string(),
            slug: o.slug.clone(),
            name: o.name.clone(),
            role,
        }
    }
}

/// The browser session.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// Session id.
    pub id: String,
    /// Expiry.
    pub expires_at: String,
}

/// Who the caller is, in which organisation, allowed to do what.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The principal id named in sessions, approvals and audit records.
    pub principal_id: String,
    /// The acting user (absent for service keys).
    pub user: Option<UserView>,
    /// The browser session (absent for API keys).
    pub session: Option<SessionInfo>,
    /// `session` or `apiKey`.
    pub auth_method: &'static str,
    /// The organisation the caller works in.
    pub active_organization: Option<OrgView>,
    /// The caller's role there.
    #[schema(value_type = Option<String>, example = "operator")]
    pub role: Option<Role>,
    /// Effective permissions.
    pub permissions: Vec<&'static str>,
    /// Every organisation the user belongs to (sessions only).
    pub organizations: Vec<OrgView>,
}

impl SessionView {
    /// Builds the view; `orgs` lists the user's memberships.
    pub fn new(p: &Principal, orgs: Vec<OrgView>) -> Self {
        Self {
            principal_id: p.id.clone(),
            user: p.user.as_ref().map(UserView::from),
            session: p.session_id.as_ref().map(|id| SessionInfo {
                id: id.clone(),
                expires_at: ts(p.session_expires_at.unwrap_or(0)),
            }),
            auth_method: match p.method {
                AuthMethod::Session => "session",
                AuthMethod::ApiKey => "apiKey",
            },
            active_organization: p.org.as_ref().map(|o| OrgView::new(o, None)),
            role: p.role,
            permissions: p.permissions.names(),
            organizations: orgs,
        }
    }
}

/// An organisation member.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    /// User id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role in the organisation.
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
    /// When they joined.
    pub joined_at: String,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            user_id: m.user.id.to_string(),
            email: m.user.email.clone(),
            name: m.user.name.clone(),
            role: m.role,
            joined_at: ts(m.joined_at),
        }
    }
}

/// An API key (never its secret).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    /// Key id.
    pub id: String,
    /// Name, unique in the organisation.
    pub name: String,
    /// Characters after `portal_`, to recognise the key.
    pub prefix: String,
    /// Listed permissions.
    pub permissions: Vec<String>,
    /// The user the key acts as (absent: a service principal).
    pub owner_user_id: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// `active`, `revoked` or `expired`.
    pub status: &'static str,
    /// Creation time.
    pub created_at: String,
    /// Expiry.
    pub expires_at: Option<String>,
    /// Revocation time.
    pub revoked_at: Option<String>,
    /// Last use (recorded in batches, within seconds).
    pub last_used_at: Option<String>,
}

impl ApiKeyView {
    /// From a row, at time `now`.
    pub fn new(k: &ApiKey, now: i64) -> Self {
        let status = if k.revoked_at.is_some() {
            "revoked"
        } else if k.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            permissions: k.permissions.clone(),
            owner_user_id: k.owner_user_id.clone().map(Into::into),
            created_by: k.created_by.clone(),
            status,
            created_at: ts(k.created_at),
            expires_at: k.expires_at.map(ts),
            revoked_at: k.revoked_at.map(ts),
            last_used_at: k.last_used_at.map(ts),
        }
    }
}

/// A chat session.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatSessionView {
    /// Session id.
    pub id: String,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Model.
    pub model: String,
    /// `active`, `completed` or `error`.
    pub status: String,
    /// Messages stored.
    pub message_count: i64,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl From<&ChatSession> for ChatSessionView {
    fn from(s: &ChatSession) -> Self {
        Self {
            id: s.id.to_string(),
            title: s.title.clone(),
            model: s.model.clone(),
            status: s.status.clone(),
            message_count: s.message_count,
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
        }
    }
}

/// A tool execution.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityView {
    /// Record id.
    pub id: String,
    /// Tool.
    pub tool_name: String,
    /// Tool category.
    pub category: String,
    /// `read`, `confirm` or `danger`.
    pub risk: &'static str,
    /// `success`, `error`, `denied`, `pending`, `running` (outcome not written yet) or `unknown` (outcome lost, recorded by the sweep).
    pub status: &'static str,
    /// Who ran it.
    pub principal_id: String,
    /// Arguments, secrets redacted.
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// Error message.
    pub error: Option<String>,
    /// Duration in ms.
    pub duration_ms: Option<i64>,
    /// Approval that allowed it.
    pub approval_id: Option<String>,
    /// When.
    pub created_at: String,
}

impl From<&Activity> for ActivityView {
    fn from(a: &Activity) -> Self {
        Self {
            id: a.id.clone(),
            tool_name: a.tool_name.clone(),
            category: a.category.clone(),
            risk: a.risk.as_str(),
            status: a.status.as_str(),
            principal_id: a.principal_id.clone(),
            args: serde_json::from_str(&a.args).unwrap_or(serde_json::Value::Null),
            error: a.error.clone(),
            duration_ms: a.duration_ms,
            approval_id: a.approval_id.as_deref().map(str::to_string),
            created_at: ts(a.created_at),
        }
    }
}

/// An audit record.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditView {
    /// Record id.
    pub id: i64,
    /// Position in the organisation's chain.
    pub seq: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Extra facts.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Client address.
    pub ip: Option<String>,
    /// When.
    pub created_at: String,
    /// Previous record's MAC.
    pub prev_mac: String,
    /// This record's MAC.
    pub mac: String,
}

impl From<&AuditRecord> for AuditView {
    fn from(r: &AuditRecord) -> Self {
        Self {
            id: r.id,
            seq: r.seq,
            actor: r.actor.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            outcome: r.outcome.clone(),
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
            ip: r.ip.clone(),
            created_at: ts(r.created_at),
            prev_mac: r.prev_mac.clone(),
            mac: r.mac.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        for ms in [
            0_i64,
            1,
            951_782_400_000,
            1_764_110_611_563,
            4_102_444_799_999,
            1_709_164_800_123,
        ] {
            let text = ts(ms);
            let expected =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                    .unwrap()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap();
            assert_eq!(parse_ts("t", &text).unwrap(), ms, "{text} vs {expected}");
            assert_eq!(text.len(), 24, "{text}");
        }
        assert_eq!(ts(1_764_110_611_563), "2025-11-25T22:43:31.563Z");
    }
}

/// An invitation to an organisation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    /// Invitation id.
    pub id: String,
    /// The invited address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The role on acceptance.
    #[schema(value_type = String)]
    pub role: Role,
    /// `pending`, `accepted`, `declined` or `expired`.
    pub status: &'static str,
    /// The inviting organisation (in the invited person's listing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgView>,
    /// Creation time.
    pub created_at: String,
    /// A pending invitation lapses at this time.
    pub expires_at: String,
}

impl InvitationView {
    /// The view of `inv`, with the address (for admins) or the organisation (for the person).
    pub fn new(inv: &portal_core::model::Invitation, email: &str, org: Option<&Org>) -> Self {
        Self {
            id: inv.id.clone(),
            email: (!email.is_empty()).then(|| email.to_string()),
            role: inv.role,
            status: inv.status.as_str(),
            organization: org.map(|o| OrgView::new(o, None)),
            created_at: ts(inv.created_at),
            expires_at: ts(inv.expires_at),
        }
    }
}

/// A role's name in request bodies (documentation only: bodies parse into
/// `portal_core::rbac::Role`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum RoleName {
    /// Reads.
    Viewer,
    /// Runs tools.
    Operator,
    /// Manages the organisation.
    Admin,
}

/// One server-sent event as a client parses it (`text/event-stream`): `data`
/// holds the JSON payload named by the operation's description.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SseEvent {
    /// The event's data (JSON text).
    pub data: Option<String>,
    /// The event type (`message` when the stream names none).
    pub event: Option<String>,
    /// The event id, for `Last-Event-ID` / `?after=`.
    pub id: Option<String>,
    /// Reconnection delay in milliseconds.
    pub retry: Option<u64>,
}
