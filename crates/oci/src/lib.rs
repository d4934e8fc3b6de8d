//! Oracle Cloud Infrastructure (OCI) REST foundation for the portal.
//!
//! This crate holds everything typed per-service OCI calls build on:
//!
//! * [`config`] — parses the OCI CLI/SDK config file (`~/.oci/config`) so the portal
//!   uses the same credentials an operator already has.
//! * [`signer`] — OCI HTTP signature scheme v1 (RSA-SHA256), byte-compatible with the
//!   official SDKs, as a pure function over method, URL, headers and body, plus a
//!   helper for `reqwest::Request`.
//! * [`verify`] — the server side of the same scheme, so the OCI emulator can reject
//!   requests exactly where OCI would.
//! * [`endpoint`] — region → service endpoint resolution, with an override for
//!   pointing every service at an emulator.
//! * [`client`] — a generic, signing, retrying, paginating request executor with a
//!   typed [`OciError`].
//!
//! All cryptography goes through `aws-lc-rs` (also the only rustls provider in the
//! dependency graph); the `rsa` crate is deliberately avoided (RUSTSEC-2023-0071).

pub mod client;
pub mod config;
pub mod endpoint;
mod pem;
pub mod signer;
pub mod verify;

pub use client::{ClientOptions, OciClient, OciError, OciResponse, RequestOptions, RetryPolicy};
pub use config::{load_config, parse_config, ConfigError, OciConfig, Secret};
pub use endpoint::{EndpointError, Service};
pub use signer::{ContentHeaders, KeyError, PrivateKey, RequestSigner, SignError};
pub use verify::{
    fingerprint_spki_der, verify_request, KeyLookup, PublicKey, VerifiedRequest, VerifyError,
    VerifyOptions,
};
