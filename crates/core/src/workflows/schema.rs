//! A run's input against the definition's `inputSchema`: the JSON Schema
//! keywords a form needs (`type`, `required`, `properties`,
//! `additionalProperties: false`, `enum`, `minimum`/`maximum`,
//! `minLength`/`maxLength`, `items`), each error naming the field.

use serde_json::Value;

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "null" => v.is_null(),
        _ => true,
    }
}

/// Checks `v` against `schema`; the error starts with the field's path.
pub fn check(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else {
        return Ok(());
    };
    let bad = |why: String| Err(format!("{path}: {why}"));
    match s.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => return bad(format!("must be of type {t}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| t.as_str().is_some_and(|t| type_ok(t, v))) => {
            return bad("has the wrong type".into())
        }
        _ => {}
    }
    if let Some(Value::Array(allowed)) = s.get("enum") {
        if !allowed.contains(v) {
            return bad("is not one of the allowed values".into());
        }
    }
    if let Some(n) = v.as_f64() {
        if s.get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            return bad("is below the minimum".into());
        }
        if s.get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            return bad("is above the maximum".into());
        }
    }
    if let Some(text) = v.as_str() {
        let len = text.chars().count() as u64;
        if s.get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            return bad("is too short".into());
        }
        if s.get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            return bad("is too long".into());
        }
    }
    if let (Some(items), Some(list)) = (s.get("items"), v.as_array()) {
        for (i, x) in list.iter().enumerate() {
            check(items, x, &format!("{path}/{i}"))?;
        }
    }
    if let Some(obj) = v.as_object() {
        if let Some(Value::Array(req)) = s.get("required") {
            if let Some(k) = req
                .iter()
                .filter_map(Value::as_str)
                .find(|k| !obj.contains_key(*k))
            {
                return Err(format!("{path}/{k}: is required"));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, x) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(ps, x, &format!("{path}/{k}"))?,
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{path}/{k}: is not an allowed field"))
                }
                None => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_is_checked_field_by_field() {
        let s = json!({"type": "object", "required": ["name"], "additionalProperties": false,
            "properties": {"name": {"type": "string", "minLength": 1}, "count": {"type": "integer", "maximum": 5}}});
        assert!(check(&s, &json!({"name": "a", "count": 2}), "input").is_ok());
        assert_eq!(
            check(&s, &json!({}), "input").unwrap_err(),
            "input/name: is required"
        );
        assert_eq!(
            check(&s, &json!({"name": "a", "count": 9}), "input").unwrap_err(),
            "input/count: is above the maximum"
        );
        assert_eq!(
            check(&s, &json!({"name": "a", "x": 1}), "input").unwrap_err(),
            "input/x: is not an allowed field"
        );
        assert_eq!(
            check(&s, &json!({"name": 1}), "input").unwrap_err(),
            "input/name: must be of type string"
        );
    }
}
