//! Server-side verification of OCI request signatures (for the OCI emulator).
//!
//! [`verify_request`] parses the `authorization` header, checks that every header
//! OCI requires is covered by the signature, rebuilds the signing string from the
//! incoming request exactly as [`crate::signer`] builds it, looks the public key up
//! by `keyId` through a [`KeyLookup`], verifies the RSA PKCS#1 v1.5 SHA-256
//! signature with aws-lc-rs, then checks the body against the signed
//! `x-content-sha256`/`content-length` and, optionally, the `date` against a clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::HeaderMap;
use md5::{Digest, Md5};

use crate::pem;
use crate::signer::{
    body_sha256_base64, signing_string, KeyError, SigningStringError, BODY_HEADERS,
    X_CONTENT_SHA256,
};

/// Why a request was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// No `authorization` header at all.
    #[error("missing authorization header")]
    MissingAuthorization,
    /// The header is not a well-formed OCI v1 signature.
    #[error("malformed authorization header: {0}")]
    Malformed(String),
    /// The `keyId` is not known to the [`KeyLookup`].
    #[error("unknown keyId `{0}`")]
    UnknownKey(String),
    /// A header OCI requires to be signed is not in the `headers` list.
    #[error("required header `{0}` is not signed")]
    HeaderNotSigned(String),
    /// A header listed as signed is absent from the request.
    #[error("signed header `{0}` is missing from the request")]
    MissingHeader(String),
    /// The RSA signature does not match the rebuilt signing string.
    #[error("signature does not match the request")]
    BadSignature,
    /// The body's SHA-256 differs from the signed `x-content-sha256`.
    #[error("x-content-sha256 does not match the request body")]
    BodyHashMismatch,
    /// The body length differs from the signed `content-length`.
    #[error("content-length {header} does not match the body length {actual}")]
    ContentLengthMismatch {
        /// The signed header value.
        header: String,
        /// The actual body length.
        actual: usize,
    },
    /// A non-empty body arrived without `x-content-sha256` being signed while
    /// content headers are required.
    #[error("request has a body that is not covered by the signature")]
    UnsignedBody,
    /// The `date`/`x-date` header is not an HTTP date.
    #[error("invalid date header `{0}`")]
    InvalidDate(String),
    /// The request date is too far from the verifier's clock.
    #[error("request date is {skew_secs}s away from now, more than the allowed {max_secs}s")]
    DateSkew {
        /// Absolute difference between request date and now, in seconds.
        skew_secs: u64,
        /// The allowed maximum.
        max_secs: u64,
    },
}

/// An RSA public key used to verify signatures, stored as SPKI DER.
///
/// Cheap to clone (shared buffer), so lookups can hand out owned keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    spki_der: Arc<[u8]>,
}

impl PublicKey {
    /// Parse PEM: `BEGIN PUBLIC KEY` (SPKI, what OCI uploads use) or
    /// `BEGIN RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(pem_text: &str) -> Result<Self, KeyError> {
        let block = pem::parse_first(pem_text).map_err(KeyError::Pem)?;
        match block.label.as_str() {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Self::from_der(&block.der),
            other => Err(KeyError::UnsupportedLabel(other.to_string())),
        }
    }

    /// Parse DER, either SPKI or PKCS#1 `RSAPublicKey`; normalised to SPKI.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = aws_lc_rs::rsa::PublicKey::from_der(der)
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        let spki = key
            .as_der()
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(Self {
            spki_der: Arc::from(spki.as_ref()),
        })
    }

    /// DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// OCI fingerprint (see [`fingerprint_spki_der`]).
    pub fn fingerprint(&self) -> String {
        fingerprint_spki_der(&self.spki_der)
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.spki_der[..])
            .verify(message, signature)
            .is_ok()
    }
}

/// OCI API key fingerprint: MD5 of the DER `SubjectPublicKeyInfo`, as lower-case
/// colon-separated hex (`8a:25:...`). This is the third part of a `keyId`.
pub fn fingerprint_spki_der(spki_der: &[u8]) -> String {
    let digest = Md5::digest(spki_der);
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Finds the public key for a `keyId` (`<tenancy>/<user>/<fingerprint>`).
///
/// Implemented for maps; wrap a closure in [`FnKeyLookup`] to consult a database.
pub trait KeyLookup {
    /// The key registered under `key_id`, if any.
    fn lookup(&self, key_id: &str) -> Option<PublicKey>;
}

impl KeyLookup for HashMap<String, PublicKey> {
    fn lookup(&self, key_id: &str) -> Option<PublicKey> {
        self.get(key_id).cloned()
    }
}

impl KeyLookup for BTreeMap<String, PublicKey> {
    fn lookup(&self, key_id: &str) -> Option<PublicKey> {
        self.get(key_id).cloned()
    }
}

/// Adapts a closure `Fn(&str) -> Option<PublicKey>` to [`KeyLookup`].
pub struct FnKeyLookup<F>(pub F);

impl<F: Fn(&str) -> Option<PublicKey>> KeyLookup for FnKeyLookup<F> {
    fn lookup(&self, key_id: &str) -> Option<PublicKey> {
        (self.0)(key_id)
    }
}

impl<T: KeyLookup + ?Sized> KeyLookup for &T {
    fn lookup(&self, key_id: &str) -> Option<PublicKey> {
        (**self).lookup(key_id)
    }
}

impl<T: KeyLookup + ?Sized> KeyLookup for Arc<T> {
    fn lookup(&self, key_id: &str) -> Option<PublicKey> {
        (**self).lookup(key_id)
    }
}

/// Knobs for [`verify_request`].
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Maximum allowed distance between the request `date` and `now`; `None`
    /// disables the check (needed for fixed-date test vectors). Default: 5 minutes,
    /// OCI's own tolerance.
    pub max_clock_skew: Option<Duration>,
    /// The verifier's clock; `None` means `SystemTime::now()`.
    pub now: Option<SystemTime>,
    /// Require `content-length content-type x-content-sha256` to be signed on
    /// `POST`/`PUT`/`PATCH`, and refuse unsigned non-empty bodies on other methods.
    /// Default `true`; turn off for Object Storage `PutObject`/`UploadPart`, which
    /// the SDK signs without content headers.
    pub require_content_headers: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            max_clock_skew: Some(Duration::from_secs(300)),
            now: None,
            require_content_headers: true,
        }
    }
}

