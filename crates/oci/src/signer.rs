//! OCI HTTP request signing (signature scheme version 1, RSA-SHA256).
//!
//! OCI authenticates API-key callers with a draft-cavage HTTP signature in the
//! `authorization` header:
//!
//! ```text
//! Signature version="1",keyId="<tenancy>/<user>/<fingerprint>",algorithm="rsa-sha256",
//!           headers="date (request-target) host[ content-length content-type x-content-sha256]",
//!           signature="<base64 RSA PKCS#1 v1.5 SHA-256 signature>"
//! ```
//!
//! Every request signs `date (request-target) host`; `POST`, `PUT` and `PATCH`
//! additionally sign `content-length content-type x-content-sha256`, even with an
//! empty body, exactly as the official SDKs do (where `x-content-sha256` is the
//! base64 SHA-256 of the body). The signing string is one `name: value` line per
//! signed header, joined with `\n`, where `(request-target)` is
//! `<lower-case method> <path>?<query>`.
//!
//! The core is [`RequestSigner::sign_parts`], a pure function over method, host,
//! path+query, a header map and the body, so it works with any HTTP library;
//! [`RequestSigner::sign_reqwest`] applies it to a `reqwest::Request` in place.

use std::path::Path;
use std::time::SystemTime;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{OciConfig, Secret};
use crate::pem;

/// Headers signed on every request, in the order the SDKs sign them.
pub const GENERIC_HEADERS: [&str; 3] = ["date", "(request-target)", "host"];
/// Headers additionally signed on `POST`/`PUT`/`PATCH`, in SDK order.
pub const BODY_HEADERS: [&str; 3] = ["content-length", "content-type", "x-content-sha256"];
/// Name of the body digest header.
pub const X_CONTENT_SHA256: &str = "x-content-sha256";

/// Errors loading an RSA private key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read private key file {path}: {source}")]
    Io {
        /// Path that was tried.
        path: std::path::PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not PEM (or the base64 inside is broken).
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// The key is encrypted; see [`PrivateKey::from_pem`] for why that is unsupported.
    #[error("encrypted private keys are not supported (aws-lc-rs cannot decrypt PEM keys); decrypt it first, e.g. `openssl pkcs8 -topk8 -nocrypt -in enc.pem -out key.pem`")]
    EncryptedUnsupported,
    /// A public key was given where a private key is required.
    #[error("expected a private key but found a public key (PEM label `{0}`)")]
    PublicKeyGiven(String),
    /// The PEM label is not a key type we handle.
    #[error("unsupported PEM label `{0}` (expected PRIVATE KEY, RSA PRIVATE KEY, PUBLIC KEY or RSA PUBLIC KEY)")]
    UnsupportedLabel(String),
    /// aws-lc-rs rejected the DER contents (wrong algorithm, size outside 2048–8192 bits, corrupt).
    #[error("RSA key rejected: {0}")]
    Rejected(String),
}

/// Errors while signing a request.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// OCI's signer only knows GET, HEAD, DELETE, PUT, POST and PATCH.
    #[error("don't know how to sign HTTP method {0}")]
    UnsupportedMethod(String),
    /// A header that must be signed is missing and cannot be derived.
    #[error("header `{0}` is required for signing but missing")]
    MissingHeader(String),
    /// A header value is not visible ASCII, so it cannot be put into the signing string.
    #[error("header `{0}` has a value that is not visible ASCII")]
    InvalidHeaderValue(String),
    /// The body is a stream, so `x-content-sha256`/`content-length` must be set by the caller.
    #[error(
        "request body is not in memory; set x-content-sha256 and content-length before signing"
    )]
    BodyUnavailable,
    /// The URL has no host.
    #[error("URL has no host: {0}")]
    NoHost(String),
    /// The RSA operation failed (should not happen with a valid key).
    #[error("RSA signing failed")]
    Crypto,
}

/// Whether to sign the body headers on `POST`/`PUT`/`PATCH`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContentHeaders {
    /// The SDK default: sign `content-length content-type x-content-sha256` on
    /// `POST`/`PUT`/`PATCH`.
    #[default]
    Enforce,
    /// Sign only `date (request-target) host` whatever the method. The SDK does this
    /// for Object Storage `PutObject`/`UploadPart`, whose large bodies OCI does not
    /// require to be hashed.
    Skip,
}

