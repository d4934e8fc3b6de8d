//! A form generated from a tool's JSON Schema, and the arguments read back
//! from it. Every input is named by its argument path (`args/rules/0/port`),
//! the same path the gateway's validation names in a 400, so the message lands
//! on its field. Lists get one slot per item with add/remove buttons (a round
//! trip, no script); nested objects become fieldsets. Values are passed to the
//! gateway as typed as the schema says; anything that does not parse is passed
//! as written, so the server's own validation names what is wrong.

use maud::{html, Markup};
use serde_json::{Map, Value};

use crate::fields::{Pairs, Problem};

/// The hidden field holding a list's number of slots.
fn count_name(path: &str) -> String {
    format!("n:{path}")
}

fn kind(s: &Value) -> &str {
    s["type"].as_str().unwrap_or("string")
}

fn required(s: &Value, name: &str) -> bool {
    s["required"]
        .as_array()
        .is_some_and(|r| r.iter().any(|v| v == name))
}

/// How many slots each list shows: what the form said (± the button pressed),
/// else the items given, at least `minItems` and one.
pub struct Slots<'a> {
    pairs: Option<&'a Pairs>,
    add: Option<&'a str>,
    drop: Option<&'a str>,
}

impl<'a> Slots<'a> {
    /// From a submitted form and the list button pressed (`add:PATH`, `drop:PATH`).
    pub fn new(pairs: Option<&'a Pairs>, op: &'a str) -> Self {
        Slots {
            pairs,
            add: op.strip_prefix("add:"),
            drop: op.strip_prefix("drop:"),
        }
    }

    fn of(&self, path: &str, schema: &Value) -> usize {
        let min = schema["minItems"].as_u64().unwrap_or(0) as usize;
        let max = schema["maxItems"].as_u64().unwrap_or(50).min(50) as usize;
        let said = self
            .pairs
            .and_then(|p| p.get(&count_name(path)).parse::<usize>().ok())
            .unwrap_or(min.max(1));
        let n = if self.add == Some(path) {
            said + 1
        } else if self.drop == Some(path) {
            said.saturating_sub(1)
        } else {
            said
        };
        n.clamp(min.min(max), max.max(1))
    }
}

