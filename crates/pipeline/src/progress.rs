//! Progress of one tenant's stage among many: the same reporter, names prefixed.

use idferry_model::Progress;

/// Prefixes every name reported with the tenant and stage.
pub struct Prefixed<'a> {
    /// Where reports go.
    pub inner: &'a dyn Progress,
    /// `acme-prod 1:restore`.
    pub prefix: String,
}

impl Prefixed<'_> {
    fn name(&self, what: &str) -> String {
        format!("{} {what}", self.prefix)
    }
}

impl Progress for Prefixed<'_> {
    fn start(&self, what: &str, total: Option<u64>) {
        self.inner.start(&self.name(what), total);
    }
    fn advance(&self, what: &str, n: u64) {
        self.inner.advance(&self.name(what), n);
    }
    fn finish(&self, what: &str) {
        self.inner.finish(&self.name(what));
    }
    fn message(&self, msg: &str) {
        self.inner.message(&format!("{}: {msg}", self.prefix));
    }
}