/// An RSA private key for signing.
///
/// `Debug`/`Display` print `[REDACTED]` so the key never reaches logs.
pub struct PrivateKey {
    pair: RsaKeyPair,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl std::fmt::Display for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl PrivateKey {
    /// Load an unencrypted RSA key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`).
    ///
    /// Encrypted keys (`BEGIN ENCRYPTED PRIVATE KEY`, or PKCS#1 with
    /// `Proc-Type: 4,ENCRYPTED`) return [`KeyError::EncryptedUnsupported`] whether or
    /// not a pass phrase is given: aws-lc-rs, our only crypto backend, exposes no PEM
    /// or PKCS#8 decryption. A pass phrase given for an unencrypted key is ignored,
    /// as the SDK does (it is often inherited from `[DEFAULT]`).
    pub fn from_pem(pem_text: &str, _pass_phrase: Option<&Secret>) -> Result<Self, KeyError> {
        let block = pem::parse_first(pem_text).map_err(KeyError::Pem)?;
        let pair = match block.label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&block.der),
            "RSA PRIVATE KEY" if block.is_legacy_encrypted() => {
                return Err(KeyError::EncryptedUnsupported)
            }
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&block.der),
            "ENCRYPTED PRIVATE KEY" => return Err(KeyError::EncryptedUnsupported),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => return Err(KeyError::PublicKeyGiven(block.label)),
            _ => return Err(KeyError::UnsupportedLabel(block.label)),
        }
        .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(Self { pair })
    }

    /// Read and load a PEM key file (see [`PrivateKey::from_pem`]).
    pub fn from_pem_file(path: &Path, pass_phrase: Option<&Secret>) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_pem(&text, pass_phrase)
    }

    /// DER `SubjectPublicKeyInfo` of the matching public key.
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let der = self
            .pair
            .public_key()
            .as_der()
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(der.as_ref().to_vec())
    }

    /// OCI fingerprint of the public key (MD5 of the SPKI DER, colon hex), i.e.
    /// what the console shows and what goes into `keyId`.
    pub fn fingerprint(&self) -> Result<String, KeyError> {
        Ok(crate::verify::fingerprint_spki_der(
            &self.public_key_spki_der()?,
        ))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
            .map_err(|_| SignError::Crypto)?;
        Ok(sig)
    }
}

/// Signs requests for one API key (`keyId` + private key).
#[derive(Debug)]
pub struct RequestSigner {
    key_id: String,
    key: PrivateKey,
}

impl RequestSigner {
    /// A signer for `key_id` (`<tenancy>/<user>/<fingerprint>`).
    pub fn new(key_id: impl Into<String>, key: PrivateKey) -> Self {
        Self {
            key_id: key_id.into(),
            key,
        }
    }

    /// Build from a config profile, reading `key_file`.
    pub fn from_config(config: &OciConfig) -> Result<Self, KeyError> {
        let key = PrivateKey::from_pem_file(&config.key_file, config.pass_phrase.as_ref())?;
        Ok(Self::new(config.key_id(), key))
    }

    /// The `keyId` this signer puts into signatures.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The private key (for fingerprint checks).
    pub fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    /// Sign a request described by its parts, mutating `headers` the way the SDK does.
    ///
    /// * `date` is set to now (RFC 7231 format) unless present;
    /// * `host` is set to `host` (which should include a non-default port);
    /// * `content-type` defaults to `application/json`;
    /// * for `POST`/`PUT`/`PATCH` with [`ContentHeaders::Enforce`], `content-length`
    ///   is set to the body length and `x-content-sha256` to its base64 SHA-256
    ///   (unless already present, which lets callers pre-hash a stream and pass
    ///   `body = None`);
    /// * `authorization` is set to the signature.
    ///
    /// `path_and_query` must be exactly what goes on the request line (e.g.
    /// `/20160918/instances?limit=50`). Deterministic once `date` is present.
    pub fn sign_parts(
        &self,
        method: &str,
        host: &str,
        path_and_query: &str,
        headers: &mut HeaderMap,
        body: Option<&[u8]>,
        content: ContentHeaders,
    ) -> Result<(), SignError> {
        let method_lc = method.to_ascii_lowercase();
        let body_method = match method_lc.as_str() {
            "get" | "head" | "delete" => false,
            "put" | "post" | "patch" => true,
            _ => return Err(SignError::UnsupportedMethod(method.to_string())),
        };
        let sign_body = body_method && content == ContentHeaders::Enforce;

        if !headers.contains_key(http::header::DATE) {
            let now = httpdate::fmt_http_date(SystemTime::now());
            headers.insert(http::header::DATE, header_value("date", &now)?);
        }
        headers.insert(http::header::HOST, header_value("host", host)?);
        if !headers.contains_key(http::header::CONTENT_TYPE) {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        if sign_body && !headers.contains_key(X_CONTENT_SHA256) {
            let body = body.ok_or(SignError::BodyUnavailable)?;
            headers.insert(
                HeaderName::from_static(X_CONTENT_SHA256),
                header_value(X_CONTENT_SHA256, &body_sha256_base64(body))?,
            );
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        } else if sign_body && !headers.contains_key(http::header::CONTENT_LENGTH) {
            let body = body.ok_or(SignError::BodyUnavailable)?;
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }

        let mut names: Vec<&str> = GENERIC_HEADERS.to_vec();
        if sign_body {
            names.extend_from_slice(&BODY_HEADERS);
        }
        let signing_string =
            signing_string(&method_lc, path_and_query, headers, &names).map_err(|e| match e {
                SigningStringError::Missing(h) => SignError::MissingHeader(h),
                SigningStringError::NotAscii(h) => SignError::InvalidHeaderValue(h),
            })?;
        let signature = STANDARD.encode(self.key.sign(signing_string.as_bytes())?);
        let auth = format!(
            "Signature algorithm=\"rsa-sha256\",headers=\"{}\",keyId=\"{}\",signature=\"{}\",version=\"1\"",
            names.join(" "),
            self.key_id,
            signature
        );
        headers.insert(
            http::header::AUTHORIZATION,
            header_value("authorization", &auth)?,
        );
        Ok(())
    }

    /// [`sign_parts`](Self::sign_parts) taking host and path+query from a URL, with
    /// the SDK default [`ContentHeaders::Enforce`].
    pub fn sign_url(
        &self,
        method: &str,
        url: &url::Url,
        headers: &mut HeaderMap,
        body: Option<&[u8]>,
    ) -> Result<(), SignError> {
        self.sign_parts(
            method,
            &host_of(url)?,
            &path_and_query_of(url),
            headers,
            body,
            ContentHeaders::Enforce,
        )
    }

    /// Sign a `reqwest::Request` in place (date if absent, host, content-type,
    /// content-length, x-content-sha256, authorization). The body must be in memory
    /// unless `x-content-sha256` and `content-length` are already set.
    pub fn sign_reqwest(&self, request: &mut reqwest::Request) -> Result<(), SignError> {
        self.sign_reqwest_with(request, ContentHeaders::Enforce)
    }

    /// [`sign_reqwest`](Self::sign_reqwest) with an explicit [`ContentHeaders`] mode.
    pub fn sign_reqwest_with(
        &self,
        request: &mut reqwest::Request,
        content: ContentHeaders,
    ) -> Result<(), SignError> {
        let host = host_of(request.url())?;
        let path = path_and_query_of(request.url());
        let method = request.method().as_str().to_string();
        // A missing body is an empty body; a streaming one cannot be hashed here.
        let body: Option<Vec<u8>> = match request.body() {
            None => Some(Vec::new()),
            Some(b) => b.as_bytes().map(<[u8]>::to_vec),
        };
        let mut headers = std::mem::take(request.headers_mut());
        let result = self.sign_parts(
            &method,
            &host,
            &path,
            &mut headers,
            body.as_deref(),
            content,
        );
        *request.headers_mut() = headers;
        result
    }
}

/// Base64 (standard, padded) SHA-256 of `body`: the `x-content-sha256` value.
pub fn body_sha256_base64(body: &[u8]) -> String {
    STANDARD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body))
}

