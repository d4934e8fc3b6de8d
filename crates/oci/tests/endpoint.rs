//! Region → endpoint resolution and the emulator override.

mod common;

use portal_oci::endpoint::{
    canonical_region, encode_path_param, realm_of, second_level_domain, EndpointError, Service,
};
use url::Url;

#[test]
fn oc1_endpoints_follow_templates() {
    assert_eq!(
        Service::COMPUTE.endpoint("us-ashburn-1").unwrap(),
        "https://iaas.us-ashburn-1.oraclecloud.com"
    );
    assert_eq!(
        Service::IDENTITY.endpoint("eu-frankfurt-1").unwrap(),
        "https://identity.eu-frankfurt-1.oci.oraclecloud.com"
    );
    assert_eq!(
        Service::GENERATIVE_AI_INFERENCE
            .endpoint("us-chicago-1")
            .unwrap(),
        "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com"
    );
    assert_eq!(
        Service::COMPUTE.base_url("us-ashburn-1", None).unwrap(),
        "https://iaas.us-ashburn-1.oraclecloud.com/20160918"
    );
    assert_eq!(
        Service::LOAD_BALANCER
            .base_url("us-phoenix-1", None)
            .unwrap(),
        "https://iaas.us-phoenix-1.oraclecloud.com/20170115"
    );
    // Object Storage has base path "/": no version prefix, no trailing slash.
    assert_eq!(
        Service::OBJECT_STORAGE
            .base_url("us-ashburn-1", None)
            .unwrap(),
        "https://objectstorage.us-ashburn-1.oraclecloud.com"
    );
}

#[test]
fn short_codes_and_case_are_normalised() {
    assert_eq!(canonical_region("IAD"), "us-ashburn-1");
    assert_eq!(canonical_region("fra"), "eu-frankfurt-1");
    assert_eq!(canonical_region("Us-Phoenix-1"), "us-phoenix-1");
    assert_eq!(
        Service::COMPUTE.endpoint("phx").unwrap(),
        "https://iaas.us-phoenix-1.oraclecloud.com"
    );
}

#[test]
fn other_realms_and_unknown_regions() {
    assert_eq!(realm_of("us-langley-1"), Some("oc2"));
    assert_eq!(second_level_domain("us-langley-1"), "oraclegovcloud.com");
    assert_eq!(second_level_domain("uk-gov-london-1"), "oraclegovcloud.uk");
    assert_eq!(
        Service::COMPUTE.endpoint("eu-frankfurt-2").unwrap(),
        "https://iaas.eu-frankfurt-2.oraclecloud.eu"
    );
    // Unknown region → oc1's domain, as the SDK defaults.
    assert_eq!(realm_of("xx-mars-1"), None);
    assert_eq!(
        Service::COMPUTE.endpoint("xx-mars-1").unwrap(),
        "https://iaas.xx-mars-1.oraclecloud.com"
    );
    // A region with a dot is a full domain.
    assert_eq!(
        Service::IDENTITY
            .endpoint("us-ashburn-1.example.test")
            .unwrap(),
        "https://identity.us-ashburn-1.example.test"
    );
    assert_eq!(
        Service::COMPUTE.endpoint(" "),
        Err(EndpointError::EmptyRegion)
    );
}

