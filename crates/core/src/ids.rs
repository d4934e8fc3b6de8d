//! Ids as types: an organisation's id cannot be passed where a user's is
//! expected. Each is a UUID's text (or a legacy id) held as-is; it reads as a
//! `&str` (deref) wherever text is needed — SQL parameters, URLs, logs — and is
//! made from text only explicitly, at the store and wire boundaries.

/// Declares an id newtype over `String`.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id of a text (from the store, a URL or a token).
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }

            /// Its text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Its text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                Self(s.clone())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }
    };
}

id_type! {
    /// An organisation's (tenant's) id.
    OrgId
}

id_type! {
    /// A person's (account's) id.
    UserId
}

id_type! {
    /// An approval's id: what an approver's link and a retried call name.
    ApprovalId
}

id_type! {
    /// A chat session's (a conversation's) id.
    SessionId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_their_text_and_serialise_transparently() {
        let o = OrgId::new("o-1");
        assert_eq!(o, "o-1");
        assert_eq!(&*o, "o-1");
        assert_eq!(format!("{o}"), "o-1");
        assert_eq!(serde_json::to_value(&o).unwrap(), serde_json::json!("o-1"));
        let u: UserId = serde_json::from_value(serde_json::json!("u-1")).unwrap();
        assert_eq!(u.as_str(), "u-1");
    }
}
