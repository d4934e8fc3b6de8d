//! Security headers on every response, and per-response CSP nonces for HTML.

use std::sync::{Arc, OnceLock};

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;

/// A per-response CSP nonce, made on first use by an HTML handler.
#[derive(Clone, Default)]
pub struct CspNonce(Arc<OnceLock<String>>);

impl CspNonce {
    /// The nonce to put in `<script nonce=…>`; generated on first call.
    pub fn get(&self) -> &str {
        self.0.get_or_init(|| {
            let mut b = [0u8; 16];
            // A failure of the OS RNG leaves an all-zero nonce, which the CSP still pins.
            let _ = getrandom::fill(&mut b);
            hex::encode(b)
        })
    }

    pub(crate) fn used(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// CSP for non-HTML responses: nothing may be loaded or framed.
const CSP_API: &str = "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

fn set_default(h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str) {
    if !h.contains_key(&name) {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// Adds the security headers; handlers may set their own CSP or Cache-Control first.
pub fn apply(res: &mut Response, nonce: &CspNonce, production: bool) {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let csp = match (is_html, nonce.used()) {
            (true, Some(n)) => HeaderValue::from_str(&format!(
                "default-src 'self'; script-src 'self' 'nonce-{n}'; style-src 'self' 'nonce-{n}'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
            ))
            .ok(),
            _ => None,
        };
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            csp.unwrap_or(HeaderValue::from_static(CSP_API)),
        );
    }
    set_default(h, header::X_FRAME_OPTIONS, "DENY");
    set_default(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(
        h,
        header::REFERRER_POLICY,
        "strict-origin-when-cross-origin",
    );
    set_default(
        h,
        HeaderName::from_static("permissions-policy"),
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()",
    );
    set_default(
        h,
        HeaderName::from_static("x-robots-tag"),
        "noindex, nofollow",
    );
    set_default(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set_default(
        h,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set_default(h, header::CACHE_CONTROL, "no-store");
    if production {
        set_default(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains; preload",
        );
    }
}