#[test]
fn vector_urls_are_reproduced() {
    let v = common::vectors();
    let urls: Vec<&str> = v["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["url"].as_str().unwrap())
        .collect();
    let cid = "ocid1.compartment.oc1..aaaaaaaaexample";
    let u = Service::COMPUTE
        .url(
            "iad",
            None,
            "/instances",
            &[("compartmentId", cid), ("limit", "50")],
        )
        .unwrap();
    assert_eq!(u.as_str(), urls[0]);
    let u = Service::OBJECT_STORAGE
        .url("us-ashburn-1", None, "/n/examplens/b/demo-bucket", &[])
        .unwrap();
    assert_eq!(u.as_str(), urls[3]);
    let id = encode_path_param("ocid1.instance.oc1.iad.aaaaaaaaexample", false).unwrap();
    let u = Service::COMPUTE
        .url(
            "us-ashburn-1",
            None,
            &format!("/instances/{id}"),
            &[("action", "STOP")],
        )
        .unwrap();
    assert_eq!(u.as_str(), urls[4]);
}

#[test]
fn override_replaces_scheme_host_port_and_keeps_base_path() {
    let emu = Url::parse("http://127.0.0.1:8080").unwrap();
    assert_eq!(
        Service::COMPUTE
            .base_url("us-ashburn-1", Some(&emu))
            .unwrap(),
        "http://127.0.0.1:8080/20160918"
    );
    let u = Service::COMPUTE
        .url("us-ashburn-1", Some(&emu), "/instances", &[("limit", "5")])
        .unwrap();
    assert_eq!(
        u.as_str(),
        "http://127.0.0.1:8080/20160918/instances?limit=5"
    );
    assert_eq!(
        Service::OBJECT_STORAGE
            .url("us-ashburn-1", Some(&emu), "/n/ns/b/bkt", &[])
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8080/n/ns/b/bkt"
    );
    // A path on the override is kept as a prefix; trailing slash tolerated.
    let prefixed = Url::parse("https://emu.local/oci/").unwrap();
    assert_eq!(
        Service::IDENTITY.base_url("iad", Some(&prefixed)).unwrap(),
        "https://emu.local/oci/20160918"
    );
    let v6 = Url::parse("http://[::1]:9000").unwrap();
    assert_eq!(
        Service::COMPUTE.base_url("iad", Some(&v6)).unwrap(),
        "http://[::1]:9000/20160918"
    );
    let bad = Url::parse("ftp://127.0.0.1/").unwrap();
    assert!(matches!(
        Service::COMPUTE.base_url("iad", Some(&bad)),
        Err(EndpointError::InvalidOverride(_))
    ));
}

#[test]
fn paths_and_queries_are_encoded() {
    assert!(matches!(
        Service::COMPUTE.url("iad", None, "instances", &[]),
        Err(EndpointError::InvalidPath(_))
    ));
    let u = Service::COMPUTE
        .url(
            "iad",
            None,
            "/instances",
            &[("displayName", "a b&c"), ("x", "é")],
        )
        .unwrap();
    assert_eq!(u.query(), Some("displayName=a+b%26c&x=%C3%A9"));

    assert_eq!(encode_path_param("a/b c", false).unwrap(), "a/b%20c");
    assert_eq!(encode_path_param("a/b c", true).unwrap(), "a%2Fb%20c");
    assert_eq!(
        encode_path_param("dir/obj.txt~", true).unwrap(),
        "dir%2Fobj.txt~"
    );
    assert_eq!(encode_path_param("a..b", true).unwrap(), "a..b");
}

#[test]
fn dot_segments_and_empty_path_parameters_are_refused() {
    // `%2E%2E` is still `..` to the URL parser: `getBucket ".."` reached `GET /n/{ns}/`.
    for v in ["", ".", ".."] {
        for strict in [true, false] {
            assert_eq!(
                encode_path_param(v, strict),
                Err(EndpointError::DotSegment(v.to_string()))
            );
        }
    }
    for path in [
        "/n/ns/b/..",
        "/n/ns/b/%2E%2E",
        "/n/ns/b/%2e.",
        "/n/ns/b/.",
        "/n/ns/b/../",
        "/n/ns/b//o",
        "/n/ns/b/x/../y",
    ] {
        let err = Service::OBJECT_STORAGE
            .url("us-ashburn-1", None, path, &[])
            .unwrap_err();
        assert!(matches!(err, EndpointError::DotSegment(_)), "{path}: {err}");
    }
    assert!(Service::OBJECT_STORAGE
        .url("us-ashburn-1", None, "/n/ns/b/a..b/o/x.txt", &[])
        .is_ok());
    assert!(Service::IDENTITY
        .url("us-ashburn-1", None, "/", &[])
        .is_ok());
    // OCI's own trailing slashes (GetNamespace is `GET /n/`) stay.
    assert!(Service::OBJECT_STORAGE
        .url("us-ashburn-1", None, "/n/", &[])
        .is_ok());
}

#[test]
fn custom_services_work_like_built_ins() {
    let svc = Service::new(
        "demo",
        "https://demo.{region}.oci.{secondLevelDomain}",
        "/20240101/",
    );
    assert_eq!(
        svc.base_url("syd", None).unwrap(),
        "https://demo.ap-sydney-1.oci.oraclecloud.com/20240101"
    );
    assert!(!svc.is_object_storage());
    assert!(Service::OBJECT_STORAGE.is_object_storage());
    assert_eq!(Service::ALL.len(), 16);
}
