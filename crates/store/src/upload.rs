//! A multipart upload as a `std::io::Write`, so that the archive writer (synchronous: tar
//! and zstd) streams a snapshot straight into object storage. Parts go up while the
//! next ones are compressed; the object appears under its name only on `finish`.

use std::io::Write;

use object_store::{ObjectStoreExt, WriteMultipart};
use tokio::runtime::Handle;

use crate::error::StoreError;
use crate::store::Store;

/// Bytes per part: S3 needs at least 5 MiB for every part but the last.
pub const PART_BYTES: usize = 8 << 20;

/// Parts uploading at once (memory: this many parts plus the one being filled).
const PARTS_IN_FLIGHT: usize = 4;

/// An upload in progress. Must live on a thread that may block (not an async task).
pub struct Upload {
    handle: Handle,
    inner: Option<WriteMultipart>,
    store: Store,
    name: String,
    bytes: u64,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("store", &self.store.url())
            .field("name", &self.name)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Upload {
    pub(crate) fn start(store: &Store, name: &str) -> Result<Self, StoreError> {
        let handle = Handle::try_current().map_err(|e| StoreError::Io {
            what: format!("uploading {name}"),
            source: std::io::Error::other(e),
        })?;
        let path = store.path(name);
        let upload = handle
            .block_on(store.objects().put_multipart(&path))
            .map_err(|e| store.backend_error(format!("starting the upload of {name}"), e))?;
        Ok(Self {
            handle,
            inner: Some(WriteMultipart::new_with_chunk_size(upload, PART_BYTES)),
            store: store.clone(),
            name: name.to_owned(),
            bytes: 0,
        })
    }

    /// Sends the last part and completes the upload: the object is now visible.
    /// Returns the bytes uploaded.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        let Some(inner) = self.inner.take() else {
            return Ok(self.bytes);
        };
        let _guard = self.handle.enter();
        self.handle.block_on(inner.finish()).map_err(|e| {
            self.store
                .backend_error(format!("completing the upload of {}", self.name), e)
        })?;
        Ok(self.bytes)
    }
}

impl Write for Upload {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(std::io::Error::other("the upload is finished"));
        };
        self.handle
            .block_on(inner.wait_for_capacity(PARTS_IN_FLIGHT))
            .map_err(std::io::Error::other)?;
        // Parts are spawned as tasks on the runtime.
        let _guard = self.handle.enter();
        inner.write(buf);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Unfinished (an error on the way): the parts sent are discarded.
        if let Some(inner) = self.inner.take() {
            let _guard = self.handle.enter();
            let _ = self.handle.block_on(inner.abort());
        }
    }
}
