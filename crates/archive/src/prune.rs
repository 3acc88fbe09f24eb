//! Retention: which snapshots of a tenant to keep, by the rules backup tools share
//! (restic's): the newest `last`; and the newest snapshot of each of the newest `daily`
//! days, `weekly` ISO weeks and `monthly` months that have one. A snapshot kept by any
//! rule is kept. Days, weeks and months are UTC. Only snapshots that can be restored
//! count: a damaged one fills no slot (and is never deleted by a plan: it is reported
//! for someone to look at), so a damaged newer snapshot never pushes out an older good
//! one, and the newest good snapshot of a tenant is always kept.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::error::ArchiveError;
use crate::naming::{self, SnapshotName};

/// How many of each to keep (in a pipeline spec: `retention = { keep_last = 3, ... }`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The newest N.
    #[serde(default, rename = "keep_last")]
    pub last: usize,
    /// One per day, for the newest N days.
    #[serde(default, rename = "keep_daily")]
    pub daily: usize,
    /// One per ISO week, for the newest N weeks.
    #[serde(default, rename = "keep_weekly")]
    pub weekly: usize,
    /// One per month, for the newest N months.
    #[serde(default, rename = "keep_monthly")]
    pub monthly: usize,
}

impl Policy {
    /// True when no rule is set (nothing would be kept: refuse to prune).
    pub fn is_empty(&self) -> bool {
        self.last + self.daily + self.weekly + self.monthly == 0
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Bucket {
    Day(i16, i8, i8),
    Week(i16, i8),
    Month(i16, i8),
}

fn bucket(t: Timestamp, rule: usize) -> Option<Bucket> {
    let date = t.to_zoned(TimeZone::UTC).date();
    Some(match rule {
        1 => Bucket::Day(date.year(), date.month(), date.day()),
        2 => {
            let week = date.iso_week_date();
            Bucket::Week(week.year(), week.week())
        }
        3 => Bucket::Month(date.year(), date.month()),
        _ => return None,
    })
}

/// For snapshots taken at `times` (any order), which to keep.
pub fn keep(times: &[Timestamp], policy: &Policy) -> Vec<bool> {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|a, b| times[*b].cmp(&times[*a]));
    let mut keep = vec![false; times.len()];
    for &i in order.iter().take(policy.last) {
        keep[i] = true;
    }
    for (rule, count) in [(1, policy.daily), (2, policy.weekly), (3, policy.monthly)] {
        let mut last: Option<Bucket> = None;
        let mut kept = 0;
        for &i in &order {
            if kept >= count {
                break;
            }
            let b = bucket(times[i], rule);
            if b != last {
                keep[i] = true;
                kept += 1;
                last = b;
            }
        }
    }
    keep
}

/// Snapshot files of `dir`, oldest first.
pub fn snapshot_files(dir: &Path) -> Result<Vec<(PathBuf, SnapshotName)>, ArchiveError> {
    let io = |source: std::io::Error| ArchiveError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(parsed) = naming::parse(&name) {
            out.push((entry.path(), parsed));
        }
    }
    out.sort_by(|a, b| a.1.time.cmp(&b.1.time).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// What a check before pruning found of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Soundness {
    /// Every member and the archive's end verified.
    Sound,
    /// Not fully checked (why: encrypted without a key, or a manifest-only check); it
    /// counts as restorable.
    Unverified(String),
    /// Damaged: what is wrong. It counts for nothing and is not deleted.
    Damaged(String),
}

/// One snapshot of a prune plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The file.
    pub path: PathBuf,
    /// Its tenant.
    pub tenant: String,
    /// Kept: by the policy, or because it is damaged (never deleted by a plan).
    pub keep: bool,
    /// What the check found.
    pub soundness: Soundness,
}

