//! The emulator's request verification: the `authorization` header's
//! parameters, the signing string rebuilt from the request, the signature and
//! the body hash. Input: `METHOD\npath?query\nname: value\n…\n\nbody`; the
//! seeds are the official SDK's signed requests, so mutations reach past the
//! signature check too.
#![no_main]
use std::collections::HashMap;

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use portal_oci::verify::{parse_authorization, verify_request, PublicKey, VerifyOptions};

const KEY_ID: &str = include_str!("../keys/key_id.txt");
const PUBLIC_PEM: &str = include_str!("../keys/public.pem");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let method = lines.next().unwrap_or("GET");
    let path = lines.next().unwrap_or("/");
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(n, v);
        }
    }
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let _ = parse_authorization(auth);
    }
    let mut keys = HashMap::new();
    if let Ok(k) = PublicKey::from_pem(PUBLIC_PEM) {
        keys.insert(KEY_ID.trim().to_string(), k);
    }
    let options = VerifyOptions {
        max_clock_skew: None,
        ..VerifyOptions::default()
    };
    let _ = verify_request(method, path, &headers, body.as_bytes(), &keys, &options);
});
