//! The Standard Webhooks wire format (standardwebhooks.com): a `whsec_`
//! secret, and for each message the `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` headers, the signature being `v1,` + base64 of
//! HMAC-SHA256 over `id.timestamp.body`. A receiver's stock library must
//! accept what we send, so this follows the spec byte for byte.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::secret::Secret;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes in a generated secret (the spec asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// A signing secret's text is not `whsec_` + base64 of 24 to 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64 of 24 to 64 bytes")]
pub struct BadSecret;

/// A signing key: the decoded bytes of a `whsec_…` secret.
#[derive(Clone)]
pub struct SigningKey(Secret<Vec<u8>>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(Secret::new(
            crate::crypto::random_bytes::<SECRET_BYTES>().to_vec(),
        ))
    }

    /// The key of a secret's text (`whsec_` + base64; the prefix is optional,
    /// as the reference libraries accept it without).
    pub fn parse(text: &str) -> Result<Self, BadSecret> {
        let b64 = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let raw = STANDARD.decode(b64).map_err(|_| BadSecret)?;
        if !(24..=64).contains(&raw.len()) {
            return Err(BadSecret);
        }
        Ok(Self(Secret::new(raw)))
    }

    /// The secret's text, `whsec_…` (shown to the admin once; sealed at rest).
    pub fn to_text(&self) -> Secret<String> {
        Secret::new(format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode(self.0.expose())
        ))
    }

    /// One signature, `v1,<base64>`, of the message `id` sent at `timestamp`
    /// (seconds since the epoch) with this exact `body`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.0.expose());
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body);
        format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
    }
}

/// The three headers of one attempt: `webhook-id` stays the same on every
/// retry, the timestamp and signatures are fresh each time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp` (seconds since the epoch).
    pub timestamp: i64,
    /// `webhook-signature`: one `v1,…` per key, space-separated (several
    /// while a rotated secret's grace period runs).
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as `(name, value)` pairs.
    pub fn pairs(&self) -> [(&'static str, String); 3] {
        [
            ("webhook-id", self.id.clone()),
            ("webhook-timestamp", self.timestamp.to_string()),
            ("webhook-signature", self.signature.clone()),
        ]
    }
}

/// Signs `body` as message `id` at `timestamp` with every key in `keys`.
pub fn sign_all(keys: &[SigningKey], id: &str, timestamp: i64, body: &[u8]) -> SignedHeaders {
    let signature = keys
        .iter()
        .map(|k| k.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ");
    SignedHeaders {
        id: id.to_string(),
        timestamp,
        signature,
    }
}

/// True when one of the `v1` signatures in `header` is `key`'s for this
/// message (constant-time compare); what a receiver does, used by the tests
/// and by anything in the portal that receives Standard Webhooks.
pub fn verify(key: &SigningKey, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
    let expected = key.sign(id, timestamp, body);
    header
        .split(' ')
        .filter(|s| s.starts_with("v1,"))
        .any(|s| crate::crypto::constant_time_eq(s.as_bytes(), expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_published_test_vector() {
        // The Standard Webhooks specification's vector (also in the reference
        // libraries' tests): if this holds, stock receivers accept our signatures.
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let without_prefix = SigningKey::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            without_prefix.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn rotation_signs_with_every_key_and_each_verifies() {
        let old = SigningKey::generate();
        let new = SigningKey::generate();
        let h = sign_all(&[new.clone(), old.clone()], "msg_1", 100, b"{}");
        assert_eq!(h.signature.split(' ').count(), 2);
        assert!(verify(&old, &h.signature, "msg_1", 100, b"{}"));
        assert!(verify(&new, &h.signature, "msg_1", 100, b"{}"));
        assert!(!verify(&new, &h.signature, "msg_1", 101, b"{}"));
        assert!(!verify(&new, &h.signature, "msg_2", 100, b"{}"));
        assert!(!verify(&new, &h.signature, "msg_1", 100, b"{ }"));
        assert!(!verify(
            &SigningKey::generate(),
            &h.signature,
            "msg_1",
            100,
            b"{}"
        ));
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let k = SigningKey::generate();
        let text = k.to_text();
        assert!(text.expose().starts_with("whsec_"));
        assert_eq!(format!("{k:?}"), "SigningKey([REDACTED])");
        let back = SigningKey::parse(text.expose()).unwrap();
        assert_eq!(back.sign("m", 1, b"x"), k.sign("m", 1, b"x"));
        assert_eq!(
            SigningKey::parse("whsec_not base64!").unwrap_err(),
            BadSecret
        );
        assert_eq!(SigningKey::parse("whsec_c2hvcnQ=").unwrap_err(), BadSecret);
    }
}
