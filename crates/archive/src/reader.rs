//! Reading a snapshot: its manifest (the first member, so reading it is cheap), one
//! kind's records, or everything with every checksum recomputed (`verify`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::crypto::{AGE_MAGIC, Decryption};
use crate::error::ArchiveError;
use crate::manifest::{FORMAT, FORMAT_VERSION, MANIFEST, Manifest};

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
    /// says stop (returns false).
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
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                self.corrupt(format!("after member {last}: {e} (truncated or corrupt)"))
            })?;
            let name = entry
                .path()
                .map_err(|e| self.corrupt(e.to_string()))?
                .to_string_lossy()
                .into_owned();
            if !f(&manifest, &name, &mut entry)? {
                break;
            }
            last = name;
        }
        Ok(manifest)
    }

    /// Copies the member of `kind` to `out` (ndjson). Errors name the member.
    pub fn cat(&self, kind: &str, out: &mut dyn Write) -> Result<u64, ArchiveError> {
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

    /// Reads every member, recomputing its checksum and record count.
    pub fn verify(&self) -> Result<VerifyReport, ArchiveError> {
        let mut report = VerifyReport::default();
        let mut seen = Vec::new();
        let result = self.for_each_member(|manifest, name, reader| {
            let Some(member) = manifest.members.iter().find(|m| m.path == name) else {
                report
                    .problems
                    .push(format!("member {name} is not in the manifest"));
                return Ok(true);
            };
            seen.push(name.to_owned());
            let mut hasher = blake3::Hasher::new();
            let mut lines = 0u64;
            let mut bytes = 0u64;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        report
                            .problems
                            .push(format!("member {name}: {e} (truncated or corrupt)"));
                        return Ok(false);
                    }
                };
                hasher.update(&buf[..n]);
                lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
                bytes += n as u64;
            }
            let digest = hasher.finalize().to_hex().to_string();
            if digest != member.blake3 || bytes != member.bytes {
                report.problems.push(format!(
                    "member {name}: checksum mismatch ({bytes} bytes read, {} expected)",
                    member.bytes
                ));
            } else if lines != member.records {
                report.problems.push(format!(
                    "member {name}: {lines} records, the manifest says {}",
                    member.records
                ));
            } else {
                report.ok.push(name.to_owned());
            }
            Ok(true)
        });
        match result {
            Ok(manifest) => {
                for m in &manifest.members {
                    if !seen.contains(&m.path)
                        && !report.problems.iter().any(|p| p.contains(&m.path))
                    {
                        report
                            .problems
                            .push(format!("member {} is missing (truncated?)", m.path));
                    }
                }
            }
            Err(ArchiveError::Corrupt { message, .. }) => report.problems.push(message),
            Err(e) => return Err(e),
        }
        Ok(report)
    }
}
