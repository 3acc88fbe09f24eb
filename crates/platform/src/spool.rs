//! Spool files: the fixed input a users import is cut from (ndjson compressed with
//! zstd), written aside and renamed into place once whole, so that a resumed import
//! reads exactly what the first attempt did.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::PipelineError;

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> PipelineError {
    let what = format!("{what} {}", path.display());
    move |source| PipelineError::Io {
        what: what.clone(),
        source,
    }
}

/// A spool being written.
pub struct SpoolWriter {
    path: PathBuf,
    partial: PathBuf,
    out: zstd::stream::write::Encoder<'static, std::fs::File>,
}

impl SpoolWriter {
    /// Starts `path` (its folder created if needed), written as `path.partial`.
    pub fn create(path: &Path) -> Result<Self, PipelineError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("creating the folder of", path))?;
        }
        let partial = path.with_extension("partial");
        let file = std::fs::File::create(&partial).map_err(io("writing", &partial))?;
        let out = zstd::stream::write::Encoder::new(file, 3).map_err(io("writing", &partial))?;
        Ok(Self {
            path: path.to_owned(),
            partial,
            out,
        })
    }

    /// Appends one line.
    pub fn line<T: Serialize>(&mut self, value: &T) -> Result<(), PipelineError> {
        let err = io("writing", &self.partial);
        serde_json::to_writer(&mut self.out, value).map_err(|e| err(e.into()))?;
        self.out.write_all(b"\n").map_err(err)
    }

    /// Finishes, syncs and renames it into place.
    pub fn finish(self) -> Result<(), PipelineError> {
        let err = io("writing", &self.partial);
        let file = self.out.finish().map_err(&err)?;
        file.sync_all().map_err(&err)?;
        std::fs::rename(&self.partial, &self.path).map_err(io("renaming into", &self.path))
    }
}

/// Every line of the spool at `path`, in order.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, PipelineError> {
    let err = io("reading", path);
    let file = std::fs::File::open(path).map_err(&err)?;
    let reader = std::io::BufReader::new(zstd::stream::read::Decoder::new(file).map_err(&err)?);
    let mut lines = Vec::new();
    for line in reader.lines() {
        let line = line.map_err(&err)?;
        lines.push(serde_json::from_str(&line).map_err(|e| err(e.into()))?);
    }
    Ok(lines)
}
