//! Writing a snapshot. Members are spooled to a hidden folder beside the destination as
//! they arrive (their counts and checksums are known only at their end, and the manifest
//! must come first); `finish` then assembles the tar stream through zstd (and age) into a
//! hidden temporary file, fsyncs it, and renames it to its final name. A crash at any
//! point leaves only hidden `.idferry-*` leftovers, never a file named like a snapshot.
//! `finish_into` assembles into any writer instead (an object storage upload, which
//! becomes visible only when completed); the spool folder is then a local temporary one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use idferry_model::MemberSink;
use jiff::Timestamp;

use crate::crypto::Encryption;
use crate::error::ArchiveError;
use crate::manifest::{FORMAT, FORMAT_VERSION, MANIFEST, Manifest, MemberEntry};
use crate::naming;

/// Bytes of input per zstd job when compressing with worker threads.
const JOB_SIZE: u32 = 1 << 20;

/// How the archive is compressed and protected.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// zstd level (1..=19).
    pub level: i32,
    /// zstd worker threads (0: compress on the calling thread).
    pub threads: u32,
    /// Encrypt with age.
    pub encryption: Option<Encryption>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            level: 6,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get() as u32),
            encryption: None,
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct WrittenSnapshot {
    /// The final file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its manifest.
    pub manifest: Manifest,
}

struct Current {
    entry: MemberEntry,
    file: Spool,
    hasher: blake3::Hasher,
}

/// A member's spool file: plain, or sealed with age to a key that exists only in this
/// process's memory (an encrypted backup never has its records in clear on disk, and
/// what a killed one leaves cannot be read by anyone).
enum Spool {
    Plain(BufWriter<File>),
    Sealed(age::stream::StreamWriter<BufWriter<File>>),
}

impl Spool {
    fn finish(self) -> std::io::Result<()> {
        match self {
            Self::Plain(mut w) => w.flush(),
            Self::Sealed(w) => w.finish()?.flush(),
        }
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(w) => w.write(buf),
            Self::Sealed(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(w) => w.flush(),
            Self::Sealed(w) => w.flush(),
        }
    }
}

/// A snapshot being written.
pub struct SnapshotWriter {
    out_dir: PathBuf,
    started: Timestamp,
    manifest: Manifest,
    spool: tempfile::TempDir,
    current: Option<Current>,
    /// The in-memory key of a sealed spool.
    seal: Option<age::x25519::Identity>,
}

impl SnapshotWriter {
    /// Starts a snapshot of `tenant` (on `platform`, answering at `source`) in `out_dir`
    /// (members are spooled there too; for [`Self::finish_into`], a local scratch folder).
    pub fn create(
        out_dir: &Path,
        tenant: &str,
        platform: &str,
        source: &str,
        secrets_included: bool,
    ) -> Result<Self, ArchiveError> {
        std::fs::create_dir_all(out_dir).map_err(ArchiveError::io(out_dir))?;
        let spool = tempfile::Builder::new()
            .prefix(&spool_prefix(tenant))
            .tempdir_in(out_dir)
            .map_err(ArchiveError::io(out_dir))?;
        let started = Timestamp::now();
        Ok(Self {
            out_dir: out_dir.to_owned(),
            started,
            manifest: Manifest {
                format: FORMAT.into(),
                format_version: FORMAT_VERSION,
                tool_version: env!("CARGO_PKG_VERSION").into(),
                tenant: tenant.into(),
                platform: platform.into(),
                source: source.into(),
                started_at: format!("{started:.3}"),
                finished_at: String::new(),
                secrets_included,
                user_fields: None,
                unavailable: Vec::new(),
                members: Vec::new(),
            },
            spool,
            current: None,
            seal: None,
        })
    }

    /// Seals the spool: members are written aside encrypted to a key held only in
    /// memory (call it for encrypted snapshots, before the first member).
    pub fn seal_spool(&mut self) -> Result<(), ArchiveError> {
        if self.current.is_some() || !self.manifest.members.is_empty() {
            return Err(ArchiveError::Usage(
                "the spool is sealed before the first member".into(),
            ));
        }
        self.seal = Some(age::x25519::Identity::generate());
        Ok(())
    }

