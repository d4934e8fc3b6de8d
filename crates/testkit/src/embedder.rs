//! A deterministic test embedder (tests only; never linked into the portal
//! binary): words map to hand-made concepts, so paraphrases that share no
//! word land close together, as with a real sentence model, while unknown
//! words still tell texts apart (each hashes into a band of its own).
//! Integration tests use the real local model when
//! `PORTAL_EMBEDDER_MODEL_DIR` is set, and this otherwise.

use async_trait::async_trait;
use portal_core::search::embed::{normalize, EmbedError, Embedder, Purpose};

/// Groups of words with one meaning each (lower case).
pub const CONCEPTS: &[&[&str]] = &[
    &[
        "disk", "disks", "storage", "volume", "volumes", "drive", "space", "capacity",
    ],
    &[
        "full",
        "exhausted",
        "ran",
        "out",
        "filled",
        "nearly",
        "running",
        "low",
    ],
    &[
        "database",
        "postgres",
        "postgresql",
        "sql",
        "db",
        "replica",
        "tables",
    ],
    &[
        "slow", "latency", "sluggish", "lagging", "delay", "delays", "crawling",
    ],
    &[
        "restart",
        "reboot",
        "rebooted",
        "restarted",
        "bounce",
        "cycle",
    ],
    &[
        "server", "instance", "vm", "machine", "host", "node", "compute",
    ],
    &[
        "cost",
        "costs",
        "bill",
        "billing",
        "expensive",
        "spend",
        "invoice",
        "price",
    ],
    &[
        "network", "vcn", "subnet", "firewall", "ingress", "traffic", "routing",
    ],
    &[
        "certificate",
        "tls",
        "ssl",
        "expired",
        "expiry",
        "renewal",
        "cert",
    ],
    &[
        "backup",
        "backups",
        "snapshot",
        "snapshots",
        "restore",
        "copy",
    ],
    &[
        "login",
        "signin",
        "password",
        "credentials",
        "authentication",
        "locked",
    ],
    &["weather", "sunny", "sun", "lovely", "rain", "outside"],
];

const HASHED: usize = 64;

/// The concept embedder.
pub struct ConceptEmbedder;

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

impl ConceptEmbedder {
    /// The vector of one text.
    pub fn vector(text: &str) -> Vec<f32> {
        let mut v = vec![0f32; CONCEPTS.len() + HASHED];
        for w in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let w = w.to_lowercase();
            match CONCEPTS.iter().position(|g| g.contains(&w.as_str())) {
                Some(i) => v[i] += 1.0,
                None => v[CONCEPTS.len() + (fnv(&w) % HASHED as u64) as usize] += 0.35,
            }
        }
        normalize(&mut v);
        v
    }
}

#[async_trait]
impl Embedder for ConceptEmbedder {
    fn model_id(&self) -> &str {
        "test:concepts-v1"
    }

    fn dims(&self) -> usize {
        CONCEPTS.len() + HASHED
    }

    async fn embed(&self, texts: &[String], _: Purpose) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| Self::vector(t)).collect())
    }
}
