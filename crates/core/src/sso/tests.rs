use std::collections::BTreeMap;

use serde_json::json;

use super::rules::*;
use super::*;
use crate::model::User;
use crate::rbac::Role;

fn idp() -> IdentityProvider {
    IdentityProvider {
        id: "p".into(),
        org_id: None,
        name: "Corp".into(),
        issuer: "https://op.example".into(),
        client_id: "c".into(),
        client_secret_sealed: None,
        scopes: vec![],
        groups_claim: "groups".into(),
        groups_source: GroupsSource::IdToken,
        admin_groups: vec!["admins".into()],
        operator_groups: vec!["ops".into()],
        org_claim: Some("tenant".into()),
        org_map: BTreeMap::from([("t1".into(), "org-1".into())]),
        default_org_id: Some("org-default".into()),
        roles_managed: true,
        jit: false,
        allowed_domains: vec![],
        enabled: true,
        created_at: 0,
        updated_at: 0,
    }
}

fn ident(email: Option<&str>, verified: bool) -> ExternalIdentity {
    ExternalIdentity {
        email: email.map(str::to_string),
        email_verified: verified,
        ..Default::default()
    }
}

fn user() -> User {
    User {
        id: "u1".into(),
        email: "a@x.example".into(),
        name: "A".into(),
        platform_admin: false,
        must_change_password: false,
        created_at: 0,
    }
}

#[test]
fn groups_map_to_roles_admin_first() {
    let p = idp();
    let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        role_for(&p, &g(&["x", "ops"])),
        (Role::Operator, Some("ops".into()))
    );
    assert_eq!(
        role_for(&p, &g(&["ops", "admins"])),
        (Role::Admin, Some("admins".into()))
    );
    assert_eq!(role_for(&p, &g(&["x"])), (Role::Viewer, None));
    assert_eq!(groups_of(Some(&json!("ops"))), g(&["ops"]));
    assert_eq!(groups_of(Some(&json!(["a", 1, "b"]))), g(&["a", "b"]));
    assert!(groups_of(Some(&json!({"a": 1}))).is_empty());
}

#[test]
fn organisation_from_the_provider_the_claim_or_the_default() {
    let mut p = idp();
    let mut id = ident(None, false);
    id.claims.insert("tenant".into(), json!("t1"));
    assert_eq!(target_org(&p, &id).as_deref(), Some("org-1"));
    id.claims.insert("tenant".into(), json!("unknown"));
    assert_eq!(target_org(&p, &id).as_deref(), Some("org-default"));
    p.org_id = Some("own".into());
    assert_eq!(target_org(&p, &id).as_deref(), Some("own"));
    p.org_id = None;
    p.default_org_id = None;
    assert_eq!(target_org(&p, &id), None);
}

#[test]
fn email_domains() {
    let mut p = idp();
    assert!(domain_allowed(&p, None));
    p.allowed_domains = vec!["Example.com".into()];
    assert!(domain_allowed(&p, Some("a@example.COM")));
    assert!(!domain_allowed(&p, Some("a@evil.com")));
    assert!(!domain_allowed(&p, Some("a@sub.example.com")));
    assert!(!domain_allowed(&p, None));
}

#[test]
fn links_only_by_verified_email() {
    let mut p = idp();
    let u = user();
    assert_eq!(
        link(&p, true, Some("u9".into()), &ident(None, false), None),
        Link::Known("u9".into())
    );
    assert_eq!(
        link(&p, true, None, &ident(Some("a@x.example"), true), Some(&u)),
        Link::ByEmail("u1".into())
    );
    assert!(matches!(
        link(&p, true, None, &ident(Some("a@x.example"), false), Some(&u)),
        Link::Refuse(_)
    ));
    assert!(matches!(
        link(&p, true, None, &ident(Some("n@x.example"), true), None),
        Link::Refuse(_)
    ));
    p.jit = true;
    assert_eq!(
        link(&p, true, None, &ident(Some("n@x.example"), false), None),
        Link::Create
    );
    assert!(matches!(
        link(&p, true, None, &ident(None, true), None),
        Link::Refuse(_)
    ));
    // The portal's setting off: the stricter wins, and says which refused.
    assert!(matches!(
        link(&p, false, None, &ident(Some("n@x.example"), true), None),
        Link::Refuse(m) if m.contains("this portal does not create")
    ));
    assert!(jit(&p, true) && !jit(&p, false));
    p.jit = false;
    assert!(!jit(&p, true));
    // A known subject or a verified email still signs in with JIT off.
    assert_eq!(
        link(&p, false, None, &ident(Some("a@x.example"), true), Some(&u)),
        Link::ByEmail("u1".into())
    );
}

#[test]
fn a_provider_reaches_its_org_or_the_orgs_it_maps_to() {
    let mut p = idp();
    assert!(reaches(&p, &"org-1".into()), "mapped");
    assert!(reaches(&p, &"org-default".into()), "default");
    assert!(!reaches(&p, &"org-2".into()));
    p.org_id = Some("org-2".into());
    assert!(reaches(&p, &"org-2".into()));
    assert!(
        !reaches(&p, &"org-1".into()),
        "its own org only, whatever the map says"
    );
}
