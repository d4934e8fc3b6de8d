//! The Logging search language (`search "<source>" | where … | sort by …`):
//! any text is a query or an error; a query evaluates against a log entry.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portal_oci_emulator::logquery;

fuzz_target!(|text: &str| {
    if let Ok(q) = logquery::parse(text) {
        let entry = serde_json::json!({
            "data": {"message": "GET /index.html 200", "level": "INFO", "status": 200},
            "source": "web-01", "type": "com.oraclecloud.logging.custom.app"
        });
        for f in &q.filters {
            let _ = f.matches(&entry, 1_767_225_600_000);
        }
    }
});
