//! What each sink does for one source tenant: a snapshot (with retention), a restore of
//! the configuration, and a users migration in three journaled steps (extract to a spool
//! file, import, memberships). Each returns the counts its journal row keeps.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};
use idferry_archive::{SnapshotWriter, WriteOptions, WrittenSnapshot};
use idferry_auth0::Client;
use idferry_export::{ExportOptions, ExportSummary};
use idferry_import::plan::{PlanOptions, plan};
use idferry_import::state::Selection;
use idferry_import::users::{
    Memberships, Report, SourceUser, UsersOptions, assign_memberships, import_users, target_ids,
};
use idferry_import::{ImportError, Values, apply};
use idferry_model::{Progress, TenantConfig};
use idferry_store::Store;
use idferry_transform::Mapping;
use idferry_transform::hashes::HashFile;
use idferry_transform::rules::{Rule, apply_all};
use serde_json::{Value, json};

use crate::error::{ObjectFailure, PipelineError};
use crate::journal::{Journal, UnitChunks};
use crate::platforms::Exported;
use crate::results::UsersImported;
use crate::results::{Extracted, Restored};
use crate::source::Source;
use crate::spool::SpoolWriter;
use idferry_import::users::MembershipSummary;
use idferry_model::ChunkCounts;

/// A snapshot taken, with what it took.
pub struct Snapshot {
    /// The archive written.
    pub written: WrittenSnapshot,
    /// Records per kind.
    pub summary: ExportSummary,
    /// HTTP requests sent.
    pub requests: u64,
    /// Of which answered 429.
    pub rate_limited: u64,
}

/// Backs up one tenant into `store`, read by its platform: every kind exported into an
/// archive (secrets as the platform gives them); in a directory the archive is written
/// aside and renamed, into object storage it is streamed up as a multipart upload that
/// appears under its name only when complete.
pub async fn snapshot(
    tenant: &TenantConfig,
    store: &Store,
    export_options: &ExportOptions,
    write_options: &WriteOptions,
    progress: &dyn Progress,
) -> Result<Snapshot, PipelineError> {
    // A pipeline holds no lease (yet): only what no backup has touched for the lease
    // time (two hours) is taken for a leftover.
    remove_leftovers(store, &tenant.name, Some(LEFTOVER_AGE), progress);
    let mut writer = new_writer(tenant, store, export_options.include_secrets)?;
    // An encrypted snapshot's records are never in clear on disk, even while spooled.
    if write_options.encryption.is_some() {
        writer.seal_spool()?;
    }
    let Exported {
        summary,
        requests,
        rate_limited,
    } = crate::platforms::of(tenant.platform)
        .export(tenant, &mut writer, export_options, progress)
        .await?;
    writer.set_user_fields(summary.user_fields.clone());
    progress.message(&format!("{}: compressing the snapshot", tenant.name));
    Ok(Snapshot {
        written: write_snapshot(writer, store, write_options).await?,
        summary,
        requests,
        rate_limited,
    })
}

/// How long a leftover must be untouched before it is taken for one where no lease
/// covers it: a lease's default time to live.
const LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

/// Removes what killed backups of `tenant` left where its snapshots are spooled (beside
/// a directory store's snapshots, else in the temp folder): with no age only under the
/// tenant's lease, else what is untouched for `older_than`. The temp folder is shared
/// with backups into other stores, which the lease does not cover: there only what is
/// untouched for a lease's time goes. What fails is logged: a leftover never stops a
/// backup.
pub fn remove_leftovers(
    store: &Store,
    tenant: &str,
    older_than: Option<std::time::Duration>,
    progress: &dyn Progress,
) {
    let (scratch, older_than) = match store.local_dir() {
        Some(dir) => (dir.to_owned(), older_than),
        None => (
            std::env::temp_dir(),
            Some(older_than.unwrap_or(LEFTOVER_AGE).max(LEFTOVER_AGE)),
        ),
    };
    match idferry_archive::writer::remove_leftovers(&scratch, tenant, older_than) {
        Ok(0) => {}
        Ok(n) => progress.message(&format!(
            "{tenant}: removed {n} leftovers of killed backups from {}",
            scratch.display()
        )),
        Err(e) => tracing::warn!("{tenant}: removing leftovers: {e}"),
    }
}