/// `host[:port]` as it appears in the `Host` header (port only when non-default).
pub fn host_of(url: &url::Url) -> Result<String, SignError> {
    let host = url
        .host_str()
        .ok_or_else(|| SignError::NoHost(url.to_string()))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// Path plus `?query` as sent on the request line.
pub fn path_and_query_of(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_string(),
    }
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, SignError> {
    HeaderValue::from_str(value).map_err(|_| SignError::InvalidHeaderValue(name.to_string()))
}

/// Why a signing string could not be built.
#[derive(Debug)]
pub(crate) enum SigningStringError {
    Missing(String),
    NotAscii(String),
}

/// Build the signing string for `names` (lower-case header names or
/// `(request-target)`), shared by signer and verifier so they cannot drift apart.
/// Repeated headers are joined with `, ` as the HTTP signatures draft specifies.
pub(crate) fn signing_string(
    method_lc: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    names: &[&str],
) -> Result<String, SigningStringError> {
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        if *name == "(request-target)" {
            lines.push(format!("(request-target): {method_lc} {path_and_query}"));
            continue;
        }
        let mut values = headers.get_all(*name).iter().peekable();
        if values.peek().is_none() {
            return Err(SigningStringError::Missing((*name).to_string()));
        }
        let mut joined = Vec::new();
        for v in values {
            let s = v
                .to_str()
                .map_err(|_| SigningStringError::NotAscii((*name).to_string()))?;
            joined.push(s.trim());
        }
        lines.push(format!("{name}: {}", joined.join(", ")));
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_hash_matches_sdk() {
        assert_eq!(
            body_sha256_base64(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn host_includes_non_default_port_only() {
        let u = url::Url::parse("http://127.0.0.1:8080/a?b=c").unwrap();
        assert_eq!(host_of(&u).unwrap(), "127.0.0.1:8080");
        assert_eq!(path_and_query_of(&u), "/a?b=c");
        let u = url::Url::parse("https://iaas.x.oraclecloud.com:443/a").unwrap();
        assert_eq!(host_of(&u).unwrap(), "iaas.x.oraclecloud.com");
    }

    #[test]
    fn signing_string_reports_missing_header() {
        let h = HeaderMap::new();
        match signing_string("get", "/", &h, &["date"]) {
            Err(SigningStringError::Missing(n)) => assert_eq!(n, "date"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rejects_garbage_keys() {
        assert!(matches!(
            PrivateKey::from_pem("not pem", None),
            Err(KeyError::Pem(_))
        ));
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(matches!(
            PrivateKey::from_pem(enc, Some(&Secret::new("pw"))),
            Err(KeyError::EncryptedUnsupported)
        ));
        let bad = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            PrivateKey::from_pem(bad, None),
            Err(KeyError::Rejected(_))
        ));
    }
}
