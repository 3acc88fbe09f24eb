//! Where an export writes: members (one per kind) of ndjson records (a snapshot archive
//! is one such sink; a test can be another), what an export is asked to read, and what it
//! wrote: the same for every platform.

use std::io;

/// Receives members of records, one member at a time.
pub trait MemberSink {
    /// Starts a member: `path` inside the snapshot (`config/clients.ndjson`), of `kind`.
    fn start_member(&mut self, path: &str, kind: &str) -> io::Result<()>;
    /// Adds one record: a JSON text without its newline.
    fn write_record(&mut self, json: &[u8]) -> io::Result<()>;
    /// Ends the member started last.
    fn finish_member(&mut self) -> io::Result<()>;
}

/// What to export (every platform's export takes it).
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Only these kinds (and their sub-resources); all when empty.
    pub kinds: Vec<String>,
    /// Not these kinds (nor their sub-resources).
    pub exclude: Vec<String>,
    /// Keep secret fields (only for encrypted snapshots).
    pub include_secrets: bool,
}

/// What was exported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Records per kind, in the order written.
    pub counts: Vec<(String, u64)>,
    /// The fields the users were exported with (none when users were not exported):
    /// a snapshot's manifest records them.
    pub user_fields: Option<Vec<String>>,
    /// Kinds the tenant does not offer (a feature it is not entitled to, or past its end
    /// of life): left out, each with the platform's answer.
    pub unavailable: Vec<Unavailable>,
}

/// A kind a tenant refused to list because it does not have the feature: not a failure
/// of the backup, recorded in the snapshot so that a restore shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unavailable {
    /// The kind.
    pub kind: String,
    /// The HTTP status the platform answered (403, 404, 501).
    pub status: u16,
    /// Its message (and error code, when it sent one).
    pub message: String,
}

impl ExportSummary {
    /// Records of `kind`.
    pub fn count(&self, kind: &str) -> u64 {
        self.counts
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n)
    }
}
