//! The first-run wizard: the setup token (pasted, or carried by the link the
//! server prints), the first admin and organisation, then signed in at home.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use portal_app::setup::SetupCheck;
use portal_core::service::{auth, setup};
use portal_core::CoreError;
use portal_http::auth::{check_csrf_headers, session_cookie};
use portal_http::AppState;
use serde::Deserialize;

use crate::form::PageForm;
use crate::visit::{see_other, PageError, Visitor};

/// `?token=` from the printed link.
#[derive(Deserialize)]
pub struct Link {
    token: Option<String>,
}

/// The wizard's fields.
#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Wizard {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    org_name: String,
}

fn form(w: &Wizard, from_link: bool, problem: Option<&str>) -> Markup {
    html! {
        div.card {
            h1 { "Set up the portal" }
            p { "Create the first administrator and organisation. The administrator can then invite everyone else." }
            @if let Some(p) = problem {
                div.notice.error role="alert" #setup-error { (p) }
            }
            form method="post" action="/setup" {
                @if from_link {
                    input type="hidden" name="token" value=(w.token);
                    div.notice.ok { "Setup token taken from the link." }
                } @else {
                    div.field {
                        label for="token" {
                            "Setup token"
                            span.hint { "Printed by the server at start, also in " code { "<data dir>/setup-token" } "." }
                        }
                        input #token type="password" name="token" value=(w.token) autocomplete="off" required;
                    }
                }
                div.field {
                    label for="name" { "Your name" }
                    input #name type="text" name="name" value=(w.name) autocomplete="name" required maxlength="100";
                }
                div.field {
                    label for="email" { "Email" }
                    input #email type="email" name="email" value=(w.email) autocomplete="username" required maxlength="254";
                }
                div.field {
                    label for="password" {
                        "Password"
                        span.hint { "12 to 256 characters; a long passphrase is best." }
                    }
                    input #password type="password" name="password" autocomplete="new-password" required minlength="12" maxlength="256";
                }
                div.field {
                    label for="orgName" { "Organisation" }
                    input #orgName type="text" name="orgName" value=(w.org_name) autocomplete="organization" required maxlength="100";
                }
                button type="submit" { "Create admin and sign in" }
            }
        }
    }
}

/// `GET /setup`: the wizard while no admin exists; afterwards, sign-in.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<Link>,
) -> Result<Response, PageError> {
    if !state.app.setup_required().await? {
        return Err(PageError::Redirect("/login".into()));
    }
    let token = q.token.unwrap_or_default();
    let from_link = !token.is_empty();
    let w = Wizard {
        token,
        name: String::new(),
        email: String::new(),
        password: String::new(),
        org_name: String::new(),
    };
    Ok(visitor
        .shell("Set up")
        .render(StatusCode::OK, form(&w, from_link, None)))
}

/// `POST /setup`: checks the token, creates the admin and organisation, signs in.
pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    PageForm(w): PageForm<Wizard>,
) -> Result<Response, PageError> {
    check_csrf_headers(&state, &headers)?;
    let again = |status: StatusCode, problem: &str| {
        let mut kept = Wizard {
            password: String::new(),
            ..w.clone()
        };
        if status == StatusCode::UNAUTHORIZED {
            kept.token.clear();
        }
        visitor
            .shell("Set up")
            .render(status, form(&kept, false, Some(problem)))
    };
    match state.app.check_setup_token(w.token.trim()).await? {
        SetupCheck::Valid => {}
        SetupCheck::Wrong => {
            return Ok(again(
                StatusCode::UNAUTHORIZED,
                "That setup token is not valid. Copy it again from the server's output or the setup-token file.",
            ))
        }
        SetupCheck::Complete => return Err(PageError::Redirect("/login".into())),
    }
    let ctx = state.ctx(&visitor.caller);
    let cloud = state.cloud.get().map(|c| (c.mode, c.tenancy.as_str()));
    match setup::bootstrap(&ctx, &w.email, &w.password, &w.name, &w.org_name, cloud).await {
        Ok(_) => state.app.finish_setup(),
        Err(CoreError::Validation(m)) => return Ok(again(StatusCode::BAD_REQUEST, &m)),
        Err(CoreError::Conflict(_)) => {
            state.app.finish_setup();
            return Err(PageError::Redirect("/login".into()));
        }
        Err(e) => return Err(e.into()),
    }
    let signed = auth::sign_in(&ctx, &state.throttle, &w.email, &w.password).await?;
    let mut res = see_other("/");
    let cookie = session_cookie(&state, &signed.token, signed.expires_at, ctx.now);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
