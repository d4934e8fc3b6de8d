//! Field types that need a rule of their own: durations in whole units,
//! positive counts, origins, URLs, CIDRs and secrets. A failure here is named
//! after the setting by the tree that called it.

use std::time::Duration;

use ipnet::IpNet;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::Secret;

use super::ConfigError;

/// Checks that `raw` is a bare origin (`scheme://host[:port]`) and returns it normalised.
pub fn parse_origin(env: &str, raw: &str) -> Result<String, ConfigError> {
    origin(raw).map_err(|message| ConfigError::Invalid {
        setting: env.to_string(),
        message,
    })
}

fn origin(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| format!("{raw:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ', '*']) {
        return Err(format!(
            "{raw:?} must be an origin (scheme://host[:port]) without path or wildcard"
        ));
    }
    Ok(trimmed.to_ascii_lowercase())
}

/// A duration written in whole seconds, greater than zero.
pub(super) mod secs {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        d.as_secs().serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match u64::deserialize(d)? {
            0 => Err(D::Error::custom("must be greater than 0")),
            v => Ok(Duration::from_secs(v)),
        }
    }
}

/// A duration written in milliseconds.
pub(super) mod millis {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        u64::try_from(d.as_millis())
            .unwrap_or(u64::MAX)
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// A count that must be greater than zero.
pub(super) fn positive<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default + PartialEq,
{
    let v = T::deserialize(d)?;
    if v == T::default() {
        return Err(D::Error::custom("must be greater than 0"));
    }
    Ok(v)
}

/// An origin (`scheme://host[:port]`), normalised.
pub(super) fn origin_field<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    origin(&String::deserialize(d)?).map_err(D::Error::custom)
}

/// An optional origin.
pub(super) fn optional_origin<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    origin_field(d).map(Some)
}

/// Browser origins; `*` is refused, an explicit list is required.
pub(super) fn origins<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    words(d)?
        .iter()
        .map(|o| match o.as_str() {
            "*" => Err("\"*\" is not allowed: list explicit origins".to_string()),
            o => origin(o),
        })
        .collect::<Result<_, _>>()
        .map_err(D::Error::custom)
}

/// A list of names, trimmed, blanks dropped.
pub(super) fn words<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Vec::<String>::deserialize(d)?
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// Optional text, trimmed.
pub(super) fn trimmed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Some(String::deserialize(d)?.trim().to_string()))
}

/// An `http(s)` URL, trailing slashes dropped.
pub(super) fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = String::deserialize(d)?;
    let raw = raw.trim();
    let ok = (raw.starts_with("http://") || raw.starts_with("https://"))
        && !raw.contains(char::is_whitespace)
        && raw.split("://").nth(1).is_some_and(|r| !r.is_empty());
    if !ok {
        return Err(D::Error::custom(format!(
            "expected an http(s) URL, got {raw:?}"
        )));
    }
    Ok(Some(raw.trim_end_matches('/').to_string()))
}

/// CIDRs or single addresses.
pub(super) mod nets {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[IpNet], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(ToString::to_string))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
        words(d)?
            .iter()
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| D::Error::custom(format!("{s:?} is not a CIDR or IP address")))
            })
            .collect()
    }
}

/// A secret of at least 32 characters, taken as written.
pub(super) fn long_secret<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Secret<String>>, D::Error> {
    let v = String::deserialize(d)?;
    at_least_32(v).map_err(D::Error::custom)
}

/// A token of at least 32 characters, surrounding blanks dropped.
pub(super) fn long_token<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Secret<String>>, D::Error> {
    let v = String::deserialize(d)?;
    at_least_32(v.trim().to_string()).map_err(D::Error::custom)
}

fn at_least_32(v: String) -> Result<Option<Secret<String>>, &'static str> {
    if v.len() < 32 {
        return Err("must be at least 32 characters");
    }
    Ok(Some(Secret::new(v)))
}

/// An optional secret, trimmed.
pub(super) fn trimmed_secret<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Secret<String>>, D::Error> {
    Ok(Some(Secret::new(
        String::deserialize(d)?.trim().to_string(),
    )))
}
