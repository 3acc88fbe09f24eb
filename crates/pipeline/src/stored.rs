//! Snapshots in a store (a directory or object storage): which there are, one of them
//! as a local file, and retention applied to them.

use std::path::{Path, PathBuf};

use idferry_archive::naming::{self, SnapshotName};
use idferry_archive::prune::{Policy, Soundness, Verdict, plan};
use idferry_archive::{ArchiveError, Decryption, SnapshotReader};
use idferry_store::{Fetched, Outcome, RunReport, Store};

use crate::error::PipelineError;
use crate::results::Snapshotted;

/// A snapshot in a store.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its object (file) name.
    pub name: String,
    /// What the name says: tenant, time, encrypted.
    pub parsed: SnapshotName,
    /// Its size.
    pub bytes: u64,
}

/// Whether `text` names object storage rather than a local path.
pub fn is_url(text: &Path) -> bool {
    text.to_str()
        .is_some_and(|t| t.contains("://") && !t.starts_with("file://"))
}

/// The snapshots of `store`, oldest first. Anything else there (uploads in progress are
/// invisible; hidden `.idferry-*` leftovers, leases, reports) is not a snapshot.
pub async fn snapshots_in(store: &Store) -> Result<Vec<Stored>, PipelineError> {
    let mut out: Vec<Stored> = store
        .list()
        .await?
        .into_iter()
        .filter_map(|o| {
            Some(Stored {
                parsed: naming::parse(&o.name)?,
                name: o.name,
                bytes: o.bytes,
            })
        })
        .collect();
    out.sort_by(|a, b| a.parsed.time.cmp(&b.parsed.time).then(a.name.cmp(&b.name)));
    Ok(out)
}

/// How snapshots are checked before retention counts them.
#[derive(Debug, Clone)]
pub enum Check {
    /// Every member and the archive's end read and verified (the default: it reads,
    /// and for object storage downloads, every snapshot of the tenants pruned once).
    /// Encrypted snapshots are verified with the key when one is given; without it
    /// they count as unverified.
    Full(Option<Decryption>),
    /// Only the manifest read (the first MiB): cheap, blind to damage past it.
    ManifestOnly(Option<Decryption>),
}

/// What `check` finds of snapshot `name` of `store`.
async fn soundness(store: &Store, name: &str, check: &Check) -> Result<Soundness, PipelineError> {
    // A manifest-only check of a remote snapshot reads its first MiB, not the object.
    if let (Check::ManifestOnly(key), None) = (check, store.local_dir()) {
        let head = store.head(name, 1 << 20).await?;
        let key = key.clone();
        let found = tokio::task::spawn_blocking(move || -> Result<Soundness, ArchiveError> {
            let io = |e: std::io::Error| ArchiveError::Io {
                path: PathBuf::from("(temporary copy of a snapshot's head)"),
                source: e,
            };
            let mut tmp = tempfile::NamedTempFile::new().map_err(io)?;
            std::io::Write::write_all(&mut tmp, &head).map_err(io)?;
            let reader = SnapshotReader::new(tmp.path(), key.clone());
            if key.is_none() && reader.is_encrypted()? {
                return Ok(Soundness::Unverified(
                    "encrypted: give its key to verify it".into(),
                ));
            }
            reader.manifest()?;
            Ok(Soundness::Unverified("manifest only".into()))
        })
        .await
        .map_err(|e| PipelineError::TaskStopped {
            what: format!("checking {name}"),
            message: e.to_string(),
        })?;
        return Ok(match found {
            Ok(s) => s,
            Err(ArchiveError::Corrupt { message, .. }) => Soundness::Damaged(message),
            Err(e) => return Err(e.into()),
        });
    }
    let fetched = store.fetch(name).await?;
    let path = fetched.path().to_owned();
    let check = check.clone();
    let result = tokio::task::spawn_blocking(move || {
        let (key, full) = match &check {
            Check::Full(k) => (k.clone(), true),
            Check::ManifestOnly(k) => (k.clone(), false),
        };
        let reader = SnapshotReader::new(&path, key.clone());
        if key.is_none() && reader.is_encrypted()? {
            return Ok(Soundness::Unverified(
                "encrypted: give its key to verify it".into(),
            ));
        }
        if !full {
            reader.manifest()?;
            return Ok(Soundness::Unverified("manifest only".into()));
        }
        let report = reader.verify()?;
        Ok::<_, ArchiveError>(if report.passed() {
            Soundness::Sound
        } else {
            Soundness::Damaged(report.problems.join("; "))
        })
    })
    .await
    .map_err(|e| PipelineError::TaskStopped {
        what: format!("checking {name}"),
        message: e.to_string(),
    })?;
    drop(fetched);
    Ok(match result {
        Ok(s) => s,
        Err(ArchiveError::Corrupt { message, .. }) => Soundness::Damaged(message),
        Err(ArchiveError::Encrypted { message, .. }) => Soundness::Damaged(message),
        Err(e) => return Err(e.into()),
    })
}