/// A snapshot of `tenant` for `store`, its members spooled beside a local store's
/// snapshots, else in the temp folder.
fn new_writer(
    tenant: &TenantConfig,
    store: &Store,
    secrets_included: bool,
) -> Result<SnapshotWriter, PipelineError> {
    let spool = store
        .local_dir()
        .map_or_else(std::env::temp_dir, Path::to_owned);
    Ok(SnapshotWriter::create(
        &spool,
        &tenant.name,
        &tenant.platform.to_string(),
        &tenant.base_url,
        secrets_included,
    )?)
}

/// Assembles `writer`'s archive into `store`: in a directory written aside and renamed,
/// into object storage streamed up as a multipart upload that appears under its name
/// only when complete.
async fn write_snapshot(
    writer: SnapshotWriter,
    store: &Store,
    write_options: &WriteOptions,
) -> Result<WrittenSnapshot, PipelineError> {
    let options = write_options.clone();
    let store = store.clone();
    tokio::task::spawn_blocking(move || -> Result<_, PipelineError> {
        if store.local_dir().is_some() {
            return Ok(writer.finish(&options)?);
        }
        let name = writer.file_name(&options);
        let upload = std::io::BufWriter::with_capacity(1 << 20, store.upload(&name)?);
        let (upload, manifest) = writer.finish_into(upload, &options)?;
        let upload = upload.into_inner().map_err(|e| PipelineError::Io {
            what: format!("uploading {name}"),
            source: e.into_error(),
        })?;
        Ok(WrittenSnapshot {
            bytes: upload.finish()?,
            path: PathBuf::from(store.display(&name)),
            manifest,
        })
    })
    .await
    .map_err(|e| PipelineError::TaskStopped {
        what: "the archive task".into(),
        message: e.to_string(),
    })?
}

/// What a restore sink takes.
pub struct RestoreSink<'a> {
    /// The target.
    pub target: &'a Client,
    /// Only these kinds.
    pub kinds: &'a [String],
    /// Values for write-only secrets.
    pub values: Option<&'a Path>,
    /// Delete what only the target has.
    pub allow_delete: bool,
}

/// Restores `source`'s configuration (through `mappings`) into the target.
pub async fn restore(
    source: &Source,
    mappings: &[Mapping],
    sink: &RestoreSink<'_>,
    journal: &Mutex<Journal>,
    unit: &str,
    progress: &dyn Progress,
) -> Result<Restored, PipelineError> {
    let mut from = source.state(Selection::Config, progress).await?;
    for m in mappings {
        from.apply_mapping(m)?;
    }
    let values = match sink.values {
        Some(file) => Values::load(file)?,
        None => Values::none(),
    };
    let into = idferry_import::State::from_tenant(sink.target, Selection::Config, progress).await?;
    let options = PlanOptions {
        kinds: sink.kinds.to_vec(),
        only: Vec::new(),
        allow_delete: sink.allow_delete,
    };
    let plan = plan(&from, &into, &values, &options);
    let report = apply(sink.target, &plan, progress).await;
    {
        let mut j = lock_journal(journal)?;
        j.put_ids(
            unit,
            "configuration",
            report
                .created
                .iter()
                .map(|c| (format!("{} {}", c.kind, c.name), c.id.clone())),
        )?;
    }
    let sum = |f: fn(&idferry_import::apply::KindResult) -> usize| -> usize {
        report.kinds.values().map(f).sum()
    };
    let counts = Restored {
        to: sink.target.tenant().to_owned(),
        created: sum(|k| k.created),
        updated: sum(|k| k.updated),
        unchanged: sum(|k| k.unchanged),
        deleted: sum(|k| k.deleted),
        failed: sum(|k| k.failed),
    };
    if report.failed() > 0 {
        return Err(PipelineError::ObjectsNotRestored {
            target: sink.target.tenant().to_owned(),
            failures: report
                .failures
                .iter()
                .map(|f| ObjectFailure {
                    kind: f.kind.clone(),
                    name: f.name.clone(),
                    problem: f.error.clone(),
                })
                .collect(),
        });
    }
    Ok(counts)
}

/// The `auth0-export-to-import` profile, with the password hashes of `hashes` merged
/// in: what a user goes through after the pipeline's mappings. The hash file comes back
/// too, for its counts.
pub fn import_profile(
    hashes: Option<&Path>,
) -> Result<(Mapping, Option<Arc<HashFile>>), PipelineError> {
    let mut profile = idferry_transform::profiles::profile("auth0-export-to-import")?;
    let mut loaded = None;
    if let Some(file) = hashes {
        let file = Arc::new(HashFile::load(file).map_err(|e| PipelineError::Hashes {
            path: file.to_owned(),
            message: e.to_string(),
        })?);
        profile.push(
            "users",
            Rule::MergeHashes {
                line: 0,
                hashes: file.clone(),
            },
        );
        loaded = Some(file);
    }
    Ok((profile, loaded))
}

