//! Small cryptographic building blocks: random tokens, SHA-256, HMAC, HKDF,
//! constant-time comparison, and password hashing (argon2id).

use aws_lc_rs::{constant_time, digest, hkdf, hmac, rand};

use crate::secret::Secret;

/// Fills a fresh array with OS randomness (`getrandom(2)`), the source aws-lc
/// seeds itself from too. Not aws-lc's own generator first: its first use runs
/// the CPU-jitter entropy self-test (~400 M instructions), which made it 80 % of
/// the portal's cold start (callgrind); it is still the fallback.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if getrandom::fill(&mut b).is_err() {
        let _ = rand::fill(&mut b);
    }
    b
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// Raw SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Keys derived from the master secret, one per purpose, so no key serves twice.
///
/// The data key is versioned (see [`crate::keyring`]): every sealed value names
/// the version it was sealed under (`v2:…`; bare hex from before versions is
/// version 1). The audit and approval keys outlive a rotation of the master
/// secret: after the first `portal admin rekey` they are stored in the keyring
/// sealed under the current data key, so the ledger keeps verifying.
#[derive(Clone)]
pub struct Keys {
    version: u32,
    audit: Secret<[u8; 32]>,
    data: Secret<[u8; 32]>,
    approval: Secret<[u8; 32]>,
    check: Secret<[u8; 32]>,
}

/// The keys that survive a rotation of the master secret (the audit ledger's
/// MAC key and the approval binding key), as the keyring stores them.
#[derive(Clone)]
pub struct DurableKeys {
    audit: Secret<[u8; 32]>,
    approval: Secret<[u8; 32]>,
}

impl DurableKeys {
    /// Encodes them for sealing (hex of audit ‖ approval).
    pub fn encode(&self) -> Secret<String> {
        Secret::new(hex::encode(
            [&self.audit.expose()[..], &self.approval.expose()[..]].concat(),
        ))
    }

    /// Decodes what [`DurableKeys::encode`] produced.
    pub fn decode(text: &[u8]) -> Option<Self> {
        let raw = hex::decode(text).ok()?;
        if raw.len() != 64 {
            return None;
        }
        let mut audit = [0u8; 32];
        let mut approval = [0u8; 32];
        audit.copy_from_slice(&raw[..32]);
        approval.copy_from_slice(&raw[32..]);
        Some(Self {
            audit: Secret::new(audit),
            approval: Secret::new(approval),
        })
    }
}

/// Splits a sealed value into the key version it names and its hex body;
/// values from before versions (bare hex) are version 1.
pub fn sealed_version(sealed: &str) -> Option<(u32, &str)> {
    match sealed.strip_prefix('v').and_then(|r| r.split_once(':')) {
        Some((v, body)) => v.parse().ok().filter(|v| *v > 0).map(|v| (v, body)),
        None => Some((1, sealed)),
    }
}

struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

fn derive(master: &[u8], info: &[u8]) -> [u8; 32] {
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"oci-portal/v1");
    let prk = salt.extract(master);
    let mut out = [0u8; 32];
    let infos = [info];
    match prk.expand(&infos, Len32).and_then(|okm| okm.fill(&mut out)) {
        Ok(()) => out,
        // Only fails for output lengths over 255 × 32 bytes; ours is 32.
        Err(_) => sha256(&[master, info].concat()),
    }
}

impl Keys {
    /// Derives every purpose key from the master secret, as key version 1
    /// (before any rotation).
    pub fn derive(master: &Secret<Vec<u8>>) -> Self {
        Self {
            version: 1,
            audit: Secret::new(derive(master.expose(), b"audit-ledger-mac")),
            data: Secret::new(derive(master.expose(), b"data-at-rest-aes-256-gcm")),
            approval: Secret::new(derive(master.expose(), b"approval-binding-mac")),
            check: Secret::new(derive(master.expose(), b"keyring-check-mac")),
        }
    }

    /// The keys of master secret `master` as key version `version`, with the
    /// durable keys `durable` (from the keyring) instead of derived ones.
    pub fn versioned(
        master: &Secret<Vec<u8>>,
        version: u32,
        durable: Option<&DurableKeys>,
    ) -> Self {
        let mut k = Self::derive(master);
        k.version = version.max(1);
        if let Some(d) = durable {
            k.audit = d.audit.clone();
            k.approval = d.approval.clone();
        }
        k
    }

    /// The version of the data key sealing uses.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The keys that must survive a rotation of the master secret.
    pub fn durable(&self) -> DurableKeys {
        DurableKeys {
            audit: self.audit.clone(),
            approval: self.approval.clone(),
        }
    }

