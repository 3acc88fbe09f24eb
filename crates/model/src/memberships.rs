//! Who holds which role and belongs to which organization in a source, by names a
//! target shares and the source's user ids: what a users migration gives its users once
//! they exist, into a platform of any kind.

use std::collections::BTreeMap;

/// Roles and organization memberships of a source's users, by names the target shares.
#[derive(Debug, Default, Clone)]
pub struct Memberships {
    /// Role name -> source user ids.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Organization name -> (source user id, names of its member roles).
    pub organizations: BTreeMap<String, Vec<(String, Vec<String>)>>,
    /// Source user id -> its direct permissions (API identifier, permission name).
    pub permissions: BTreeMap<String, Vec<(String, String)>>,
    /// Why users' direct permissions were not read, if they were not (a live source:
    /// one request per user; a snapshot taken without them).
    pub permissions_unread: Option<String>,
}
