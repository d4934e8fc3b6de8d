//! The OpenAPI document: route docs come from the handlers' annotations (the
//! router and the document are built together, so no route goes undocumented);
//! this module adds what every operation shares.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

use crate::error::ErrorBody;

/// The document's fixed parts.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "OCI Self-Service Portal API",
        description = "Chat with a cloud agent, run gated OCI tools, and manage the portal. \
Errors always answer `{error, code, requestId}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "health", description = "Liveness, readiness and live health"),
        (name = "ops", description = "Metrics and operations"),
        (name = "auth", description = "Sign-in, sessions, passwords, organisation switching"),
        (name = "setup", description = "First run"),
        (name = "organizations", description = "Members and organisations"),
        (name = "api-keys", description = "API keys"),
        (name = "sessions", description = "Chat sessions"),
        (name = "activity", description = "Tool executions"),
        (name = "audit", description = "Tamper-evident audit ledger"),
        (name = "tools", description = "Cloud tools, run through the gateway"),
        (name = "events", description = "Outbox events (tool runs, approvals), polled by id until webhooks deliver them"),
        (name = "chat", description = "Chat with the cloud agent (AI SDK UI message streams)"),
        (name = "workflows", description = "Workflow definitions and their durable runs (also under /api/workflows)"),
        (name = "mcp", description = "Model Context Protocol endpoint for MCP clients"),
        (name = "advisor", description = "CloudAdvisor: checks over read tools, findings with evidence, savings and fix plans, runs"),
        (name = "webhooks", description = "Webhook subscriptions, signed delivery (Standard Webhooks) and the delivery log"),
        (name = "admin", description = "Run-time administration of the whole portal (platform admins)"),
        (name = "sso", description = "Single sign-on: OpenID Providers (platform admins)"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("portal_<64 hex>")
                    .description(Some("API key as `Authorization: Bearer portal_…`"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "API key header",
            ))),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "portal_session",
                "Browser session cookie set by sign-in",
            ))),
        );
    }
}

/// The base document.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

fn error_response(desc: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(desc)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

fn add_common(op: &mut Operation, has_body: bool) {
    use utoipa::openapi::path::ParameterIn;
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_input = has_body || !params.is_empty();
    let has_path_param = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    // Guarded operations declare a scheme; an explicitly public one has none.
    let guarded = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let r = &mut op.responses.responses;
    let mut add = |code: &str, desc: &str| {
        r.entry(code.to_string())
            .or_insert_with(|| error_response(desc));
    };
    if has_input {
        add(
            "400",
            "VALIDATION_ERROR: the body or a parameter is invalid (the message names the field)",
        );
    }
    if guarded {
        add(
            "401",
            "AUTH_REQUIRED: no valid credentials (see WWW-Authenticate)",
        );
        add(
            "403",
            "FORBIDDEN: the caller lacks the permission, or the request is refused",
        );
    }
    if has_path_param {
        add(
            "404",
            "NOT_FOUND: no such resource in the caller's organisation",
        );
    }
    if has_body {
        add("413", "PAYLOAD_TOO_LARGE: the body is over the limit");
        add(
            "415",
            "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
        );
    }
    add(
        "429",
        "RATE_LIMITED: over the caller's rate limit (see Retry-After)",
    );
    add("500", "INTERNAL_ERROR: a bug; quote the requestId");
    add(
        "503",
        "OVERLOADED, TIMEOUT or DATABASE_UNAVAILABLE: retry after Retry-After",
    );
}

/// Adds the responses the middleware can give to every operation.
pub fn finish(doc: &mut OpenApi) {
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    for item in doc.paths.paths.values_mut() {
        for (op, body) in [
            (&mut item.get, false),
            (&mut item.head, false),
            (&mut item.delete, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
        ] {
            if let Some(op) = op {
                let has_body = body && op.request_body.is_some();
                add_common(op, has_body);
            }
        }
    }
}

/// Documents a body that needs one of several field groups (each a set of
/// strings given together), e.g. an id *or* a slug: the component becomes
/// `allOf: [the object, anyOf: [group…]]`, as the handler checks it.
pub fn require_one_of(doc: &mut OpenApi, schema: &str, groups: &[&[&str]]) {
    use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, Schema, Type};
    use utoipa::openapi::{ObjectBuilder, RefOr};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let Some(original) = components.schemas.remove(schema) else {
        return;
    };
    let mut any = AnyOfBuilder::new();
    for group in groups {
        let mut alt = ObjectBuilder::new();
        for field in *group {
            alt = alt
                .property(*field, ObjectBuilder::new().schema_type(Type::String))
                .required(*field);
        }
        any = any.item(alt);
    }
    let combined = AllOfBuilder::new().item(original).item(any).build();
    components
        .schemas
        .insert(schema.to_string(), RefOr::T(Schema::AllOf(combined)));
}