/// The inputs for the properties of `schema` (an object) under `path`.
pub fn inputs(
    schema: &Value,
    path: &str,
    slots: &Slots<'_>,
    values: Option<&Pairs>,
    problem: Option<&Problem>,
) -> Markup {
    let empty = Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    html! {
        @for (name, s) in props {
            (input(s, &format!("{path}/{name}"), name, required(schema, name), slots, values, problem, 0))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn input(
    s: &Value,
    path: &str,
    label: &str,
    req: bool,
    slots: &Slots<'_>,
    values: Option<&Pairs>,
    problem: Option<&Problem>,
    depth: usize,
) -> Markup {
    let id = field_id(path);
    let desc = s["description"].as_str().unwrap_or("");
    let err = problem.and_then(|p| p.on(path));
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = if err.is_some() {
        format!("{err_id} {hint_id}")
    } else {
        hint_id.clone()
    };
    let value = values.map_or("", |v| v.get(path));
    let default = match &s["default"] {
        Value::Null => String::new(),
        Value::String(d) => d.clone(),
        d => d.to_string(),
    };
    let hint = html! {
        span.hint id=(hint_id) {
            (kind(s)) @if req { " · required" } @else { " · optional" }
            @if !default.is_empty() { " · default " code { (default) } }
            @if !desc.is_empty() { " · " (desc) }
        }
    };
    match kind(s) {
        "object" if depth < 4 => html! {
            fieldset.nested.invalid[err.is_some()] aria-describedby=[err.map(|_| err_id.clone())] {
                legend { (label) }
                (hint)
                @if let Some(e) = err { p.field-error id=(err_id) { (e) } }
                @let empty = Map::new();
                @for (name, fs) in s["properties"].as_object().unwrap_or(&empty) {
                    (input(fs, &format!("{path}/{name}"), name, required(s, name), slots, values, problem, depth + 1))
                }
            }
        },
        "array" if depth < 4 => {
            let n = slots.of(path, s);
            html! {
                fieldset.nested.invalid[err.is_some()] aria-describedby=[err.map(|_| err_id.clone())] {
                    legend { (label) " (" (n) " item" @if n != 1 { "s" } ")" }
                    (hint)
                    @if let Some(e) = err { p.field-error id=(err_id) { (e) } }
                    input type="hidden" name=(count_name(path)) value=(n);
                    @for i in 0..n {
                        (input(&s["items"], &format!("{path}/{i}"), &format!("{label} #{}", i + 1), false, slots, values, problem, depth + 1))
                    }
                    div.actions {
                        button.secondary type="submit" name="op" value={ "add:" (path) } formnovalidate { "Add an item" span.sr-only { " to " (label) } }
                        @if n > 0 {
                            button.secondary type="submit" name="op" value={ "drop:" (path) } formnovalidate { "Remove the last item" span.sr-only { " of " (label) } }
                        }
                    }
                }
            }
        }
        t => html! {
            div.field.invalid[err.is_some()] {
                label for=(id) { (label) }
                (hint)
                @if let Some(options) = s["enum"].as_array() {
                    select id=(id) name=(path) aria-invalid=[err.map(|_| "true")] aria-describedby=(described) {
                        option value="" { "— not set —" }
                        @for o in options.iter().filter_map(Value::as_str) {
                            option value=(o) selected[value == o] { (o) }
                        }
                    }
                } @else if t == "boolean" {
                    select id=(id) name=(path) aria-invalid=[err.map(|_| "true")] aria-describedby=(described) {
                        option value="" { "— not set —" }
                        option value="true" selected[value == "true"] { "true" }
                        option value="false" selected[value == "false"] { "false" }
                    }
                } @else {
                    @let secret = s["writeOnly"].as_bool().unwrap_or(false);
                    @let long = s["maxLength"].as_u64().is_some_and(|m| m > 1000) && !secret;
                    @if long {
                        textarea id=(id) name=(path) aria-invalid=[err.map(|_| "true")] aria-describedby=(described) { (value) }
                    } @else {
                        input id=(id) name=(path) type=(if secret { "password" } else if t == "integer" || t == "number" { "number" } else { "text" })
                            value=[(!secret).then_some(value)] autocomplete="off"
                            aria-invalid=[err.map(|_| "true")] aria-describedby=(described);
                    }
                }
                @if let Some(e) = err { p.field-error id=(err_id) { (e) } }
            }
        },
    }
}

/// An element id for a path (`args/rules/0` → `f-args-rules-0`).
fn field_id(path: &str) -> String {
    let mut id = String::from("f-");
    id.extend(
        path.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }),
    );
    id
}

/// The arguments the form describes (`None`: nothing given at this path).
pub fn read(schema: &Value, path: &str, pairs: &Pairs) -> Option<Value> {
    match kind(schema) {
        "object" => {
            let mut out = Map::new();
            for (name, s) in schema["properties"].as_object()? {
                if let Some(v) = read(s, &format!("{path}/{name}"), pairs) {
                    out.insert(name.clone(), v);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        "array" => {
            let n = pairs
                .get(&count_name(path))
                .parse::<usize>()
                .unwrap_or(0)
                .min(50);
            let mut items: Vec<Option<Value>> = (0..n)
                .map(|i| read(&schema["items"], &format!("{path}/{i}"), pairs))
                .collect();
            // Trailing empty slots are unused; inner ones keep their place so
            // an error's index still names the slot on the page.
            while items.last().is_some_and(Option::is_none) {
                items.pop();
            }
            (!items.is_empty()).then(|| {
                Value::Array(
                    items
                        .into_iter()
                        .map(|v| v.unwrap_or(Value::Null))
                        .collect(),
                )
            })
        }
        t => {
            let raw = pairs.get(path);
            if raw.trim().is_empty() {
                return None;
            }
            Some(match t {
                "integer" => raw
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| raw.into()),
                "number" => raw
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                    .unwrap_or_else(|| raw.into()),
                "boolean" => match raw {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    other => other.into(),
                },
                _ => raw.into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(p: &[(&str, &str)]) -> Pairs {
        Pairs(
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn nested_lists_and_objects_read_back_typed() {
        let schema = json!({"type": "object", "properties": {
            "limit": {"type": "integer"},
            "on": {"type": "boolean"},
            "rules": {"type": "array", "items": {"type": "object", "properties": {
                "port": {"type": "integer"}, "proto": {"type": "string"}}}},
            "names": {"type": "array", "items": {"type": "string"}}
        }});
        let p = pairs(&[
            ("args/limit", "5"),
            ("args/on", "false"),
            ("n:args/rules", "3"),
            ("args/rules/0/port", "443"),
            ("args/rules/1/proto", "6"),
            ("args/rules/2/port", ""),
            ("n:args/names", "2"),
            ("args/names/0", ""),
            ("args/names/1", "b"),
        ]);
        assert_eq!(
            read(&schema, "args", &p).unwrap(),
            json!({"limit": 5, "on": false, "rules": [{"port": 443}, {"proto": "6"}], "names": [null, "b"]})
        );
        // What does not parse goes as written, for the server to name.
        let p = pairs(&[("args/limit", "five")]);
        assert_eq!(read(&schema, "args", &p).unwrap(), json!({"limit": "five"}));
        assert_eq!(read(&schema, "args", &pairs(&[])), None);
    }

    #[test]
    fn list_buttons_add_and_remove_slots() {
        let s = json!({"type": "array", "minItems": 1, "maxItems": 3});
        let p = pairs(&[("n:args/x", "2")]);
        assert_eq!(Slots::new(Some(&p), "add:args/x").of("args/x", &s), 3);
        assert_eq!(Slots::new(Some(&p), "add:args/x").of("args/y", &s), 1);
        let p3 = pairs(&[("n:args/x", "3")]);
        assert_eq!(
            Slots::new(Some(&p3), "add:args/x").of("args/x", &s),
            3,
            "at most maxItems"
        );
        let p1 = pairs(&[("n:args/x", "1")]);
        assert_eq!(
            Slots::new(Some(&p1), "drop:args/x").of("args/x", &s),
            1,
            "at least minItems"
        );
        assert_eq!(Slots::new(None, "").of("args/x", &s), 1);
    }
}
