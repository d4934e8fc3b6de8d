//! The OCI config file (INI with profiles and `[DEFAULT]` fallback): any text
//! is a config or a `ConfigError`, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = portal_oci::parse_config(text, "DEFAULT");
    // A profile named by the first section header, when there is one.
    if let Some(name) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']'))
    {
        let _ = portal_oci::parse_config(text, name);
    }
});
