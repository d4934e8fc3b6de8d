//! Monitoring Query Language (MQL) subset used by SummarizeMetricsData and alarms.
//!
//! # Supported grammar
//!
//! ```text
//! query      := metric interval filter? ("." grouping)? "." statistic "(" ")" condition?
//! metric     := IDENT                               e.g. CpuUtilization
//! interval   := "[" INT ("m" | "h" | "d") "]"       between 1m and 1d, e.g. [1m] [5m] [1h] [1d]
//! filter     := "{" dimfilter (("," | "&&") dimfilter)* "}"
//! dimfilter  := IDENT ("=" | "!=") QUOTED           QUOTED is "..." or '...'
//! grouping   := "grouping()" | "groupBy(" IDENT ("," IDENT)* ")"
//! statistic  := "mean" | "avg" | "max" | "min" | "sum" | "count"
//! condition  := (">" | ">=" | "<" | "<=" | "==" | "!=") NUMBER
//! ```
//!
//! Whitespace is allowed between tokens. Examples:
//! `CpuUtilization[1m].mean()`,
//! `CpuUtilization[5m]{resourceId = "ocid1.instance..."}.max()`,
//! `MemoryUtilization[1h]{availabilityDomain = "Uocm:US-ASHBURN-1-AD-1"}.grouping().mean()`,
//! `CpuUtilization[5m].max() > 80` (alarm condition; in SummarizeMetricsData only
//! the datapoints meeting the condition are returned).
//!
//! Semantics: each datapoint aggregates the 1-minute values inside
//! `[timestamp, timestamp + interval)`; datapoints are `resolution` apart (the
//! request's `resolution`, default the interval). Windows longer than an hour
//! aggregate every n-th minute (at most 60 samples per window); `count()` and
//! `sum()` scale accordingly. Anything else is rejected with 400
//! `InvalidParameter` naming the position of the problem.

use std::collections::BTreeMap;

use crate::metrics::{Stream, MINUTE_MS};
use crate::wire::Millis;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Metric name.
    pub metric: String,
    /// Aggregation window in ms.
    pub interval_ms: Millis,
    /// Dimension filters (name, must-equal, value).
    pub filters: Vec<(String, bool, String)>,
    /// Stream grouping.
    pub grouping: Grouping,
    /// Statistic.
    pub statistic: Statistic,
    /// Optional alarm condition.
    pub condition: Option<(CmpOp, f64)>,
}

/// How streams are combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// One result per stream.
    None,
    /// All streams into one.
    All,
    /// One result per distinct value tuple of these dimensions.
    By(Vec<String>),
}

/// Aggregation statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// Arithmetic mean.
    Mean,
    /// Maximum.
    Max,
    /// Minimum.
    Min,
    /// Sum.
    Sum,
    /// Number of datapoints.
    Count,
}

/// Comparison operator of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl CmpOp {
    /// Apply the comparison.
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Eq => (a - b).abs() < f64::EPSILON,
            CmpOp::Ne => (a - b).abs() >= f64::EPSILON,
        }
    }
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while self.s[self.pos..].starts_with(char::is_whitespace) {
            self.pos += self.s[self.pos..].chars().next().map_or(1, char::len_utf8);
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!(
            "Invalid MQL query at position {}: {what}",
            self.pos
        ))
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.ws();
        if self.s[self.pos..].starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &str) -> Result<(), String> {
        if self.eat(tok) {
            Ok(())
        } else {
            self.err(&format!("expected `{tok}`"))
        }
    }

    fn ident(&mut self) -> Result<&'a str, String> {
        self.ws();
        let rest = &self.s[self.pos..];
        let len = rest
            .char_indices()
            .find(|(i, c)| !(c.is_ascii_alphanumeric() || *c == '_' || (*i > 0 && *c == '.')))
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 || !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return self.err("expected a name");
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    fn quoted(&mut self) -> Result<String, String> {
        self.ws();
        let rest = &self.s[self.pos..];
        let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return self.err("expected a quoted value");
        };
        let Some(end) = rest[1..].find(q) else {
            return self.err("unterminated quoted value");
        };
        let v = rest[1..1 + end].to_string();
        self.pos += end + 2;
        Ok(v)
    }

    fn number(&mut self) -> Result<f64, String> {
        self.ws();
        let rest = &self.s[self.pos..];
        let len = rest
            .char_indices()
            .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && *c == '-')))
            .map_or(rest.len(), |(i, _)| i);
        match rest[..len].parse::<f64>() {
            Ok(v) if len > 0 => {
                self.pos += len;
                Ok(v)
            }
            _ => self.err("expected a number"),
        }
    }
}

