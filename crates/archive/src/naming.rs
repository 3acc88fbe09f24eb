//! Snapshot file names: `<UTC time>_<tenant>.tar.zst[.age]`, so that names sort by time
//! and say whose they are (`20261123T084524.123Z_acme-prod.tar.zst`; milliseconds, so
//! that two backups of a tenant in the same second do not collide).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// The extension of plain snapshots.
pub const PLAIN: &str = ".tar.zst";
/// The extension of encrypted snapshots.
pub const ENCRYPTED: &str = ".tar.zst.age";

/// What a snapshot's name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotName {
    /// When the backup started.
    pub time: Timestamp,
    /// The tenant.
    pub tenant: String,
    /// Whether it is encrypted.
    pub encrypted: bool,
}

/// The file name for a snapshot of `tenant` started at `time`.
pub fn file_name(time: Timestamp, tenant: &str, encrypted: bool) -> String {
    let stamp = time.to_zoned(TimeZone::UTC).strftime("%Y%m%dT%H%M%S%.3fZ");
    format!(
        "{stamp}_{tenant}{}",
        if encrypted { ENCRYPTED } else { PLAIN }
    )
}

/// Reads a snapshot's file name; None for any other file (temporary ones included).
pub fn parse(name: &str) -> Option<SnapshotName> {
    let (stem, encrypted) = match name.strip_suffix(ENCRYPTED) {
        Some(stem) => (stem, true),
        None => (name.strip_suffix(PLAIN)?, false),
    };
    let (stamp, tenant) = stem.split_once('_')?;
    if tenant.is_empty() || stamp.len() != 20 {
        return None;
    }
    let civil = DateTime::strptime("%Y%m%dT%H%M%S%.fZ", stamp).ok()?;
    let time = civil.to_zoned(TimeZone::UTC).ok()?.timestamp();
    Some(SnapshotName {
        time,
        tenant: tenant.to_owned(),
        encrypted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_time() {
        let t: Timestamp = "2026-11-23T08:45:24.5Z".parse().unwrap();
        let name = file_name(t, "acme-prod", false);
        assert_eq!(name, "20261123T084524.500Z_acme-prod.tar.zst");
        assert_eq!(
            parse(&name),
            Some(SnapshotName {
                time: t,
                tenant: "acme-prod".into(),
                encrypted: false
            })
        );
        assert!(parse(&file_name(t, "a_b", true)).unwrap().encrypted);
        assert_eq!(
            parse(".20261123T084524.500Z_acme-prod.tar.zst.partial"),
            None
        );
        assert_eq!(parse("notes.txt"), None);
    }
}
