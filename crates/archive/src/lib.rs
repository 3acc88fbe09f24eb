//! Snapshot archives: one `.tar.zst` file per backup (optionally age-encrypted to
//! `.tar.zst.age`), readable with standard tools (`tar --zstd -tf`). The first member is
//! `manifest.json` (what the snapshot holds, with a blake3 checksum and record count per
//! member); then one ndjson member per kind. This crate writes them (spooling members,
//! then assembling the file aside and renaming it into place, so that a crash never
//! leaves a file that looks finished), reads, verifies, diffs and prunes them.

pub mod crypto;
pub mod diff;
pub mod error;
pub mod manifest;
pub mod naming;
pub mod prune;
pub mod reader;
pub mod writer;

pub use crypto::{Decryption, Encryption};
pub use error::ArchiveError;
pub use manifest::{Manifest, MemberEntry};
pub use reader::{SnapshotReader, VerifyReport};
pub use writer::{SnapshotWriter, WriteOptions, WrittenSnapshot};
