//! The five SDK-signed vectors: reproduction, verification, tamper detection,
//! fingerprints and key formats.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use http::header::{HeaderMap, HeaderName, HeaderValue};
use portal_oci::signer::{ContentHeaders, KeyError, PrivateKey, RequestSigner};
use portal_oci::verify::{parse_authorization, FnKeyLookup, VerifyOptions};
use portal_oci::{fingerprint_spki_der, verify_request, PublicKey, Secret, VerifyError};
use url::Url;

struct Vector {
    method: String,
    url: Url,
    body: Vec<u8>,
    expected: HashMap<String, String>,
}

impl Vector {
    fn path_and_query(&self) -> String {
        portal_oci::signer::path_and_query_of(&self.url)
    }

    /// Headers the SDK had before signing (date, content-type, accept).
    fn unsigned_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for name in ["date", "content-type", "accept"] {
            h.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(&self.expected[name]).unwrap(),
            );
        }
        h
    }

    /// Headers as the SDK sent them (what an emulator receives).
    fn signed_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in &self.expected {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }
}

fn load_vectors() -> Vec<Vector> {
    let v = common::vectors();
    let list = v["vectors"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    list.iter()
        .map(|v| Vector {
            method: v["method"].as_str().unwrap().to_string(),
            url: Url::parse(v["url"].as_str().unwrap()).unwrap(),
            body: v["body"].as_str().unwrap_or("").as_bytes().to_vec(),
            expected: v["headers_after_signing"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
        })
        .collect()
}

/// The authorization params as a set of `name="value"` strings.
fn param_set(auth: &str) -> BTreeSet<String> {
    let rest = auth.strip_prefix("Signature ").unwrap();
    let mut out = BTreeSet::new();
    let mut s = rest;
    while let Some(eq) = s.find("=\"") {
        let name = &s[..eq];
        let after = &s[eq + 2..];
        let close = after.find('"').unwrap();
        out.insert(format!("{name}=\"{}\"", &after[..close]));
        s = after[close + 1..].trim_start_matches(',');
    }
    out
}

fn no_skew() -> VerifyOptions {
    VerifyOptions::without_skew_check()
}

#[test]
fn reproduces_all_sdk_vectors_byte_for_byte() {
    let signer = common::signer();
    for v in load_vectors() {
        let mut headers = v.unsigned_headers();
        signer
            .sign_url(&v.method, &v.url, &mut headers, Some(&v.body))
            .unwrap();
        let ours = headers["authorization"].to_str().unwrap();
        let theirs = &v.expected["authorization"];
        // Same parameter set (order inside the header may differ) ...
        assert_eq!(param_set(ours), param_set(theirs), "{} {}", v.method, v.url);
        let (a, b) = (
            parse_authorization(ours).unwrap(),
            parse_authorization(theirs).unwrap(),
        );
        assert_eq!(
            a.signature, b.signature,
            "signature of {} {}",
            v.method, v.url
        );
        assert_eq!(a.headers, b.headers);
        // ... and in fact the same bytes, since we use the SDK's order.
        assert_eq!(ours, theirs);
        // The derived headers match what the SDK produced.
        for name in ["host", "x-content-sha256", "date", "content-type"] {
            let ours = headers.get(name).map(|v| v.to_str().unwrap().to_string());
            assert_eq!(ours.as_ref(), v.expected.get(name), "header {name}");
        }
        if matches!(v.method.as_str(), "POST" | "PUT") {
            assert_eq!(
                headers["content-length"],
                v.expected["content-length"].as_str()
            );
        }
    }
}

#[test]
fn reqwest_helper_matches_vectors() {
    let signer = common::signer();
    for v in load_vectors() {
        let method = reqwest::Method::from_bytes(v.method.as_bytes()).unwrap();
        let mut req = reqwest::Request::new(method, v.url.clone());
        *req.headers_mut() = v.unsigned_headers();
        if !v.body.is_empty() {
            *req.body_mut() = Some(reqwest::Body::from(v.body.clone()));
        }
        signer.sign_reqwest(&mut req).unwrap();
        assert_eq!(
            req.headers()["authorization"].to_str().unwrap(),
            v.expected["authorization"],
            "{} {}",
            v.method,
            v.url
        );
        assert_eq!(req.headers()["host"], v.expected["host"].as_str());
    }
}

#[test]
fn signer_sets_date_when_absent() {
    let signer = common::signer();
    let url = Url::parse("https://iaas.us-ashburn-1.oraclecloud.com/20160918/vcns").unwrap();
    let mut headers = HeaderMap::new();
    signer
        .sign_url("POST", &url, &mut headers, Some(b"{}"))
        .unwrap();
    let date = headers["date"].to_str().unwrap();
    let parsed = httpdate::parse_http_date(date).unwrap();
    let age = SystemTime::now().duration_since(parsed).unwrap_or_default();
    assert!(age < Duration::from_secs(5), "date {date}");
    // And the fresh signature passes the default (skew-checking) verifier.
    let ok = verify_request(
        "POST",
        "/20160918/vcns",
        &headers,
        b"{}",
        &common::key_map(),
        &VerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(ok.key_id, common::key_id());
}

#[test]
fn signer_rejects_unknown_methods() {
    let signer = common::signer();
    let url = Url::parse("https://iaas.us-ashburn-1.oraclecloud.com/x").unwrap();
    let err = signer
        .sign_url("OPTIONS", &url, &mut HeaderMap::new(), None)
        .unwrap_err();
    assert!(err.to_string().contains("OPTIONS"), "{err}");
}

#[test]
fn verify_accepts_all_vectors() {
    let keys = common::key_map();
    for v in load_vectors() {
        let ok = verify_request(
            &v.method,
            &v.path_and_query(),
            &v.signed_headers(),
            &v.body,
            &keys,
            &no_skew(),
        )
        .unwrap_or_else(|e| panic!("{} {}: {e}", v.method, v.url));
        assert_eq!(ok.key_id, common::key_id());
        assert_eq!(
            ok.tenancy(),
            Some("ocid1.tenancy.oc1..aaaaaaaaexampletenancy")
        );
        assert_eq!(ok.user(), Some("ocid1.user.oc1..aaaaaaaaexampleuser"));
    }
}

#[test]
fn verify_rejects_any_altered_signed_header() {
    let keys = common::key_map();
    for v in load_vectors() {
        let signed = parse_authorization(&v.expected["authorization"])
            .unwrap()
            .headers;
        for name in signed.iter().filter(|h| *h != "(request-target)") {
            let mut headers = v.signed_headers();
            let original = headers[name.as_str()].to_str().unwrap().to_string();
            let altered = match name.as_str() {
                "content-length" => format!("{}", original.parse::<u64>().unwrap() + 1),
                "date" => "Mon, 05 Jan 2026 21:31:41 GMT".to_string(),
                _ => format!("{original}x"),
            };
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(&altered).unwrap(),
            );
            let err = verify_request(
                &v.method,
                &v.path_and_query(),
                &headers,
                &v.body,
                &keys,
                &no_skew(),
            )
            .unwrap_err();
            assert_eq!(err, VerifyError::BadSignature, "{} {name}", v.method);
        }
        // Removing a signed header is reported as such.
        let mut headers = v.signed_headers();
        headers.remove("host");
        assert_eq!(
            verify_request(
                &v.method,
                &v.path_and_query(),
                &headers,
                &v.body,
                &keys,
                &no_skew()
            ),
            Err(VerifyError::MissingHeader("host".into()))
        );
    }
}

#[test]
fn verify_rejects_altered_path_method_and_body() {
    let keys = common::key_map();
    for v in load_vectors() {
        let headers = v.signed_headers();
        let pq = v.path_and_query();

        // Path (and query) changes.
        for altered in [
            format!("{pq}x"),
            pq.replacen("/20160918", "/20170115", 1),
            format!("{pq}&extra=1"),
        ] {
            if altered == pq {
                continue;
            }
            assert_eq!(
                verify_request(&v.method, &altered, &headers, &v.body, &keys, &no_skew()),
                Err(VerifyError::BadSignature),
                "{} {altered}",
                v.method
            );
        }

        // Method changes.
        for other in ["GET", "DELETE", "POST", "PUT", "PATCH", "HEAD"] {
            if other == v.method {
                continue;
            }
            let res = verify_request(other, &pq, &headers, &v.body, &keys, &no_skew());
            assert!(res.is_err(), "{} accepted as {other}", v.method);
        }

        // Body changes: hash mismatch where the body is signed, and an unsigned
        // body is refused where it is not.
        let mut body = v.body.clone();
        body.extend_from_slice(b" ");
        let err = verify_request(&v.method, &pq, &headers, &body, &keys, &no_skew()).unwrap_err();
        let expected = if matches!(v.method.as_str(), "POST" | "PUT") {
            VerifyError::BodyHashMismatch
        } else {
            VerifyError::UnsignedBody
        };
        assert_eq!(err, expected, "{}", v.method);
    }
}

#[test]
fn verify_rejects_unknown_key_id() {
    let v = &load_vectors()[2];
    let empty: HashMap<String, PublicKey> = HashMap::new();
    assert_eq!(
        verify_request(
            &v.method,
            &v.path_and_query(),
            &v.signed_headers(),
            &v.body,
            &empty,
            &no_skew()
        ),
        Err(VerifyError::UnknownKey(common::key_id()))
    );
    // A keyId rewritten in the header is unknown too (and never reaches RSA).
    let mut headers = v.signed_headers();
    let auth = v.expected["authorization"].replace("exampleuser", "otheruser");
    headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    let err = verify_request(
        &v.method,
        &v.path_and_query(),
        &headers,
        &v.body,
        &common::key_map(),
        &no_skew(),
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::UnknownKey(ref k) if k.contains("otheruser")),
        "{err}"
    );
    // Closure-based lookup works the same way.
    let lookup = FnKeyLookup(|id: &str| (id == common::key_id()).then(common::public_key));
    assert!(verify_request(
        &v.method,
        &v.path_and_query(),
        &v.signed_headers(),
        &v.body,
        &lookup,
        &no_skew()
    )
    .is_ok());
}

#[test]
fn verify_reports_missing_and_malformed_authorization() {
    let v = &load_vectors()[0];
    let mut headers = v.signed_headers();
    headers.remove("authorization");
    assert_eq!(
        verify_request(
            "GET",
            &v.path_and_query(),
            &headers,
            b"",
            &common::key_map(),
            &no_skew()
        ),
        Err(VerifyError::MissingAuthorization)
    );
    headers.insert(
        "authorization",
        HeaderValue::from_static("Basic Zm9vOmJhcg=="),
    );
    assert!(matches!(
        verify_request(
            "GET",
            &v.path_and_query(),
            &headers,
            b"",
            &common::key_map(),
            &no_skew()
        ),
        Err(VerifyError::Malformed(_))
    ));
}

#[test]
fn verify_requires_content_headers_on_body_methods() {
    let signer = common::signer();
    let url =
        Url::parse("https://objectstorage.us-ashburn-1.oraclecloud.com/n/ns/b/bkt/o/obj").unwrap();
    let mut headers = HeaderMap::new();
    signer
        .sign_parts(
            "PUT",
            "objectstorage.us-ashburn-1.oraclecloud.com",
            url.path(),
            &mut headers,
            Some(b"object bytes"),
            ContentHeaders::Skip,
        )
        .unwrap();
    let auth = parse_authorization(headers["authorization"].to_str().unwrap()).unwrap();
    assert_eq!(auth.headers, vec!["date", "(request-target)", "host"]);
    assert!(!headers.contains_key("x-content-sha256"));

    let keys = common::key_map();
    assert_eq!(
        verify_request(
            "PUT",
            url.path(),
            &headers,
            b"object bytes",
            &keys,
            &no_skew()
        ),
        Err(VerifyError::HeaderNotSigned("content-length".into()))
    );
    let relaxed = VerifyOptions {
        require_content_headers: false,
        ..no_skew()
    };
    assert!(verify_request(
        "PUT",
        url.path(),
        &headers,
        b"object bytes",
        &keys,
        &relaxed
    )
    .is_ok());
}

#[test]
fn verify_checks_clock_skew_when_enabled() {
    let v = &load_vectors()[1];
    let date = httpdate::parse_http_date(&v.expected["date"]).unwrap();
    let keys = common::key_map();
    let at = |now: SystemTime| VerifyOptions {
        now: Some(now),
        ..VerifyOptions::default()
    };
    let check = |opts: &VerifyOptions| {
        verify_request(
            &v.method,
            &v.path_and_query(),
            &v.signed_headers(),
            &v.body,
            &keys,
            opts,
        )
    };
    assert!(check(&at(date + Duration::from_secs(240))).is_ok());
    assert!(check(&at(date - Duration::from_secs(240))).is_ok());
    assert_eq!(
        check(&at(date + Duration::from_secs(600))),
        Err(VerifyError::DateSkew {
            skew_secs: 600,
            max_secs: 300
        })
    );
    assert!(matches!(
        check(&at(date - Duration::from_secs(301))),
        Err(VerifyError::DateSkew { .. })
    ));
    // Default options use the real clock: the 2026-01-05 vectors are stale by now
    // or in the future, either way far outside 5 minutes.
    assert!(matches!(
        check(&VerifyOptions::default()),
        Err(VerifyError::DateSkew { .. })
    ));
}

#[test]
fn fingerprint_matches_vectors() {
    let v = common::vectors();
    let expected = v["fingerprint"].as_str().unwrap();
    assert_eq!(common::public_key().fingerprint(), expected);
    assert_eq!(
        fingerprint_spki_der(common::public_key().spki_der()),
        expected
    );
    assert_eq!(common::private_key().fingerprint().unwrap(), expected);
    assert!(common::key_id().ends_with(&format!("/{expected}")));
}

#[test]
fn pkcs1_keys_load_and_sign_identically() {
    let pkcs1 = PrivateKey::from_pem(include_str!("data/vector-key-pkcs1.pem"), None).unwrap();
    let fp = common::vectors()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(pkcs1.fingerprint().unwrap(), fp);
    let pub1 = PublicKey::from_pem(include_str!("data/vector-pub-pkcs1.pem")).unwrap();
    assert_eq!(pub1.fingerprint(), fp);
    assert_eq!(pub1, common::public_key());

    // A pass phrase inherited from [DEFAULT] is ignored for an unencrypted key.
    let signer = RequestSigner::new(common::key_id(), pkcs1);
    let v = &load_vectors()[2];
    let mut headers = v.unsigned_headers();
    signer
        .sign_url(&v.method, &v.url, &mut headers, Some(&v.body))
        .unwrap();
    assert_eq!(
        headers["authorization"],
        v.expected["authorization"].as_str()
    );
    let with_pw = PrivateKey::from_pem(
        include_str!("data/vector-key-pkcs1.pem"),
        Some(&Secret::new("unused")),
    );
    assert!(with_pw.is_ok());
}

#[test]
fn encrypted_and_wrong_keys_are_refused_clearly() {
    for pem in [
        include_str!("data/vector-key-encrypted.pem"),
        include_str!("data/vector-key-pkcs1-encrypted.pem"),
    ] {
        let err = PrivateKey::from_pem(pem, Some(&Secret::new("secret"))).unwrap_err();
        assert!(matches!(err, KeyError::EncryptedUnsupported), "{err}");
        assert!(err.to_string().contains("not supported"));
    }
    let err = PrivateKey::from_pem(common::vectors()["public_key_pem"].as_str().unwrap(), None)
        .unwrap_err();
    assert!(matches!(err, KeyError::PublicKeyGiven(_)), "{err}");
    assert!(matches!(
        PublicKey::from_pem(common::vectors()["private_key_pem"].as_str().unwrap()),
        Err(KeyError::UnsupportedLabel(_))
    ));
}

#[test]
fn private_key_is_redacted() {
    let key = common::private_key();
    assert_eq!(format!("{key:?}"), "[REDACTED]");
    assert_eq!(format!("{key}"), "[REDACTED]");
    let signer = common::signer();
    let dbg = format!("{signer:?}");
    assert!(dbg.contains("[REDACTED]") && !dbg.contains("MII"), "{dbg}");
}
