//! The one transport of every platform client: the HTTP stack built once, a throttle
//! that keeps steady work under a tenant's rate limit (a `governor` limiter, plus the
//! bucket the `X-RateLimit-*` headers describe when the platform sends them), the retry
//! policy (which failures to try again, with jittered backoff), request statistics, and
//! the single retry loop. Platform-free: a platform client gives only how to read its
//! answers into its errors and how to renew its credentials.

pub mod retry;
pub mod throttle;
pub mod transport;

pub use retry::RetryPolicy;
pub use throttle::Throttle;
pub use transport::{
    Answer, Failure, Next, RequestStats, RetryableError, Transport, TransportOptions,
    install_tls_provider,
};
