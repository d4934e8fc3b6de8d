//! `opc-retry-token` idempotency for POST requests, as OCI does it: a POST that
//! succeeded with a token is remembered for [`crate::EmulatorConfig::retry_token_ttl`]
//! (OCI: 24 hours) per principal (tenancy and user of the signing key). The same
//! token with the same request (method, path and query, body) gets the first
//! reply again and changes nothing; the same token with a different request is
//! 409 `InvalidatedRetryToken`. Failed requests are not remembered, so a retry
//! after an error runs again. The cache lives in memory and is bounded.

use std::collections::HashMap;

use http::StatusCode;

use crate::wire::{hex_digest, ApiError, Millis, Reply};

/// Longest token accepted (OCI documents 64 characters).
pub const MAX_TOKEN_LEN: usize = 64;

/// Most remembered tokens; expired ones go first, then the oldest.
pub const MAX_ENTRIES: usize = 10_000;

struct Entry {
    fingerprint: String,
    reply: Reply,
    at: Millis,
}

/// Remembered replies by (principal, token).
#[derive(Default)]
pub(crate) struct RetryTokens {
    entries: HashMap<(String, String), Entry>,
}

/// A validated token and the request it came with.
pub(crate) struct Claim {
    key: (String, String),
    fingerprint: String,
}

/// The `opc-retry-token` of a POST, validated; `None` when absent or not a POST.
pub(crate) fn claim(
    method: &str,
    headers: &http::HeaderMap,
    key_id: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<Option<Claim>, ApiError> {
    if method != "POST" {
        return Ok(None);
    }
    let Some(raw) = headers.get("opc-retry-token") else {
        return Ok(None);
    };
    let token = raw
        .to_str()
        .map_err(|_| ApiError::invalid("opc-retry-token must be ASCII"))?
        .trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(ApiError::invalid(format!(
            "opc-retry-token must be 1-{MAX_TOKEN_LEN} characters"
        )));
    }
    // keyId is tenancy/user/fingerprint: any key of the same user shares tokens.
    let principal = key_id.rsplit_once('/').map_or(key_id, |(p, _)| p);
    let fingerprint = format!("{method} {path_and_query} {}", hex_digest(body));
    Ok(Some(Claim {
        key: (principal.to_string(), token.to_string()),
        fingerprint,
    }))
}

impl RetryTokens {
    /// The remembered reply for `claim`, a 409 when the token was used for
    /// another request, or `None` when the request should run.
    pub(crate) fn replay(
        &mut self,
        claim: &Claim,
        now: Millis,
        ttl: Millis,
    ) -> Result<Option<Reply>, ApiError> {
        match self.entries.get(&claim.key) {
            Some(e) if now - e.at < ttl => {
                if e.fingerprint == claim.fingerprint {
                    Ok(Some(e.reply.clone()))
                } else {
                    Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "InvalidatedRetryToken",
                        "The opc-retry-token was already used with a different request; use a new token for a different request",
                    ))
                }
            }
            _ => Ok(None),
        }
    }

    /// Remember a successful reply.
    pub(crate) fn remember(&mut self, claim: Claim, reply: &Reply, now: Millis, ttl: Millis) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.retain(|_, e| now - e.at < ttl);
        }
        while self.entries.len() >= MAX_ENTRIES {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
        self.entries.insert(
            claim.key,
            Entry {
                fingerprint: claim.fingerprint,
                reply: reply.clone(),
                at: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(token: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert("opc-retry-token", token.parse().unwrap());
        h
    }

    #[test]
    fn only_posts_with_valid_tokens_are_claimed() {
        let h = headers("t1");
        assert!(claim("GET", &h, "a/b/c", "/x", b"").unwrap().is_none());
        assert!(claim("POST", &http::HeaderMap::new(), "a/b/c", "/x", b"")
            .unwrap()
            .is_none());
        assert!(claim("POST", &h, "a/b/c", "/x", b"").unwrap().is_some());
        assert!(claim("POST", &headers(&"x".repeat(65)), "a/b/c", "/x", b"").is_err());
    }

    #[test]
    fn replays_within_ttl_and_conflicts_on_other_requests() {
        let mut tokens = RetryTokens::default();
        let h = headers("t1");
        let c = claim("POST", &h, "ten/user/fp1", "/x", b"{}")
            .unwrap()
            .unwrap();
        assert!(tokens.replay(&c, 0, 100).unwrap().is_none());
        tokens.remember(c, &Reply::json(serde_json::json!({"id": 1})), 0, 100);
        // Another key of the same user shares the token.
        let same = claim("POST", &h, "ten/user/fp2", "/x", b"{}")
            .unwrap()
            .unwrap();
        let r = tokens.replay(&same, 50, 100).unwrap().unwrap();
        assert!(matches!(r.body, crate::wire::ReplyBody::Json(v) if v["id"] == 1));
        let other = claim("POST", &h, "ten/user/fp1", "/x", b"{\"a\":1}")
            .unwrap()
            .unwrap();
        assert_eq!(tokens.replay(&other, 50, 100).unwrap_err().status, 409);
        // Another user does not see it; after the TTL it is forgotten.
        let stranger = claim("POST", &h, "ten/other/fp", "/x", b"{\"a\":1}")
            .unwrap()
            .unwrap();
        assert!(tokens.replay(&stranger, 50, 100).unwrap().is_none());
        assert!(tokens.replay(&other, 150, 100).unwrap().is_none());
    }
}
