//! The audit ledger of the active organisation: listing, export and verification.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use portal_core::audit::Verification;
use portal_core::model::AuditFilter;
use portal_core::service::audit;
use portal_core::validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::listing::degraded;
use crate::auth::{perm, Require};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::views::{parse_ts, ts, AuditView};

/// Filters, paging and format.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Only this action; a trailing `*` matches a prefix (`member.*`).
    pub action: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// From (RFC 3339, inclusive).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Until (RFC 3339, exclusive).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Page size, 1–10,000: JSON pages hold at most 200 (default 50), exports up to 10,000
    /// (default 1,000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
    /// Rows to skip.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// `json` (default), `jsonl` or `csv`.
    #[param(value_type = Option<AuditFormat>, inline)]
    pub format: Option<String>,
}

/// The formats `GET /api/audit` answers in (documentation only: the handler
/// parses the text to name the parameter in its error).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum AuditFormat {
    /// One JSON page.
    Json,
    /// JSON lines export.
    Jsonl,
    /// CSV export.
    Csv,
}

/// A page of records.
#[derive(Serialize, ToSchema)]
pub struct AuditList {
    /// Newest first.
    pub items: Vec<AuditView>,
    /// Matching in all.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Offset used.
    pub offset: i64,
    /// Present (true) when the database is away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<bool>,
    /// Why the list is degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One CSV field, quoted when needed and defused against spreadsheet formulas.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The active organisation's audit records (`admin:audit`), as JSON, JSONL or CSV.
#[utoipa::path(
    get, path = "/api/audit", operation_id = "listAuditRecords", tag = "audit", params(Query),
    responses(
        (status = 200, description = "Records (JSON page, or a JSONL/CSV attachment)", content(
            (AuditList = "application/json"),
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    r: Require<perm::AdminAudit>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let format = q.format.as_deref().unwrap_or("json");
    let export = match format {
        "json" => false,
        "jsonl" | "csv" => true,
        _ => {
            return Err(ApiError::Validation(
                "query/format: must be json, jsonl or csv".into(),
            ))
        }
    };
    let f = AuditFilter {
        action: q.action,
        actor: q.actor,
        from: q.from.as_deref().map(|s| parse_ts("from", s)).transpose()?,
        to: q.to.as_deref().map(|s| parse_ts("to", s)).transpose()?,
        limit: if export {
            validate::limit("query/limit", q.limit, 1000, 10_000)?
        } else {
            validate::limit("query/limit", q.limit, 50, 10_000)?.min(200)
        },
        offset: validate::offset("query/offset", q.offset)?,
    };
    let page = match audit::list(&state.ctx(&r.caller), &r.principal, &f).await {
        Ok(p) => p,
        Err(e) if !export => {
            let (d, m) = degraded(e)?;
            return Ok(Json(AuditList {
                items: Vec::new(),
                total: 0,
                limit: f.limit,
                offset: f.offset,
                degraded: Some(d),
                message: Some(m),
            })
            .into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let views: Vec<AuditView> = page.items.iter().map(AuditView::from).collect();
    match format {
        "jsonl" => {
            let mut body = String::new();
            for v in &views {
                body.push_str(&serde_json::to_string(v).unwrap_or_default());
                body.push('\n');
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "application/x-ndjson"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"audit.jsonl\"",
                    ),
                ],
                body,
            )
                .into_response())
        }
        "csv" => {
            let mut body = String::from(
                "id,seq,createdAt,actor,action,target,outcome,ip,detail,prevMac,mac\n",
            );
            for v in &views {
                let row = [
                    v.id.to_string(),
                    v.seq.to_string(),
                    v.created_at.clone(),
                    v.actor.clone(),
                    v.action.clone(),
                    v.target.clone().unwrap_or_default(),
                    v.outcome.clone(),
                    v.ip.clone().unwrap_or_default(),
                    v.detail.to_string(),
                    v.prev_mac.clone(),
                    v.mac.clone(),
                ];
                body.push_str(
                    &row.iter()
                        .map(|f| csv_field(f))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                body.push('\n');
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"audit.csv\"",
                    ),
                ],
                body,
            )
                .into_response())
        }
        _ => Ok(Json(AuditList {
            items: views,
            total: page.total,
            limit: f.limit,
            offset: f.offset,
            degraded: None,
            message: None,
        })
        .into_response()),
    }
}

/// The verification result.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyView {
    /// True when every record and the head checkpoint check out.
    pub valid: bool,
    /// Records checked.
    pub row_count: i64,
    /// First record that does not check out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken_id: Option<i64>,
    /// What is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the check ran.
    pub verified_at: String,
}

impl VerifyView {
    /// From a verification at `now`.
    pub fn new(v: Verification, now: i64) -> Self {
        Self {
            valid: v.valid,
            row_count: v.row_count,
            first_broken_id: v.first_broken_id,
            reason: v.reason,
            verified_at: ts(now),
        }
    }
}

/// Recomputes the organisation's chain (`admin:audit`).
#[utoipa::path(
    get, path = "/api/audit/verify", operation_id = "verifyAuditChain", tag = "audit",
    responses(
        (status = 200, description = "Verification", body = VerifyView),
        (status = 401, description = "AUTH_REQUIRED", body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = []), ("apiKey" = []))
)]
pub async fn verify(
    State(state): State<AppState>,
    r: Require<perm::AdminAudit>,
) -> Result<Json<VerifyView>, ApiError> {
    let ctx = state.ctx(&r.caller);
    let v = audit::verify(&ctx, &r.principal).await?;
    Ok(Json(VerifyView::new(v, ctx.now)))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_quoting_and_formula_defusing() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