/// Parse an interval like `1m`, `5m`, `1h`, `1d` into ms (1 minute to 1 day).
pub fn parse_interval(text: &str) -> Result<Millis, String> {
    let t = text.trim();
    let split = t.char_indices().last().map_or(0, |(i, _)| i);
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("Invalid interval `{text}`: use e.g. 1m, 5m, 1h or 1d"))?;
    let unit_ms = match unit {
        "m" => MINUTE_MS,
        "h" => 60 * MINUTE_MS,
        "d" => 1440 * MINUTE_MS,
        _ => {
            return Err(format!(
                "Invalid interval `{text}`: the unit must be m, h or d"
            ))
        }
    };
    let ms = n
        .checked_mul(unit_ms)
        .filter(|ms| (MINUTE_MS..=1440 * MINUTE_MS).contains(ms))
        .ok_or_else(|| format!("Invalid interval `{text}`: it must be between 1m and 1d"))?;
    Ok(ms)
}

/// Parse a query (see the module docs for the grammar).
pub fn parse(text: &str) -> Result<Query, String> {
    let mut c = Cursor { s: text, pos: 0 };
    let metric = c.ident()?.to_string();
    c.expect("[")?;
    c.ws();
    let start = c.pos;
    let close = text[start..]
        .find(']')
        .ok_or_else(|| format!("Invalid MQL query at position {start}: expected `]`"))?;
    let interval_ms = parse_interval(&text[start..start + close])
        .map_err(|e| format!("Invalid MQL query at position {start}: {e}"))?;
    c.pos = start + close + 1;
    let mut filters = Vec::new();
    if c.eat("{") {
        loop {
            let name = c.ident()?.to_string();
            let eq = if c.eat("!=") {
                false
            } else if c.eat("=") {
                true
            } else {
                return c.err("expected `=` or `!=`");
            };
            let value = c.quoted()?;
            filters.push((name, eq, value));
            if c.eat("}") {
                break;
            }
            if !(c.eat(",") || c.eat("&&")) {
                return c.err("expected `,`, `&&` or `}`");
            }
        }
    }
    let mut grouping = Grouping::None;
    let statistic;
    loop {
        c.expect(".")?;
        let f = c.ident()?;
        c.expect("(")?;
        match f {
            "grouping" if grouping == Grouping::None => {
                c.expect(")")?;
                grouping = Grouping::All;
            }
            "groupBy" if grouping == Grouping::None => {
                let mut dims = vec![c.ident()?.to_string()];
                while c.eat(",") {
                    dims.push(c.ident()?.to_string());
                }
                c.expect(")")?;
                grouping = Grouping::By(dims);
            }
            "mean" | "avg" | "max" | "min" | "sum" | "count" => {
                c.expect(")")?;
                statistic = match f {
                    "max" => Statistic::Max,
                    "min" => Statistic::Min,
                    "sum" => Statistic::Sum,
                    "count" => Statistic::Count,
                    _ => Statistic::Mean,
                };
                break;
            }
            other => {
                return c.err(&format!(
                    "unsupported function `{other}` (supported: grouping, groupBy, mean, max, min, sum, count)"
                ))
            }
        }
    }
    let mut condition = None;
    for (tok, op) in [
        (">=", CmpOp::Ge),
        ("<=", CmpOp::Le),
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Ne),
        (">", CmpOp::Gt),
        ("<", CmpOp::Lt),
    ] {
        if c.eat(tok) {
            condition = Some((op, c.number()?));
            break;
        }
    }
    c.ws();
    if c.pos != text.len() {
        return c.err("unexpected trailing text");
    }
    Ok(Query {
        metric,
        interval_ms,
        filters,
        grouping,
        statistic,
        condition,
    })
}

/// One result series.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSeries {
    /// Dimensions identifying the series (empty for `grouping()`).
    pub dimensions: BTreeMap<String, String>,
    /// Compartment of the (first) stream.
    pub compartment_id: String,
    /// Unit.
    pub unit: &'static str,
    /// (window start, value).
    pub points: Vec<(Millis, f64)>,
}

/// Most datapoints one query may compute (streams × windows).
pub const MAX_DATAPOINTS: i64 = 200_000;