impl VerifyOptions {
    /// Options for fixed-date vectors: everything checked except clock skew.
    pub fn without_skew_check() -> Self {
        Self {
            max_clock_skew: None,
            ..Self::default()
        }
    }
}

/// A parsed `authorization: Signature ...` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// `version` parameter, if present (OCI SDKs send `1`).
    pub version: Option<String>,
    /// `keyId`: `<tenancy>/<user>/<fingerprint>`.
    pub key_id: String,
    /// `algorithm`; only `rsa-sha256` is accepted.
    pub algorithm: String,
    /// Signed header names, lower-cased, in signing order.
    pub headers: Vec<String>,
    /// Decoded signature bytes.
    pub signature: Vec<u8>,
}

/// Parse an OCI `authorization` header value (parameters may come in any order).
pub fn parse_authorization(value: &str) -> Result<ParsedAuthorization, VerifyError> {
    let malformed = |m: &str| VerifyError::Malformed(m.to_string());
    let rest = value.trim();
    let (scheme, params) = rest
        .split_once(char::is_whitespace)
        .ok_or_else(|| malformed("expected `Signature <params>`"))?;
    if !scheme.eq_ignore_ascii_case("Signature") {
        return Err(malformed("scheme is not `Signature`"));
    }

    let mut map: BTreeMap<String, String> = BTreeMap::new();
    let mut s = params.trim_start();
    while !s.is_empty() {
        let eq = s
            .find('=')
            .ok_or_else(|| malformed("parameter without `=`"))?;
        let name = s[..eq].trim().to_ascii_lowercase();
        let after = s[eq + 1..].trim_start();
        let after = after
            .strip_prefix('"')
            .ok_or_else(|| malformed("parameter value is not quoted"))?;
        let close = after
            .find('"')
            .ok_or_else(|| malformed("unterminated quoted value"))?;
        let value = after[..close].to_string();
        if map.insert(name.clone(), value).is_some() {
            return Err(malformed(&format!("duplicate parameter `{name}`")));
        }
        s = after[close + 1..].trim_start();
        if let Some(next) = s.strip_prefix(',') {
            s = next.trim_start();
        } else if !s.is_empty() {
            return Err(malformed("parameters must be separated by `,`"));
        }
    }

    let version = map.remove("version");
    if let Some(v) = &version {
        if v != "1" {
            return Err(malformed(&format!("unsupported signature version `{v}`")));
        }
    }
    let key_id = map
        .remove("keyid")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| malformed("missing keyId"))?;
    let algorithm = map
        .remove("algorithm")
        .ok_or_else(|| malformed("missing algorithm"))?;
    if !algorithm.eq_ignore_ascii_case("rsa-sha256") {
        return Err(malformed(&format!("unsupported algorithm `{algorithm}`")));
    }
    let headers: Vec<String> = map
        .remove("headers")
        .ok_or_else(|| malformed("missing headers"))?
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let signature = STANDARD
        .decode(
            map.remove("signature")
                .ok_or_else(|| malformed("missing signature"))?,
        )
        .map_err(|_| malformed("signature is not valid base64"))?;
    Ok(ParsedAuthorization {
        version,
        key_id,
        algorithm,
        headers,
        signature,
    })
}

/// Successful verification result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The `keyId` that signed the request (tenancy/user/fingerprint).
    pub key_id: String,
    /// The signed header names, in signing order.
    pub signed_headers: Vec<String>,
}

impl VerifiedRequest {
    /// Tenancy OCID part of the `keyId`.
    pub fn tenancy(&self) -> Option<&str> {
        self.key_id.split('/').next()
    }

    /// User OCID part of the `keyId`.
    pub fn user(&self) -> Option<&str> {
        self.key_id.split('/').nth(1)
    }
}

