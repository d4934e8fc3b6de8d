//! Expressions and templates: CEL (the Common Expression Language, through
//! `cel-interpreter`), safe by construction — no side effects, no I/O, no
//! loops beyond its bounded macros. An expression sees two variables:
//! `input` (the run's input) and `steps` (each finished step's output by
//! node id: `steps.check.result`, or `steps["my-node"]` for ids with dashes).
//!
//! A template is a string holding `{{ expression }}` parts: a string that is
//! only one such part takes the expression's value (a number stays a number);
//! otherwise each part is replaced by its value as text.

use std::panic::{catch_unwind, AssertUnwindSafe};

use cel_interpreter::{Context, Program};
use cel_parser::{Expression, Member};
use serde_json::{Map, Value};

/// An expression that parsed.
pub struct Expr(Program);

/// Longest expression accepted (keeps evaluation cheap).
pub const MAX_LEN: usize = 4000;

/// Deepest nesting accepted: evaluation recurses once per level and runs on a
/// worker's stack, where a stack overflow aborts the process (no unwinding).
pub const MAX_DEPTH: usize = 64;

/// The comprehension macros. The interpreter takes their variable and
/// predicate by index without checking how many were given, so a call with
/// fewer arguments panics; they are checked before anything runs.
const MACROS: [&str; 5] = ["all", "exists", "exists_one", "filter", "map"];

impl Expr {
    /// Parses `source`; the error says why (for a validation message).
    pub fn parse(source: &str) -> Result<Self, String> {
        let source = source.trim();
        if source.is_empty() {
            return Err("is empty".into());
        }
        if source.len() > MAX_LEN {
            return Err(format!("is longer than {MAX_LEN} characters"));
        }
        // The parser is generated code; a panic on odd input must not take the
        // request (or a worker) down.
        let ast = match catch_unwind(AssertUnwindSafe(|| cel_parser::parse(source))) {
            Ok(Ok(ast)) => ast,
            Ok(Err(e)) => return Err(format!("does not parse: {e}")),
            Err(_) => return Err("does not parse".into()),
        };
        check_shape(&ast, 1)?;
        match catch_unwind(AssertUnwindSafe(|| Program::compile(source))) {
            Ok(Ok(p)) => Ok(Self(p)),
            Ok(Err(e)) => Err(format!("does not parse: {e}")),
            Err(_) => Err("does not parse".into()),
        }
    }

    /// Evaluates against `scope`; the value as JSON.
    pub fn eval(&self, scope: &Scope) -> Result<Value, String> {
        let run = catch_unwind(AssertUnwindSafe(|| self.0.execute(&scope.0)));
        let v = match run {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("evaluation failed".into()),
        };
        v.json().map_err(|e| format!("{e:?}"))
    }
}

/// Refuses what the interpreter cannot evaluate safely: nesting deeper than
/// [`MAX_DEPTH`] and comprehension macros not of the form `list.all(x, p)`.
fn check_shape(e: &Expression, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("nests deeper than {MAX_DEPTH} levels"));
    }
    let sub = |x: &Expression| check_shape(x, depth + 1);
    match e {
        Expression::Arithmetic(a, _, b)
        | Expression::Relation(a, _, b)
        | Expression::Or(a, b)
        | Expression::And(a, b) => sub(a).and_then(|()| sub(b)),
        Expression::Ternary(a, b, c) => sub(a).and_then(|()| sub(b)).and_then(|()| sub(c)),
        Expression::Unary(_, a) => sub(a),
        Expression::Member(a, m) => {
            sub(a)?;
            match &**m {
                Member::Attribute(_) => Ok(()),
                Member::Index(i) => sub(i),
                Member::Fields(fields) => fields.iter().try_for_each(|(_, v)| sub(v)),
            }
        }
        Expression::FunctionCall(name, target, args) => {
            if let Expression::Ident(n) = &**name {
                if MACROS.contains(&n.as_str())
                    && (target.is_none()
                        || args.len() != 2
                        || !matches!(args.first(), Some(Expression::Ident(_))))
                {
                    return Err(format!(
                        "uses {n} wrongly: write it as list.{n}(x, expression of x)"
                    ));
                }
            }
            sub(name)?;
            if let Some(t) = target {
                sub(t)?;
            }
            args.iter().try_for_each(sub)
        }
        Expression::List(items) => items.iter().try_for_each(sub),
        Expression::Map(entries) => entries
            .iter()
            .try_for_each(|(k, v)| sub(k).and_then(|()| sub(v))),
        Expression::Atom(_) | Expression::Ident(_) => Ok(()),
    }
}