/// Which of `files` (of `tenant`, or of every tenant) `policy` keeps, tenant by tenant,
/// oldest first, counting only snapshots that are not damaged. The paths are carried
/// through: file paths, or object names.
pub fn plan(
    files: Vec<(PathBuf, SnapshotName, Soundness)>,
    tenant: Option<&str>,
    policy: &Policy,
) -> Vec<Verdict> {
    let mut tenants: Vec<&str> = files.iter().map(|(_, n, _)| n.tenant.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    let mut plan = Vec::new();
    for t in tenants {
        if tenant.is_some_and(|want| want != t) {
            continue;
        }
        let mine: Vec<&(PathBuf, SnapshotName, Soundness)> =
            files.iter().filter(|(_, n, _)| n.tenant == t).collect();
        let usable: Vec<&&(PathBuf, SnapshotName, Soundness)> = mine
            .iter()
            .filter(|(_, _, s)| !matches!(s, Soundness::Damaged(_)))
            .collect();
        let times: Vec<Timestamp> = usable.iter().map(|(_, n, _)| n.time).collect();
        let mut kept = keep(&times, policy);
        // The newest restorable snapshot stays whatever the rules say.
        if let Some(newest) = (0..times.len()).max_by_key(|i| times[*i]) {
            kept[newest] = true;
        }
        let kept: Vec<(&PathBuf, bool)> = usable.iter().map(|(p, _, _)| p).zip(kept).collect();
        for (path, name, soundness) in mine {
            let keep = match soundness {
                Soundness::Damaged(_) => true,
                _ => kept.iter().any(|(p, k)| *p == path && *k),
            };
            plan.push(Verdict {
                path: path.clone(),
                tenant: name.tenant.clone(),
                keep,
                soundness: soundness.clone(),
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn kept(times: &[Timestamp], policy: Policy) -> Vec<String> {
        let keep = keep(times, &policy);
        let mut out: Vec<String> = times
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(t, _)| {
                t.to_zoned(TimeZone::UTC)
                    .strftime("%Y-%m-%dT%H")
                    .to_string()
            })
            .collect();
        out.sort();
        out
    }

    /// 60 nightly snapshots at 02:00 UTC from 2026-01-01 (a Thursday) to 2026-03-01.
    fn nightly() -> Vec<Timestamp> {
        let start = at("2026-01-01T02:00:00Z");
        (0..60)
            .map(|d| start + jiff::SignedDuration::from_hours(24 * d))
            .collect()
    }

    #[test]
    fn daily_weekly_monthly_keep_the_expected_set() {
        let policy = Policy {
            daily: 7,
            weekly: 4,
            monthly: 6,
            last: 0,
        };
        let got = kept(&nightly(), policy);
        let want = [
            // monthly: the newest of January (31st), February (28th), March (1st)
            "2026-01-31T02",
            // weekly (ISO weeks end on Sunday): 2026-02-08, -15, -22 and week 9's newest,
            // which is March 1st (a Sunday)
            "2026-02-08T02",
            "2026-02-15T02",
            "2026-02-22T02",
            // daily: the newest 7 days
            "2026-02-23T02",
            "2026-02-24T02",
            "2026-02-25T02",
            "2026-02-26T02",
            "2026-02-27T02",
            "2026-02-28T02",
            "2026-03-01T02",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn table_of_rules_and_edges() {
        struct Case {
            name: &'static str,
            times: Vec<&'static str>,
            policy: Policy,
            want: Vec<&'static str>,
        }
        let cases = vec![
            Case {
                name: "keep-last counts snapshots, not days",
                times: vec![
                    "2026-05-01T01:00:00Z",
                    "2026-05-01T02:00:00Z",
                    "2026-05-01T03:00:00Z",
                ],
                policy: Policy {
                    last: 2,
                    ..Policy::default()
                },
                want: vec!["2026-05-01T02", "2026-05-01T03"],
            },
            Case {
                name: "several a day: daily keeps the newest of each day",
                times: vec![
                    "2026-05-01T01:00:00Z",
                    "2026-05-01T23:00:00Z",
                    "2026-05-02T00:30:00Z",
                ],
                policy: Policy {
                    daily: 2,
                    ..Policy::default()
                },
                want: vec!["2026-05-01T23", "2026-05-02T00"],
            },
            Case {
                name: "a Sunday and the next Monday are different ISO weeks",
                times: vec!["2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z"],
                policy: Policy {
                    weekly: 2,
                    ..Policy::default()
                },
                want: vec!["2026-03-01T12", "2026-03-02T12"],
            },
            Case {
                name: "ISO week 1 of 2027 starts on 2027-01-04; Dec 31 and Jan 3 share week 53",
                times: vec![
                    "2026-12-31T12:00:00Z",
                    "2027-01-03T12:00:00Z",
                    "2027-01-04T12:00:00Z",
                ],
                policy: Policy {
                    weekly: 2,
                    ..Policy::default()
                },
                want: vec!["2027-01-03T12", "2027-01-04T12"],
            },
            Case {
                name: "month boundary at midnight UTC",
                times: vec!["2026-01-31T23:59:59Z", "2026-02-01T00:00:00Z"],
                policy: Policy {
                    monthly: 2,
                    ..Policy::default()
                },
                want: vec!["2026-01-31T23", "2026-02-01T00"],
            },
            Case {
                name: "gaps: monthly counts months that have snapshots",
                times: vec![
                    "2025-10-15T00:00:00Z",
                    "2026-01-15T00:00:00Z",
                    "2026-02-15T00:00:00Z",
                ],
                policy: Policy {
                    monthly: 2,
                    ..Policy::default()
                },
                want: vec!["2026-01-15T00", "2026-02-15T00"],
            },
            Case {
                name: "rules overlap; a snapshot kept twice is kept once",
                times: vec!["2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"],
                policy: Policy {
                    last: 1,
                    daily: 1,
                    weekly: 1,
                    monthly: 1,
                },
                want: vec!["2026-06-02T00"],
            },
        ];
        for case in cases {
            let times: Vec<Timestamp> = case.times.iter().map(|t| at(t)).collect();
            assert_eq!(kept(&times, case.policy), case.want, "{}", case.name);
        }
    }
}
