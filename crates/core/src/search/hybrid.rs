//! Reciprocal rank fusion: each ranked list votes `1 / (K + rank)` for its
//! items, so a message both halves rank well beats one only one half finds,
//! without comparing bm25 with cosines.

use std::collections::HashMap;

/// The usual constant (Cormack et al.): damps the weight of the very top ranks.
pub const K: f64 = 60.0;

/// The fused order of `lists` (each best first), with each item's score.
pub fn fuse(lists: &[Vec<String>]) -> Vec<(String, f64)> {
    let mut score: HashMap<&str, (f64, usize)> = HashMap::new();
    let mut order = 0;
    for list in lists {
        for (rank, id) in list.iter().enumerate() {
            let e = score.entry(id.as_str()).or_insert_with(|| {
                order += 1;
                (0.0, order)
            });
            e.0 += 1.0 / (K + rank as f64 + 1.0);
        }
    }
    let mut out: Vec<(String, f64, usize)> = score
        .into_iter()
        .map(|(id, (s, o))| (id.to_string(), s, o))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(id, s, _)| (id, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn agreement_wins_and_ties_keep_first_seen() {
        let f = fuse(&[ids(&["a", "b", "c"]), ids(&["c", "d"])]);
        let order: Vec<&str> = f.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(order, vec!["c", "a", "b", "d"]);
        assert!((f[0].1 - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-12);
        assert!(fuse(&[]).is_empty());
    }
}
