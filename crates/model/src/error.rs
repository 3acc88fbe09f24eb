//! Error classes shared by every platform client: whether trying again can help; and
//! how an error is told with its causes.

use std::fmt;

/// An error and each of its causes, `: `-separated ("error sending request: connection
/// refused"), for messages and reports that show one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether a failed operation is worth retrying, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// The request can never succeed as sent (bad input, missing object, no permission).
    Permanent,
    /// A transient failure (5xx, dropped connection): retry after a backoff.
    Transient,
    /// The tenant's rate limit was hit: retry once the bucket has refilled.
    RateLimited,
}

impl RetryClass {
    /// The class of an HTTP status code.
    pub fn of_status(status: u16) -> Self {
        match status {
            429 => Self::RateLimited,
            408 | 500..=599 => Self::Transient,
            _ => Self::Permanent,
        }
    }

    /// True when trying again may succeed.
    pub fn is_retryable(self) -> bool {
        !matches!(self, Self::Permanent)
    }
}

impl fmt::Display for RetryClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Permanent => "permanent",
            Self::Transient => "transient",
            Self::RateLimited => "rate-limited",
        })
    }
}