/// Which snapshots of `store` (of `tenant`, or of all) `policy` keeps, each checked as
/// `check` says first (damaged ones count for nothing and are kept for someone to look
/// at); each verdict's `path` is the object name.
pub async fn plan_store(
    store: &Store,
    tenant: Option<&str>,
    policy: &Policy,
    check: &Check,
) -> Result<Vec<Verdict>, PipelineError> {
    let mut files: Vec<(PathBuf, SnapshotName, Soundness)> = Vec::new();
    for s in snapshots_in(store).await? {
        if tenant.is_some_and(|t| t != s.parsed.tenant) {
            continue;
        }
        let found = soundness(store, &s.name, check).await?;
        files.push((PathBuf::from(s.name), s.parsed, found));
    }
    Ok(plan(files, tenant, policy))
}

/// Deletes the snapshots of `tenant` in `store` that `policy` does not keep; returns
/// how many.
pub async fn apply_retention(
    store: &Store,
    tenant: &str,
    policy: Policy,
) -> Result<usize, PipelineError> {
    if policy.is_empty() {
        return Err(PipelineError::RetentionKeepsNothing);
    }
    let mut deleted = 0;
    let check = Check::Full(None);
    for v in plan_store(store, Some(tenant), &policy, &check).await? {
        if !v.keep {
            store.delete(&v.path.to_string_lossy()).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// The snapshot at `location` (a path, or a URL like `s3://bucket/prefix/NAME`) as a
/// local file: the file itself, or a temporary download.
pub async fn fetch_snapshot(location: &Path) -> Result<Fetched, PipelineError> {
    if !is_url(location) {
        let path = match location.to_str().and_then(|t| t.strip_prefix("file://")) {
            Some(p) => PathBuf::from(p),
            None => location.to_owned(),
        };
        if !path.is_file() {
            return Err(PipelineError::Io {
                what: format!("no snapshot at {}", path.display()),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        return Ok(Fetched::Local(path));
    }
    let text = location.to_string_lossy();
    let Some((store, name)) = text.trim_end_matches('/').rsplit_once('/') else {
        return Err(PipelineError::NotASnapshotUrl {
            location: text.into_owned(),
        });
    };
    Ok(Store::open(store)?.fetch(name).await?)
}

/// How a tenant's snapshot run ended, for its report.
#[derive(Debug)]
pub struct Ended {
    /// Ok, failed, or skipped (another worker held the lease).
    pub outcome: Outcome,
    /// The snapshot written.
    pub snapshot: Option<String>,
    /// Its size.
    pub bytes: Option<u64>,
    /// Records in it.
    pub records: Option<u64>,
    /// Users in it.
    pub users: Option<u64>,
    /// Why it failed or was skipped.
    pub error: Option<String>,
}

impl Ended {
    /// A run that wrote no snapshot (failed, or skipped), and why.
    pub fn without_snapshot(outcome: Outcome, error: String) -> Self {
        Self {
            outcome,
            snapshot: None,
            bytes: None,
            records: None,
            users: None,
            error: Some(error),
        }
    }

    /// From a snapshot stage's result.
    pub fn from_result(result: &Result<Snapshotted, PipelineError>) -> Self {
        match result {
            Ok(done) => Self {
                outcome: Outcome::Ok,
                snapshot: Some(done.path.to_string_lossy().into_owned()),
                bytes: Some(done.bytes),
                records: Some(done.records),
                users: Some(done.users),
                error: None,
            },
            Err(e) => Self::without_snapshot(Outcome::Failed, e.to_string()),
        }
    }
}

/// Files the run report of `tenant` into `store`. A report that cannot be written is a
/// warning: the snapshot is what matters.
pub async fn file_report(
    store: &Store,
    tenant: &str,
    worker: &str,
    started: jiff::Timestamp,
    ended: Ended,
) {
    let report = RunReport {
        tenant: tenant.to_owned(),
        worker: worker.to_owned(),
        started_at: started.to_string(),
        finished_at: jiff::Timestamp::now().to_string(),
        outcome: ended.outcome,
        snapshot: ended.snapshot,
        bytes: ended.bytes,
        records: ended.records,
        users: ended.users,
        error: ended.error,
    };
    if let Err(e) = report.write(store).await {
        tracing::warn!("{tenant}: writing the run report: {e}");
    }
}
