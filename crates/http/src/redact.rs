//! Redaction of credentials in anything that may be logged.

use axum::http::HeaderMap;
use serde_json::Value;

/// Marker that replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";

/// True for header or field names that carry credentials or secrets.
pub fn is_sensitive(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n.contains("cookie")
        || n.contains("password")
        || n.contains("passphrase")
        || n.contains("secret")
        || n.contains("token")
        || n == "key"
        || n.ends_with("key")
        || n.ends_with("_key")
        || n.ends_with("-key")
}

/// Headers as `(name, value)` pairs with sensitive values replaced.
pub fn headers(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            let value = if is_sensitive(k.as_str()) {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_string(), value)
        })
        .collect()
}

/// A JSON value with every sensitive field's value replaced, at any depth.
pub fn json(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_sensitive(k) {
                        Value::String(REDACTED.into())
                    } else {
                        json(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_headers_and_fields() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer portal_abc".parse().unwrap());
        h.insert("cookie", "session=xyz".parse().unwrap());
        h.insert("x-api-key", "portal_def".parse().unwrap());
        h.insert("accept", "application/json".parse().unwrap());
        let out = format!("{:?}", headers(&h));
        assert!(
            !out.contains("portal_abc") && !out.contains("xyz") && !out.contains("portal_def"),
            "{out}"
        );
        assert!(out.contains("application/json"));

        let v = serde_json::json!({"email": "a@b", "password": "pw1", "nested": [{"apiKey": "k", "secret_value": "s", "name": "n"}]});
        let out = json(&v).to_string();
        for s in ["pw1", "\"k\"", "\"s\""] {
            assert!(!out.contains(s), "{out}");
        }
        assert!(out.contains("a@b") && out.contains("\"n\""));
    }
}
