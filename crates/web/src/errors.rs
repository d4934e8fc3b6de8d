//! Error pages in the product's style, rendered from the one error type by the
//! pipeline's hook ([`portal_http::ErrorPages`]): every error of a page route,
//! and any other non-API error a browser asked for as HTML, becomes a page with
//! the status, a plain explanation and the request id. The API keeps its JSON.

use axum::http::{header, StatusCode};
use axum::response::Response;
use maud::html;
use portal_http::pipeline::PageRequest;
use portal_http::ErrorInfo;

use crate::shell::{Section, Shell};

/// Paths the web UI serves (errors there are always pages).
fn is_page(path: &str) -> bool {
    matches!(
        path,
        "/" | "/login" | "/logout" | "/setup" | "/approvals" | "/activity"
    ) || path.starts_with("/approvals/")
        || crate::pages::is_admin_page(path)
        || path == "/advisor"
        || path.starts_with("/advisor/")
        || path == "/chat"
        || path.starts_with("/chat/")
        || path.starts_with(crate::assets::PREFIX)
}

fn accepts_html(req: &PageRequest<'_>) -> bool {
    req.headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The hook: a page for page routes and for browsers elsewhere outside the API.
pub fn error_page(req: &PageRequest<'_>, info: &ErrorInfo) -> Option<Response> {
    if portal_http::json_only(req.path) || !(is_page(req.path) || accepts_html(req)) {
        return None;
    }
    Some(render(req.nonce.get(), info))
}

/// What a status means, in the product's words.
fn explain(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("Something in the request is not right", "Check what you entered and try again."),
        401 => ("Please sign in", "This page needs you to be signed in."),
        403 => ("You can't do that here", "Your role in this organisation does not allow it, or the request did not come from this portal."),
        404 => ("Page not found", "There is nothing here, or it belongs to another organisation."),
        405 => ("Not allowed", "This page does not accept that kind of request."),
        409 => ("Already changed", "Someone or something changed this in the meantime. Reload to see where it stands."),
        413 => ("Too large", "What you sent is larger than the portal accepts."),
        429 => ("Too many requests", "Slow down a little; you can try again shortly."),
        503 => ("Temporarily unavailable", "The portal cannot reach what it needs right now. It will recover on its own; try again in a few seconds."),
        s if s >= 500 => ("Something went wrong on our side", "It has been logged. If it keeps happening, quote the request id below."),
        _ => ("That did not work", "Try again, or go back home."),
    }
}

/// Seconds before a "temporarily unavailable" page reloads itself (as the reference's 30 s).
const RETRY_SECS: u32 = 30;

/// The error page itself.
pub fn render(nonce: &str, info: &ErrorInfo) -> Response {
    // Maintenance (a portal setting) is said as such, with the admins' message,
    // and nothing retries by itself: the write was refused on purpose.
    let maintenance = info.code == "MAINTENANCE";
    let (title, text) = if maintenance {
        (
            "Paused for maintenance",
            "Changes are paused while the portal is in maintenance; nothing was changed. You can still look around.",
        )
    } else {
        explain(info.status)
    };
    // Internals are never in the message (see `HttpError`); for 5xx the generic
    // text says enough.
    let detail = (info.status.as_u16() < 500 || maintenance).then_some(info.message.as_str());
    let retry = info.status == StatusCode::SERVICE_UNAVAILABLE && !maintenance;
    let body = html! {
        div.card role="alert" {
            p.error-code { (info.status.as_u16()) }
            h1 { (title) }
            p { (text) }
            @if let Some(d) = detail { p.muted { (d) } }
            @if retry {
                p #auto-retry { "Trying again in " span data-retry=(RETRY_SECS) { (RETRY_SECS) } " seconds." }
            }
            @if let Some(id) = &info.request_id {
                p.muted { "Request id: " code { (id) } }
            }
            div.actions {
                @if retry {
                    // An empty href is this page: the same request again.
                    a.button href="" #retry-now { "Retry now" }
                }
                a.button href="/" { "Go home" }
                @if info.status == StatusCode::UNAUTHORIZED {
                    a.button.secondary href="/login" { "Sign in" }
                }
            }
        }
    };
    let shell = Shell {
        title,
        nonce,
        nav: None,
        section: Section::None,
        narrow: true,
        brand: None,
    };
    shell.render(info.status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(status: StatusCode) -> ErrorInfo {
        ErrorInfo {
            status,
            code: "X",
            message: "internal detail".into(),
            request_id: Some("req-123".into()),
        }
    }

    async fn text(res: Response) -> String {
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn unavailable_pages_retry_themselves_and_500s_show_only_the_request_id() {
        let body = text(render("n0nce", &info(StatusCode::SERVICE_UNAVAILABLE))).await;
        assert!(
            body.contains(r#"data-retry="30""#) && body.contains(r#"id="retry-now""#),
            "{body}"
        );
        assert!(body.contains("req-123") && !body.contains("internal detail"));
        let body = text(render("n0nce", &info(StatusCode::INTERNAL_SERVER_ERROR))).await;
        assert!(body.contains("req-123") && !body.contains("internal detail"));
        assert!(!body.contains("data-retry"));
        let body = text(render("n0nce", &info(StatusCode::FORBIDDEN))).await;
        assert!(body.contains("You can't do that here") && body.contains("internal detail"));
    }
}
