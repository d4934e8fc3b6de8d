//! The outbound guard's and webhook delivery's settings.

use std::time::Duration;

use super::env;
use crate::config::*;
use crate::outbound::AllowEntry;

#[test]
fn outbound_allow_takes_hosts_and_cidrs_and_names_bad_ones() {
    let d = Settings::load(None, env(&[])).unwrap();
    assert!(d.outbound.allow.is_empty(), "empty by default");
    assert!(!d.outbound.allow_http);
    assert_eq!(d.outbound.timeout, Duration::from_secs(15));
    let s = Settings::load(
        None,
        env(&[(
            "PORTAL_OUTBOUND_ALLOW",
            "127.0.0.1, 10.0.0.0/8,hooks.internal",
        )]),
    )
    .unwrap();
    assert_eq!(
        s.outbound.allow,
        vec![
            AllowEntry::parse("127.0.0.1").unwrap(),
            AllowEntry::parse("10.0.0.0/8").unwrap(),
            AllowEntry::Host("hooks.internal".into()),
        ]
    );
    assert!(s.outbound.policy().check_url("https://10.2.3.4/").is_ok());
    let err = Settings::load(None, env(&[("PORTAL_OUTBOUND_ALLOW", "not a host!")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("PORTAL_OUTBOUND_ALLOW"), "{err}");
}

#[test]
fn plain_http_is_for_development_only() {
    let s = Settings::load(None, env(&[("PORTAL_OUTBOUND_ALLOW_HTTP", "true")])).unwrap();
    assert!(s.outbound.policy().allow_http);
    let err = Settings::load(
        None,
        env(&[
            ("PORTAL_ENV", "production"),
            ("PORTAL_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
            ("PORTAL_CORS_ORIGINS", "https://portal.example"),
            ("PORTAL_CLOUD", "none"),
            ("PORTAL_OUTBOUND_ALLOW_HTTP", "true"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("PORTAL_OUTBOUND_ALLOW_HTTP"), "{err}");
}

#[test]
fn the_retry_schedule_defaults_to_the_spec_and_can_be_shortened() {
    let d = Settings::load(None, env(&[])).unwrap();
    assert_eq!(
        d.webhooks.retry_schedule,
        crate::webhooks::schedule::default_schedule()
    );
    let s = Settings::load(
        None,
        env(&[("PORTAL_WEBHOOKS_RETRY_SCHEDULE_MS", "10,20,30")]),
    )
    .unwrap();
    assert_eq!(
        s.webhooks.retry_schedule,
        [10, 20, 30].map(Duration::from_millis).to_vec()
    );
    for bad in [
        "5,soon",
        "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21",
    ] {
        let err = Settings::load(None, env(&[("PORTAL_WEBHOOKS_RETRY_SCHEDULE_MS", bad)]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PORTAL_WEBHOOKS_RETRY_SCHEDULE_MS"),
            "{bad:?}: {err}"
        );
    }
}
