//! The location clause of OCI IAM policy statements, so that `createPolicy` is
//! judged by where its statements grant access, not only by where the policy
//! object lives.
//!
//! `Allow <subject> to <verb> <resources> in <location> [where <conditions>]`,
//! with `<location>` one of `tenancy`, `compartment <name or a:b:c path>`
//! (relative to the policy's own compartment) or `compartment id <ocid>`.
//! `Define`, `Endorse` and `Admit` statements act on the tenancy (OCI only
//! accepts them in the root compartment's policies). Anything else is refused:
//! a statement this parser cannot place could grant anything.

use portal_core::tools::valid_ocid;

/// Where one statement grants access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// The whole tenancy (`in tenancy`, and every Define/Endorse/Admit statement).
    Tenancy,
    /// `in compartment id <ocid>`.
    Id(String),
    /// `in compartment <name>` or `<a:b:c>`: names from the policy's compartment down.
    Path(Vec<String>),
}

/// Splits a statement into words, keeping quoted text and `{…}` lists whole
/// (a quoted group name may hold ` in ` or ` where `).
fn words(s: &str) -> Result<Vec<String>, String> {
    let (mut out, mut cur) = (Vec::new(), String::new());
    let (mut quote, mut depth) = (None::<char>, 0usize);
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '{' | '(') => {
                depth += 1;
                cur.push(c);
            }
            (None, '}' | ')') => {
                depth = depth.checked_sub(1).ok_or("unbalanced brackets")?;
                cur.push(c);
            }
            (None, c) if c.is_whitespace() && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if quote.is_some() || depth != 0 {
        return Err("unbalanced quotes or brackets".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// A compartment name as OCI allows it (letters, digits, '.', '-', '_').
fn compartment_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Where `statement` grants access; the error says why it cannot be placed.
pub(crate) fn location(statement: &str) -> Result<Location, String> {
    let words = words(statement)?;
    let verb = words.first().map(|w| w.to_ascii_lowercase());
    match verb.as_deref() {
        Some("define" | "endorse" | "admit") => return Ok(Location::Tenancy),
        Some("allow") => {}
        _ => return Err("must start with Allow, Endorse, Admit or Define".into()),
    }
    let is = |w: &String, k: &str| w.eq_ignore_ascii_case(k);
    let end = words
        .iter()
        .position(|w| is(w, "where"))
        .unwrap_or(words.len());
    let head = &words[..end];
    let to = head
        .iter()
        .position(|w| is(w, "to"))
        .ok_or("has no `to <verb> <resources>`")?;
    let at = head
        .iter()
        .rposition(|w| is(w, "in"))
        .filter(|at| *at > to)
        .ok_or("has no location (`in tenancy` or `in compartment …`)")?;
    match &head[at + 1..] {
        [t] if is(t, "tenancy") => Ok(Location::Tenancy),
        [c, id, ocid] if is(c, "compartment") && is(id, "id") => {
            if valid_ocid(ocid, Some("tenancy")) {
                Ok(Location::Tenancy)
            } else if valid_ocid(ocid, Some("compartment")) {
                Ok(Location::Id(ocid.clone()))
            } else {
                Err(format!("names {ocid}, which is not a compartment OCID"))
            }
        }
        [c, path] if is(c, "compartment") => {
            let path = path.trim_matches(|q| q == '\'' || q == '"');
            let names: Vec<String> = path.split(':').map(str::to_string).collect();
            if names.iter().all(|n| compartment_name(n)) {
                Ok(Location::Path(names))
            } else {
                Err(format!("names compartment {path:?}, which is not a compartment name or path"))
            }
        }
        _ => Err("has a location other than `in tenancy`, `in compartment <name or path>` or `in compartment id <ocid>`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_read_from_the_statement() {
        let loc = |s: &str| location(s);
        assert_eq!(
            loc("Allow group Everyone to manage all-resources in tenancy"),
            Ok(Location::Tenancy)
        );
        assert_eq!(
            loc("allow group Dev to read instances IN TENANCY where request.region = 'iad'"),
            Ok(Location::Tenancy)
        );
        assert_eq!(
            loc("Allow group Dev to use instances in compartment Development"),
            Ok(Location::Path(vec!["Development".into()]))
        );
        assert_eq!(
            loc("Allow group Dev to use instances in compartment Prod:apps"),
            Ok(Location::Path(vec!["Prod".into(), "apps".into()]))
        );
        assert_eq!(
            loc("Allow group Dev to use instances in compartment id ocid1.compartment.oc1..aaaa"),
            Ok(Location::Id("ocid1.compartment.oc1..aaaa".into()))
        );
        assert_eq!(
            loc("Allow group Dev to use instances in compartment id ocid1.tenancy.oc1..aaaa"),
            Ok(Location::Tenancy)
        );
        // A quoted subject holding ` in ` does not move the location.
        assert_eq!(
            loc("Allow group 'Default'/'Ops in tenancy' to {INSTANCE_READ, INSPECT} in compartment Dev where any {request.user.name = 'in tenancy'}"),
            Ok(Location::Path(vec!["Dev".into()]))
        );
        assert_eq!(
            loc("Define tenancy Acme as ocid1.tenancy.oc1..aaa"),
            Ok(Location::Tenancy)
        );
        assert_eq!(
            loc("Endorse group Ops to manage all-resources in any-tenancy"),
            Ok(Location::Tenancy)
        );
        for bad in [
            "Allow group Everyone to manage all-resources",
            "Allow group Everyone to manage all-resources in",
            "Allow group Everyone to manage all-resources in compartment",
            "Allow group Everyone to manage all-resources in compartment a b",
            "Allow group Everyone to manage all-resources in compartment id nope",
            "Allow group Everyone to manage all-resources in compartment id ocid1.instance.oc1..x",
            "Allow group Everyone to manage all-resources in everything",
            "Allow group 'Everyone to manage all-resources in tenancy",
            "Allow group Everyone manage all-resources in tenancy",
            "Permit everyone everything",
        ] {
            assert!(loc(bad).is_err(), "{bad}");
        }
    }
}
