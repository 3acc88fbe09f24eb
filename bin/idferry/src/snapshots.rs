//! `idferry snapshots`: list, inspect, verify, diff, prune and cat snapshot files.

use crate::output::out;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use idferry_archive::diff::{DiffOptions, diff};
use idferry_archive::naming;
use idferry_archive::prune::Policy;
use idferry_archive::{Decryption, SnapshotReader};
use serde_json::json;

use crate::backup::human_bytes;

#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// The snapshots in a folder: tenant, time, kinds, users, size.
    List {
        /// The folder.
        #[arg(default_value = "snapshots")]
        dir: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// A snapshot's manifest: what it holds, kind by kind.
    Inspect {
        /// The snapshot file.
        file: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// The manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recompute every checksum and record count; exit 1 naming what is wrong.
    Verify {
        /// The snapshot file.
        file: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// What changed from snapshot A to snapshot B, kind by kind.
    Diff {
        /// The older snapshot.
        a: PathBuf,
        /// The newer snapshot.
        b: PathBuf,
        /// Compare two tenants' snapshots: ignore ids and API-set fields.
        #[arg(long)]
        ignore_ids: bool,
        #[command(flatten)]
        key: KeyArgs,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete snapshots the retention policy does not keep (each tenant on its own).
    Prune(PruneArgs),
    /// One kind's records as ndjson on stdout (for jq).
    Cat {
        /// The snapshot file.
        file: PathBuf,
        /// The kind (`clients`, `users`, `role_permissions`...).
        kind: String,
        #[command(flatten)]
        key: KeyArgs,
    },
}

/// How to open encrypted snapshots.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// An age identity file for encrypted snapshots.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// The environment variable holding the passphrase of encrypted snapshots.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

impl KeyArgs {
    pub(crate) fn decryption(&self) -> anyhow::Result<Option<Decryption>> {
        Ok(match (&self.identity, &self.passphrase_env) {
            (Some(file), _) => Some(Decryption::IdentityFile(file.clone())),
            (None, Some(var)) => Some(Decryption::passphrase(
                std::env::var(var)
                    .with_context(|| format!("--passphrase-env: {var} is not set"))?,
            )),
            (None, None) => None,
        })
    }

    pub(crate) fn open(&self, path: &Path) -> anyhow::Result<SnapshotReader> {
        if !path.is_file() {
            bail!("no snapshot at {}", path.display());
        }
        Ok(SnapshotReader::new(path, self.decryption()?))
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Days, ISO weeks and months are UTC. A snapshot kept by any rule is kept.
Example: idferry snapshots prune /var/backups/idferry --keep-last 3 --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run"
)]
pub struct PruneArgs {
    /// The folder.
    pub dir: PathBuf,
    /// Keep the newest N snapshots.
    #[arg(long, default_value_t = 0)]
    pub keep_last: usize,
    /// Keep the newest snapshot of each of the newest N days.
    #[arg(long, default_value_t = 0)]
    pub keep_daily: usize,
    /// ... of each of the newest N ISO weeks.
    #[arg(long, default_value_t = 0)]
    pub keep_weekly: usize,
    /// ... of each of the newest N months.
    #[arg(long, default_value_t = 0)]
    pub keep_monthly: usize,
    /// Only this tenant's snapshots.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Show what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The plan as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: SnapshotsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SnapshotsCommand::List { dir, key, json } => list(&dir, &key, json),
        SnapshotsCommand::Inspect { file, key, json } => inspect(&key.open(&file)?, json),
        SnapshotsCommand::Verify { file, key } => verify(&key.open(&file)?),
        SnapshotsCommand::Diff {
            a,
            b,
            ignore_ids,
            key,
            json,
        } => {
            let (a, b) = (key.open(&a)?, key.open(&b)?);
            let diffs = diff(&a, &b, DiffOptions { ignore_ids })?;
            print_diff(&diffs, json)
        }
        SnapshotsCommand::Prune(args) => prune(&args),
        SnapshotsCommand::Cat { file, kind, key } => {
            let reader = key.open(&file)?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            reader.cat(&kind, &mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Snapshot files of `dir`, oldest first.
fn snapshot_files(dir: &Path) -> anyhow::Result<Vec<(PathBuf, naming::SnapshotName)>> {
    idferry_archive::prune::snapshot_files(dir)
        .with_context(|| format!("cannot read {}", dir.display()))
}

fn list(dir: &Path, key: &KeyArgs, as_json: bool) -> anyhow::Result<ExitCode> {
    let decryption = key.decryption()?;
    let mut rows = Vec::new();
    for (path, name) in snapshot_files(dir)? {
        let size = std::fs::metadata(&path)?.len();
        let reader = SnapshotReader::new(&path, decryption.clone());
        let manifest = match (name.encrypted, &decryption) {
            (true, None) => None,
            _ => reader.manifest().ok(),
        };
        rows.push(json!({
            "file": path,
            "tenant": name.tenant,
            "time": format!("{}", name.time),
            "encrypted": name.encrypted,
            "size": size,
            "kinds": manifest.as_ref().map(|m| m.members.len()),
            "users": manifest.as_ref().map(|m| m.records("users")),
            "readable": manifest.is_some() || (name.encrypted && decryption.is_none()),
        }));
    }
    if as_json {
        out!("{}", serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    out!(
        "{:<24} {:<20} {:>6} {:>9} {:>10}  file",
        "time",
        "tenant",
        "kinds",
        "users",
        "size"
    );
    for r in &rows {
        let or_dash = |v: &serde_json::Value| {
            if v.is_null() {
                "-".to_owned()
            } else {
                v.to_string()
            }
        };
        let kinds = if r["encrypted"] == true && r["kinds"].is_null() {
            "enc".into()
        } else {
            or_dash(&r["kinds"])
        };
        out!(
            "{:<24} {:<20} {:>6} {:>9} {:>10}  {}",
            r["time"].as_str().unwrap_or(""),
            r["tenant"].as_str().unwrap_or(""),
            kinds,
            or_dash(&r["users"]),
            human_bytes(r["size"].as_u64().unwrap_or(0)),
            r["file"].as_str().unwrap_or("")
        );
    }
    out!("{} snapshots", rows.len());
    Ok(ExitCode::SUCCESS)
}

fn inspect(reader: &SnapshotReader, as_json: bool) -> anyhow::Result<ExitCode> {
    let m = reader.manifest()?;
    if as_json {
        out!("{}", serde_json::to_string_pretty(&m)?);
        return Ok(ExitCode::SUCCESS);
    }
    out!("tenant      {} ({}, {})", m.tenant, m.platform, m.source);
    out!("taken       {} .. {}", m.started_at, m.finished_at);
    out!(
        "format      {} v{}, written by idferry {}",
        m.format,
        m.format_version,
        m.tool_version
    );
    out!(
        "secrets     {}",
        if m.secrets_included {
            "included (encrypted snapshot)"
        } else {
            "left out"
        }
    );
    out!();
    out!("{:<48} {:>10} {:>12}", "member", "records", "bytes");
    for member in &m.members {
        out!(
            "{:<48} {:>10} {:>12}",
            member.path,
            member.records,
            member.bytes
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(reader: &SnapshotReader) -> anyhow::Result<ExitCode> {
    let report = reader.verify()?;
    if report.passed() {
        out!(
            "{}: ok ({} members verified)",
            reader.path().display(),
            report.ok.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &report.problems {
            eprintln!("{}: {problem}", reader.path().display());
        }
        eprintln!(
            "{}: FAILED ({} members ok, {} problems)",
            reader.path().display(),
            report.ok.len(),
            report.problems.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

fn print_diff(
    diffs: &[idferry_archive::diff::KindDiff],
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let changed: Vec<_> = diffs.iter().filter(|d| !d.is_empty()).collect();
    if as_json {
        out!("{}", serde_json::to_string_pretty(&changed)?);
        return Ok(ExitCode::SUCCESS);
    }
    if changed.is_empty() {
        out!("no differences");
        return Ok(ExitCode::SUCCESS);
    }
    for d in changed {
        out!(
            "{}: {} added, {} removed, {} changed",
            d.kind,
            d.added.len(),
            d.removed.len(),
            d.changed.len()
        );
        for k in &d.added {
            out!("  + {k}");
        }
        for k in &d.removed {
            out!("  - {k}");
        }
        for c in &d.changed {
            out!("  ~ {} ({})", c.key, c.fields.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn prune(args: &PruneArgs) -> anyhow::Result<ExitCode> {
    let policy = Policy {
        last: args.keep_last,
        daily: args.keep_daily,
        weekly: args.keep_weekly,
        monthly: args.keep_monthly,
    };
    if policy.is_empty() {
        bail!(
            "give at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly (nothing would be kept)"
        );
    }
    let plan: Vec<(PathBuf, String, bool)> =
        idferry_archive::prune::plan_dir(&args.dir, args.tenant.as_deref(), &policy)
            .with_context(|| format!("cannot read {}", args.dir.display()))?
            .into_iter()
            .map(|v| (v.path, v.tenant, v.keep))
            .collect();
    let deleting = plan.iter().filter(|(_, _, k)| !k).count();
    if args.json {
        let rows: Vec<_> = plan
            .iter()
            .map(|(p, t, k)| json!({"file": p, "tenant": t, "keep": k}))
            .collect();
        out!("{}", serde_json::Value::Array(rows));
    } else {
        for (path, _, kept) in &plan {
            out!(
                "{} {}",
                if *kept { "keep  " } else { "delete" },
                path.display()
            );
        }
    }
    if args.dry_run {
        if !args.json {
            out!(
                "dry run: {deleting} of {} snapshots would be deleted",
                plan.len()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    for (path, _, kept) in &plan {
        if !kept {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot delete {}", path.display()))?;
        }
    }
    if !args.json {
        out!("deleted {deleting} of {} snapshots", plan.len());
    }
    Ok(ExitCode::SUCCESS)
}