/// Verify an incoming request's OCI signature.
///
/// `path_and_query` is the request target as received (`/20160918/vcns?limit=5`);
/// `headers` must contain `host` (HTTP/1.1 always has it). Checks, in order:
/// header present and well formed; `date` (or `x-date`), `(request-target)` and
/// `host` signed, plus the body headers for `POST`/`PUT`/`PATCH` when
/// [`VerifyOptions::require_content_headers`]; key known; signature valid; body
/// hash and length match the signed values; date within the allowed skew.
pub fn verify_request(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    keys: &dyn KeyLookup,
    options: &VerifyOptions,
) -> Result<VerifiedRequest, VerifyError> {
    let auth_value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(VerifyError::MissingAuthorization)?
        .to_str()
        .map_err(|_| VerifyError::Malformed("authorization is not ASCII".into()))?;
    let auth = parse_authorization(auth_value)?;
    let signed = |name: &str| auth.headers.iter().any(|h| h == name);

    // 1. Everything OCI requires must be covered by the signature.
    if !signed("date") && !signed("x-date") {
        return Err(VerifyError::HeaderNotSigned("date".into()));
    }
    for required in ["(request-target)", "host"] {
        if !signed(required) {
            return Err(VerifyError::HeaderNotSigned(required.into()));
        }
    }
    let method_lc = method.to_ascii_lowercase();
    let body_method = matches!(method_lc.as_str(), "post" | "put" | "patch");
    if options.require_content_headers {
        if body_method {
            for required in BODY_HEADERS {
                if !signed(required) {
                    return Err(VerifyError::HeaderNotSigned(required.into()));
                }
            }
        } else if !body.is_empty() && !signed(X_CONTENT_SHA256) {
            return Err(VerifyError::UnsignedBody);
        }
    }

    // 2. Key lookup and the signature itself.
    let key = keys
        .lookup(&auth.key_id)
        .ok_or_else(|| VerifyError::UnknownKey(auth.key_id.clone()))?;
    let names: Vec<&str> = auth.headers.iter().map(String::as_str).collect();
    let message =
        signing_string(&method_lc, path_and_query, headers, &names).map_err(|e| match e {
            SigningStringError::Missing(h) => VerifyError::MissingHeader(h),
            SigningStringError::NotAscii(h) => {
                VerifyError::Malformed(format!("header `{h}` is not visible ASCII"))
            }
        })?;
    if !key.verify(message.as_bytes(), &auth.signature) {
        return Err(VerifyError::BadSignature);
    }

    // 3. The body must be the one that was signed.
    let header_str = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if signed(X_CONTENT_SHA256) {
        let claimed = header_str(X_CONTENT_SHA256).unwrap_or_default();
        if claimed != body_sha256_base64(body) {
            return Err(VerifyError::BodyHashMismatch);
        }
    }
    if signed("content-length") {
        let claimed = header_str("content-length").unwrap_or_default();
        if claimed.parse::<usize>().ok() != Some(body.len()) {
            return Err(VerifyError::ContentLengthMismatch {
                header: claimed.to_string(),
                actual: body.len(),
            });
        }
    }

    // 4. Freshness.
    if let Some(max) = options.max_clock_skew {
        let date_name = if signed("date") { "date" } else { "x-date" };
        let raw = header_str(date_name).unwrap_or_default();
        let date =
            httpdate::parse_http_date(raw).map_err(|_| VerifyError::InvalidDate(raw.into()))?;
        let now = options.now.unwrap_or_else(SystemTime::now);
        let skew = match now.duration_since(date) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        if skew > max {
            return Err(VerifyError::DateSkew {
                skew_secs: skew.as_secs(),
                max_secs: max.as_secs(),
            });
        }
    }

    Ok(VerifiedRequest {
        key_id: auth.key_id,
        signed_headers: auth.headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_params_in_any_order() {
        let p = parse_authorization(
            r#"Signature headers="date (request-target) host",signature="AAEC",version="1",algorithm="rsa-sha256",keyId="t/u/f""#,
        )
        .unwrap();
        assert_eq!(p.key_id, "t/u/f");
        assert_eq!(p.headers, vec!["date", "(request-target)", "host"]);
        assert_eq!(p.signature, vec![0, 1, 2]);
        assert_eq!(p.version.as_deref(), Some("1"));
    }

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "Bearer abc",
            "Signature keyId=t/u/f",
            r#"Signature keyId="t/u/f",algorithm="hmac-sha256",headers="date",signature="AA==""#,
            r#"Signature keyId="t/u/f",algorithm="rsa-sha256",headers="date",signature="AA==",version="2""#,
            r#"Signature keyId="t/u/f",algorithm="rsa-sha256",signature="AA==""#,
            r#"Signature keyId="t/u/f",keyId="x",algorithm="rsa-sha256",headers="date",signature="AA==""#,
            r#"Signature keyId="t/u/f",algorithm="rsa-sha256",headers="date",signature="!!""#,
        ] {
            assert!(
                matches!(parse_authorization(bad), Err(VerifyError::Malformed(_))),
                "accepted {bad}"
            );
        }
    }
}
