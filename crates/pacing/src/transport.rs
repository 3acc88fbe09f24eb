//! The one transport every platform client sends through: the HTTP stack (TLS provider,
//! timeouts, user agent) built once, the throttle, the request statistics, and the single
//! retry loop. A platform gives only what differs: how it reads an answer into its own
//! error type (and that type's [`RetryClass`]), and how it renews its credentials after a
//! 401.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use idferry_model::RetryClass;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};

use crate::{RetryPolicy, Throttle};

/// Makes ring the process's TLS provider (reqwest is built without a default one).
/// Call it before building any other reqwest client; calling it again is harmless.
pub fn install_tls_provider() {
    // A second install fails because one is there already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Tuning of a transport.
#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// Retries.
    pub retry: RetryPolicy,
    /// Time allowed for one request, answer included.
    pub timeout: Duration,
    /// Requests per second (None: as fast as answers come, paced by the rate-limit
    /// headers when the platform sends them).
    pub rate_limit: Option<f64>,
    /// Burst allowed above the steady rate.
    pub burst: Option<u32>,
}

impl Default for TransportOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            rate_limit: None,
            burst: None,
        }
    }
}

/// Counters of what a transport did: what benchmarks and summaries report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// Answers with status 429.
    pub rate_limited: u64,
    /// Retries after 5xx answers or broken connections.
    pub transient_retries: u64,
    /// Access tokens fetched (client credentials, service-user keys).
    pub tokens_fetched: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    transient_retries: AtomicU64,
    tokens_fetched: AtomicU64,
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
    /// For a 429: how long to wait before trying again (the bucket's reset time or
    /// `Retry-After`, never less than a backoff).
    pub wait: Option<Duration>,
}

/// What a platform's error type tells the retry loop.
pub trait RetryableError: std::fmt::Display {
    /// Whether a retry can help, and of what kind.
    fn class(&self) -> RetryClass;
    /// This error as the last of `attempts` tries, after which the loop gave up.
    fn gave_up(self, attempts: u32) -> Self;
}

/// A failed attempt: the error, how long the answer said to wait (429s), and what the
/// loop may do next.
#[derive(Debug)]
pub struct Failure<E> {
    /// What went wrong.
    pub error: E,
    /// How long the answer asked to wait, when it said.
    pub wait: Option<Duration>,
    /// What the loop may do about it.
    pub next: Next,
}

/// What the retry loop may do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Retry as the error's class allows.
    AsClassed,
    /// The attempt dropped credentials that may have been stale (a 401): try again at
    /// once, outside the count, the first time; afterwards as classed.
    Renewed,
    /// End the request whatever the class says (a credential that could not be had, a
    /// 429 that is not about the rate limit).
    Stop,
}

impl<E> Failure<E> {
    /// A failure that ends the request at once.
    pub fn fatal(error: E) -> Self {
        Self {
            error,
            wait: None,
            next: Next::Stop,
        }
    }

    /// A failure after which the attempt renewed its credentials.
    pub fn renewed(error: E) -> Self {
        Self {
            error,
            wait: None,
            next: Next::Renewed,
        }
    }
}

impl<E> From<E> for Failure<E> {
    fn from(error: E) -> Self {
        Self {
            error,
            wait: None,
            next: Next::AsClassed,
        }
    }
}

/// The transport of one tenant or instance: cheap to share (hold it in an `Arc`).
#[derive(Debug)]
pub struct Transport {
    name: String,
    http: reqwest::Client,
    throttle: Throttle,
    retry: RetryPolicy,
    counters: Counters,
}

