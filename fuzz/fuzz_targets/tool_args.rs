//! Tool-argument validation, the gate every tool call passes: for any tool
//! and any JSON, arguments are accepted (and then re-validate to themselves)
//! or refused with a message naming the field.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, json)) = data.split_first() else {
        return;
    };
    let tools = portal_tools::TOOLS;
    if tools.is_empty() {
        return;
    }
    let spec = &tools[pick as usize % tools.len()];
    let Ok(args) = serde_json::from_slice::<serde_json::Value>(json) else {
        return;
    };
    match spec.validate(&args) {
        Ok(parsed) => {
            // What runs is stable: validating it again accepts it unchanged.
            let again = spec.validate(&serde_json::Value::Object(parsed.clone()));
            assert_eq!(again.as_ref(), Ok(&parsed), "{}: not idempotent", spec.name);
        }
        Err(msg) => assert!(!msg.is_empty(), "{}: empty refusal", spec.name),
    }
});
