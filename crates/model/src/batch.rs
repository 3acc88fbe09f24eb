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
