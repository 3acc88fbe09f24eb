//! How libraries report progress without knowing about terminals: they call a
//! [`Progress`]; the binary implements it with progress bars, tests use [`Silent`].

/// Receives progress of long operations. Every method has a silent default.
pub trait Progress: Send + Sync {
    /// A unit of work named `what` starts; `total` is known for some (pages, users).
    fn start(&self, _what: &str, _total: Option<u64>) {}
    /// `n` more items of `what` are done.
    fn advance(&self, _what: &str, _n: u64) {}
    /// `what` is finished.
    fn finish(&self, _what: &str) {}
    /// A one-line status message (a job's state, a wait for the rate limit).
    fn message(&self, _msg: &str) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {}
