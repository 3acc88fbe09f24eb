//! The tenant's rate limit: a token bucket (`burst` tokens, refilled at `rate` per
//! second), reported on every answer as Auth0 does with `X-RateLimit-Limit` (the bucket
//! size), `X-RateLimit-Remaining` (tokens left) and `X-RateLimit-Reset` (UTC epoch second
//! at which the next token is available, so that a client knows when to try again).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A token bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

/// What the bucket said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// `X-RateLimit-Limit`.
    pub limit: u64,
    /// `X-RateLimit-Remaining`.
    pub remaining: u64,
    /// `X-RateLimit-Reset`, epoch seconds.
    pub reset: u64,
}

impl Bucket {
    /// A full bucket of `burst` tokens refilled at `rate` per second. A rate of 0 or
    /// less means no limit.
    pub fn new(rate: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate,
            burst,
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Tokens per second (0: no limit).
    pub fn rate(&self) -> f64 {
        self.rate.max(0.0)
    }

    /// The bucket's size.
    pub fn burst(&self) -> u32 {
        self.burst as u32
    }

    /// Takes a token if there is one.
    pub fn take(&mut self) -> Verdict {
        if self.rate <= 0.0 {
            return Verdict {
                allowed: true,
                limit: u64::MAX >> 1,
                remaining: u64::MAX >> 1,
                reset: epoch_secs(SystemTime::now()),
            };
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        // Time until one whole token is there again.
        let wait = ((1.0 - self.tokens).max(0.0)) / self.rate;
        let reset = SystemTime::now() + Duration::from_secs_f64(wait);
        Verdict {
            allowed,
            limit: self.burst as u64,
            remaining: self.tokens.floor() as u64,
            reset: epoch_secs_ceil(reset),
        }
    }
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn epoch_secs_ceil(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let mut bucket = Bucket::new(1.0, 3);
        let verdicts: Vec<_> = (0..4).map(|_| bucket.take()).collect();
        assert!(verdicts[..3].iter().all(|v| v.allowed));
        assert_eq!(verdicts[2].remaining, 0);
        assert!(!verdicts[3].allowed);
        assert_eq!(verdicts[3].limit, 3);
        let now = epoch_secs(SystemTime::now());
        assert!(verdicts[3].reset >= now && verdicts[3].reset <= now + 2);
    }
}
