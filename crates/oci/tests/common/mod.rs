//! Shared helpers for the integration tests: the SDK-signed vectors and their key.
#![allow(dead_code)]

use std::collections::HashMap;

use portal_oci::{PrivateKey, PublicKey, RequestSigner};
use serde_json::Value;

pub const VECTORS_JSON: &str = include_str!("../data/oci-signing-vectors.json");

pub fn vectors() -> Value {
    serde_json::from_str(VECTORS_JSON).unwrap()
}

pub fn key_id() -> String {
    vectors()["keyId"].as_str().unwrap().to_string()
}

pub fn private_key() -> PrivateKey {
    PrivateKey::from_pem(vectors()["private_key_pem"].as_str().unwrap(), None).unwrap()
}

pub fn public_key() -> PublicKey {
    PublicKey::from_pem(vectors()["public_key_pem"].as_str().unwrap()).unwrap()
}

pub fn signer() -> RequestSigner {
    RequestSigner::new(key_id(), private_key())
}

pub fn key_map() -> HashMap<String, PublicKey> {
    HashMap::from([(key_id(), public_key())])
}
