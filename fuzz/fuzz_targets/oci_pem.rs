//! PEM keys (the private key a config names, public keys the emulator holds):
//! any text is a key or a `KeyError`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = portal_oci::PrivateKey::from_pem(text, None);
    let _ = portal_oci::verify::PublicKey::from_pem(text);
});
