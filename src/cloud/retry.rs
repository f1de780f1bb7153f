//! When to send a failed call again, and after how long.
//!
//! Two kinds of failure are retried, each on its own budget (docs/google-cloud.md §10):
//! - **rate limits** (429, 403 `rateLimitExceeded` / `userRateLimitExceeded` / `quotaExceeded`):
//!   Google asks us to slow down, and its quotas are per minute, so a burst is over within a
//!   minute or two. These are retried for a *time* budget (several minutes by default), never
//!   counted: a job must not fail because the API asked it to wait.
//! - **transient failures** (5xx, 400 `resourceNotReady`, lost connections): something broke;
//!   these are retried a fixed number of times, so a real outage surfaces instead of hanging.
//!
//! Delays grow exponentially with "equal jitter" up to a cap (a minute by default); a
//! Retry-After from the server is a floor. Mutations are safe to repeat because each carries the
//! caller's `requestId` (Compute) or is an idempotent upsert (Cloud Run `patch` with
//! `allowMissing`).

use super::error::CloudError;
use rand::Rng;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total for transient failures, the first one included (1 = never retry).
    pub transient_attempts: u32,
    /// How long one call keeps retrying rate-limit answers, counted from the first of them.
    pub rate_limit_budget: Duration,
    /// Delay before the first retry; doubled after each.
    pub initial_delay: Duration,
    /// Upper bound of one delay, Retry-After included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Transient failures: six attempts spread over about 15 s. Rate limits: five minutes of
    /// patience, waits capped at a minute, which outlasts a per-minute quota twice over.
    fn default() -> Self {
        RetryPolicy {
            transient_attempts: 6,
            rate_limit_budget: Duration::from_secs(300),
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests: the same shape with millisecond waits.
    pub fn fast() -> Self {
        RetryPolicy {
            transient_attempts: 6,
            rate_limit_budget: Duration::from_millis(400),
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        }
    }

    /// Delay before retry number `retry` (1-based) of one kind. "Equal jitter": half the
    /// exponential step plus a random half, so concurrent clients spread out but never retry
    /// instantly. A Retry-After from the server is a floor, capped by `max_delay`.
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

/// Why a call is waiting before its next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// Google answered with a rate-limit or quota error.
    RateLimited,
    /// A 5xx, `resourceNotReady` or a lost connection.
    Transient,
}

/// One wait between two attempts of a call, as told to a [`super::retry_notice`] observer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryWait {
    pub reason: RetryReason,
    pub delay: Duration,
    /// Retries of this kind so far in this call, this one included.
    pub retry: u32,
    /// The error that is being retried, in words.
    pub error: String,
}

/// The retry state of one logical call.
#[derive(Debug)]
pub struct Attempts<'a> {
    policy: &'a RetryPolicy,
    transient_failures: u32,
    rate_limits: u32,
    first_rate_limit: Option<Instant>,
}

impl<'a> Attempts<'a> {
    pub fn new(policy: &'a RetryPolicy) -> Self {
        Attempts {
            policy,
            transient_failures: 0,
            rate_limits: 0,
            first_rate_limit: None,
        }
    }

    /// After a failed attempt at `now`: how long to wait before the next one, or `None` to give
    /// up with `err`.
    pub fn after(&mut self, err: &CloudError, now: Instant) -> Option<RetryWait> {
        match err {
            CloudError::RateLimited { retry_after, .. } => {
                let since = *self.first_rate_limit.get_or_insert(now);
                let left = self
                    .policy
                    .rate_limit_budget
                    .checked_sub(now.duration_since(since))
                    .filter(|left| !left.is_zero())?;
                self.rate_limits += 1;
                // The last wait ends when the budget does, so the last attempt is made then.
                let delay = self.policy.delay(self.rate_limits, *retry_after).min(left);
                Some(self.wait(RetryReason::RateLimited, delay, self.rate_limits, err))
            }
            CloudError::Transient { .. } => {
                self.transient_failures += 1;
                if self.transient_failures >= self.policy.transient_attempts {
                    return None;
                }
                let delay = self.policy.delay(self.transient_failures, None);
                Some(self.wait(RetryReason::Transient, delay, self.transient_failures, err))
            }
            _ => None,
        }
    }

    fn wait(
        &self,
        reason: RetryReason,
        delay: Duration,
        retry: u32,
        err: &CloudError,
    ) -> RetryWait {
        RetryWait {
            reason,
            delay,
            retry,
            error: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            transient_attempts: 3,
            rate_limit_budget: Duration::from_secs(300),
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }

    fn rate_limited(retry_after: Option<Duration>) -> CloudError {
        CloudError::RateLimited {
            message: "Quota exceeded".into(),
            retry_after,
        }
    }

    fn transient() -> CloudError {
        CloudError::Transient {
            status: 503,
            message: "backendError".into(),
        }
    }

    #[test]
    fn delays_grow_are_bounded_and_honour_retry_after() {
        let p = RetryPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..policy()
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

    #[test]
    fn rate_limits_are_retried_for_the_time_budget_not_a_count() {
        let p = policy();
        let mut a = Attempts::new(&p);
        let t0 = Instant::now();
        // Twenty answers in a row within the budget: every one is waited out.
        for i in 0..20u64 {
            let now = t0 + Duration::from_secs(i * 14);
            let w = a
                .after(&rate_limited(None), now)
                .expect("within the budget");
            assert_eq!(w.reason, RetryReason::RateLimited);
            assert!(w.delay <= Duration::from_secs(60), "{w:?}");
        }
        // Late in the budget, a wait is cut to what is left of it.
        let late = a
            .after(&rate_limited(None), t0 + Duration::from_secs(280))
            .unwrap();
        assert_eq!(
            late.delay,
            Duration::from_secs(20),
            "the budget's last 20 s"
        );
        assert!(
            a.after(&rate_limited(None), t0 + Duration::from_secs(300))
                .is_none(),
            "the budget is spent"
        );
    }

    #[test]
    fn the_last_rate_limit_wait_ends_with_the_budget_and_retry_after_is_a_floor() {
        let p = policy();
        let mut a = Attempts::new(&p);
        let t0 = Instant::now();
        let w = a
            .after(&rate_limited(Some(Duration::from_secs(40))), t0)
            .unwrap();
        assert_eq!(w.delay, Duration::from_secs(40));
        let w = a
            .after(
                &rate_limited(Some(Duration::from_secs(40))),
                t0 + Duration::from_secs(290),
            )
            .unwrap();
        assert_eq!(w.delay, Duration::from_secs(10));
    }

    #[test]
    fn transient_failures_are_counted_apart_from_rate_limits() {
        let p = policy();
        let mut a = Attempts::new(&p);
        let now = Instant::now();
        assert_eq!(a.after(&transient(), now).unwrap().retry, 1);
        for _ in 0..10 {
            assert!(a.after(&rate_limited(None), now).is_some());
        }
        assert_eq!(a.after(&transient(), now).unwrap().retry, 2);
        assert!(
            a.after(&transient(), now).is_none(),
            "three attempts in all"
        );
        let invalid = CloudError::Invalid {
            field: None,
            message: "bad".into(),
        };
        assert!(Attempts::new(&p).after(&invalid, now).is_none());
    }
}
