//! Workflow expressions (CEL): any text parses or is refused with a reason, and
//! a parsed expression evaluates to a value or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portal_core::workflows::expr::{Expr, Scope};

fuzz_target!(|text: &str| {
    let Ok(e) = Expr::parse(text) else {
        return;
    };
    let input = serde_json::json!({"region": "eu-frankfurt-1", "count": 3, "tags": ["a", "b"]});
    let mut steps = serde_json::Map::new();
    steps.insert(
        "list".into(),
        serde_json::json!({"items": [{"id": "i1", "state": "RUNNING"}]}),
    );
    let _ = e.eval(&Scope::new(&input, &steps));
});
