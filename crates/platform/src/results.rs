//! What each stage of a run did, typed: a stage hands one of these to the run, the
//! journal keeps it (as JSON) when the stage is done, and a resumed run that skips the
//! stage reads it back as the same type (a record that does not read is journal damage).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use idferry_model::ChunkCounts;

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
    /// Kinds the tenant did not offer (left out, recorded in the snapshot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<idferry_model::sink::Unavailable>,
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

/// Users sent to the target, counted as every platform counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersImported {
    /// Users given.
    pub total: u64,
    /// Per outcome.
    #[serde(flatten)]
    pub counts: ChunkCounts,
    /// Import jobs run (platforms that import users as jobs).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jobs: u64,
    /// Job status reads (at least one per job).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub status_checks: u64,
    /// Users given their password hash from the hashes file as they were sent.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hashes_merged: u64,
    /// Users whose hash in the file is in a format the target does not take (not
    /// carried: they set a password through a reset).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hashes_unsupported: u64,
    /// Requests sent to the target.
    #[serde(default)]
    pub requests: u64,
    /// Of which answered 429.
    #[serde(default)]
    pub rate_limited: u64,
}

/// Roles and organization memberships given to the imported users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipsGiven {
    /// Role assignments (one per role and user, or one grant with all of a user's).
    pub role_users: u64,
    /// Organization memberships.
    pub organization_members: u64,
    /// Roles given within organizations.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub member_roles: u64,
    /// Direct permissions given to users.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub user_permissions: u64,
    /// Why users' direct permissions were not carried, when they were not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_unread: Option<String>,
    /// Already given (a resumed run).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub already: u64,
    /// Not attempted: the user was not imported (refused, or left out by a mapping).
    pub not_imported: u64,
    /// Refused (see the report; the stage fails with them).
    pub failed: u64,
    /// Requests sent to the target.
    #[serde(default)]
    pub requests: u64,
    /// Of which answered 429.
    #[serde(default)]
    pub rate_limited: u64,
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
    /// Users the target cannot take as they are (social and enterprise users into a
    /// database import): left out, each named in the report with why.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left_out: u64,
    /// The spool.
    pub spool: PathBuf,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A snapshot's configuration written in another tool's format (`snapshots export`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigWritten {
    /// Files written, under the output folder.
    pub files: Vec<PathBuf>,
    /// Objects written, by the format's name for their type.
    pub objects: Vec<(String, usize)>,
    /// Keywords standing for the secrets (`##KEYWORD##` markers): a value for each must
    /// be given where the files are used.
    pub keywords: Vec<SecretKeyword>,
    /// What the files do not carry.
    pub left_out: Vec<LeftOut>,
}

/// A secret written as a keyword marker, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretKeyword {
    /// The keyword (`SENDGRID_API_KEY` for `##SENDGRID_API_KEY##`).
    pub word: String,
    /// The kind of the object holding the secret.
    pub kind: String,
    /// The object's name (none for a tenant's single object).
    pub object: Option<String>,
    /// The field, as a values file names it.
    pub field: String,
    /// Whether the value is JSON (an object, `@@KEYWORD@@`) rather than text.
    pub json: bool,
}

/// Records of one kind that a written format does not carry, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The kind.
    pub kind: String,
    /// Its records.
    pub records: u64,
    /// Why.
    pub why: String,
}
