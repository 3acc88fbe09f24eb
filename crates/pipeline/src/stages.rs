//! What every platform's sinks share: a snapshot of a tenant (read by its platform) into
//! an archive in a store, leftovers of killed backups, the extract loop of a users sink,
//! and the reports and journal they write to. What differs per platform is under
//! `platforms/`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures_util::stream::StreamExt;
use idferry_archive::{SnapshotWriter, WriteOptions, WrittenSnapshot};
use idferry_import::users::Report;
use idferry_model::{ExportOptions, ExportSummary};
use idferry_model::{Progress, TenantConfig};
use idferry_store::Store;
use serde_json::Value;

use crate::error::PipelineError;
use crate::journal::Journal;
use crate::platforms::Exported;
use crate::platforms::auth0::source::Source;
use crate::results::Extracted;
use crate::spool::SpoolWriter;

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
    writer.set_unavailable(summary.unavailable.clone());
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
    /// Left out because the target cannot take it as it is (a social user into a
    /// database import): the report line names it and why. Not a failure.
    LeftOut(Value),
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
        left_out: 0,
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
            Shaped::LeftOut(line) => {
                counts.left_out += 1;
                report.write_line(&line)?;
            }
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

/// The journal, for a stage to record in; a lock poisoned by a stage that panicked stops
/// the run rather than leaving results unrecorded.
pub(crate) fn lock_journal(
    journal: &Mutex<Journal>,
) -> Result<std::sync::MutexGuard<'_, Journal>, PipelineError> {
    journal.lock().map_err(|_| PipelineError::JournalPoisoned)
}
