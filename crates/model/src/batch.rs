//! What a users import did with one batch of users (a users-imports file for Auth0, a
//! batch of creations for ZITADEL), in the shape run journals keep it.

use serde::{Deserialize, Serialize};

/// Counts of one batch of users, or of several added up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkCounts {
    /// Users created.
    pub inserted: u64,
    /// Users updated.
    pub updated: u64,
    /// Users refused.
    pub failed: u64,
    /// Users already there from an interrupted attempt.
    pub already_present: u64,
}

impl ChunkCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: ChunkCounts) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.failed += other.failed;
        self.already_present += other.already_present;
    }
}

/// What an earlier attempt did with a batch of users (batches are numbered in input
/// order, so the same input gives the same batches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkState {
    /// Never sent.
    New,
    /// About to be sent when the attempt stopped: it may or may not have been received.
    Sending,
    /// Sent as job `job` (platforms that import in jobs). `in_doubt` when the batch had
    /// been sent before (an attempt stopped while sending it): users that job reports as
    /// conflicts were imported by the earlier send.
    Submitted {
        /// The import job.
        job: String,
        /// Whether an earlier send may have imported some of its users.
        in_doubt: bool,
    },
    /// Imported, with these counts.
    Done(ChunkCounts),
}
