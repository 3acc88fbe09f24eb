//! What each stage of a run did, typed: a stage hands one of these to the run, the
//! journal keeps it (as JSON) when the stage is done, and a resumed run that skips the
//! stage reads it back as the same type (a record that does not read is journal damage).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use idferry_import::users::{MembershipSummary, UsersSummary};

/// A snapshot written (and the store's retention applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshotted {
    /// Where it is.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Records in it, all kinds.
    pub records: u64,
    /// Users in it.
    pub users: u64,
    /// Older snapshots the retention removed.
    pub pruned: usize,
    /// Requests made to read the tenant.
    pub requests: u64,
}

/// A configuration restored into a tenant, counted by what was done per object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    /// The target.
    pub to: String,
    /// Objects created.
    pub created: usize,
    /// Objects updated.
    pub updated: usize,
    /// Objects already as the source has them.
    pub unchanged: usize,
    /// Objects deleted (only with `allow_delete`).
    pub deleted: usize,
    /// Objects that failed (the stage fails with them).
    pub failed: usize,
}

/// A configuration restored as a list of steps (a platform whose restore is steps, not
/// per-object verbs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepsApplied {
    /// The target.
    pub to: String,
    /// Steps done.
    pub steps: usize,
    /// Objects already as the source has them.
    pub unchanged: usize,
}

/// Users read from the source and shaped into the spool the import sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    /// Users read.
    pub read: u64,
    /// Users spooled.
    pub kept: u64,
    /// Users a mapping filtered out.
    pub filtered: u64,
    /// Users that could not be shaped (see the report).
    pub failed: u64,
    /// Users carrying a password hash.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub with_hash: u64,
    /// Users of which something is not carried (named per user in the report).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub partly_carried: u64,
    /// Blocked users (kept, and blocked again in the target).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub blocked: u64,
    /// The spool.
    pub spool: PathBuf,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