/// What expressions see.
pub struct Scope(Context<'static>);

impl Scope {
    /// `input` and `steps` (node id → output).
    pub fn new(input: &Value, steps: &Map<String, Value>) -> Self {
        let mut c = Context::default();
        // Plain JSON values always convert.
        let _ = c.add_variable("input", input.clone());
        let _ = c.add_variable("steps", Value::Object(steps.clone()));
        Self(c)
    }
}

/// Evaluates a boolean expression.
pub fn truth(source: &str, scope: &Scope) -> Result<bool, String> {
    match Expr::parse(source)?.eval(scope)? {
        Value::Bool(b) => Ok(b),
        other => Err(format!("gave {other}, not true or false")),
    }
}

/// The expressions inside a template, in order; an error for an unclosed `{{`.
pub fn parts(template: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "has a \"{{\" without \"}}\"".to_string())?;
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// Whether a JSON value is (or holds) a template.
pub fn is_template(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{"),
        Value::Array(a) => a.iter().any(is_template),
        Value::Object(m) => m.values().any(is_template),
        _ => false,
    }
}

/// Checks every expression of a template parses.
pub fn check_template(template: &str) -> Result<(), String> {
    for p in parts(template)? {
        Expr::parse(p).map_err(|e| format!("{{{{ {p} }}}} {e}"))?;
    }
    Ok(())
}

/// Checks every template inside a JSON value.
pub fn check_value(v: &Value) -> Result<(), String> {
    match v {
        Value::String(s) => check_template(s),
        Value::Array(a) => a.iter().try_for_each(check_value),
        Value::Object(m) => m.values().try_for_each(check_value),
        _ => Ok(()),
    }
}

/// Renders a template string.
pub fn render(template: &str, scope: &Scope) -> Result<Value, String> {
    let trimmed = template.trim();
    let exprs = parts(template)?;
    if exprs.len() == 1 && trimmed.starts_with("{{") && trimmed.ends_with("}}") {
        return Expr::parse(exprs[0])?.eval(scope);
    }
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").unwrap_or(after.len());
        let v = Expr::parse(after[..end].trim())?.eval(scope)?;
        match v {
            Value::String(s) => out.push_str(&s),
            Value::Null => {}
            other => out.push_str(&other.to_string()),
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

/// Renders every template inside a JSON value.
pub fn render_value(v: &Value, scope: &Scope) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) if s.contains("{{") => render(s, scope)?,
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_value(x, scope))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), render_value(x, scope)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        let steps = json!({"list": {"count": 2, "items": [{"id": "a"}]}, "my-node": true});
        Scope::new(
            &json!({"name": "web", "size": 3}),
            steps.as_object().unwrap(),
        )
    }

    #[test]
    fn expressions_read_input_and_step_outputs() {
        let s = scope();
        assert!(truth("steps.list.count > 1 && input.name == 'web'", &s).unwrap());
        assert!(truth("steps['my-node']", &s).unwrap());
        assert!(truth("size(steps.list.items) == 1", &s).unwrap());
        assert!(truth("input.size", &s)
            .unwrap_err()
            .contains("not true or false"));
        assert!(Expr::parse("input.name ==").is_err());
        assert!(Expr::parse("  ").is_err());
        assert!(truth("steps.nothing.here", &s).is_err());
    }

    #[test]
    fn macros_of_the_wrong_shape_and_deep_nesting_are_refused_before_running() {
        let s = Scope::new(&json!({"tags": ["a", "b"]}), &Map::new());
        assert!(truth("input.tags.exists(t, t == 'b')", &s).unwrap());
        assert_eq!(
            Expr::parse("input.tags.map(t, t + '!')")
                .unwrap()
                .eval(&s)
                .unwrap(),
            json!(["a!", "b!"])
        );
        for bad in [
            "input.tags.exists(t)",
            "input.tags.all()",
            "input.tags.filter('t', true)",
            "exists(input.tags, t, true)",
            "input.tags.map(t, t, t, t)",
        ] {
            let e = Expr::parse(bad).err().unwrap_or_default();
            assert!(e.contains("wrongly"), "{bad}: {e}");
        }
        // The interpreter panics dividing by zero; the evaluation fails.
        assert!(truth("size(input.tags) / 0 == 1", &s).is_err());
        // The parser panics on an invalid escape in a string literal; refused.
        assert!(Expr::parse("input.region == \"\\\0\"").is_err());
        let deep = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let e = Expr::parse(&deep).err().unwrap_or_default();
        assert!(e.contains("deeper"), "{e}");
        // As deep as the length limit allows, on a stack the size of a tokio worker's.
        let n = MAX_LEN / 2 - 1;
        let deepest = format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let on_small_stack = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || Expr::parse(&deepest).is_err())
            .map(|t| t.join());
        assert!(matches!(on_small_stack, Ok(Ok(true))));
        let ok = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(Expr::parse(&ok).is_ok());
    }

    #[test]
    fn templates_keep_types_when_whole_and_interpolate_otherwise() {
        let s = scope();
        assert_eq!(render("{{ input.size }}", &s).unwrap(), json!(3));
        assert_eq!(
            render("vm-{{ input.name }}-{{ input.size }}", &s).unwrap(),
            json!("vm-web-3")
        );
        assert_eq!(
            render_value(&json!({"a": ["{{ steps.list.items[0].id }}"]}), &s).unwrap(),
            json!({"a": ["a"]})
        );
        assert!(check_template("x {{ input.").is_err());
        assert!(check_template("{{ 1 + }}").is_err());
        assert!(check_template("plain").is_ok());
        assert!(is_template(&json!({"k": ["{{x}}"]})));
        assert!(!is_template(&json!({"k": ["x"]})));
    }
}