/// True when a stream passes the query's metric name and dimension filters.
pub fn selects(q: &Query, s: &Stream) -> bool {
    s.def.name == q.metric
        && q.filters.iter().all(|(k, eq, v)| {
            let actual = s.dimension(k);
            if *eq {
                actual == Some(v.as_str())
            } else {
                actual != Some(v.as_str())
            }
        })
}

fn statistic(stat: Statistic, samples: &[f64], stride: i64) -> f64 {
    let n = samples.len() as f64;
    let v = match stat {
        Statistic::Mean => samples.iter().sum::<f64>() / n,
        Statistic::Max => samples.iter().copied().fold(f64::MIN, f64::max),
        Statistic::Min => samples.iter().copied().fold(f64::MAX, f64::min),
        Statistic::Sum => samples.iter().sum::<f64>() * stride as f64,
        Statistic::Count => n * stride as f64,
    };
    (v * 1000.0).round() / 1000.0
}

/// Evaluate `q` over `streams` (already restricted to namespace/compartment)
/// for `[start, end)` with datapoints `resolution_ms` apart.
pub fn evaluate(
    q: &Query,
    streams: &[Stream],
    start: Millis,
    end: Millis,
    resolution_ms: Option<Millis>,
) -> Result<Vec<ResultSeries>, String> {
    let step = resolution_ms.unwrap_or(q.interval_ms);
    let selected: Vec<&Stream> = streams.iter().filter(|s| selects(q, s)).collect();
    let first = start.div_euclid(step) * step;
    let windows = (end - first + step - 1) / step;
    if windows.saturating_mul(selected.len().max(1) as i64) > MAX_DATAPOINTS {
        return Err(format!(
            "The query would return more than {MAX_DATAPOINTS} datapoints; use a longer interval/resolution or a shorter time range"
        ));
    }
    // Group streams.
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<&Stream>> = BTreeMap::new();
    for s in &selected {
        let key: Vec<(String, String)> = match &q.grouping {
            Grouping::None => s
                .dimensions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Grouping::All => Vec::new(),
            Grouping::By(dims) => dims
                .iter()
                .map(|d| (d.clone(), s.dimension(d).unwrap_or("").to_string()))
                .collect(),
        };
        groups.entry(key).or_default().push(s);
    }
    let window_minutes = q.interval_ms / MINUTE_MS;
    let stride = (window_minutes / 60).max(1);
    let mut out = Vec::new();
    for (key, members) in groups {
        let mut points = Vec::new();
        let mut t = first;
        while t < end {
            let mut samples = Vec::new();
            let first_minute = (t.max(start) + MINUTE_MS - 1) / MINUTE_MS;
            let last_minute = (t + q.interval_ms).min(end) / MINUTE_MS;
            let mut m = first_minute;
            while m < last_minute {
                for s in &members {
                    if s.active_at(m * MINUTE_MS) {
                        samples.push(s.value(m));
                    }
                }
                m += stride;
            }
            if !samples.is_empty() {
                let v = statistic(q.statistic, &samples, stride);
                if q.condition.is_none_or(|(op, x)| op.holds(v, x)) {
                    points.push((t, v));
                }
            }
            t += step;
        }
        let Some(first_member) = members.first() else {
            continue;
        };
        out.push(ResultSeries {
            dimensions: key.into_iter().collect(),
            compartment_id: first_member.compartment_id.clone(),
            unit: first_member.def.unit,
            points,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_form() {
        let q = parse(r#"CpuUtilization[5m]{resourceId = "ocid1.instance.x", shape != 'A'}.groupBy(shape).max() > 80"#).unwrap();
        assert_eq!(q.metric, "CpuUtilization");
        assert_eq!(q.interval_ms, 5 * MINUTE_MS);
        assert_eq!(q.filters.len(), 2);
        assert!(!q.filters[1].1);
        assert_eq!(q.grouping, Grouping::By(vec!["shape".into()]));
        assert_eq!(q.statistic, Statistic::Max);
        assert_eq!(q.condition, Some((CmpOp::Gt, 80.0)));
    }

    #[test]
    fn rejects_bad_queries_with_positions() {
        for bad in [
            "CpuUtilization.mean()",
            "CpuUtilization[7x].mean()",
            "CpuUtilization[2d].mean()",
            "CpuUtilization[1m].median()",
            "CpuUtilization[1m]{a = b}.mean()",
            "CpuUtilization[1m].mean() extra",
            "CpuUtilization[1é].mean()",
            "",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.contains("position") || e.contains("interval"),
                "{bad}: {e}"
            );
        }
    }
}