    /// A spooled member's content, opened (and unsealed).
    fn read_spool(&self, index: usize) -> std::io::Result<Box<dyn std::io::Read + '_>> {
        let file = std::io::BufReader::new(File::open(self.spool_path(index))?);
        let Some(key) = &self.seal else {
            return Ok(Box::new(file));
        };
        let decryptor = age::Decryptor::new_buffered(file).map_err(std::io::Error::other)?;
        let reader = decryptor
            .decrypt(std::iter::once(key as &dyn age::Identity))
            .map_err(std::io::Error::other)?;
        Ok(Box::new(reader))
    }

    /// Records the fields the users were exported with, in the manifest.
    pub fn set_user_fields(&mut self, fields: Option<Vec<String>>) {
        self.manifest.user_fields = fields;
    }

    /// Records the kinds the tenant did not offer.
    pub fn set_unavailable(&mut self, unavailable: Vec<idferry_model::sink::Unavailable>) {
        self.manifest.unavailable = unavailable;
    }

    fn spool_path(&self, index: usize) -> PathBuf {
        self.spool.path().join(format!("{index:04}.ndjson"))
    }

    /// The file name the finished snapshot gets.
    pub fn file_name(&self, options: &WriteOptions) -> String {
        naming::file_name(
            self.started,
            &self.manifest.tenant,
            options.encryption.is_some(),
        )
    }

    fn close_members(&mut self) -> Result<(), ArchiveError> {
        if self.current.is_some() {
            self.finish_member()
                .map_err(ArchiveError::io(self.spool.path()))?;
        }
        self.manifest.finished_at = format!("{:.3}", Timestamp::now());
        Ok(())
    }

    /// Assembles the archive into `out` (zstd, and age when asked) and returns it with
    /// the manifest. Whether `out` becomes visible only when complete is its business.
    pub fn finish_into<W: Write>(
        mut self,
        out: W,
        options: &WriteOptions,
    ) -> Result<(W, Manifest), ArchiveError> {
        self.close_members()?;
        let spool = self.spool.path().to_owned();
        let out = match &options.encryption {
            None => Output::Plain(out),
            Some(e) => Output::Age(e.wrap(out)?),
        };
        let out = self
            .write_tar(out, options)
            .and_then(Output::finish)
            .map_err(ArchiveError::io(&spool))?;
        Ok((out, self.manifest))
    }

    /// Assembles the archive and renames it into place.
    pub fn finish(mut self, options: &WriteOptions) -> Result<WrittenSnapshot, ArchiveError> {
        self.close_members()?;
        let final_path = self.out_dir.join(self.file_name(options));
        let tmp = tempfile::Builder::new()
            .prefix(&partial_prefix(&self.manifest.tenant))
            .suffix(".partial")
            .tempfile_in(&self.out_dir)
            .map_err(ArchiveError::io(&self.out_dir))?;
        let io = ArchiveError::io(tmp.path());
        let file = tmp.as_file().try_clone().map_err(io)?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let out = match &options.encryption {
            None => Output::Plain(out),
            Some(e) => Output::Age(e.wrap(out)?),
        };
        let out = self
            .write_tar(out, options)
            .map_err(ArchiveError::io(tmp.path()))?;
        let file = out
            .finish()
            .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
            .map_err(ArchiveError::io(tmp.path()))?;
        file.sync_all().map_err(ArchiveError::io(tmp.path()))?;
        let bytes = file.metadata().map_err(ArchiveError::io(tmp.path()))?.len();
        tmp.persist_noclobber(&final_path)
            .map_err(|e| ArchiveError::Io {
                path: final_path.clone(),
                source: e.error,
            })?;
        // The rename itself must reach the disk.
        if let Ok(dir) = File::open(&self.out_dir) {
            let _ = dir.sync_all();
        }
        Ok(WrittenSnapshot {
            path: final_path,
            bytes,
            manifest: self.manifest,
        })
    }

    fn write_tar<W: Write>(
        &self,
        out: Output<W>,
        options: &WriteOptions,
    ) -> std::io::Result<Output<W>> {
        let mut zstd = zstd::stream::write::Encoder::new(out, options.level)?;
        zstd.include_checksum(true)?;
        if options.threads > 0 {
            zstd.multithread(options.threads)?;
            // Jobs of a fixed size (zstd's default grows with the level's window, 8 MiB
            // and more, each held in and out by every worker): memory is then the same
            // for a small tenant as for a large one, and a snapshot of a few MiB already
            // keeps every worker busy.
            zstd.set_parameter(zstd::stream::raw::CParameter::JobSize(JOB_SIZE))?;
        }
        let mut tar = tar::Builder::new(zstd);
        let mtime = self.started.as_second().max(0) as u64;
        let manifest = serde_json::to_vec_pretty(&self.manifest)?;
        append(
            &mut tar,
            MANIFEST,
            manifest.len() as u64,
            mtime,
            manifest.as_slice(),
        )?;
        for (i, member) in self.manifest.members.iter().enumerate() {
            append(
                &mut tar,
                &member.path,
                member.bytes,
                mtime,
                self.read_spool(i)?,
            )?;
        }
        tar.into_inner()?.finish()
    }
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    mtime: u64,
    data: impl std::io::Read,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, data)
}

/// The destination, plain or through age.
enum Output<W: Write> {
    Plain(W),
    Age(age::stream::StreamWriter<W>),
}

impl<W: Write> Output<W> {
    fn finish(self) -> std::io::Result<W> {
        match self {
            Self::Plain(w) => Ok(w),
            Self::Age(w) => w.finish(),
        }
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(w) => w.write(buf),
            Self::Age(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(w) => w.flush(),
            Self::Age(w) => w.flush(),
        }
    }
}