/// Runs a user through `mappings`, then `profile`; None when a filter leaves it out.
pub fn shape_user(
    mappings: &[Mapping],
    profile: &Mapping,
    mut user: Value,
) -> Result<Option<SourceUser>, String> {
    let source_id = user
        .get("user_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    for m in mappings.iter().chain([profile]) {
        if !apply_all(m.rules_for("users"), &mut user).map_err(|e| e.to_string())? {
            return Ok(None);
        }
    }
    Ok(Some(SourceUser { source_id, user }))
}

/// What a users sink's extract does with one source user.
pub enum Shaped<T> {
    /// Spooled as `line`; `note` goes to the report (what of the user is not carried).
    Keep {
        /// The spool line.
        line: T,
        /// A report line naming what is not carried, if anything.
        note: Option<Value>,
        /// It carries a password hash.
        with_hash: bool,
        /// It is blocked (and is blocked again in the target).
        blocked: bool,
    },
    /// Left out by a mapping's filter.
    Filtered,
    /// Not shaped: the report line says why.
    Failed(Value),
}

/// The extract loop of every users sink: each source user through `shape`, kept ones
/// into the spool, what is not carried and what fails into the report, counted.
pub async fn extract<T: serde::Serialize>(
    source: &Source,
    spool: &Path,
    mut report: Report<std::io::BufWriter<std::fs::File>>,
    progress: &dyn Progress,
    mut shape: impl FnMut(Value) -> Shaped<T>,
) -> Result<Extracted, PipelineError> {
    let mut out = SpoolWriter::create(spool)?;
    let mut counts = Extracted {
        read: 0,
        kept: 0,
        filtered: 0,
        failed: 0,
        with_hash: 0,
        partly_carried: 0,
        blocked: 0,
        spool: spool.to_owned(),
    };
    let mut users = source.users(progress).await?;
    progress.start("extract users", None);
    while let Some(user) = users.next().await {
        counts.read += 1;
        match shape(user?) {
            Shaped::Keep {
                line,
                note,
                with_hash,
                blocked,
            } => {
                counts.kept += 1;
                counts.with_hash += u64::from(with_hash);
                counts.blocked += u64::from(blocked);
                if let Some(note) = note {
                    counts.partly_carried += 1;
                    report.write_line(&note)?;
                }
                out.line(&line)?;
            }
            Shaped::Filtered => counts.filtered += 1,
            Shaped::Failed(line) => {
                counts.failed += 1;
                report.write_line(&line)?;
            }
        }
        if counts.read.is_multiple_of(1000) {
            progress.advance("extract users", 1000);
        }
    }
    progress.finish("extract users");
    out.finish()?;
    report.finish()?;
    Ok(counts)
}

/// The Auth0 users of `source` through the mappings and the import profile into the
/// spool; users a rule fails on are named in the report.
pub async fn extract_users(
    source: &Source,
    mappings: &[Mapping],
    profile: &Mapping,
    spool: &Path,
    report: &Path,
    progress: &dyn Progress,
) -> Result<Extracted, PipelineError> {
    let report = Report::new(append(report)?);
    extract(source, spool, report, progress, |user| {
        let id = user.get("user_id").cloned();
        match shape_user(mappings, profile, user) {
            Ok(Some(u)) => Shaped::Keep {
                line: json!({"source_id": u.source_id, "user": u.user}),
                note: None,
                with_hash: false,
                blocked: false,
            },
            Ok(None) => Shaped::Filtered,
            Err(message) => Shaped::Failed(
                json!({"user_id": id, "errors": [{"code": "MAPPING", "message": message}]}),
            ),
        }
    })
    .await
}

