//! JSON-RPC framing in front of the MCP service: what the transport spec asks
//! of a server before a message reaches a handler. A foreign `Origin` is 403;
//! unparseable JSON is -32700 and a message that is not JSON-RPC -32600 (HTTP
//! 400, JSON bodies); a known method with malformed params is -32602; a POST
//! without `Accept`, or with `*/*`, is taken as accepting both JSON and SSE, as
//! HTTP reads them.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

/// JSON-RPC 2.0 error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

fn rpc_error(status: StatusCode, id: Value, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": code, "message": message },
        })),
    )
        .into_response()
}

/// Middleware: checks Origin, Accept and the message before the MCP service.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| crate::auth::origin_allowed(&state, o));
        if !ok {
            return rpc_error(
                StatusCode::FORBIDDEN,
                Value::Null,
                INVALID_REQUEST,
                "Origin not allowed: browsers may call the MCP endpoint only from the portal's own origin or PORTAL_CORS_ORIGINS",
            );
        }
    }
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    // The SDKs send both types; a missing `Accept` or `*/*` accepts them too.
    let accepts_any = parts.headers.get(header::ACCEPT).is_none_or(|v| {
        v.to_str().is_ok_and(|a| {
            a.split(',')
                .any(|range| range.split(';').next().is_some_and(|m| m.trim() == "*/*"))
        })
    });
    if accepts_any {
        parts.headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
    }
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return ApiError::UnsupportedMediaType(
            "Expected a JSON-RPC message with Content-Type: application/json".into(),
        )
        .into_response();
    }
    let limit = state.settings.limits.body_limit_bytes;
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return ApiError::PayloadTooLarge(limit).into_response(),
    };
    let msg: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                PARSE_ERROR,
                "Parse error: the body is not JSON",
            )
        }
    };
    if let Err(e) = check(&msg) {
        return rpc_error(e.status, e.id, e.code, &e.message);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The JSON-RPC error to answer instead of passing a message on.
struct Refusal {
    status: StatusCode,
    id: Value,
    code: i64,
    message: String,
}

/// A JSON-RPC message the MCP service can take, or the error to answer.
fn check(msg: &Value) -> Result<(), Refusal> {
    let invalid = |why: &str| {
        Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            id: Value::Null,
            code: INVALID_REQUEST,
            message: format!("Invalid Request: {why}"),
        })
    };
    let Some(obj) = msg.as_object() else {
        return invalid(if msg.is_array() {
            "batches are not supported; send one message per request"
        } else {
            "a JSON-RPC message is an object"
        });
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid("\"jsonrpc\" must be \"2.0\"");
    }
    let id = obj.get("id").cloned();
    if id
        .as_ref()
        .is_some_and(|i| !(i.is_string() || i.is_i64() || i.is_u64()))
    {
        return invalid("\"id\" must be a string or an integer");
    }
    let Some(method) = obj.get("method") else {
        // A response to a server request: it needs an id and a result or an error.
        return if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) {
            Ok(())
        } else {
            invalid("a message needs a \"method\", or a \"result\"/\"error\" with an \"id\"")
        };
    };
    let Some(method) = method.as_str() else {
        return invalid("\"method\" must be a string");
    };
    let params = obj.get("params");
    if let Err(why) = params_ok(method, params) {
        return Err(Refusal {
            status: StatusCode::OK,
            id: id.unwrap_or(Value::Null),
            code: INVALID_PARAMS,
            message: format!("Invalid params for {method}: {why}"),
        });
    }
    Ok(())
}

/// The shapes the MCP methods this server implements expect of their params.
fn params_ok(method: &str, params: Option<&Value>) -> Result<(), &'static str> {
    let obj = match params {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o),
        Some(_) => return Err("params must be an object"),
    };
    let str_field = |name: &str| obj.and_then(|o| o.get(name)).is_some_and(|v| v.is_string());
    match method {
        "initialize" => {
            let o = obj.ok_or("params are required")?;
            if !str_field("protocolVersion") {
                return Err("protocolVersion (a string) is required");
            }
            if !o.get("capabilities").is_some_and(Value::is_object) {
                return Err("capabilities (an object) is required");
            }
            let info = o.get("clientInfo").and_then(Value::as_object);
            if !info.is_some_and(|i| i.get("name").is_some_and(Value::is_string)) {
                return Err("clientInfo with a name is required");
            }
            Ok(())
        }
        "tools/call" => {
            let o = obj.ok_or("params are required")?;
            if !str_field("name") {
                return Err("name (a string) is required");
            }
            match o.get("arguments") {
                None | Some(Value::Null) | Some(Value::Object(_)) => Ok(()),
                Some(_) => Err("arguments must be an object"),
            }
        }
        "tools/list" | "resources/list" | "prompts/list" => match obj.and_then(|o| o.get("cursor"))
        {
            None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
            Some(_) => Err("cursor must be a string"),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_by_method() {
        assert!(params_ok("tools/call", Some(&json!({"name": "listInstances"}))).is_ok());
        assert!(params_ok("tools/call", Some(&json!({"nam": "x"}))).is_err());
        assert!(params_ok("tools/call", Some(&json!({"name": "x", "arguments": []}))).is_err());
        assert!(params_ok("tools/call", Some(&json!(5))).is_err());
        assert!(params_ok("tools/list", None).is_ok());
        assert!(params_ok("tools/list", Some(&json!({"cursor": 3}))).is_err());
        assert!(params_ok("initialize", Some(&json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}))).is_ok());
        assert!(params_ok("initialize", Some(&json!({"capabilities": {}}))).is_err());
        assert!(params_ok("ping", None).is_ok());
    }
}
