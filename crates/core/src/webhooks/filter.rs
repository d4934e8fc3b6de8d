//! Which event kinds a subscription gets: exact kinds (`tool.executed`) and
//! prefixes (`approval.*`, `*` for everything).

/// A subscription's event-type filter, as the admin wrote it (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter(Vec<String>);

/// At most this many patterns per subscription.
const MAX_PATTERNS: usize = 50;

impl EventFilter {
    /// Validates patterns: lower-case dotted names of letters, digits and `_`,
    /// optionally ending in `.*` (or `*` alone); at least one, no duplicates.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, String> {
        if patterns.is_empty() {
            return Err("list at least one event type (or \"*\")".into());
        }
        if patterns.len() > MAX_PATTERNS {
            return Err(format!("at most {MAX_PATTERNS} event types"));
        }
        let mut out: Vec<String> = Vec::with_capacity(patterns.len());
        for p in patterns {
            let p = p.as_ref().trim();
            let name = p.strip_suffix(".*").unwrap_or(p);
            let ok = p == "*"
                || (!name.is_empty()
                    && name.len() <= 100
                    && name.split('.').all(|part| {
                        !part.is_empty()
                            && part
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    }));
            if !ok {
                return Err(format!(
                    "{p:?} is not an event type (e.g. \"tool.executed\" or \"approval.*\")"
                ));
            }
            if !out.iter().any(|o| o == p) {
                out.push(p.to_string());
            }
        }
        Ok(Self(out))
    }

    /// The filter of stored patterns (already validated when stored).
    pub fn stored(patterns: Vec<String>) -> Self {
        Self(patterns)
    }

    /// The patterns.
    pub fn patterns(&self) -> &[String] {
        &self.0
    }

    /// True when events of `kind` go to this subscription.
    pub fn matches(&self, kind: &str) -> bool {
        self.0.iter().any(|p| match p.strip_suffix('*') {
            Some("") => true,
            // `approval.*` matches `approval.requested` and `approval.x.y`, not `approval`.
            Some(prefix) => kind.starts_with(prefix) && kind.len() > prefix.len(),
            None => p == kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_kinds_and_prefixes() {
        let f = EventFilter::parse(&["tool.executed", "approval.*"]).unwrap();
        assert!(f.matches("tool.executed"));
        assert!(!f.matches("tool.executed.more"));
        assert!(f.matches("approval.requested"));
        assert!(f.matches("approval.decided"));
        assert!(!f.matches("approval"));
        assert!(!f.matches("approvals.x"));
        assert!(!f.matches("webhook.test"));
        assert!(EventFilter::parse(&["*"])
            .unwrap()
            .matches("anything.at.all"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(EventFilter::parse::<&str>(&[]).is_err());
        for bad in [
            "",
            "Tool.Executed",
            "tool..x",
            "tool.*.x",
            "a b",
            "*.x",
            ".*",
        ] {
            assert!(EventFilter::parse(&[bad]).is_err(), "{bad:?}");
        }
        let dup = EventFilter::parse(&["a.b", " a.b "]).unwrap();
        assert_eq!(dup.patterns(), ["a.b"]);
    }
}