/// A report file opened for appending (a resumed run adds to it).
pub(crate) fn append(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, PipelineError> {
    open_report(path, false)
}

/// A report file, its folder created first: started anew (`truncate`), or added to.
pub(crate) fn open_report(
    path: &Path,
    truncate: bool,
) -> Result<std::io::BufWriter<std::fs::File>, PipelineError> {
    let io = |source| PipelineError::Io {
        what: format!("opening the report {}", path.display()),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(!truncate)
        .truncate(truncate)
        .open(path)
        .map(std::io::BufWriter::new)
        .map_err(io)
}

/// A spooled user, as written by [`extract_users`].
#[derive(serde::Deserialize)]
struct Spooled {
    source_id: Option<String>,
    user: Value,
}

/// The spooled users, in order.
fn read_spool(spool: &Path) -> Result<Vec<SourceUser>, PipelineError> {
    Ok(crate::spool::read::<Spooled>(spool)?
        .into_iter()
        .map(|s| SourceUser {
            source_id: s.source_id,
            user: s.user,
        })
        .collect())
}

/// What a users sink takes.
pub struct UsersSink<'a> {
    /// The target.
    pub target: &'a Client,
    /// Import options (the run id names the jobs).
    pub options: UsersOptions,
    /// The spool file of the extract step.
    pub spool: PathBuf,
    /// The error report.
    pub report: PathBuf,
    /// The password-hash export: hashes are merged when users are sent, never written
    /// into the spool.
    pub hashes: Option<PathBuf>,
}

/// Imports the spooled users, file by file, journaled.
pub async fn import_spool(
    sink: &UsersSink<'_>,
    journal: Arc<Mutex<Journal>>,
    unit: &str,
    stage: &str,
    progress: &dyn Progress,
) -> Result<UsersImported, PipelineError> {
    let mut users = read_spool(&sink.spool)?;
    let (mut merged, mut unsupported) = (0, 0);
    if let Some(file) = &sink.hashes {
        let hashes = HashFile::load(file).map_err(|e| PipelineError::Hashes {
            path: file.to_owned(),
            message: e.to_string(),
        })?;
        for u in &mut users {
            // The profile's last step (`import_profile`), on the spooled user it saw.
            hashes.merge_into(&mut u.user);
        }
        merged = hashes.merged.load(std::sync::atomic::Ordering::Relaxed);
        unsupported = hashes
            .unsupported
            .load(std::sync::atomic::Ordering::Relaxed);
    }
    let before = sink.target.stats();
    let mut report = Report::new(append(&sink.report)?);
    let mut chunks = UnitChunks {
        journal,
        unit: unit.to_owned(),
        stage: stage.to_owned(),
    };
    let stream = stream::iter(users.into_iter().map(Ok::<_, ImportError>)).boxed();
    let (s, _) = import_users(
        sink.target,
        stream,
        &sink.options,
        &mut report,
        &mut chunks,
        progress,
    )
    .await?;
    report.finish()?;
    let after = sink.target.stats();
    Ok(UsersImported {
        total: s.total,
        counts: ChunkCounts {
            inserted: s.inserted,
            updated: s.updated,
            failed: s.failed,
            already_present: s.already_present,
        },
        jobs: s.jobs,
        status_checks: s.status_checks,
        hashes_merged: merged,
        hashes_unsupported: unsupported,
        requests: after.requests - before.requests,
        rate_limited: after.rate_limited - before.rate_limited,
    })
}

/// Gives the imported users their roles and organizations in the target.
pub async fn memberships(
    source: &Source,
    sink: &UsersSink<'_>,
    journal: &Mutex<Journal>,
    unit: &str,
    progress: &dyn Progress,
) -> Result<MembershipSummary, PipelineError> {
    let emails: HashMap<String, String> = read_spool(&sink.spool)?
        .into_iter()
        .filter_map(|u| Some((u.source_id?, u.user.get("email")?.as_str()?.to_lowercase())))
        .collect();
    let memberships =
        Memberships::from_state(&source.state(Selection::Memberships, progress).await?);
    let ids = target_ids(sink.target, emails, progress).await?;
    {
        let mut j = lock_journal(journal)?;
        j.put_ids(
            unit,
            "users",
            ids.iter().map(|(s, t)| (s.clone(), t.clone())),
        )?;
    }
    let mut report = Report::new(append(&sink.report)?);
    let m = assign_memberships(sink.target, &memberships, &ids, &mut report, progress).await?;
    report.finish()?;
    if m.failed > 0 {
        return Err(PipelineError::MembershipsRefused {
            count: m.failed,
            target: sink.target.tenant().to_owned(),
            report: sink.report.clone(),
        });
    }
    Ok(m)
}

/// The journal, for a stage to record in; a lock poisoned by a stage that panicked stops
/// the run rather than leaving results unrecorded.
fn lock_journal(
    journal: &Mutex<Journal>,
) -> Result<std::sync::MutexGuard<'_, Journal>, PipelineError> {
    journal.lock().map_err(|_| PipelineError::JournalPoisoned)
}
