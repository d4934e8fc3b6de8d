//! Resource Search's structured query (`query instance resources where …`):
//! any text is a query or an error; conditions evaluate against a value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portal_oci_emulator::searchql;

fuzz_target!(|text: &str| {
    if let Ok(q) = searchql::parse(text) {
        for cond in q.filter.iter().flatten() {
            let _ = cond.holds(Some("RUNNING"));
            let _ = cond.holds(None);
        }
    }
});
