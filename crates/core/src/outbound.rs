//! Where the portal may send requests that an admin or user pointed
//! somewhere (webhooks now; OIDC, AI providers and MCP servers configured at
//! run time later): the rules the guarded client applies to a URL before the
//! request and to every address a host name resolves to at connect time.
//!
//! Host names are parsed the WHATWG way (the `url` crate), so odd IPv4
//! notations (`2130706433`, `0x7f.1`, `0177.0.0.1`) become the address they
//! mean before they are judged.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// What the guard lets through besides public addresses over https.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Host names (exact, lower case) and networks reachable although private.
    pub allow: Vec<AllowEntry>,
    /// Plain `http://` allowed (development only; refused in production by config).
    pub allow_http: bool,
}

/// One entry of `PORTAL_OUTBOUND_ALLOW`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// A host name, matched exactly (case-insensitively).
    Host(String),
    /// An address or network.
    Net(IpNet),
}

impl AllowEntry {
    /// Parses `10.0.0.0/8`, `192.168.1.5`, `::1` or `hooks.internal`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(n) = s.parse::<IpNet>() {
            return Ok(Self::Net(n));
        }
        if let Ok(a) = s.parse::<IpAddr>() {
            return Ok(Self::Net(IpNet::from(a)));
        }
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok {
            return Err(format!("{s:?} is not a host name, address or CIDR"));
        }
        Ok(Self::Host(s.to_ascii_lowercase()))
    }
}

impl std::fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Host(h) => f.write_str(h),
            Self::Net(n) => write!(f, "{n}"),
        }
    }
}

/// Why a destination is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not a URL, or one without a host.
    #[error("not a valid absolute URL")]
    BadUrl,
    /// Not `https` (or `http` where allowed).
    #[error("the scheme must be https")]
    Scheme,
    /// Credentials in the URL (they would be sent to the receiver).
    #[error("the URL must not contain a user name or password")]
    Credentials,
    /// An address in a range the portal never calls.
    #[error("{0} is a {1} address")]
    Forbidden(IpAddr, &'static str),
    /// The name resolved to nothing usable.
    #[error("the host name did not resolve")]
    Unresolved,
}

/// A URL's parts the guard judges: its host as a name or an address, and its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The parsed URL (normalised: odd IPv4 notations are addresses now).
    pub url: url::Url,
    /// The host, lower case (an IP literal without brackets).
    pub host: String,
    /// The address when the host is a literal.
    pub literal: Option<IpAddr>,
}

/// The range a non-public address is in, if it is in one. IPv4-mapped,
/// -compatible, NAT64, 6to4 and Teredo forms are judged by the IPv4 address
/// they embed.
pub fn forbidden_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                if let Some(range) = v4_range(v4) {
                    return Some(range);
                }
            }
            v6_range(v6)
        }
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [0, ..] => "unspecified (\"this network\")",
        [127, ..] => "loopback",
        [10, ..] => "private",
        [172, b, ..] if (16..32).contains(&b) => "private",
        [192, 168, ..] => "private",
        [169, 254, ..] => "link-local (cloud metadata)",
        [100, b, ..] if (64..128).contains(&b) => "carrier-grade NAT",
        [192, 0, 0, _] => "IETF protocol assignment",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking",
        [a, ..] if (224..240).contains(&a) => "multicast",
        [a, ..] if a >= 240 => "reserved or broadcast",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv6 one, for the forms that carry one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated; not :: or ::1).
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => Some(tail),
        // 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64).
        [0x64, 0xff9b, 0, 0, 0, 0, ..] | [0x64, 0xff9b, 1, ..] => Some(tail),
        // 2002::/16 (6to4): the address sits in segments 1 and 2.
        [0x2002, a, b, ..] => Some(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        )),
        // 2001:0::/32 (Teredo): the client address, inverted, in the last 32 bits.
        [0x2001, 0, ..] => Some(Ipv4Addr::from(!u32::from(tail))),
        _ => None,
    }
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        x if x & 0xfe00 == 0xfc00 => "unique local (ULA)",
        x if x & 0xffc0 == 0xfe80 => "link-local",
        x if x & 0xffc0 == 0xfec0 => "site-local",
        x if x & 0xff00 == 0xff00 => "multicast",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only",
        _ => return None,
    })
}

impl OutboundPolicy {
    /// True when `host` (or the address `ip` it resolved to) is allowlisted.
    pub fn allows(&self, host: &str, ip: Option<IpAddr>) -> bool {
        self.allow.iter().any(|e| match e {
            AllowEntry::Host(h) => h.eq_ignore_ascii_case(host),
            AllowEntry::Net(n) => ip.is_some_and(|ip| n.contains(&ip)),
        })
    }

    /// Judges a URL before any connection: scheme, credentials, and an IP
    /// literal's range. A host name is judged again, address by address, when
    /// it resolves ([`OutboundPolicy::check_addr`]).
    pub fn check_url(&self, raw: &str) -> Result<Target, Refusal> {
        let url = url::Url::parse(raw.trim()).map_err(|_| Refusal::BadUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(Refusal::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        let (host, literal) = match url.host() {
            Some(url::Host::Domain(d)) => (d.trim_end_matches('.').to_ascii_lowercase(), None),
            Some(url::Host::Ipv4(a)) => (a.to_string(), Some(IpAddr::V4(a))),
            Some(url::Host::Ipv6(a)) => (a.to_string(), Some(IpAddr::V6(a))),
            None => return Err(Refusal::BadUrl),
        };
        if host.is_empty() {
            return Err(Refusal::BadUrl);
        }
        if let Some(ip) = literal {
            self.check_addr(&host, ip)?;
        } else if host == "localhost" || host.ends_with(".localhost") {
            // RFC 6761: always loopback, whatever a resolver says.
            if !self.allows(&host, None) {
                return Err(Refusal::Forbidden(
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    "loopback",
                ));
            }
        }
        Ok(Target { url, host, literal })
    }

    /// Judges one address `host` resolved to (or its literal).
    pub fn check_addr(&self, host: &str, ip: IpAddr) -> Result<(), Refusal> {
        match forbidden_range(ip) {
            Some(_) if self.allows(host, Some(ip)) => Ok(()),
            Some(range) => Err(Refusal::Forbidden(ip, range)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
