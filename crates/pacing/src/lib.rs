//! Pacing and retrying requests to an identity platform: a throttle that keeps steady
//! work under a tenant's rate limit (a `governor` limiter, plus the bucket the
//! `X-RateLimit-*` headers describe when the platform sends them), and the retry policy
//! (which failures to try again, with jittered backoff). Platform-free, so that every
//! platform client (Auth0 now, ZITADEL next) paces and retries the same way.

pub mod retry;
pub mod throttle;

pub use retry::RetryPolicy;
pub use throttle::Throttle;
