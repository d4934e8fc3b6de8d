//! Monitoring Query Language (metric[interval]{dims}.grouping().stat()): any
//! text is a query or an error message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portal_oci_emulator::mql;

fuzz_target!(|text: &str| {
    let _ = mql::parse(text);
    let _ = mql::parse_interval(text);
});
