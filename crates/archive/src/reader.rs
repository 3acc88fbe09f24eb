//! Reading a snapshot: its manifest (the first member, so reading it is cheap), one
//! kind's records, or everything with every checksum recomputed (`verify`, `checked`).
//! Every read goes through one checking path ([`SnapshotReader::for_each_member`]): a
//! member read to its end has been compared with the manifest, and an archive read to
//! its end has been checked for missing, extra, renamed and linked members, a cut or an
//! appended tail.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::crypto::{AGE_MAGIC, Decryption};
use crate::error::ArchiveError;
use crate::manifest::{FORMAT, FORMAT_VERSION, MANIFEST, Manifest, MemberEntry};

/// An open snapshot file.
#[derive(Debug, Clone)]
pub struct SnapshotReader {
    path: PathBuf,
    decryption: Option<Decryption>,
}

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Members whose checksum and count matched.
    pub ok: Vec<String>,
    /// What is wrong, each naming its member.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

type Entries = tar::Archive<Box<dyn Read>>;

impl SnapshotReader {
    /// A snapshot at `path`; `decryption` for encrypted ones.
    pub fn new(path: &Path, decryption: Option<Decryption>) -> Self {
        Self {
            path: path.to_owned(),
            decryption,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file is age-encrypted.
    pub fn is_encrypted(&self) -> Result<bool, ArchiveError> {
        let mut head = [0u8; 21];
        let mut file = File::open(&self.path).map_err(ArchiveError::io(&self.path))?;
        let n = file.read(&mut head).map_err(ArchiveError::io(&self.path))?;
        Ok(head[..n] == *AGE_MAGIC)
    }

    fn corrupt(&self, message: impl Into<String>) -> ArchiveError {
        ArchiveError::Corrupt {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    fn open(&self) -> Result<Entries, ArchiveError> {
        let encrypted = self.is_encrypted()?;
        let file = File::open(&self.path).map_err(ArchiveError::io(&self.path))?;
        let input = BufReader::with_capacity(1 << 20, file);
        let plain: Box<dyn Read> = match (encrypted, &self.decryption) {
            (false, _) => Box::new(input),
            (true, Some(d)) => d.open(input, &self.path)?,
            (true, None) => {
                return Err(ArchiveError::Encrypted {
                    path: self.path.clone(),
                    message:
                        "this snapshot is encrypted: give --identity FILE or --passphrase-env VAR"
                            .into(),
                });
            }
        };
        let zstd = zstd::stream::read::Decoder::new(plain)
            .map_err(|e| self.corrupt(format!("not a zstd stream: {e}")))?;
        Ok(tar::Archive::new(Box::new(zstd) as Box<dyn Read>))
    }

    /// Reads the manifest; `entries` is left positioned after it.
    fn read_manifest(
        &self,
        entries: &mut tar::Entries<'_, Box<dyn Read>>,
    ) -> Result<Manifest, ArchiveError> {
        let mut first = entries
            .next()
            .ok_or_else(|| self.corrupt("empty archive: no manifest.json"))?
            .map_err(|e| self.corrupt(format!("cannot read the first member: {e}")))?;
        let name = first
            .path()
            .map_err(|e| self.corrupt(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if name != MANIFEST {
            return Err(self.corrupt(format!("the first member is {name}, not {MANIFEST}")));
        }
        let mut text = Vec::new();
        first
            .read_to_end(&mut text)
            .map_err(|e| self.corrupt(format!("{MANIFEST}: {e} (truncated or corrupt)")))?;
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| self.corrupt(format!("{MANIFEST}: not a manifest: {e}")))?;
        if manifest.format != FORMAT || manifest.format_version > FORMAT_VERSION {
            return Err(self.corrupt(format!(
                "format {} version {} is not one this idferry reads ({FORMAT} up to {FORMAT_VERSION})",
                manifest.format, manifest.format_version
            )));
        }
        Ok(manifest)
    }

    /// The manifest.
    pub fn manifest(&self) -> Result<Manifest, ArchiveError> {
        let mut archive = self.open()?;
        let mut entries = archive
            .entries()
            .map_err(|e| self.corrupt(format!("not a tar stream: {e}")))?;
        self.read_manifest(&mut entries)
    }

    /// Calls `f` with a reader of each member (after the manifest), in order, until `f`
    /// says stop (returns false). The archive is checked as it is read, so that nothing
    /// damaged passes as data:
    /// - each member must be the next one the manifest lists, a regular file of that
    ///   name (an extra, renamed, reordered, linked or missing member is an error);
    /// - a member's reader fails when its content ends and its size, blake3 or record
    ///   count differ from the manifest's (so a reader that reads to the end has read
    ///   exactly what was backed up);
    /// - when every member was gone through, the archive must end there: nothing after
    ///   the tar's end but its zero padding, and the compressed (and encrypted) stream
    ///   complete with its checksum, so a cut or an appended tail is an error.
    pub fn for_each_member(
        &self,
        mut f: impl FnMut(&Manifest, &str, &mut dyn Read) -> Result<bool, ArchiveError>,
    ) -> Result<Manifest, ArchiveError> {
        let mut archive = self.open()?;
        let mut entries = archive
            .entries()
            .map_err(|e| self.corrupt(format!("not a tar stream: {e}")))?;
        let manifest = self.read_manifest(&mut entries)?;
        let mut last = MANIFEST.to_owned();
        let mut index = 0;
        let mut stopped = false;
        for entry in entries.by_ref() {
            let mut entry = entry.map_err(|e| {
                self.corrupt(format!("after member {last}: {e} (truncated or corrupt)"))
            })?;
            let name = entry
                .path()
                .map_err(|e| self.corrupt(e.to_string()))?
                .to_string_lossy()
                .into_owned();
            let Some(expected) = manifest.members.get(index) else {
                return Err(self.corrupt(format!(
                    "member {name} is not in the manifest (it lists {} members)",
                    manifest.members.len()
                )));
            };
            if expected.path != name {
                let listed = manifest.members.iter().any(|m| m.path == name);
                return Err(self.corrupt(if listed {
                    format!(
                        "member {name} where the manifest lists {} (reordered, or {} is missing)",
                        expected.path, expected.path
                    )
                } else {
                    format!(
                        "member {name} is not in the manifest (where it lists {})",
                        expected.path
                    )
                }));
            }
            let kind = entry.header().entry_type();
            if !kind.is_file() {
                return Err(self.corrupt(format!(
                    "member {name} is not a regular file (tar entry type {:?})",
                    kind.as_byte() as char
                )));
            }
            index += 1;
            let mut checked = Checked::new(&mut entry, expected);
            if !f(&manifest, &name, &mut checked)? {
                stopped = true;
                break;
            }
            last = name;
        }
        if stopped {
            return Ok(manifest);
        }
        if let Some(missing) = manifest.members.get(index) {
            return Err(self.corrupt(format!(
                "member {} is missing, and {} more after it (truncated?)",
                missing.path,
                manifest.members.len() - index - 1
            )));
        }
        self.check_end(archive.into_inner())?;
        Ok(manifest)
    }

    /// After the tar's end: only zero padding, then the end of the compressed stream,
    /// which verifies its checksum (and the encryption's authentication).
    fn check_end(&self, mut rest: Box<dyn Read>) -> Result<(), ArchiveError> {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match rest.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) if buf[..n].iter().all(|b| *b == 0) => {}
                Ok(_) => {
                    return Err(self.corrupt(
                        "data after the archive's end (bytes appended, or a damaged end)",
                    ));
                }
                Err(e) => {
                    return Err(self.corrupt(format!(
                        "the archive does not end where it should: {e} (cut short, or bytes appended)"
                    )));
                }
            }
        }
    }

    /// Every member read, checked against the manifest, and the archive's end checked:
    /// the manifest when all is sound, else [`ArchiveError::Damaged`] naming every
    /// problem. Commands that write anything from a snapshot (restore, migrate) or
    /// decide on it (prune) call it first, so that nothing is taken from a damaged one.
    pub fn checked(&self) -> Result<Manifest, ArchiveError> {
        let report = self.verify()?;
        if !report.passed() {
            return Err(ArchiveError::Damaged {
                path: self.path.clone(),
                problems: report.problems,
            });
        }
        self.manifest()
    }

    /// Copies the member of `kind` to `out` (ndjson), once the whole snapshot is
    /// checked: nothing of a damaged snapshot is written. Errors name the member.
    pub fn cat(&self, kind: &str, out: &mut dyn Write) -> Result<u64, ArchiveError> {
        self.checked()?;
        let mut found = None;
        let manifest = self.for_each_member(|manifest, name, reader| {
            let Some(member) = manifest.members.iter().find(|m| m.path == name) else {
                return Ok(true);
            };
            if member.kind != kind {
                return Ok(true);
            }
            let mut buf = vec![0u8; 1 << 16];
            let mut n = 0u64;
            loop {
                let read = reader.read(&mut buf).map_err(|e| {
                    self.corrupt(format!("member {name}: {e} (truncated or corrupt)"))
                })?;
                if read == 0 {
                    break;
                }
                out.write_all(&buf[..read]).map_err(ArchiveError::Output)?;
                n += read as u64;
            }
            found = Some(n);
            Ok(false)
        })?;
        match found {
            Some(n) => Ok(n),
            None if manifest.member(kind).is_some() => {
                Err(self.corrupt(format!("member of {kind} is missing (truncated?)")))
            }
            None => {
                let kinds: Vec<&str> = manifest.members.iter().map(|m| m.kind.as_str()).collect();
                Err(ArchiveError::Usage(format!(
                    "{}: no {kind} in this snapshot; it holds: {}",
                    self.path.display(),
                    kinds.join(", ")
                )))
            }
        }
    }

    /// Calls `f` with every record (line) of `kind`.
    pub fn records(
        &self,
        kind: &str,
        mut f: impl FnMut(&[u8]) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        self.for_each_member(|manifest, name, reader| {
            if !manifest
                .members
                .iter()
                .any(|m| m.path == name && m.kind == kind)
            {
                return Ok(true);
            }
            let mut lines = BufReader::with_capacity(1 << 16, reader);
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = lines
                    .read_until(b'\n', &mut line)
                    .map_err(|e| self.corrupt(format!("member {name}: {e}")))?;
                if n == 0 {
                    break;
                }
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                if !text.is_empty() {
                    f(text)?;
                }
            }
            Ok(false)
        })
        .map(|_| ())
    }

    /// Reads every member, recomputing its checksum and record count, and checks the
    /// archive's structure and end (see [`Self::for_each_member`]).
    pub fn verify(&self) -> Result<VerifyReport, ArchiveError> {
        let mut report = VerifyReport::default();
        let result = self.for_each_member(|_, name, reader| {
            match std::io::copy(reader, &mut std::io::sink()) {
                Ok(_) => report.ok.push(name.to_owned()),
                Err(e) => report.problems.push(format!("member {name}: {e}")),
            }
            Ok(true)
        });
        match result {
            Ok(_) => {}
            Err(ArchiveError::Corrupt { message, .. }) => report.problems.push(message),
            Err(e) => return Err(e),
        }
        Ok(report)
    }
}

/// A member's reader that, at the end of its content, checks it against its manifest
/// entry: size, blake3 and record (line) count.
struct Checked<'a> {
    inner: &'a mut dyn Read,
    expected: &'a MemberEntry,
    hasher: blake3::Hasher,
    bytes: u64,
    lines: u64,
    ended: bool,
}

impl<'a> Checked<'a> {
    fn new(inner: &'a mut dyn Read, expected: &'a MemberEntry) -> Self {
        Self {
            inner,
            expected,
            hasher: blake3::Hasher::new(),
            bytes: 0,
            lines: 0,
            ended: false,
        }
    }

    fn check(&self) -> std::io::Result<()> {
        let e = self.expected;
        let digest = self.hasher.finalize().to_hex();
        let problem = if self.bytes != e.bytes {
            format!(
                "{} bytes where the manifest says {} (truncated or altered)",
                self.bytes, e.bytes
            )
        } else if digest.as_str() != e.blake3 {
            "checksum mismatch: its content was altered".to_owned()
        } else if self.lines != e.records {
            format!(
                "{} records where the manifest says {}",
                self.lines, e.records
            )
        } else {
            return Ok(());
        };
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            problem,
        ))
    }
}

impl Read for Checked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self
            .inner
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{e} (truncated or corrupt)")))?;
        if n == 0 {
            if !self.ended {
                self.ended = true;
                self.check()?;
            }
            return Ok(0);
        }
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        self.lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }
}
