//! Where an export writes: members (one per kind) of ndjson records. A snapshot archive
//! is one such sink; a test can be another.

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

/// The path of a kind's member in a snapshot: configuration under `config/`, users and
/// their memberships under `users/`.
pub fn member_path(kind: &crate::Kind) -> String {
    let dir = if kind.config { "config" } else { "users" };
    format!("{dir}/{}.ndjson", kind.name)
}
