//! Management API tokens from client credentials, cached until shortly before they
//! expire (the fetching itself lives in the client, which owns the HTTP stack).

use std::time::{Duration, Instant};

use idferry_model::Secret;

/// How long before its expiry a token is replaced.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A token and when it stops being valid.
#[derive(Debug, Clone)]
pub struct CachedToken {
    /// The token.
    pub token: Secret,
    /// When it expires.
    pub expires: Instant,
    /// How long before `expires` it is replaced.
    pub margin: Duration,
}

impl CachedToken {
    /// True while the token has more than [`REFRESH_MARGIN`] to live (or, for tokens
    /// that live less than twice the margin, more than half their life).
    pub fn fresh(&self) -> bool {
        self.expires > Instant::now() + self.margin
    }

    /// A token living `ttl` from now.
    pub fn new(token: Secret, ttl: Duration) -> Self {
        Self {
            token,
            expires: Instant::now() + ttl,
            margin: REFRESH_MARGIN.min(ttl / 2),
        }
    }
}
