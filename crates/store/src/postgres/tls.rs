//! TLS to PostgreSQL over rustls (no OpenSSL): libpq's `sslmode` and
//! `sslrootcert` URL parameters, which tokio-postgres does not understand
//! (it knows only `disable|prefer|require` and never verifies anything).
//!
//! | `sslmode`     | encrypted | chain checked                 | host name checked |
//! |---------------|-----------|-------------------------------|-------------------|
//! | absent        | no (plain, as before TLS was wired) | —        | —                 |
//! | `disable`     | no        | —                             | —                 |
//! | `prefer`      | if offered| no                            | no                |
//! | `require`     | yes       | only with `sslrootcert` (libpq) | no              |
//! | `verify-ca`   | yes       | yes                           | no                |
//! | `verify-full` | yes       | yes                           | yes               |
//!
//! The roots are the PEM file `sslrootcert` names, or the system's store
//! (`sslrootcert=system`, also the default for `verify-*`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// libpq's `sslmode` values this backend supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, unverified.
    Prefer,
    /// TLS; the chain is verified only when `sslrootcert` is given.
    Require,
    /// TLS with the chain verified, any host name.
    VerifyCa,
    /// TLS with the chain and the host name verified.
    VerifyFull,
}

impl SslMode {
    fn parse(v: &str) -> Result<Self, String> {
        Ok(match v {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other} is not supported (disable, prefer, require, verify-ca, verify-full)"
                ))
            }
        })
    }
}

/// The URL without the TLS parameters, and what they asked for.
#[derive(Debug, PartialEq, Eq)]
pub struct Split {
    /// The URL tokio-postgres parses.
    pub url: String,
    /// `sslmode`, when given.
    pub mode: Option<SslMode>,
    /// `sslrootcert`, when given.
    pub root_cert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a `postgres://…?…` URL or a
/// `key=value` connection string.
pub fn split(url: &str) -> Result<Split, String> {
    let mut mode = None;
    let mut root_cert = None;
    let mut take = |k: &str, v: &str| -> Result<bool, String> {
        match k {
            "sslmode" => mode = Some(SslMode::parse(v)?),
            "sslrootcert" => root_cert = Some(percent_decode(v)),
            _ => return Ok(false),
        }
        Ok(true)
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok(Split {
                url: url.to_string(),
                mode: None,
                root_cert: None,
            });
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if !take(k, v)? {
                kept.push(pair);
            }
        }
        if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else {
        let mut kept = Vec::new();
        for token in url.split_whitespace() {
            let (k, v) = token.split_once('=').unwrap_or((token, ""));
            if !take(k.trim(), v.trim().trim_matches('\''))? {
                kept.push(token);
            }
        }
        kept.join(" ")
    };
    Ok(Split {
        url: rest,
        mode,
        root_cert,
    })
}

/// `%XX` escapes in a URL parameter (paths with spaces or `&`).
fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The driver's mode for ours: verification is ours, the driver only needs
/// to know whether TLS is mandatory.
pub fn driver_mode(mode: Option<SslMode>) -> DriverSslMode {
    match mode {
        None | Some(SslMode::Disable) => DriverSslMode::Disable,
        Some(SslMode::Prefer) => DriverSslMode::Prefer,
        Some(_) => DriverSslMode::Require,
    }
}

/// Builds the connector for the mode; `None` means plain connections.
pub fn connector(mode: Option<SslMode>, root_cert: Option<&str>) -> Result<MakeRustls, String> {
    let verify = match (mode, root_cert) {
        (None | Some(SslMode::Disable), _) => return Ok(MakeRustls { config: None }),
        (Some(SslMode::Prefer), _) | (Some(SslMode::Require), None) => Verify::Nothing,
        (Some(SslMode::Require | SslMode::VerifyCa), Some(_)) | (Some(SslMode::VerifyCa), None) => {
            Verify::Chain
        }
        (Some(SslMode::VerifyFull), _) => Verify::Full,
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let config = match verify {
        Verify::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth(),
        Verify::Chain | Verify::Full => {
            let roots = Arc::new(roots(root_cert)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| format!("sslrootcert: {e}"))?;
            if verify == Verify::Full {
                builder.with_webpki_verifier(webpki).with_no_client_auth()
            } else {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
                    .with_no_client_auth()
            }
        }
    };
    Ok(MakeRustls {
        config: Some(Arc::new(config)),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verify {
    Nothing,
    Chain,
    Full,
}

/// The trust anchors: a PEM file, or the system's store.
fn roots(root_cert: Option<&str>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match root_cert {
        None | Some("system") => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = store.add(cert);
            }
            if store.is_empty() {
                return Err(
                    "sslrootcert: the system has no CA certificates; name a PEM file with sslrootcert=PATH"
                        .into(),
                );
            }
        }
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("sslrootcert={path}: {e}"))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("sslrootcert={path}: {e}"))?;
                store
                    .add(cert)
                    .map_err(|e| format!("sslrootcert={path}: {e}"))?;
            }
            if store.is_empty() {
                return Err(format!("sslrootcert={path}: no certificate in the file"));
            }
        }
    }
    Ok(store)
}

/// `verify-ca`: the full WebPKI check, except that a name mismatch is accepted.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require` without roots: encrypted, not authenticated (libpq's meaning).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// tokio-postgres' TLS factory over rustls; with no config (`sslmode=disable`,
/// where the driver never asks for TLS) it refuses to handshake.
#[derive(Clone)]
pub struct MakeRustls {
    config: Option<Arc<ClientConfig>>,
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        let name = ServerName::try_from(domain.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(RustlsConnect {
            config: self.config.clone(),
            name,
        })
    }
}

/// One handshake's connector.
pub struct RustlsConnect {
    config: Option<Arc<ClientConfig>>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let Some(config) = self.config else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "TLS is not configured (sslmode)",
                ));
            };
            tokio_rustls::TlsConnector::from(config)
                .connect(self.name, stream)
                .await
                // tokio-rustls reports a refused certificate as InvalidData,
                // which keeps it out of "unavailable": it is a configuration
                // error, and start-up names it.
                .map(RustlsStream)
        })
    }
}

/// The encrypted stream.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_of_urls() {
        let s = split("postgres://u:p@db:5432/x?sslmode=verify-full&sslrootcert=/a%20b/ca.pem&connect_timeout=3").unwrap();
        assert_eq!(s.url, "postgres://u:p@db:5432/x?connect_timeout=3");
        assert_eq!(s.mode, Some(SslMode::VerifyFull));
        assert_eq!(s.root_cert.as_deref(), Some("/a b/ca.pem"));
        let s = split("postgres://db/x?sslmode=disable").unwrap();
        assert_eq!(
            (s.url.as_str(), s.mode),
            ("postgres://db/x", Some(SslMode::Disable))
        );
        let s = split("host=db user=u sslmode=verify-ca sslrootcert=/ca.pem").unwrap();
        assert_eq!(s.url, "host=db user=u");
        assert_eq!(s.mode, Some(SslMode::VerifyCa));
        let s = split("postgres://db/x").unwrap();
        assert_eq!((s.url.as_str(), s.mode), ("postgres://db/x", None));
        let e = split("postgres://db/x?sslmode=allow").unwrap_err();
        assert!(e.contains("sslmode=allow is not supported"), "{e}");
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let e = connector(Some(SslMode::VerifyFull), Some("/nonexistent/ca.pem"))
            .err()
            .unwrap();
        assert!(e.starts_with("sslrootcert=/nonexistent/ca.pem"), "{e}");
    }
}
