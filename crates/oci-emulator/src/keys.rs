//! The demo user's API key pair and the OCI SDK config file.
//!
//! The key is RSA 2048, generated once with aws-lc-rs and kept as PKCS#8 PEM with
//! mode 0600, followed by the `OCI_API_KEY` label line the OCI CLI looks for, so
//! the official SDKs and the CLI accept the file without warnings.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use portal_oci::signer::PrivateKey;
use portal_oci::verify::PublicKey;

use crate::EmulatorError;

/// The line the OCI CLI expects at the end of an API private key file (it warns
/// "append an extra line with 'OCI_API_KEY'" otherwise). PEM parsers ignore it.
pub(crate) const PRIVATE_KEY_LABEL: &str = "OCI_API_KEY";

/// The loaded demo key.
pub(crate) struct DemoKey {
    pub(crate) private_pem: String,
    pub(crate) public: PublicKey,
    pub(crate) fingerprint: String,
}

/// PEM-encode DER with 64-character lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let tmp = dir.join(format!(".demo_key.{}.tmp", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `pem` (without any label) followed by the [`PRIVATE_KEY_LABEL`] line.
fn labelled(pem: &str) -> String {
    let body = pem.trim_end();
    let body = body
        .strip_suffix(PRIVATE_KEY_LABEL)
        .unwrap_or(body)
        .trim_end();
    format!("{body}\n{PRIVATE_KEY_LABEL}\n")
}

/// True when only the owner may read or write `path` (always true off Unix).
fn is_private(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}

/// Load the key at `path`, generating and writing it first when absent. The
/// public half is also written next to it (`*_public.pem`) for uploads elsewhere.
pub(crate) fn load_or_create(path: &Path) -> Result<DemoKey, EmulatorError> {
    let io = |source| EmulatorError::Io {
        path: path.to_path_buf(),
        source,
    };
    let pem = match std::fs::read_to_string(path) {
        Ok(text) => {
            // Keys written by older versions: add the label, make the file private.
            if !text.trim_end().ends_with(PRIVATE_KEY_LABEL) || !is_private(path) {
                write_private(path, &labelled(&text)).map_err(io)?;
            }
            text
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pair = KeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| EmulatorError::Key("RSA key generation failed".into()))?;
            let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(&pair)
                .map_err(|_| EmulatorError::Key("cannot encode the key as PKCS#8".into()))?;
            let pem = pem_encode("PRIVATE KEY", der.as_ref());
            write_private(path, &labelled(&pem)).map_err(io)?;
            pem
        }
        Err(e) => return Err(io(e)),
    };
    let key = PrivateKey::from_pem(&pem, None)
        .map_err(|e| EmulatorError::Key(format!("{}: {e}", path.display())))?;
    let spki = key
        .public_key_spki_der()
        .map_err(|e| EmulatorError::Key(e.to_string()))?;
    let public = PublicKey::from_der(&spki).map_err(|e| EmulatorError::Key(e.to_string()))?;
    let fingerprint = public.fingerprint();
    let public_path = path.with_file_name("demo_user_key_public.pem");
    std::fs::write(&public_path, pem_encode("PUBLIC KEY", &spki)).map_err(|source| {
        EmulatorError::Io {
            path: public_path.clone(),
            source,
        }
    })?;
    Ok(DemoKey {
        private_pem: pem,
        public,
        fingerprint,
    })
}

/// Write the `[DEFAULT]` profile the official SDKs and CLI read.
pub(crate) fn write_config(
    path: &Path,
    user: &str,
    fingerprint: &str,
    tenancy: &str,
    region: &str,
    key_file: &Path,
) -> Result<(), EmulatorError> {
    let text = format!(
        "# Written by the portal's OCI emulator; point service endpoints at the emulator.\n\
         [DEFAULT]\nuser={user}\nfingerprint={fingerprint}\ntenancy={tenancy}\nregion={region}\nkey_file={}\n",
        key_file.display()
    );
    crate::state::write_atomic(path, text.as_bytes()).map_err(|source| EmulatorError::Io {
        path: path.to_path_buf(),
        source,
    })
}
