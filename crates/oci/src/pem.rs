//! Minimal PEM (RFC 7468) decoding, enough for OCI API keys.
//!
//! Kept in-crate so key loading needs no extra dependency; it understands the
//! legacy OpenSSL encapsulated headers (`Proc-Type`, `DEK-Info`) only far enough to
//! detect that a key is encrypted.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// One decoded PEM block.
#[derive(Debug)]
pub(crate) struct PemBlock {
    /// The label between `BEGIN ` and the trailing dashes, e.g. `PRIVATE KEY`.
    pub label: String,
    /// RFC 1421 style headers (`Proc-Type: 4,ENCRYPTED`), in order.
    pub headers: Vec<(String, String)>,
    /// The base64-decoded contents.
    pub der: Vec<u8>,
}

impl PemBlock {
    /// True when legacy OpenSSL encryption headers are present.
    pub fn is_legacy_encrypted(&self) -> bool {
        self.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("Proc-Type") && v.to_ascii_uppercase().contains("ENCRYPTED")
        })
    }
}

/// Decode the first PEM block found in `text`.
pub(crate) fn parse_first(text: &str) -> Result<PemBlock, String> {
    let mut lines = text.lines().map(str::trim);
    let label = loop {
        let line = lines
            .next()
            .ok_or_else(|| "no PEM `-----BEGIN ...-----` line found".to_string())?;
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let label = rest
                .strip_suffix("-----")
                .ok_or_else(|| "malformed PEM BEGIN line".to_string())?;
            break label.to_string();
        }
    };
    let end_line = format!("-----END {label}-----");
    let mut headers = Vec::new();
    let mut b64 = String::new();
    let mut ended = false;
    for line in lines.by_ref() {
        if line == end_line {
            ended = true;
            break;
        }
        if line.is_empty() {
            continue;
        }
        if b64.is_empty() {
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
                continue;
            }
        }
        b64.push_str(line);
    }
    if !ended {
        return Err(format!("missing `{end_line}`"));
    }
    let der = STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| format!("invalid base64 in PEM body: {e}"))?;
    Ok(PemBlock {
        label,
        headers,
        der,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_block_with_headers() {
        let text = "junk\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\naGVsbG8=\n-----END RSA PRIVATE KEY-----\n";
        let b = parse_first(text).unwrap();
        assert_eq!(b.label, "RSA PRIVATE KEY");
        assert!(b.is_legacy_encrypted());
        assert_eq!(b.der, b"hello");
    }

    #[test]
    fn rejects_truncated_block() {
        let err = parse_first("-----BEGIN PUBLIC KEY-----\naGVsbG8=\n").unwrap_err();
        assert!(err.contains("END PUBLIC KEY"), "{err}");
    }
}
