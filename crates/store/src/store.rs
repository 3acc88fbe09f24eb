//! A snapshot store: list, fetch, delete and upload objects by name, the same way
//! whether the store is a directory or a bucket.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::error::StoreError;
use crate::location::{Location, local_objects, locate};
use crate::upload::Upload;

/// An object at the top of a store.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Its name (no prefix).
    pub name: String,
    /// Its size.
    pub bytes: u64,
}

/// A snapshot readable as a local file: the store's own file, or a downloaded copy
/// deleted when dropped.
#[derive(Debug)]
pub enum Fetched {
    /// A file of a local store.
    Local(PathBuf),
    /// A temporary copy of a remote object.
    Temp(tempfile::TempPath),
}

impl Fetched {
    /// The local file.
    pub fn path(&self) -> &Path {
        match self {
            Fetched::Local(p) => p,
            Fetched::Temp(t) => t,
        }
    }
}

/// A store of snapshots (and of the leases and reports of the workers sharing it).
#[derive(Debug, Clone)]
pub struct Store {
    url: String,
    /// The directory of a local store.
    dir: Option<PathBuf>,
    objects: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    /// What to check when the backend fails (no credentials were configured).
    hint: Option<&'static str>,
}

impl Store {
    /// Opens the store at `url` (a path, `file://`, `s3://bucket/prefix`, `gs://`,
    /// `az://`). A local directory is created when first written to.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, &[])
    }

    /// Opens the store at `url` with backend options that override the environment
    /// (object_store's keys: `aws_endpoint`, `aws_access_key_id`, `google_service_account`,
    /// `azure_storage_account_name`...).
    pub fn open_with(url: &str, options: &[(String, String)]) -> Result<Self, StoreError> {
        match locate(url, options)? {
            Location::Local(dir) => Ok(Self {
                url: url.to_owned(),
                objects: local_objects(&dir)?,
                dir: Some(dir),
                prefix: ObjectPath::default(),
                hint: None,
            }),
            Location::Remote(objects, prefix, hint) => Ok(Self {
                url: url.trim_end_matches('/').to_owned(),
                dir: None,
                objects,
                prefix,
                hint,
            }),
        }
    }

    /// The store as named by the user.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The directory, for a local store.
    pub fn local_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// How to name object `name` to the user.
    pub fn display(&self, name: &str) -> String {
        match &self.dir {
            Some(dir) => dir.join(name).display().to_string(),
            None => format!("{}/{name}", self.url),
        }
    }

    /// The object path of `name` (`/`-separated) under the prefix.
    pub(crate) fn path(&self, name: &str) -> ObjectPath {
        name.split('/')
            .filter(|part| !part.is_empty())
            .fold(self.prefix.clone(), |path, part| path.join(part))
    }

    fn backend(&self, what: impl Into<String>) -> impl FnOnce(object_store::Error) -> StoreError {
        let (store, what, hint) = (self.url.clone(), what.into(), self.hint);
        move |source| StoreError::Backend {
            store,
            what,
            message: match hint {
                Some(hint) => format!("{} ({hint})", with_root_cause(&source)),
                None => with_root_cause(&source),
            },
        }
    }

    pub(crate) fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    /// The objects directly under the store's prefix (not in sub-folders), by name.
    pub async fn list(&self) -> Result<Vec<ObjectInfo>, StoreError> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let listed = self
            .objects
            .list_with_delimiter(prefix)
            .await
            .map_err(self.backend("listing"))?;
        let mut out: Vec<ObjectInfo> = listed
            .objects
            .into_iter()
            .filter_map(|meta| {
                Some(ObjectInfo {
                    name: meta.location.filename()?.to_owned(),
                    bytes: meta.size,
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Every object under `folder` (recursively), by path relative to the prefix.
    pub async fn list_under(&self, folder: &str) -> Result<Vec<String>, StoreError> {
        let base = self.path(folder);
        let skip = self.prefix.parts().count();
        let objects: Vec<_> = self
            .objects
            .list(Some(&base))
            .try_collect()
            .await
            .map_err(self.backend(format!("listing {folder}")))?;
        let mut out: Vec<String> = objects
            .into_iter()
            .map(|m| {
                m.location
                    .parts()
                    .skip(skip)
                    .map(|p| p.as_ref().to_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Object `name` as a local file: a local store's own file, or a download (streamed
    /// to a temporary file) of a remote one.
    pub async fn fetch(&self, name: &str) -> Result<Fetched, StoreError> {
        if let Some(dir) = &self.dir {
            let path = dir.join(name);
            return if path.is_file() {
                Ok(Fetched::Local(path))
            } else {
                Err(StoreError::Io {
                    what: format!("no snapshot at {}", path.display()),
                    source: std::io::ErrorKind::NotFound.into(),
                })
            };
        }
        let got = self
            .objects
            .get(&self.path(name))
            .await
            .map_err(self.backend(format!("downloading {name}")))?;
        let io = |what: &str| {
            let what = format!("{what} for {name}");
            move |source| StoreError::Io { what, source }
        };
        let tmp = tempfile::Builder::new()
            .prefix(".idferry-fetch-")
            .tempfile()
            .map_err(io("creating a temporary file"))?;
        let (file, path) = tmp.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut stream = got.into_stream();
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(self.backend(format!("downloading {name}")))?
        {
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                .await
                .map_err(io("writing a temporary copy"))?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(io("writing a temporary copy"))?;
        Ok(Fetched::Temp(path))
    }

    /// The first `n` bytes of `name` (all of it when shorter).
    pub async fn head(&self, name: &str, n: u64) -> Result<Bytes, StoreError> {
        let path = self.path(name);
        let size = self
            .objects
            .head(&path)
            .await
            .map_err(self.backend(format!("reading {name}")))?
            .size;
        self.objects
            .get_range(&path, 0..n.min(size))
            .await
            .map_err(self.backend(format!("reading {name}")))
    }

    /// Deletes `name`.
    pub async fn delete(&self, name: &str) -> Result<(), StoreError> {
        self.objects
            .delete(&self.path(name))
            .await
            .map_err(self.backend(format!("deleting {name}")))
    }

    /// Reads a small object, None when there is none.
    pub async fn get_small(&self, name: &str) -> Result<Option<Bytes>, StoreError> {
        match self.objects.get(&self.path(name)).await {
            Ok(got) => Ok(Some(
                got.bytes()
                    .await
                    .map_err(self.backend(format!("reading {name}")))?,
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.backend(format!("reading {name}"))(e)),
        }
    }

    /// Writes a small object in one request, replacing what is there.
    pub async fn put_small(&self, name: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.objects
            .put_opts(
                &self.path(name),
                PutPayload::from(bytes),
                PutOptions::from(PutMode::Overwrite),
            )
            .await
            .map(|_| ())
            .map_err(self.backend(format!("writing {name}")))
    }

    /// Starts a multipart upload of `name`: nothing is visible under the name until
    /// [`Upload::finish`]; an upload dropped unfinished is aborted. Call from a thread
    /// that may block (`spawn_blocking`): the upload is a `std::io::Write`.
    pub fn upload(&self, name: &str) -> Result<Upload, StoreError> {
        Upload::start(self, name)
    }

    pub(crate) fn backend_error(&self, what: String, source: object_store::Error) -> StoreError {
        self.backend(what)(source)
    }
}

/// An error's message with its innermost cause (`connection refused`...) when the
/// message does not already say it.
fn with_root_cause(e: &dyn std::error::Error) -> String {
    let message = e.to_string();
    let mut root = e.source();
    while let Some(next) = root.and_then(std::error::Error::source) {
        root = Some(next);
    }
    match root.map(ToString::to_string) {
        Some(cause) if !message.contains(&cause) => format!("{message}: {cause}"),
        _ => message,
    }
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}
