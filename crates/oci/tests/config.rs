//! Config file parsing: profiles, DEFAULT inheritance, errors, redaction.

mod common;

use std::path::PathBuf;

use portal_oci::config::{default_config_path, expand_tilde};
use portal_oci::{load_config, parse_config, ConfigError, OciClient, RequestSigner, Secret};

const FP: &str = "8a:25:90:84:dc:d6:99:d6:cc:04:46:95:34:72:c5:96";

fn sample() -> String {
    format!(
        "# OCI CLI config\n\
         [DEFAULT]\n\
         user=ocid1.user.oc1..aaaaaaaaexampleuser\n\
         fingerprint={FP}\n\
         key_file=~/.oci/oci_api_key.pem\n\
         tenancy=ocid1.tenancy.oc1..aaaaaaaaexampletenancy\n\
         region=us-ashburn-1\n\
         pass_phrase=hunter2\n\
         \n\
         ; a second profile overriding a few values\n\
         [ADMIN]\n\
         User : ocid1.user.oc1..aaaaaaaaadminuser\n\
         region = eu-frankfurt-1\n\
         key_file = /etc/oci/admin.pem\n\
         security_token_file = /tmp/token\n\
         \n\
         [BROKEN]\n\
         fingerprint = {FP}\n"
    )
}

fn home_join(rest: &str) -> PathBuf {
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => PathBuf::from(h).join(rest),
        None => PathBuf::from(format!("~/{rest}")),
    }
}

#[test]
fn default_profile_is_parsed_with_tilde_expansion() {
    let cfg = parse_config(&sample(), "DEFAULT").unwrap();
    assert_eq!(cfg.profile, "DEFAULT");
    assert_eq!(cfg.user, "ocid1.user.oc1..aaaaaaaaexampleuser");
    assert_eq!(cfg.tenancy, "ocid1.tenancy.oc1..aaaaaaaaexampletenancy");
    assert_eq!(cfg.fingerprint, FP);
    assert_eq!(cfg.region, "us-ashburn-1");
    assert_eq!(cfg.key_file, home_join(".oci/oci_api_key.pem"));
    assert_eq!(
        cfg.pass_phrase.as_ref().map(Secret::expose),
        Some("hunter2")
    );
    assert_eq!(cfg.key_id(), common::key_id());
}

#[test]
fn named_profile_inherits_default_values() {
    let cfg = parse_config(&sample(), "ADMIN").unwrap();
    assert_eq!(cfg.profile, "ADMIN");
    // Overridden (note the `:` delimiter and the upper-case key).
    assert_eq!(cfg.user, "ocid1.user.oc1..aaaaaaaaadminuser");
    assert_eq!(cfg.region, "eu-frankfurt-1");
    assert_eq!(cfg.key_file, PathBuf::from("/etc/oci/admin.pem"));
    // Inherited from [DEFAULT].
    assert_eq!(cfg.tenancy, "ocid1.tenancy.oc1..aaaaaaaaexampletenancy");
    assert_eq!(cfg.fingerprint, FP);
    assert!(cfg.pass_phrase.is_some());
}

#[test]
fn missing_key_error_names_key_and_profile() {
    let text = "[ONLY]\nuser=ocid1.user.oc1..aaaaaaaaexampleuser\nkey_file=/k.pem\n\
                tenancy=ocid1.tenancy.oc1..aaaaaaaaexampletenancy\nregion=us-ashburn-1\n";
    let err = parse_config(text, "ONLY").unwrap_err();
    assert!(
        matches!(err, ConfigError::MissingKey { key: "fingerprint", ref profile } if profile == "ONLY"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "OCI config profile [ONLY] is missing required key `fingerprint`"
    );
}

#[test]
fn unknown_profile_lists_available_ones() {
    let err = parse_config(&sample(), "admin").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConfigError::ProfileNotFound { .. }));
    assert!(
        msg.contains("[admin]") && msg.contains("ADMIN") && msg.contains("DEFAULT"),
        "{msg}"
    );
    // DEFAULT itself must exist to be loaded.
    let err = parse_config("[X]\nuser=u\n", "DEFAULT").unwrap_err();
    assert!(
        matches!(err, ConfigError::ProfileNotFound { .. }),
        "{err:?}"
    );
}

#[test]
fn invalid_values_are_rejected() {
    let text = sample().replace(FP, "8A-25");
    let err = parse_config(&text, "DEFAULT").unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::InvalidValue {
                key: "fingerprint",
                ..
            }
        ),
        "{err:?}"
    );
    let text = sample().replace("ocid1.tenancy.oc1..aaaaaaaaexampletenancy", "mytenancy");
    let err = parse_config(&text, "DEFAULT").unwrap_err();
    assert!(
        matches!(err, ConfigError::InvalidValue { key: "tenancy", .. }),
        "{err:?}"
    );
}

#[test]
fn syntax_errors_are_reported_with_line() {
    let err = parse_config("[DEFAULT\nuser=x\n", "DEFAULT").unwrap_err();
    assert!(
        matches!(err, ConfigError::Syntax { line: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("line 1"));
}

#[test]
fn secrets_are_redacted_in_debug_and_display() {
    let cfg = parse_config(&sample(), "DEFAULT").unwrap();
    let dbg = format!("{cfg:?}");
    assert!(dbg.contains("[REDACTED]"), "{dbg}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    let secret = Secret::new("hunter2");
    assert_eq!(format!("{secret}"), "[REDACTED]");
    assert_eq!(format!("{secret:?}"), "[REDACTED]");
    assert_eq!(secret.expose(), "hunter2");
}

#[test]
fn tilde_expansion_rules() {
    assert_eq!(expand_tilde("~/a/b"), home_join("a/b"));
    assert_eq!(expand_tilde("/abs/path"), PathBuf::from("/abs/path"));
    assert_eq!(expand_tilde("~other/x"), PathBuf::from("~other/x"));
    assert_eq!(default_config_path(), home_join(".oci/config"));
}

/// A unique scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("portal-oci-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn load_from_file_and_build_signer_and_client() {
    let dir = Scratch::new("cfg");
    let key_path = dir.0.join("key.pem");
    std::fs::write(
        &key_path,
        common::vectors()["private_key_pem"].as_str().unwrap(),
    )
    .unwrap();
    let cfg_path = dir.0.join("config");
    let text = sample().replace("/etc/oci/admin.pem", key_path.to_str().unwrap());
    std::fs::write(&cfg_path, text).unwrap();

    let cfg = load_config(&cfg_path, "ADMIN").unwrap();
    assert_eq!(cfg.key_file, key_path);
    let signer = RequestSigner::from_config(&cfg).unwrap();
    assert_eq!(signer.key_id(), cfg.key_id());
    assert_eq!(signer.private_key().fingerprint().unwrap(), cfg.fingerprint);

    let client = OciClient::from_config(&cfg, Default::default()).unwrap();
    assert_eq!(client.region(), "eu-frankfurt-1");
    assert_eq!(client.signer().key_id(), cfg.key_id());
}

#[test]
fn load_errors_name_the_path() {
    let dir = Scratch::new("missing");
    let missing = dir.0.join("nope");
    let err = load_config(&missing, "DEFAULT").unwrap_err();
    assert!(
        matches!(err, ConfigError::Io { ref path, .. } if *path == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope"));

    // A config whose key file does not exist fails when the signer is built.
    let cfg = parse_config(&sample(), "ADMIN").unwrap();
    let err = RequestSigner::from_config(&cfg).unwrap_err();
    assert!(err.to_string().contains("/etc/oci/admin.pem"), "{err}");
}
