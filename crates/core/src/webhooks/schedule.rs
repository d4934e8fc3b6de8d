//! When to try again, and what a response means: the Standard Webhooks retry
//! schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h,
//! 24 h) with jitter, on network errors, 5xx and 429 (honouring
//! `Retry-After`); 410 disables the endpoint; other 4xx and 3xx are final.

use std::time::Duration;

use super::SendResult;

/// The delays before attempts 2, 3, …: attempt 1 goes out immediately, and
/// after the last delay's attempt fails the endpoint counts as dead.
pub fn default_schedule() -> Vec<Duration> {
    [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400]
        .into_iter()
        .map(Duration::from_secs)
        .collect()
}

/// The longest `Retry-After` we wait for (a receiver cannot park a delivery for a week).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// What an attempt's result leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: delivered.
    Delivered,
    /// Worth retrying (network, timeout, 5xx, 429), not before `at_least`.
    Retry {
        /// The receiver's `Retry-After`, if any.
        at_least: Option<Duration>,
    },
    /// 410 Gone: the receiver asks us to stop; the endpoint is disabled.
    Gone,
    /// Any other answer (3xx, 4xx): retrying cannot help; this delivery fails.
    Final,
}

/// Judges one attempt's result.
pub fn judge(result: &SendResult) -> Verdict {
    match result {
        SendResult::Failed { .. } => Verdict::Retry { at_least: None },
        SendResult::Response {
            status,
            retry_after,
            ..
        } => match status {
            200..=299 => Verdict::Delivered,
            410 => Verdict::Gone,
            429 | 500..=599 => Verdict::Retry {
                at_least: retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
            },
            _ => Verdict::Final,
        },
    }
}

/// The delay before the attempt after failed attempt `attempt` (1-based), or
/// `None` when the schedule is used up. Jitter: up to +10 % (`unit` in [0, 1)),
/// so endpoints that failed together are not retried in lockstep; a
/// `Retry-After` longer than the schedule's step wins.
pub fn next_delay(
    schedule: &[Duration],
    attempt: i64,
    at_least: Option<Duration>,
    unit: f64,
) -> Option<Duration> {
    let step = *schedule.get(usize::try_from(attempt - 1).ok()?)?;
    let jittered = step + step.mul_f64(unit.clamp(0.0, 1.0) * 0.1);
    Some(jittered.max(at_least.unwrap_or_default()))
}

/// [`next_delay`] with OS randomness for the jitter.
pub fn next_delay_jittered(
    schedule: &[Duration],
    attempt: i64,
    at_least: Option<Duration>,
) -> Option<Duration> {
    let r = u64::from_le_bytes(crate::crypto::random_bytes::<8>());
    next_delay(
        schedule,
        attempt,
        at_least,
        (r >> 11) as f64 / (1u64 << 53) as f64,
    )
}

/// Parses `Retry-After` as delay-seconds (HTTP-dates are read by the client).
pub fn parse_retry_after_secs(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, retry_after: Option<u64>) -> SendResult {
        SendResult::Response {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            body: String::new(),
        }
    }

    #[test]
    fn responses_are_judged_as_the_spec_says() {
        assert_eq!(judge(&resp(200, None)), Verdict::Delivered);
        assert_eq!(judge(&resp(204, None)), Verdict::Delivered);
        assert_eq!(judge(&resp(500, None)), Verdict::Retry { at_least: None });
        assert_eq!(judge(&resp(503, None)), Verdict::Retry { at_least: None });
        assert_eq!(
            judge(&resp(429, Some(30))),
            Verdict::Retry {
                at_least: Some(Duration::from_secs(30))
            }
        );
        assert_eq!(
            judge(&resp(429, Some(10_000_000))),
            Verdict::Retry {
                at_least: Some(MAX_RETRY_AFTER)
            }
        );
        assert_eq!(judge(&resp(410, None)), Verdict::Gone);
        assert_eq!(judge(&resp(400, None)), Verdict::Final);
        assert_eq!(judge(&resp(404, None)), Verdict::Final);
        assert_eq!(judge(&resp(301, None)), Verdict::Final);
        assert_eq!(judge(&resp(302, None)), Verdict::Final);
        let net = SendResult::Failed {
            error: "timed out".into(),
        };
        assert_eq!(judge(&net), Verdict::Retry { at_least: None });
    }

    #[test]
    fn the_schedule_is_the_specs_with_bounded_jitter() {
        let s = default_schedule();
        let secs: Vec<u64> = s.iter().map(Duration::as_secs).collect();
        assert_eq!(
            secs,
            [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
        );
        assert_eq!(next_delay(&s, 1, None, 0.0), Some(Duration::from_secs(5)));
        assert_eq!(
            next_delay(&s, 1, None, 1.0),
            Some(Duration::from_millis(5500))
        );
        assert_eq!(
            next_delay(&s, 9, None, 0.0),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(next_delay(&s, 10, None, 0.0), None, "schedule used up");
        assert_eq!(
            next_delay(&s, 1, Some(Duration::from_secs(60)), 0.5),
            Some(Duration::from_secs(60)),
            "Retry-After longer than the step wins"
        );
        for attempt in 1..=9 {
            let d = next_delay_jittered(&s, attempt, None).unwrap();
            let step = s[attempt as usize - 1];
            assert!(d >= step && d <= step + step / 10, "{attempt}: {d:?}");
        }
        assert_eq!(
            parse_retry_after_secs(" 120 "),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after_secs("soon"), None);
    }
}
