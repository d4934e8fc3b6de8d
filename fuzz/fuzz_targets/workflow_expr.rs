//! Workflow expressions (CEL): any text parses or is refused with a reason, and
//! a parsed expression evaluates to a value or an error, never a panic.
//!
//! Panics inside the CEL crates are contained rather than prevented:
//! cel-parser's generated actions unwrap literal conversions (an invalid escape
//! in a string literal) and cel-interpreter divides integers unchecked (`1 / 0`).
//! `Expr` catches both at its boundary (the text is refused, the evaluation
//! fails with a reason), so they are not crashes here; a panic in our own code,
//! caught or not, and any abort (a stack overflow) still are.
#![no_main]
use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use portal_core::workflows::expr::{Expr, Scope};

/// Replaces libFuzzer's abort-on-any-panic hook with one that lets the CEL
/// crates' contained panics unwind to `Expr`'s boundary.
fn contain_cel_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let crash = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_cel = info.location().is_some_and(|l| {
                l.file().contains("/cel-parser-") || l.file().contains("/cel-interpreter-")
            });
            if !in_cel {
                crash(info);
            }
        }));
    });
}

fuzz_target!(|text: &str| {
    contain_cel_panics();
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
