//! Pacing requests to a tenant's rate limit, so that steady work never meets a 429.
//!
//! Two mechanisms, each covering what the other cannot know:
//! - a `governor` limiter at the configured rate (when the config gives one), which
//!   spreads requests evenly instead of bursting;
//! - a mirror of the tenant's bucket from the `X-RateLimit-Remaining` and
//!   `X-RateLimit-Reset` headers of every answer: when the requests in flight would
//!   empty the bucket, new ones wait, then a single request probes it and its answer
//!   tells how many may follow. The first wait lasts until the reset time; the probe's
//!   answer (tokens refilled over the time waited) gives the refill rate, and later waits
//!   last just long enough for half a bucket to refill, so that the time-granularity of
//!   the reset header costs nothing. The limiter's burst is lowered to the bucket's size
//!   (`X-RateLimit-Limit`) once that is known.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use reqwest::header::HeaderMap;

/// What the last answers said about the tenant's bucket.
#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
    in_flight: u64,
    /// When an answer last said the bucket was empty.
    empty_at: Option<Instant>,
    /// Tokens per second the bucket refills, as measured.
    refill: Option<f64>,
}

impl Bucket {
    /// How long to wait before probing an empty bucket.
    fn wait(&self) -> Option<Duration> {
        let until_reset = self
            .reset
            .filter(|reset| *reset > epoch_now())
            .map(until_epoch);
        let until_refilled = match (self.refill, self.empty_at) {
            (Some(rate), Some(empty)) if rate > 0.0 => {
                // Half a bucket, and at least two tokens so that an estimate a little
                // high still finds one token for the probe.
                let tokens = (self.limit.unwrap_or(2) as f64 / 2.0).max(2.0);
                let ready = empty + Duration::from_secs_f64(tokens / rate);
                Some(ready.saturating_duration_since(Instant::now()))
            }
            _ => None,
        };
        match (until_reset, until_refilled) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .filter(|d| !d.is_zero())
    }
}

/// A tenant's pacing.
#[derive(Debug)]
pub struct Throttle {
    rate: Option<f64>,
    burst: Mutex<Option<u32>>,
    limiter: Mutex<Option<Arc<DefaultDirectRateLimiter>>>,
    bucket: Mutex<Bucket>,
}

/// Held while a request is in flight; its drop frees the slot.
#[derive(Debug)]
pub struct Permit<'t> {
    throttle: &'t Throttle,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut b = self.throttle.bucket();
        b.in_flight = b.in_flight.saturating_sub(1);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The share of the configured rate the limiter paces at: requests reach the tenant a
/// little later or sooner than they leave, and at exactly the tenant's rate that jitter
/// turns into 429s at the bucket's edge.
const RATE_MARGIN: f64 = 0.97;

fn limiter(rate: f64, burst: u32) -> Option<Arc<DefaultDirectRateLimiter>> {
    if !(rate.is_finite() && rate > 0.0) {
        return None;
    }
    let period = Duration::from_secs_f64(1.0 / (rate * RATE_MARGIN));
    let quota = Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst.max(1))?);
    Some(Arc::new(RateLimiter::direct(quota)))
}

fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Throttle {
    /// Paces at `rate` requests per second with bursts of `burst` (both optional: with
    /// no rate, only the tenant's headers pace).
    pub fn new(rate: Option<f64>, burst: Option<u32>) -> Self {
        let initial = rate.and_then(|r| limiter(r, burst.unwrap_or(1)));
        Self {
            rate,
            burst: Mutex::new(burst),
            limiter: Mutex::new(initial),
            bucket: Mutex::new(Bucket::default()),
        }
    }

    fn bucket(&self) -> MutexGuard<'_, Bucket> {
        lock(&self.bucket)
    }

    /// Waits until a request may go.
    pub async fn acquire(&self) -> Permit<'_> {
        let limiter = lock(&self.limiter).clone();
        if let Some(limiter) = limiter {
            limiter.until_ready().await;
        }
        loop {
            let wait = {
                let mut b = self.bucket();
                let blocked = matches!(b.remaining, Some(r) if r <= b.in_flight);
                if !blocked {
                    b.in_flight += 1;
                    None
                } else if b.in_flight > 0 {
                    // Answers in flight will say more about the bucket.
                    Some(Duration::from_millis(10))
                } else {
                    match b.wait() {
                        Some(wait) => Some(wait),
                        // Time is up: one request probes the bucket; its answer tells
                        // how many may follow.
                        None => {
                            b.remaining = Some(1);
                            b.in_flight += 1;
                            None
                        }
                    }
                }
            };
            match wait {
                None => return Permit { throttle: self },
                Some(d) => {
                    let jitter = Duration::from_millis(rand::rng().random_range(0..15));
                    tokio::time::sleep(d + jitter).await;
                }
            }
        }
    }

    /// Reads an answer's rate-limit headers.
    pub fn observe(&self, headers: &HeaderMap) {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let (Some(limit), Some(remaining)) =
            (num("x-ratelimit-limit"), num("x-ratelimit-remaining"))
        else {
            return;
        };
        let reset = num("x-ratelimit-reset");
        {
            let mut b = self.bucket();
            let now = Instant::now();
            if let Some(empty) = b.empty_at {
                // Tokens refilled since the bucket was empty: what is left, plus the one
                // this request took.
                let waited = now.duration_since(empty).as_secs_f64();
                if remaining > 0 && waited > 0.05 {
                    let rate = (remaining + 1) as f64 / waited;
                    b.refill = Some(if remaining + 1 >= limit {
                        // The bucket filled up while we waited: the rate is at least this.
                        b.refill.map_or(rate, |r| r.max(rate))
                    } else {
                        rate
                    });
                    b.empty_at = None;
                }
            }
            if remaining == 0 {
                b.empty_at = Some(now);
            }
            b.limit = Some(limit);
            b.remaining = Some(remaining);
            b.reset = reset;
        }
        // A burst larger than the tenant's bucket would only end in 429s.
        if let Some(rate) = self.rate {
            let mut burst = lock(&self.burst);
            let wanted = burst.unwrap_or(1);
            let capped = u32::try_from(limit).unwrap_or(u32::MAX).max(1);
            if wanted > capped {
                *burst = Some(capped);
                *lock(&self.limiter) = limiter(rate, capped);
            }
        }
    }

    /// Notes a 429: nothing may go before `reset` (epoch seconds).
    pub fn exhausted(&self, reset: Option<u64>) {
        let mut b = self.bucket();
        b.remaining = Some(0);
        b.reset = reset.or_else(|| Some(epoch_now() + 1));
        // A 429 means the refill estimate (if any) was too high: learn it again.
        b.refill = None;
        b.empty_at = Some(Instant::now());
    }
}

fn until_epoch(reset: u64) -> Duration {
    (UNIX_EPOCH + Duration::from_secs(reset))
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(limit: u64, remaining: u64, reset: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from(limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(reset));
        h
    }

    #[tokio::test]
    async fn an_empty_bucket_holds_requests_until_its_reset() {
        let t = Throttle::new(None, None);
        t.observe(&headers(10, 0, epoch_now() + 2));
        let started = std::time::Instant::now();
        let permit = t.acquire().await;
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        drop(permit);
    }

    #[tokio::test]
    async fn requests_in_flight_count_against_the_remaining_tokens() {
        let t = Throttle::new(None, None);
        t.observe(&headers(10, 2, epoch_now() + 5));
        let a = t.acquire().await;
        let b = t.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(100), t.acquire()).await;
        assert!(third.is_err(), "a third request must wait for the reset");
        drop((a, b));
    }
}
