//! Where an Auth0 users sink reads records from (and, converted, a ZITADEL one): a
//! snapshot file, or a live tenant.

use std::path::PathBuf;

use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture as BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use idferry_archive::{Decryption, SnapshotReader};
use idferry_auth0::{Client, ExportRequest};
use idferry_auth0_import::ImportError;
use idferry_auth0_import::state::{Selection, State};
use idferry_model::Progress;
use idferry_model::values::Values;
use serde_json::Value;

use idferry_platform::error::{OrPlatform, PipelineError};
use idferry_platform::{From, UsersSource, UsersStream};
use idferry_transform::Mapping;

/// A source of records.
pub enum Source {
    /// A snapshot file (and how to open it if it is encrypted).
    Snapshot(PathBuf, Option<Decryption>),
    /// A live tenant.
    Tenant(Client),
    /// auth0-deploy-cli's files, as read (keywords replaced).
    Files(PathBuf, Box<idferry_auth0_deploy::read::Read>),
}

impl Source {
    /// The Auth0 source a sink reads: a snapshot, or the tenant through a new client.
    pub fn of(from: From<'_>) -> Result<Self, PipelineError> {
        Ok(match from {
            From::Snapshot(path, key) => Self::Snapshot(path.to_owned(), key),
            From::Tenant(tenant) => Self::Tenant(
                Client::new(tenant, idferry_auth0::ClientOptions::default()).or_platform()?,
            ),
            From::Files(path, keywords) => Self::Files(
                path.to_owned(),
                Box::new(idferry_auth0_deploy::read::read(path, keywords).or_platform()?),
            ),
        })
    }

    /// How the source is named in messages.
    pub fn name(&self) -> String {
        match self {
            Self::Snapshot(p, _) | Self::Files(p, _) => p.display().to_string(),
            Self::Tenant(c) => c.tenant().to_owned(),
        }
    }

    /// The snapshot's reader; a snapshot of another platform is refused.
    pub(crate) fn reader(
        path: &std::path::Path,
        key: &Option<Decryption>,
    ) -> Result<SnapshotReader, PipelineError> {
        if !path.is_file() {
            return Err(PipelineError::NoSnapshot {
                path: path.to_owned(),
            });
        }
        let reader = SnapshotReader::new(path, key.clone());
        // Checked whole before anything is taken from it (and again as it is read).
        let platform = reader.checked()?.platform;
        if platform != idferry_auth0::PLATFORM {
            return Err(PipelineError::AcrossPlatforms {
                read: path.display().to_string(),
                from: platform.clone(),
                to: idferry_auth0::PLATFORM.into(),
                converts: idferry_platform::Platform::converts_users_of(&crate::Auth0, &platform),
            });
        }
        Ok(reader)
    }

    /// What a reader of this source should know before trusting its users: an Auth0
    /// snapshot whose users were exported without their metadata, or whose manifest does
    /// not say which fields they were exported with (written before it was recorded; on
    /// a real tenant such a backup lacks the metadata). None for a live tenant, which is
    /// exported with every field.
    pub fn warnings(&self) -> Result<Vec<String>, PipelineError> {
        if let Self::Files(_, read) = self {
            let mut notes: Vec<String> = read
                .unresolved
                .iter()
                .map(|k| format!("keyword without a value: {k}: the secret is asked for below"))
                .collect();
            notes.extend(read.not_carried.iter().map(|n| format!("not carried: {n}")));
            return Ok(notes);
        }
        let Self::Snapshot(path, key) = self else {
            return Ok(Vec::new());
        };
        let manifest = SnapshotReader::new(path, key.clone()).manifest()?;
        Ok(users_warning(&path.display().to_string(), &manifest)
            .into_iter()
            .collect())
    }

    /// The records of `selection`.
    pub async fn state(
        &self,
        selection: Selection,
        progress: &dyn Progress,
    ) -> Result<State, PipelineError> {
        Ok(match self {
            Self::Snapshot(path, key) => {
                let reader = Self::reader(path, key)?;
                State::from_snapshot(&reader, selection).or_platform()?
            }
            Self::Tenant(client) => State::from_tenant(client, selection, progress)
                .await
                .or_platform()?,
            Self::Files(path, read) => match selection {
                Selection::Config => read.state.clone(),
                Selection::Memberships => {
                    return Err(PipelineError::FilesHoldNoUsers { path: path.clone() });
                }
            },
        })
    }