    /// A MAC identifying the master secret without revealing it: the keyring
    /// records it per version, so a replica started with a stale or wrong key
    /// is refused at start instead of failing to open secrets later.
    pub fn check_value(&self) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.check.expose());
        hex::encode(hmac::sign(&key, b"oci-portal keyring check"))
    }

    /// Encrypts `plaintext` for storage (AES-256-GCM, random nonce), bound to
    /// `context` (e.g. the row it belongs to); hex of nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes();
        let mut buf = plaintext.to_vec();
        let sealed = UnboundKey::new(&AES_256_GCM, self.data.expose())
            .map(LessSafeKey::new)
            .and_then(|key| {
                key.seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(nonce_bytes),
                    Aad::from(context.as_bytes()),
                    &mut buf,
                )
            });
        match sealed {
            Ok(()) => {
                let mut out = nonce_bytes.to_vec();
                out.extend_from_slice(&buf);
                format!("v{}:{}", self.version, hex::encode(out))
            }
            // AES-256-GCM with a 32-byte key cannot fail to initialise or seal.
            Err(_) => String::new(),
        }
    }

    /// Decrypts what [`Keys::seal`] produced for the same `context`; `None` if it was
    /// altered, sealed for another context, under another master secret or
    /// under another key version.
    pub fn open(&self, context: &str, sealed: &str) -> Option<Vec<u8>> {
        use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
        let (version, body) = sealed_version(sealed)?;
        if version != self.version {
            return None;
        }
        let raw = hex::decode(body).ok()?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return None;
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, self.data.expose()).ok()?);
        let mut buf = body.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }

    /// HMAC-SHA256 of `msg` under the approval-binding key, lower-case hex. An
    /// approval binds to this MAC of the arguments, not a bare hash: the
    /// arguments hold secrets, and an unkeyed hash of them is a guessing oracle.
    pub fn approval_mac(&self, msg: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.approval.expose());
        hex::encode(hmac::sign(&key, msg))
    }

    /// HMAC-SHA256 of `msg` under the audit key, lower-case hex.
    pub fn audit_mac(&self, msg: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.audit.expose());
        hex::encode(hmac::sign(&key, msg))
    }
}

/// argon2id hash of a password in PHC string form. CPU-heavy: call it off the
/// async worker threads (`spawn_blocking`).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a PHC hash (constant-time inside argon2). CPU-heavy.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(phc) {
        Ok(h) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the account does not
/// exist so that unknown emails take as long as wrong passwords.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&hex::encode(random_bytes::<16>())).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn keys_differ_per_master_and_purpose() {
        let a = Keys::derive(&Secret::new(b"a".repeat(32)));
        let b = Keys::derive(&Secret::new(b"b".repeat(32)));
        assert_ne!(a.audit_mac(b"m"), b.audit_mac(b"m"));
        assert_eq!(a.audit_mac(b"m"), a.audit_mac(b"m"));
        assert_eq!(a.audit_mac(b"m").len(), 64);
        assert_ne!(
            a.approval_mac(b"m"),
            a.audit_mac(b"m"),
            "one key per purpose"
        );
        assert_ne!(a.approval_mac(b"m"), b.approval_mac(b"m"));
    }

    #[test]
    fn constant_time() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

#[cfg(test)]
mod sealing {
    use super::*;

    #[test]
    fn seal_round_trips_only_for_its_context_and_key() {
        let keys = Keys::derive(&Secret::new(b"a master secret of enough length!".to_vec()));
        let sealed = keys.seal("turn:1", b"hunter2");
        assert!(!sealed.contains("hunter2") && !sealed.is_empty());
        assert_eq!(
            keys.open("turn:1", &sealed).as_deref(),
            Some(&b"hunter2"[..])
        );
        assert_eq!(keys.open("turn:2", &sealed), None, "bound to its context");
        let other = Keys::derive(&Secret::new(b"another master secret, also long".to_vec()));
        assert_eq!(
            other.open("turn:1", &sealed),
            None,
            "bound to the master secret"
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(keys.open("turn:1", &tampered), None, "tamper-evident");
        assert_ne!(
            keys.seal("turn:1", b"hunter2"),
            sealed,
            "fresh nonce each time"
        );
        assert_eq!(keys.open("turn:1", "zz"), None);
    }

    #[test]
    fn sealed_values_name_their_version_and_old_bare_hex_is_version_one() {
        let master = Secret::new(b"a master secret of enough length!".to_vec());
        let v1 = Keys::derive(&master);
        let sealed = v1.seal("c", b"x");
        assert!(sealed.starts_with("v1:"), "{sealed}");
        let bare = sealed.trim_start_matches("v1:").to_string();
        assert_eq!(
            v1.open("c", &bare).as_deref(),
            Some(&b"x"[..]),
            "legacy value"
        );
        let v2 = Keys::versioned(&master, 2, Some(&v1.durable()));
        assert_eq!(v2.open("c", &sealed), None, "another version");
        let s2 = v2.seal("c", b"y");
        assert!(s2.starts_with("v2:"));
        assert_eq!(v2.open("c", &s2).as_deref(), Some(&b"y"[..]));
        assert_eq!(v1.open("c", &s2), None);
        assert_eq!(
            v2.audit_mac(b"m"),
            v1.audit_mac(b"m"),
            "durable keys carried"
        );
        assert_eq!(sealed_version("v0:ab"), None);
        assert_eq!(sealed_version("vx:ab"), None);
        let d = DurableKeys::decode(v1.durable().encode().expose().as_bytes()).unwrap();
        let again = Keys::versioned(&master, 3, Some(&d));
        assert_eq!(again.approval_mac(b"m"), v1.approval_mac(b"m"));
        assert!(DurableKeys::decode(b"abcd").is_none());
        assert_ne!(
            Keys::derive(&Secret::new(b"another master secret, also long".to_vec())).check_value(),
            v1.check_value()
        );
    }
}
