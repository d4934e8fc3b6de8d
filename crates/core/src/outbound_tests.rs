use super::*;

fn policy() -> OutboundPolicy {
    OutboundPolicy::default()
}

fn refused(url: &str) -> bool {
    matches!(policy().check_url(url), Err(Refusal::Forbidden(..)))
}

#[test]
fn every_forbidden_ipv4_range_is_refused() {
    for url in [
        "https://127.0.0.1/",
        "https://127.8.9.10/",
        "https://0.0.0.0/",
        "https://10.1.2.3/",
        "https://172.16.0.1/",
        "https://172.31.255.255/",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/",
        "https://100.127.255.255/",
        "https://224.0.0.1/",
        "https://239.255.255.250/",
        "https://255.255.255.255/",
        "https://192.0.2.1/",
    ] {
        assert!(refused(url), "{url} should be refused");
    }
    for url in [
        "https://8.8.8.8/",
        "https://172.32.0.1/",
        "https://100.128.0.1/",
        "https://1.1.1.1/",
    ] {
        assert!(policy().check_url(url).is_ok(), "{url} is public");
    }
}

#[test]
fn every_forbidden_ipv6_range_and_embedded_form_is_refused() {
    for url in [
        "https://[::1]/",
        "https://[::]/",
        "https://[fc00::1]/",
        "https://[fd12:3456::1]/",
        "https://[fe80::1]/",
        "https://[ff02::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[::ffff:169.254.169.254]/",
        "https://[::ffff:10.0.0.1]/",
        "https://[::127.0.0.1]/",
        "https://[64:ff9b::10.0.0.1]/",
        "https://[2002:7f00:1::]/",
        "https://[2002:a9fe:a9fe::1]/",
        "https://[2001:db8::1]/",
    ] {
        assert!(refused(url), "{url} should be refused");
    }
    // Teredo carrying 127.0.0.1 (inverted: 0x80ff:fffe).
    assert!(refused("https://[2001:0:1:2:3:4:80ff:fffe]/"));
    assert!(policy().check_url("https://[2606:4700::1111]/").is_ok());
    assert!(policy().check_url("https://[::ffff:8.8.8.8]/").is_ok());
}

#[test]
fn odd_ipv4_notations_mean_the_address_they_spell() {
    for url in [
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0x7f.1/",
        "https://0177.0.0.1/",
        "https://017700000001/",
        "https://127.1/",
        "https://0/",
        "https://3232235777/",
        "https://0xa9.0xfe.0xa9.0xfe/",
        "https://LOCALHOST/",
        "https://api.localhost/",
        "https://localhost./",
    ] {
        assert!(refused(url), "{url} should be refused");
    }
}

#[test]
fn scheme_credentials_and_shape() {
    assert_eq!(
        policy().check_url("http://8.8.8.8/").unwrap_err(),
        Refusal::Scheme
    );
    assert_eq!(
        policy().check_url("ftp://8.8.8.8/").unwrap_err(),
        Refusal::Scheme
    );
    assert_eq!(
        policy().check_url("https://u:p@8.8.8.8/").unwrap_err(),
        Refusal::Credentials
    );
    assert_eq!(
        policy().check_url("not a url").unwrap_err(),
        Refusal::BadUrl
    );
    let dev = OutboundPolicy {
        allow_http: true,
        ..policy()
    };
    let t = dev.check_url("http://Hooks.Example.com:8443/x").unwrap();
    assert_eq!((t.host.as_str(), t.literal), ("hooks.example.com", None));
    assert!(refused("http://127.0.0.1/") || dev.check_url("http://127.0.0.1/").is_err());
}

#[test]
fn the_allowlist_opens_hosts_and_networks_only() {
    let p = OutboundPolicy {
        allow: vec![
            AllowEntry::parse("127.0.0.1").unwrap(),
            AllowEntry::parse("10.0.0.0/8").unwrap(),
            AllowEntry::parse("Hooks.Internal").unwrap(),
        ],
        allow_http: false,
    };
    assert!(p.check_url("https://127.0.0.1:9/").is_ok());
    assert!(p.check_url("https://2130706433/").is_ok());
    assert!(p.check_url("https://10.9.9.9/").is_ok());
    assert!(p.check_url("https://127.0.0.2/").is_err());
    assert!(p.check_url("https://192.168.0.1/").is_err());
    assert!(p
        .check_addr("hooks.internal", "192.168.0.1".parse().unwrap())
        .is_ok());
    assert!(p
        .check_addr("other.internal", "192.168.0.1".parse().unwrap())
        .is_err());
    assert!(AllowEntry::parse("bad host!").is_err());
    assert_eq!(AllowEntry::parse("::1/128").unwrap().to_string(), "::1/128");
}
