//! The manifest: the first member of every snapshot.

use serde::{Deserialize, Serialize};

/// The format name written in every manifest.
pub const FORMAT: &str = "idferry-snapshot";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's member name.
pub const MANIFEST: &str = "manifest.json";

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The idferry version that wrote it.
    pub tool_version: String,
    /// The tenant's name in the config.
    pub tenant: String,
    /// `auth0` or `zitadel`.
    pub platform: String,
    /// Where the tenant answered.
    pub source: String,
    /// When the backup started (RFC 3339, UTC).
    pub started_at: String,
    /// When it finished.
    pub finished_at: String,
    /// Whether secret fields were kept (only in encrypted snapshots).
    pub secrets_included: bool,
    /// The fields the users were exported with, for platforms whose users exports take
    /// a field list (Auth0); absent in snapshots written before it was recorded and in
    /// snapshots without an exported users member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_fields: Option<Vec<String>>,
    /// Kinds the tenant did not offer when it was backed up, with its answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<idferry_model::sink::Unavailable>,
    /// The members after this one, in order.
    pub members: Vec<MemberEntry>,
}

/// One member of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberEntry {
    /// Its path in the tar (`config/clients.ndjson`).
    pub path: String,
    /// The catalog kind it holds.
    pub kind: String,
    /// Records (lines) in it.
    pub records: u64,
    /// Its size, uncompressed.
    pub bytes: u64,
    /// blake3 of its content, hex.
    pub blake3: String,
}

impl Manifest {
    /// The member holding `kind`.
    pub fn member(&self, kind: &str) -> Option<&MemberEntry> {
        self.members.iter().find(|m| m.kind == kind)
    }

    /// Records of all members of the given kind (0 when absent).
    pub fn records(&self, kind: &str) -> u64 {
        self.member(kind).map_or(0, |m| m.records)
    }
}
