//! A remote tool as a [`ToolSpec`], so the gateway validates, redacts, binds
//! approvals and records it like any cloud tool.
//!
//! Specs are `'static` throughout the gateway; a remote one is built once per
//! distinct definition (server, tool, risk, description, schema) and kept for
//! the life of the process: a refresh that finds the same tools allocates
//! nothing new, so what is kept grows only with what admins change.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde_json::Value;

use super::{RemoteTool, CATEGORY};
use crate::tools::{Effect, Kind, Param, Risk, ToolSpec};

/// Between the server's name and the tool's in a catalogue name.
pub const SEPARATOR: &str = "__";

/// Longest remote tool name taken into the catalogue.
const MAX_TOOL: usize = 64;
/// Longest text argument accepted for a remote tool.
const MAX_TEXT: usize = 100_000;
/// Most properties of a remote tool's arguments that are typed.
const MAX_PARAMS: usize = 64;

static BUILT: LazyLock<Mutex<HashMap<String, &'static ToolSpec>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// `<server>__<tool>` split at the first separator (server names hold no `_`).
pub fn split_name(full: &str) -> Option<(&str, &str)> {
    full.split_once(SEPARATOR)
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
}

/// Whether a remote tool's name can be offered (what model APIs accept).
fn offerable(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOOL
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// The kind a property's JSON Schema maps to; what the portal cannot type
/// precisely is any JSON value, judged by the remote server.
fn kind(schema: &Value) -> Kind {
    let ty = schema.get("type").and_then(Value::as_str);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let texts: Option<Vec<&'static str>> =
            values.iter().map(|v| v.as_str().map(leak)).collect();
        if let Some(texts) = texts.filter(|t| !t.is_empty()) {
            return Kind::Enum(Box::leak(texts.into_boxed_slice()));
        }
    }
    match ty {
        Some("string") => Kind::Text { max: MAX_TEXT },
        Some("boolean") => Kind::Bool,
        Some("integer") => Kind::Int {
            min: schema
                .get("minimum")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MIN),
            max: schema
                .get("maximum")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX),
        },
        _ => Kind::Json,
    }
}

fn params(schema: &Value) -> &'static [Param] {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return &[];
    };
    let out: Vec<Param> = props
        .iter()
        .take(MAX_PARAMS)
        .map(|(name, p)| Param {
            name: leak(name),
            kind: kind(p),
            required: required.contains(&name.as_str()),
            description: leak(p.get("description").and_then(Value::as_str).unwrap_or("")),
            default: None,
            secret: p.get("writeOnly").and_then(Value::as_bool) == Some(true),
        })
        .collect();
    Box::leak(out.into_boxed_slice())
}

/// The catalogue spec of `tool` on server `server` at `risk`; `None` when its
/// name cannot be offered (characters model APIs refuse, or too long).
pub fn remote_spec(server: &str, tool: &RemoteTool, risk: Risk) -> Option<&'static ToolSpec> {
    if !offerable(&tool.name) {
        return None;
    }
    let full = format!("{server}{SEPARATOR}{}", tool.name);
    let key = format!(
        "{full}\0{}\0{}\0{}\0{}",
        risk.as_str(),
        tool.read_only_hint,
        tool.description,
        tool.input_schema
    );
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = built.get(&key) {
        return Some(s);
    }
    let spec: &'static ToolSpec = Box::leak(Box::new(ToolSpec {
        name: leak(&full),
        category: CATEGORY,
        description: leak(&tool.description),
        risk,
        effect: if tool.read_only_hint {
            Effect::ReadOnly
        } else {
            Effect::Destructive
        },
        idempotent: tool.read_only_hint,
        params: params(&tool.input_schema),
    }));
    built.insert(key, spec);
    Some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, schema: Value) -> RemoteTool {
        RemoteTool {
            name: name.into(),
            description: "Echoes".into(),
            input_schema: schema,
            read_only_hint: false,
        }
    }

    #[test]
    fn a_remote_tool_is_typed_namespaced_and_built_once() {
        let t = tool(
            "echo",
            json!({"type": "object", "required": ["text"], "properties": {
                "text": {"type": "string", "description": "What to echo"},
                "times": {"type": "integer", "minimum": 1, "maximum": 3},
                "mode": {"type": "string", "enum": ["loud", "quiet"]},
                "extra": {"type": "object"}
            }}),
        );
        let s = remote_spec("files", &t, Risk::Confirm).unwrap();
        assert_eq!(s.name, "files__echo");
        assert_eq!(s.category, "mcp");
        assert_eq!(s.risk, Risk::Confirm);
        assert!(std::ptr::eq(
            s,
            remote_spec("files", &t, Risk::Confirm).unwrap()
        ));
        assert!(!std::ptr::eq(
            s,
            remote_spec("files", &t, Risk::Read).unwrap()
        ));
        assert!(s
            .validate(&json!({"text": "hi", "extra": {"a": [1]}}))
            .is_ok());
        let refused = [
            json!({}),
            json!({"text": 1}),
            json!({"text": "hi", "times": 4}),
            json!({"text": "hi", "mode": "shout"}),
            json!({"text": "hi", "other": true}),
        ];
        for bad in refused {
            assert!(s.validate(&bad).is_err(), "{bad}");
        }
        assert_eq!(split_name("files__echo"), Some(("files", "echo")));
        assert_eq!(split_name("files__a__b"), Some(("files", "a__b")));
        assert_eq!(split_name("listInstances"), None);
    }

    #[test]
    fn names_models_refuse_are_not_offered() {
        let t = |n: &str| tool(n, json!({"type": "object"}));
        assert!(remote_spec("s", &t("has space"), Risk::Read).is_none());
        assert!(remote_spec("s", &t(&"x".repeat(65)), Risk::Read).is_none());
        assert!(remote_spec("s", &t(""), Risk::Read).is_none());
        assert!(remote_spec("s", &t("ok-name_1"), Risk::Read).is_some());
    }
}