    /// The values of write-only secrets for a restore from this source: those it gives
    /// itself (files, their keywords replaced), then those of the values `file`.
    pub fn values(&self, file: Option<&std::path::Path>) -> Result<Values, PipelineError> {
        let own = match self {
            Self::Files(_, read) => Values::from_json(read.values.clone()),
            _ => Values::none(),
        };
        Ok(match file {
            Some(file) => own.merged(Values::load(file).or_platform()?),
            None => own,
        })
    }

    /// The users, as export records (a users-exports job, or the snapshot's users).
    pub async fn users(
        &self,
        progress: &dyn Progress,
    ) -> Result<BoxStream<'static, Result<Value, ImportError>>, PipelineError> {
        Ok(match self {
            Self::Files(path, _) => {
                return Err(PipelineError::FilesHoldNoUsers { path: path.clone() });
            }
            Self::Tenant(client) => {
                let job = client
                    .create_export(&ExportRequest::every_user_field())
                    .await
                    .or_platform()?;
                client.wait_job(job.id(), progress).await.or_platform()?;
                client
                    .export_records(job.id())
                    .await
                    .or_platform()?
                    .map_err(ImportError::from)
                    .boxed()
            }
            Self::Snapshot(path, key) => {
                let reader = Self::reader(path, key)?;
                for warning in self.warnings()? {
                    progress.message(&format!("warning: {warning}"));
                }
                let (tx, rx) = tokio::sync::mpsc::channel::<Result<Value, ImportError>>(1024);
                let name = path.display().to_string();
                tokio::task::spawn_blocking(move || {
                    let mut n = 0u64;
                    let result = reader.records("users", |line| {
                        n += 1;
                        let parsed =
                            serde_json::from_slice(line).map_err(|e| ImportError::Record {
                                source_name: name.clone(),
                                kind: "users".into(),
                                line: n,
                                message: format!("not JSON: {e}"),
                            });
                        // A closed channel means the reader stopped: stop reading.
                        tx.blocking_send(parsed).map_err(|_| {
                            idferry_archive::ArchiveError::Corrupt {
                                path: name.clone().into(),
                                message: "reading stopped".into(),
                            }
                        })
                    });
                    if let Err(e) = result {
                        let _ = tx.blocking_send(Err(ImportError::Archive(e)));
                    }
                });
                stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) }).boxed()
            }
        })
    }
}

impl UsersSource for Source {
    fn users<'a>(
        &'a self,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<UsersStream, PipelineError>> {
        async move {
            Ok(Source::users(self, progress)
                .await?
                .map_err(PipelineError::platform)
                .boxed())
        }
        .boxed_local()
    }

    fn memberships<'a>(
        &'a self,
        mappings: &'a [Mapping],
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<idferry_model::Memberships, PipelineError>> {
        async move {
            let mut state = self.state(Selection::Memberships, progress).await?;
            for m in mappings {
                state.apply_mapping(m).or_platform()?;
            }
            Ok(idferry_auth0_import::users::memberships_of(&state))
        }
        .boxed_local()
    }
}

/// Why the users of the Auth0 snapshot `name` (described by `manifest`) may lack their
/// metadata, if they may.
pub fn users_warning(name: &str, manifest: &idferry_archive::Manifest) -> Option<String> {
    if manifest.platform != idferry_auth0::PLATFORM || manifest.records("users") == 0 {
        return None;
    }
    let missing = idferry_auth0::missing_metadata(manifest.user_fields.as_deref());
    if missing.is_empty() {
        return None;
    }
    Some(match &manifest.user_fields {
        None => format!(
            "{name} does not record the fields its users were exported with (written by idferry {}): on a real Auth0 tenant such a backup holds no {} of its users; take a new backup before relying on them",
            manifest.tool_version,
            missing.join(" or ")
        ),
        Some(_) => format!(
            "{name}: its users were exported without {}; they are not in this snapshot and will not be restored or migrated",
            missing.join(" and ")
        ),
    })
}
