//! Workflow expressions (CEL): any text parses or is refused with a reason, and
//! a parsed expression evaluates to a value or an error, never a panic.
//!
//! One class of panic is contained rather than prevented: cel-parser's
//! generated actions unwrap literal conversions (an invalid escape in a string
//! literal panics). `Expr::parse` catches those and refuses the text, so they
//! are not crashes here; a panic anywhere else — our code, the interpreter's
//! evaluation — still is, caught or not.
#![no_main]
use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use portal_core::workflows::expr::{Expr, Scope};

/// Replaces libFuzzer's abort-on-any-panic hook with one that lets the
/// parser's contained panics unwind to `Expr::parse`.
fn contain_parser_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let crash = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info
                .location()
                .is_some_and(|l| l.file().contains("/cel-parser-"));
            if !in_parser {
                crash(info);
            }
        }));
    });
}

fuzz_target!(|text: &str| {
    contain_parser_panics();
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
