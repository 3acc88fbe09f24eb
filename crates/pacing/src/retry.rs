//! When to try a failed request again, and how long to wait first.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use idferry_model::RetryClass;
use rand::Rng;

/// How retries are spaced and bounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all for transient failures (5xx, dropped connections).
    pub max_attempts: u32,
    /// Attempts in all for 429s (they wait for the bucket, so they may take longer).
    pub max_rate_limited_attempts: u32,
    /// The first backoff.
    pub base: Duration,
    /// The longest backoff.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            max_rate_limited_attempts: 20,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(8),
        }
    }
}

/// What broke in a request that got no answer: reqwest's message with its causes
/// (refused, reset, timed out), since its own message alone is often just "error
/// sending request".
pub fn transport_message(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return STALLED.to_owned();
    }
    idferry_model::error::chain(e)
}

/// What a request that timed out says: the tenant stalled.
pub const STALLED: &str = "no answer within the request timeout: the server took the request and stalled (not retried: a stalled server rarely recovers within a run). `request_timeout = SECONDS` in the tenant's config allows more time";

impl RetryPolicy {
    /// How many attempts in all a failure of `class` allows; None when retrying cannot
    /// help.
    pub fn attempts(&self, class: RetryClass) -> Option<u32> {
        match class {
            RetryClass::Permanent => None,
            RetryClass::RateLimited => Some(self.max_rate_limited_attempts),
            RetryClass::Transient => Some(self.max_attempts),
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, so that many
    /// clients failing together do not retry together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let half = exp / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    /// How long to wait after a 429: until the bucket's reset time (or `Retry-After`),
    /// plus a little jitter, and never less than the backoff for this attempt.
    pub fn rate_limited_wait(
        &self,
        attempt: u32,
        retry_after_secs: Option<u64>,
        reset_epoch: Option<u64>,
    ) -> Duration {
        let until_reset = reset_epoch.map(|reset| {
            let reset = UNIX_EPOCH + Duration::from_secs(reset);
            reset
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        });
        let told = retry_after_secs
            .map(Duration::from_secs)
            .or(until_reset)
            .unwrap_or(Duration::ZERO);
        let jitter = Duration::from_millis(rand::rng().random_range(0..100));
        told.max(self.backoff(attempt.min(4))) + jitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 0..20 {
            let d = p.backoff(attempt);
            let full = p.base.saturating_mul(1u32 << attempt.min(16)).min(p.cap);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn a_429_waits_for_the_reset() {
        let p = RetryPolicy::default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let wait = p.rate_limited_wait(0, None, Some(now + 2));
        assert!(wait >= Duration::from_millis(900), "{wait:?}");
        let wait = p.rate_limited_wait(0, Some(3), Some(now));
        assert!(wait >= Duration::from_secs(3), "{wait:?}");
    }
}