/// The prefix of the spool folders of `tenant`'s snapshots being written (hidden):
/// `.idferry-spool-<tenant>-`, so that the next backup of the tenant, holding its lease,
/// can find and remove what a killed one left ([`remove_leftovers`]).
pub fn spool_prefix(tenant: &str) -> String {
    format!(".idferry-spool-{tenant}-")
}

/// The prefix of `tenant`'s archives being written aside in a directory store.
pub fn partial_prefix(tenant: &str) -> String {
    format!(".idferry-{tenant}-")
}

/// Removes from `dir` what killed backups of `tenant` left (spool folders and partial
/// archives); returns how many. Holding the tenant's lease, call it with no age (a
/// running backup of the tenant would hold the lease); without it, with an age past
/// which no running backup still writes them (`older_than`: untouched that long).
pub fn remove_leftovers(
    dir: &Path,
    tenant: &str,
    older_than: Option<std::time::Duration>,
) -> std::io::Result<usize> {
    let (spool, partial) = (spool_prefix(tenant), partial_prefix(tenant));
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // A tenant whose name extends another's (`acme` and `acme-eu`) is not matched:
        // what follows the prefix is tempfile's random part, without dashes.
        let rest = name.strip_prefix(&spool).or_else(|| {
            name.strip_prefix(&partial)
                .and_then(|r| r.strip_suffix(".partial"))
        });
        if rest.is_none_or(|r| r.contains('-') || r.is_empty()) {
            continue;
        }
        let path = entry.path();
        if let Some(age) = older_than {
            let touched = newest_change(&path)?;
            if touched.elapsed().unwrap_or_default() < age {
                continue;
            }
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
        removed += 1;
    }
    Ok(removed)
}

/// When `path` (a file, or a folder and what it holds) last changed.
fn newest_change(path: &Path) -> std::io::Result<std::time::SystemTime> {
    let mut newest = std::fs::metadata(path)?.modified()?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            newest = newest.max(entry?.metadata()?.modified()?);
        }
    }
    Ok(newest)
}

impl MemberSink for SnapshotWriter {
    fn start_member(&mut self, path: &str, kind: &str) -> std::io::Result<()> {
        if self.current.is_some() {
            self.finish_member()?;
        }
        let index = self.manifest.members.len();
        let file = BufWriter::with_capacity(1 << 20, File::create(self.spool_path(index))?);
        let file = match &self.seal {
            None => Spool::Plain(file),
            Some(key) => {
                let recipient = key.to_public();
                let encryptor = age::Encryptor::with_recipients(std::iter::once(
                    &recipient as &dyn age::Recipient,
                ))
                .map_err(std::io::Error::other)?;
                Spool::Sealed(encryptor.wrap_output(file)?)
            }
        };
        self.current = Some(Current {
            entry: MemberEntry {
                path: path.into(),
                kind: kind.into(),
                records: 0,
                bytes: 0,
                blake3: String::new(),
            },
            file,
            hasher: blake3::Hasher::new(),
        });
        Ok(())
    }

    fn write_record(&mut self, json: &[u8]) -> std::io::Result<()> {
        let current = self
            .current
            .as_mut()
            .ok_or_else(|| std::io::Error::other("a record was written outside a member"))?;
        current.file.write_all(json)?;
        current.file.write_all(b"\n")?;
        current.hasher.update(json);
        current.hasher.update(b"\n");
        current.entry.records += 1;
        current.entry.bytes += json.len() as u64 + 1;
        Ok(())
    }

    fn finish_member(&mut self) -> std::io::Result<()> {
        let Some(mut current) = self.current.take() else {
            return Ok(());
        };
        current.file.finish()?;
        current.entry.blake3 = current.hasher.finalize().to_hex().to_string();
        self.manifest.members.push(current.entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_a_tenant_are_found_by_name_and_age() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join(".idferry-spool-acme-Ab12Cd")).unwrap();
        std::fs::write(d.join(".idferry-spool-acme-Ab12Cd/0000.ndjson"), b"x").unwrap();
        std::fs::write(d.join(".idferry-acme-Zz9.partial"), b"x").unwrap();
        // Another tenant's (whose name extends this one's), and a snapshot: kept.
        std::fs::create_dir(d.join(".idferry-spool-acme-eu-Qq1")).unwrap();
        std::fs::write(d.join("20260101T000000.000Z_acme.tar.zst"), b"x").unwrap();
        // Fresh ones are left to whoever may still write them.
        let hour = Some(std::time::Duration::from_secs(3600));
        assert_eq!(remove_leftovers(d, "acme", hour).unwrap(), 0);
        assert_eq!(remove_leftovers(d, "acme", None).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".idferry-spool-acme-eu-Qq1",
                "20260101T000000.000Z_acme.tar.zst"
            ]
        );
    }
}