impl Transport {
    /// A transport for the tenant or instance `name`.
    ///
    /// # Errors
    /// When the HTTP stack cannot be built (no usable TLS configuration).
    pub fn new(name: &str, options: &TransportOptions) -> Result<Self, reqwest::Error> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("idferry/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            name: name.to_owned(),
            http,
            throttle: Throttle::new(options.rate_limit, options.burst),
            retry: options.retry,
            counters: Counters::default(),
        })
    }

    /// The HTTP client, to build requests (and, unthrottled, to fetch what is not the
    /// API: signed download links, token exchanges outside the loop).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// What this transport has done so far.
    pub fn stats(&self) -> RequestStats {
        let c = &self.counters;
        RequestStats {
            requests: c.requests.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            transient_retries: c.transient_retries.load(Ordering::Relaxed),
            tokens_fetched: c.tokens_fetched.load(Ordering::Relaxed),
        }
    }

    /// Counts an access token fetched.
    pub fn token_fetched(&self) {
        self.counters.tokens_fetched.fetch_add(1, Ordering::Relaxed);
    }

    /// One exchange: wait for the throttle, send, read the whole answer, and learn from
    /// its rate-limit headers. A 429 is counted, drains the bucket and comes back with
    /// how long to wait; every other status comes back as it is, for the platform to
    /// read.
    ///
    /// # Errors
    /// When no answer came (refused, reset, timed out): the platform names it.
    pub async fn exchange(&self, request: RequestBuilder) -> Result<Answer, reqwest::Error> {
        let permit = self.throttle.acquire().await;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await?;
        self.throttle.observe(response.headers());
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        drop(permit);
        let mut wait = None;
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            let number = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            let reset = number("x-ratelimit-reset");
            self.throttle.exhausted(reset);
            wait = Some(
                self.retry
                    .rate_limited_wait(0, number("retry-after"), reset),
            );
        }
        Ok(Answer {
            status,
            headers,
            body,
            wait,
        })
    }

    /// The retry loop, the only one: runs `attempt` until it succeeds, fails in a way a
    /// retry cannot help, or has used the attempts its failure's class allows (then the
    /// error says it gave up). An attempt that renewed its credentials ([`Next::Renewed`])
    /// is tried again at once, outside the count, the first time.
    ///
    /// # Errors
    /// The last failure, as [`RetryableError::gave_up`] when attempts ran out.
    pub async fn with_retries<T, E, A, F>(&self, path: &str, mut attempt: A) -> Result<T, E>
    where
        E: RetryableError,
        A: FnMut() -> F,
        F: Future<Output = Result<T, Failure<E>>>,
    {
        let mut attempts = 0u32;
        let mut renewed = false;
        loop {
            attempts += 1;
            let Failure { error, wait, next } = match attempt().await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            match next {
                Next::Stop => return Err(error),
                Next::Renewed if !renewed => {
                    renewed = true;
                    attempts -= 1;
                    continue;
                }
                Next::Renewed | Next::AsClassed => {}
            }
            let class = error.class();
            let Some(limit) = self.retry.attempts(class) else {
                return Err(error);
            };
            if attempts >= limit {
                return Err(error.gave_up(attempts));
            }
            if class == RetryClass::Transient {
                self.counters
                    .transient_retries
                    .fetch_add(1, Ordering::Relaxed);
            }
            let wait = wait.unwrap_or_else(|| self.retry.backoff(attempts - 1));
            tracing::debug!(target = %self.name, %path, ?wait, "retrying: {error}");
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum Fake {
        Busy,
        Wrong,
        GaveUp(u32),
        Expired,
    }

    impl std::fmt::Display for Fake {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl RetryableError for Fake {
        fn class(&self) -> RetryClass {
            match self {
                Fake::Busy => RetryClass::Transient,
                Fake::Expired | Fake::Wrong | Fake::GaveUp(_) => RetryClass::Permanent,
            }
        }
        fn gave_up(self, attempts: u32) -> Self {
            Fake::GaveUp(attempts)
        }
    }

    fn quick() -> Transport {
        let retry = RetryPolicy {
            max_attempts: 3,
            max_rate_limited_attempts: 5,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
        };
        Transport::new(
            "t",
            &TransportOptions {
                retry,
                ..TransportOptions::default()
            },
        )
        .expect("transport")
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_the_limit() {
        let t = quick();
        let mut calls = 0;
        let out: Result<(), Fake> = t
            .with_retries("/x", || {
                calls += 1;
                async { Err(Fake::Busy.into()) }
            })
            .await;
        assert!(matches!(out, Err(Fake::GaveUp(3))), "{out:?}");
        assert_eq!(calls, 3);
        assert_eq!(t.stats().transient_retries, 2);
    }

    #[tokio::test]
    async fn permanent_and_fatal_failures_end_at_once() {
        let t = quick();
        let mut calls = 0;
        let out: Result<(), Fake> = t
            .with_retries("/x", || {
                calls += 1;
                async { Err(Fake::Wrong.into()) }
            })
            .await;
        assert!(matches!(out, Err(Fake::Wrong)));
        let out: Result<(), Fake> = t
            .with_retries("/x", || {
                calls += 1;
                async { Err(Failure::fatal(Fake::Busy)) }
            })
            .await;
        assert!(matches!(out, Err(Fake::Busy)));
        assert_eq!(calls, 2);
    }

    #[tokio::test]
    async fn credentials_are_renewed_once_outside_the_count() {
        let t = quick();
        let mut calls = 0;
        let out: Result<u32, Fake> = t
            .with_retries("/x", || {
                calls += 1;
                let n = calls;
                async move {
                    match n {
                        1 => Err(Failure::renewed(Fake::Busy)),
                        2 | 3 => Err(Fake::Busy.into()),
                        n => Ok(n),
                    }
                }
            })
            .await;
        // The renewal does not use up one of the three attempts: two busy answers, then
        // the answer.
        assert!(matches!(out, Ok(4)), "{out:?}");
        // A second renewal is not free: it counts as its class says (here permanent).
        let mut calls = 0;
        let out: Result<u32, Fake> = t
            .with_retries("/x", || {
                calls += 1;
                async { Err(Failure::renewed(Fake::Expired)) }
            })
            .await;
        assert!(matches!(out, Err(Fake::Expired)), "{out:?}");
        assert_eq!(calls, 2);
    }
}
