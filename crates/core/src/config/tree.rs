//! The merged configuration tree and the serde deserializer over it.
//!
//! Environment values are text; the deserializer turns a leaf into whatever its
//! field asks for (a number, a flag, a comma-separated list, an enum), so one
//! `Deserialize` derive per concern serves TOML and the environment alike. Each
//! leaf remembers the name the user wrote, and an error from it names that name.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

/// Where a value came from: the name the user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Origin {
    /// A `PORTAL_*` environment variable.
    Env(String),
    /// A key of the TOML file, as written (`bind` or `http.bind`).
    File(String),
}

impl Origin {
    /// The variable or key, for messages.
    pub(super) fn name(&self) -> &str {
        match self {
            Origin::Env(n) | Origin::File(n) => n,
        }
    }
}

/// A leaf's raw value.
#[derive(Debug, Clone)]
pub(super) enum Raw {
    /// Text from the environment.
    Text(String),
    /// A value from the TOML file.
    Toml(toml::Value),
}

/// One setting's value and where it came from.
#[derive(Debug, Clone)]
pub(super) struct Leaf {
    pub(super) raw: Raw,
    pub(super) origin: Origin,
}

/// Tables by key; leaves are settings.
#[derive(Debug, Default)]
pub(super) struct Tree(BTreeMap<String, Node>);

#[derive(Debug)]
enum Node {
    Table(Tree),
    Leaf(Leaf),
}

impl Tree {
    /// Sets the leaf at a dotted path, replacing what an earlier layer put there.
    pub(super) fn insert(&mut self, path: &str, leaf: Leaf) {
        match path.split_once('.') {
            None => {
                self.0.insert(path.to_string(), Node::Leaf(leaf));
            }
            Some((head, rest)) => {
                let node = self
                    .0
                    .entry(head.to_string())
                    .or_insert_with(|| Node::Table(Tree::default()));
                if let Node::Leaf(_) = node {
                    *node = Node::Table(Tree::default());
                }
                if let Node::Table(t) = node {
                    t.insert(rest, leaf);
                }
            }
        }
    }
}

/// A deserialisation problem; `setting` is filled in by the leaf it came from.
#[derive(Debug)]
pub(super) struct Error {
    pub(super) setting: Option<String>,
    pub(super) message: String,
}

impl Error {
    fn at(mut self, origin: &Origin) -> Self {
        if self.setting.is_none() {
            self.setting = Some(origin.name().to_string());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            setting: None,
            message: msg.to_string(),
        }
    }
}

impl<'de> de::Deserializer<'de> for Tree {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(Entries {
            iter: self.0.into_iter(),
            next: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct Entries {
    iter: std::collections::btree_map::IntoIter<String, Node>,
    next: Option<Node>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((key, node)) => {
                self.next = Some(node);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.next.take() {
            Some(Node::Table(t)) => seed.deserialize(t),
            Some(Node::Leaf(leaf)) => {
                let origin = leaf.origin.clone();
                // Field-level checks run after the leaf returned: name them here too.
                seed.deserialize(leaf).map_err(|e| e.at(&origin))
            }
            None => Err(de::Error::custom("value without a key")),
        }
    }
}

/// Accepts what every release has accepted for a flag.
pub(super) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl Leaf {
    /// The value as text, when it is text (from the environment or a TOML string).
    fn text(&self) -> Option<&str> {
        match &self.raw {
            Raw::Text(s) | Raw::Toml(toml::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    fn with(&self, raw: Raw) -> Leaf {
        Leaf {
            raw,
            origin: self.origin.clone(),
        }
    }

    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let Some(text) = self.text() else {
            return de::Deserializer::deserialize_any(self, visitor);
        };
        let t = text.trim();
        let bad = || de::Error::custom(format!("invalid value {text:?}: expected a whole number"));
        if t.starts_with('-') {
            visitor.visit_i64(t.parse().map_err(|_| bad())?)
        } else {
            visitor.visit_u64(t.parse().map_err(|_| bad())?)
        }
    }
}

macro_rules! integers {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                self.integer(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Leaf {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.raw {
            Raw::Text(s) => visitor.visit_string(s),
            Raw::Toml(toml::Value::String(s)) => visitor.visit_string(s),
            Raw::Toml(toml::Value::Integer(i)) => visitor.visit_i64(i),
            Raw::Toml(toml::Value::Float(f)) => visitor.visit_f64(f),
            Raw::Toml(toml::Value::Boolean(b)) => visitor.visit_bool(b),
            Raw::Toml(toml::Value::Datetime(d)) => visitor.visit_string(d.to_string()),
            Raw::Toml(toml::Value::Array(items)) => visitor.visit_seq(Items(
                items
                    .into_iter()
                    .map(|v| Leaf {
                        raw: Raw::Toml(v),
                        origin: self.origin.clone(),
                    })
                    .collect::<Vec<_>>()
                    .into_iter(),
            )),
            Raw::Toml(toml::Value::Table(_)) => {
                Err(de::Error::custom("expected a value, found a table"))
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text() {
            Some(t) => match parse_bool(t) {
                Some(b) => visitor.visit_bool(b),
                None => Err(de::Error::custom(format!(
                    "expected true or false, got {t:?}"
                ))),
            },
            None => self.deserialize_any(visitor),
        }
    }

    integers! { deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
    deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text() {
            Some(t) => visitor.visit_f64(t.trim().parse().map_err(|_| {
                de::Error::custom(format!("invalid value {t:?}: expected a number"))
            })?),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    /// Text settings take a TOML number or flag as written, as they always have.
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.raw {
            Raw::Toml(toml::Value::Integer(i)) => visitor.visit_string(i.to_string()),
            Raw::Toml(toml::Value::Float(f)) => visitor.visit_string(f.to_string()),
            Raw::Toml(toml::Value::Boolean(b)) => visitor.visit_string(b.to_string()),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// A list is a TOML array or comma-separated text.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text() {
            Some(t) => {
                let items: Vec<Leaf> = t
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| self.with(Raw::Text(s.to_string())))
                    .collect();
                visitor.visit_seq(Items(items.into_iter()))
            }
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.text() {
            Some(t) => visitor.visit_enum(t.trim().to_string().into_deserializer()),
            None => Err(de::Error::custom("expected a name (text)")),
        }
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct Items(std::vec::IntoIter<Leaf>);

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(leaf) => seed.deserialize(leaf).map(Some),
            None => Ok(None),
        }
    }
}
