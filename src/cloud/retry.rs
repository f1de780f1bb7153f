//! Bounded exponential backoff with jitter, honouring Retry-After.
//!
//! Only errors `CloudError::is_retryable` accepts are retried: rate limits (429, 403 rate-limit
//! reasons), 400 `resourceNotReady`, 5xx and lost connections. Mutations are safe to repeat
//! because each carries the caller's `requestId` (Compute) or is an idempotent upsert (Cloud Run
//! `patch` with `allowMissing`).

use rand::Rng;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (1 = never retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubled after each.
    pub initial_delay: Duration,
    /// Upper bound of one delay, Retry-After included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts spread over roughly 15 s: long enough to ride out a per-minute quota burst
    /// or a brief backend error, short enough that a job step fails visibly rather than hangs.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests: many quick attempts.
    pub fn fast() -> Self {
        RetryPolicy {
            max_attempts: 6,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        }
    }

    /// Delay before retry number `retry` (1-based). "Equal jitter": half the exponential step
    /// plus a random half, so concurrent clients spread out but never retry instantly. A
    /// Retry-After from the server is a floor, capped by `max_delay`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .initial_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let step = exp.min(self.max_delay);
        let half = step / 2;
        let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
        let jittered = half + Duration::from_millis(jitter);
        match retry_after {
            Some(ra) => jittered.max(ra).min(self.max_delay),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_are_bounded_and_honour_retry_after() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let d1 = p.delay(1, None);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.delay(3, None);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            assert!(p.delay(30, None) <= Duration::from_secs(1));
            assert_eq!(
                p.delay(1, Some(Duration::from_millis(700))),
                Duration::from_millis(700)
            );
            assert_eq!(
                p.delay(1, Some(Duration::from_secs(60))),
                Duration::from_secs(1)
            );
        }
    }
}
