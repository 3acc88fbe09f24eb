//! Where records come from and go to: files or stdin/stdout, plain, `.gz` or `.zst` by
//! the file name. Output files are written aside and renamed when complete, so that a
//! failed run never leaves a file that looks finished.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The buffer of an input. Small on purpose: a read at least this large into an empty
/// buffer goes straight to the caller's memory (the engine reads 64 KiB and more into
/// its batches), so decompressed bytes are not copied twice.
const READ_BUFFER: usize = 64 << 10;

/// Opens `path` (`-` or None: stdin) for reading, decompressing by extension.
pub fn open_input(path: Option<&Path>) -> io::Result<Box<dyn BufRead + Send>> {
    let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
        return Ok(Box::new(BufReader::with_capacity(READ_BUFFER, io::stdin())));
    };
    let file = File::open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let name = path.to_string_lossy();
    Ok(if name.ends_with(".gz") {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            flate2::read::MultiGzDecoder::new(BufReader::new(file)),
        ))
    } else if name.ends_with(".zst") {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            zstd::stream::read::Decoder::new(file)?,
        ))
    } else {
        Box::new(BufReader::with_capacity(READ_BUFFER, file))
    })
}

enum Inner {
    Stdout(BufWriter<io::Stdout>),
    Plain(BufWriter<File>),
    Gz(flate2::write::GzEncoder<BufWriter<File>>),
    Zst(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

/// An output: write records, then [`Output::finish`] (which renames a file into place).
pub struct Output {
    inner: Inner,
    rename: Option<(tempfile::TempPath, PathBuf)>,
}

impl Output {
    /// Creates `path` (`-` or None: stdout), compressing by extension (`.zst` at `level`).
    pub fn create(path: Option<&Path>, zstd_level: i32) -> io::Result<Self> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            return Ok(Self {
                inner: Inner::Stdout(BufWriter::with_capacity(1 << 20, io::stdout())),
                rename: None,
            });
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".idferry-")
            .suffix(".partial")
            .tempfile_in(dir)?;
        let (file, tmp_path) = tmp.into_parts();
        let out = BufWriter::with_capacity(1 << 20, file);
        let name = path.to_string_lossy();
        let inner = if name.ends_with(".gz") {
            Inner::Gz(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::new(6),
            ))
        } else if name.ends_with(".zst") {
            Inner::Zst(zstd::stream::write::Encoder::new(out, zstd_level)?)
        } else {
            Inner::Plain(out)
        };
        Ok(Self {
            inner,
            rename: Some((tmp_path, path.to_owned())),
        })
    }

    /// Flushes, finishes compression and moves the file into place.
    pub fn finish(self) -> io::Result<()> {
        match self.inner {
            Inner::Stdout(mut w) => w.flush()?,
            Inner::Plain(w) => {
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            }
            Inner::Gz(w) => {
                w.finish()?
                    .into_inner()
                    .map_err(|e| e.into_error())?
                    .sync_all()?;
            }
            Inner::Zst(w) => {
                w.finish()?
                    .into_inner()
                    .map_err(|e| e.into_error())?
                    .sync_all()?;
            }
        }
        if let Some((tmp, dest)) = self.rename {
            tmp.persist(&dest).map_err(|e| e.error)?;
        }
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Stdout(w) => w.write(buf),
            Inner::Plain(w) => w.write(buf),
            Inner::Gz(w) => w.write(buf),
            Inner::Zst(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Stdout(w) => w.flush(),
            Inner::Plain(w) => w.flush(),
            Inner::Gz(w) => w.flush(),
            Inner::Zst(w) => w.flush(),
        }
    }
}
