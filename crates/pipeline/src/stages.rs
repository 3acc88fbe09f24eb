//! A snapshot of a tenant (read by its platform) into an archive in a store, and the
//! leftovers of killed backups. What the platforms' sinks share is in
//! `idferry_platform::sinks`; what differs per platform is in its own crate.

use std::path::{Path, PathBuf};

use idferry_archive::{SnapshotWriter, WriteOptions, WrittenSnapshot};
use idferry_model::{ExportOptions, ExportSummary};
use idferry_model::{Progress, TenantConfig};
use idferry_store::Store;

use crate::error::PipelineError;
use crate::platforms::Exported;

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
    } = crate::platforms::of(tenant)?
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
        &tenant.platform,
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
