//! The audit ledger of the active organisation (`/audit`, `admin:audit`):
//! the filters the API offers (action with a trailing `*` for a prefix, actor,
//! a date range), paged; the chain's state with a verify button (intact, or
//! the first broken record); export as JSON lines or CSV (the API's own
//! export, which the session's cookie opens).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use portal_core::audit::Verification;
use portal_core::model::AuditFilter;
use portal_core::rbac::Permission;
use portal_core::service::audit;
use portal_http::{AppState, HttpError};
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, Duration};

use crate::form::when;
use crate::people::People;
use crate::shell::Section;
use crate::visit::{encode, Member, PageError};

/// Rows per page.
const PAGE: i64 = 50;

/// The filters (empty fields mean "any").
#[derive(Deserialize)]
pub struct Filters {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: u32,
    #[serde(default)]
    verify: String,
}

/// A `YYYY-MM-DD` day as epoch ms at its start (UTC); `field` names it in the error.
fn day(field: &str, s: &str) -> Result<Option<i64>, PageError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = Date::parse(s, format_description!("[year]-[month]-[day]")).map_err(|_| {
        PageError::from(HttpError::Validation(format!(
            "{field}: must be a date (YYYY-MM-DD)"
        )))
    })?;
    Ok(Some(d.midnight().assume_utc().unix_timestamp() * 1000))
}

fn verdict(v: &Verification) -> Markup {
    html! {
        @if v.valid {
            div.notice.ok role="status" #chain-state {
                strong { "Intact." } " All " (v.row_count) " records and the head checkpoint check out."
            }
        } @else {
            div.notice.error role="alert" #chain-state {
                strong { "Broken." }
                @if let Some(id) = v.first_broken_id { " The first record that does not check out is " strong { "#" (id) } "." }
                @if let Some(r) = &v.reason { " " (r) }
                " " (v.row_count) " records checked."
            }
        }
    }
}

/// `GET /audit`.
pub async fn page(
    State(state): State<AppState>,
    m: Member,
    Query(q): Query<Filters>,
) -> Result<Response, PageError> {
    if !m.principal.can(Permission::AdminAudit) {
        return Err(HttpError::Forbidden("Permission admin:audit is required".into()).into());
    }
    let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let from = day("from", &q.from)?;
    // "Until" names a day and includes it.
    let to = day("to", &q.to)?.map(|t| t + Duration::DAY.whole_milliseconds() as i64);
    let f = AuditFilter {
        action: some(&q.action),
        actor: some(&q.actor),
        from,
        to,
        limit: PAGE,
        offset: i64::from(q.page.min(10_000)) * PAGE,
    };
    let ctx = state.ctx(&m.caller);
    let found = audit::list(&ctx, &m.principal, &f).await?;
    let verified = if q.verify.is_empty() {
        None
    } else {
        Some(audit::verify(&ctx, &m.principal).await?)
    };
    let people = People::load(&ctx, &m).await?;
    let query = format!(
        "action={}&actor={}&from={}&to={}",
        encode(q.action.trim()),
        encode(q.actor.trim()),
        encode(q.from.trim()),
        encode(q.to.trim())
    );
    let rfc = |ms: Option<i64>| {
        ms.and_then(|v| {
            time::OffsetDateTime::from_unix_timestamp(v / 1000)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
        })
    };
    let export = |format: &str| {
        let mut url = format!("/api/audit?format={format}");
        for (k, v) in [
            ("action", some(&q.action)),
            ("actor", some(&q.actor)),
            ("from", rfc(from)),
            ("to", rfc(to)),
        ] {
            if let Some(v) = v {
                url.push_str(&format!("&{k}={}", encode(&v)));
            }
        }
        url
    };
    let shown_to = i64::from(q.page) * PAGE + found.items.len() as i64;
    let body = html! {
        h1 { "Audit ledger" }
        section.card aria-labelledby="chain-h" {
            h2 #chain-h { "Chain" }
            p.muted { "Every record carries an HMAC over the one before it, so a changed, removed or reordered record breaks the chain from there on." }
            @if let Some(v) = &verified { (verdict(v)) }
            form method="get" action="/audit" {
                input type="hidden" name="verify" value="1";
                @for (k, v) in [("action", &q.action), ("actor", &q.actor), ("from", &q.from), ("to", &q.to)] {
                    @if !v.trim().is_empty() { input type="hidden" name=(k) value=(v.trim()); }
                }
                button type="submit" #verify { "Verify the chain" }
            }
        }
        form.card.filters method="get" action="/audit" role="search" {
            div.grid.two {
                div.field {
                    label for="action" { "Action" span.hint { "e.g. member.role_changed, or member.* for a prefix" } }
                    input #action type="text" name="action" value=(q.action);
                }
                div.field {
                    label for="actor" { "Actor" span.hint { "e.g. user:… or key:…" } }
                    input #actor type="text" name="actor" value=(q.actor);
                }
                div.field {
                    label for="from" { "From" }
                    input #from type="date" name="from" value=(q.from);
                }
                div.field {
                    label for="to" { "Until (inclusive)" }
                    input #to type="date" name="to" value=(q.to);
                }
            }
            button type="submit" { "Filter" }
        }
        section.card aria-labelledby="records-h" {
            h2 #records-h { (found.total) " record" @if found.total != 1 { "s" } }
            div.actions {
                a.button.secondary href=(export("jsonl")) download="audit.jsonl" #export-jsonl { "Export JSON lines" }
                a.button.secondary href=(export("csv")) download="audit.csv" #export-csv { "Export CSV" }
            }
            @if found.items.is_empty() {
                p.muted #no-records { "Nothing matches." }
            } @else {
                div.table-wrap {
                    table.stack #records {
                        thead { tr { th scope="col" { "#" } th scope="col" { "When" } th scope="col" { "Actor" } th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Outcome" } th scope="col" { "Detail" } } }
                        tbody {
                            @for r in &found.items {
                                tr {
                                    td data-label="#" { (r.id) }
                                    td data-label="When" { (when(r.created_at)) }
                                    td data-label="Actor" { (people.show(&r.actor)) }
                                    td data-label="Action" { code { (r.action) } }
                                    td data-label="Target" { (r.target.as_deref().unwrap_or("")) }
                                    td data-label="Outcome" { span class={ "badge " (r.outcome) } { (r.outcome) } }
                                    td.args data-label="Detail" { @if r.detail != "{}" { code { (r.detail) } } }
                                }
                            }
                        }
                    }
                }
                nav.actions aria-label="Pages" {
                    @if q.page > 0 { a.button.secondary href={ "/audit?" (query) "&page=" (q.page - 1) } rel="prev" { "Newer" } }
                    @if shown_to < found.total { a.button.secondary href={ "/audit?" (query) "&page=" (q.page + 1) } rel="next" { "Older" } }
                }
            }
        }
    };
    Ok(m.shell("Audit", Section::Audit)
        .render(StatusCode::OK, body))
}
