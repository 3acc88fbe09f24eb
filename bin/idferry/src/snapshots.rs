//! `idferry snapshots`: list, inspect, verify, diff, prune and cat snapshots, in a
//! directory or object storage alike; `status` reads the run reports workers leave in a
//! store.

use crate::output::out;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use idferry_archive::prune::{Policy, Soundness};
use idferry_archive::{Decryption, SnapshotReader};
use idferry_pipeline::stored::Check;
use idferry_store::{Fetched, Outcome as ReportOutcome, Store};
use serde_json::json;

use crate::cli::ConfigArg;
use idferry_model::units::human_bytes;

#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// The snapshots in a store: tenant, time, kinds, users, size.
    List {
        /// The store: a directory or a URL (s3://BUCKET/PREFIX...).
        #[arg(default_value = "snapshots")]
        store: String,
        #[command(flatten)]
        key: KeyArgs,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// A snapshot's manifest: what it holds, kind by kind.
    Inspect {
        /// The snapshot: a file, or a URL (s3://BUCKET/PREFIX/NAME).
        file: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// The manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recompute every checksum and record count; exit 1 naming what is wrong.
    Verify {
        /// The snapshot: a file, or a URL (s3://BUCKET/PREFIX/NAME).
        file: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// What changed from snapshot A to snapshot B, kind by kind. Either may be
    /// auth0-deploy-cli's files (a tenant.yaml or a directory tree, e.g. a Git
    /// checkout), or a tenant of the config file, read now (its configuration): then
    /// users and memberships, which files do not hold, are left out of the comparison
    /// and named.
    #[command(after_help = "Examples:
  idferry snapshots diff snapshots/...acme-prod.tar.zst ./tenant.yaml --ignore-ids
  idferry snapshots diff ./acme-git-checkout acme-prod --keywords keywords.json")]
    Diff {
        /// The older snapshot (or a0deploy's files, or a tenant).
        a: PathBuf,
        /// The newer snapshot (or a0deploy's files, or a tenant).
        b: PathBuf,
        #[command(flatten)]
        config: ConfigArg,
        /// The values of the files' keywords (as for `idferry restore`).
        #[arg(long, value_name = "FILE")]
        keywords: Option<PathBuf>,
        /// Compare two tenants' snapshots: ignore ids and API-set fields.
        #[arg(long)]
        ignore_ids: bool,
        #[command(flatten)]
        key: KeyArgs,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// A snapshot's configuration written in another tool's format, for teams that keep
    /// it in Git that way: `a0deploy-yaml` is auth0-deploy-cli's `tenant.yaml` with the
    /// code files it names, as `a0deploy export -f yaml` writes them (ids as names,
    /// every secret a ##KEYWORD## marker, never its value). What the format does not
    /// carry (users, memberships, ...) is listed with why.
    #[command(after_help = "Example:
  idferry snapshots export snapshots/20261123T020000.000Z_acme-prod.tar.zst --format a0deploy-yaml --out acme-prod-a0deploy
  a0deploy import --input_file acme-prod-a0deploy/tenant.yaml   # with AUTH0_KEYWORD_REPLACE_MAPPINGS for the keywords listed")]
    Export {
        /// The snapshot: a file, or a URL (s3://BUCKET/PREFIX/NAME).
        file: PathBuf,
        /// The format (auth0: a0deploy-yaml).
        #[arg(long)]
        format: String,
        /// A new or empty folder to write into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// What was written, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete snapshots the retention policy does not keep (each tenant on its own).
    Prune(PruneArgs),
    /// Last night across every worker: which tenants were backed up, failed, or were
    /// not backed up at all (from the run reports in the store). Exit 1 if any failed
    /// or is missing.
    Status(StatusArgs),
    /// One kind's records as ndjson on stdout (for jq).
    Cat {
        /// The snapshot: a file, or a URL (s3://BUCKET/PREFIX/NAME).
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

    /// The snapshot at `location` (a file or a URL), downloaded if remote.
    pub(crate) async fn open(&self, location: &Path) -> anyhow::Result<Opened> {
        let fetched = idferry_pipeline::stored::fetch_snapshot(location).await?;
        let reader = SnapshotReader::new(fetched.path(), self.decryption()?);
        Ok(Opened {
            reader,
            _copy: fetched,
        })
    }
}

/// A snapshot open for reading, with the local copy it reads (deleted when dropped).
pub(crate) struct Opened {
    pub(crate) reader: SnapshotReader,
    _copy: Fetched,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example: idferry snapshots status s3://acme-backups/idferry --since-hours 24"
)]
pub struct StatusArgs {
    /// The store: a directory or a URL.
    pub store: String,
    #[command(flatten)]
    pub config: ConfigArg,
    /// The window: reports of runs started in the last N hours.
    #[arg(long, default_value_t = 24)]
    pub since_hours: u64,
    /// As JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Days, ISO weeks and months are UTC. A snapshot kept by any rule is kept.
Only snapshots that can be restored count: each is verified first (every member and
the archive's end, as `snapshots verify` does; encrypted ones with --identity or
--passphrase-env, else they count unverified). This reads every snapshot of the tenants
pruned, and downloads those in object storage: --quick reads only their manifests. A
damaged snapshot fills no slot, is not deleted, and is listed (exit 1); the newest
restorable snapshot of a tenant is always kept.
Example: idferry snapshots prune /var/backups/idferry --keep-last 3 --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run"
)]
pub struct PruneArgs {
    /// The store: a directory or a URL (s3://BUCKET/PREFIX...).
    pub store: String,
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
    /// Check only each snapshot's manifest, not its members (cheap; blind to damage).
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub key: KeyArgs,
    /// The plan as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: SnapshotsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SnapshotsCommand::List { store, key, json } => list(&open_store(&store)?, &key, json).await,
        SnapshotsCommand::Inspect { file, key, json } => {
            inspect(&key.open(&file).await?.reader, json)
        }
        SnapshotsCommand::Verify { file, key } => verify(&key.open(&file).await?.reader, &file),
        SnapshotsCommand::Diff {
            a,
            b,
            config,
            keywords,
            ignore_ids,
            key,
            json,
        } => {
            let keywords = idferry_pipeline::spec::load_keywords(keywords.as_deref())?;
            let scratch = tempfile::tempdir()?;
            let (a, b) = (
                Side::open(&a, &key, &keywords, &config, scratch.path()).await?,
                Side::open(&b, &key, &keywords, &config, scratch.path()).await?,
            );
            let (x, y) = (&a.platform, &b.platform);
            if x != y {
                bail!(
                    "a {x} snapshot and a {y} snapshot: their kinds differ, there is nothing to compare"
                );
            }
            let platform = idferry_pipeline::platforms::named(x).with_context(|| {
                format!("a snapshot of platform {x:?}, which this idferry does not know")
            })?;
            let mut diffs = platform.diff(&a.path, &b.path, key.decryption()?, ignore_ids)?;
            if a.configuration_only || b.configuration_only {
                let (left, kept): (Vec<_>, Vec<_>) = diffs
                    .into_iter()
                    .partition(|d| !platform.is_configuration(&d.kind));
                diffs = kept;
                let left: Vec<&str> = left.iter().map(|d| d.kind.as_str()).collect();
                if !left.is_empty() && !json {
                    out!(
                        "not compared (files, and tenants read now, give configuration only): {}",
                        left.join(", ")
                    );
                }
            }
            print_diff(&diffs, json)
        }
        SnapshotsCommand::Export {
            file,
            format,
            out,
            key,
            json,
        } => {
            let opened = key.open(&file).await?;
            opened.reader.checked()?;
            let platform = opened.reader.manifest()?.platform;
            let platform = idferry_pipeline::platforms::named(&platform).with_context(|| {
                format!("a snapshot of platform {platform:?}, which this idferry does not know")
            })?;
            let started = std::time::Instant::now();
            let written =
                platform.write_config(opened.reader.path(), key.decryption()?, &format, &out)?;
            print_written(&written, &out, started.elapsed(), json)
        }
        SnapshotsCommand::Prune(args) => prune(&args).await,
        SnapshotsCommand::Status(args) => status(&args).await,
        SnapshotsCommand::Cat { file, kind, key } => {
            let opened = key.open(&file).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            opened.reader.cat(&kind, &mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open_store(url: &str) -> anyhow::Result<Store> {
    Store::open(url).with_context(|| format!("cannot open the store {url}"))
}

/// The manifest of a stored snapshot, read from its first bytes (the manifest is the
/// first member), the whole object only when that is not enough.
async fn stored_manifest(
    store: &Store,
    name: &str,
    decryption: Option<Decryption>,
) -> Option<idferry_archive::Manifest> {
    if let Some(dir) = store.local_dir() {
        return SnapshotReader::new(&dir.join(name), decryption)
            .manifest()
            .ok();
    }
    let head = store.head(name, 1 << 20).await.ok()?;
    let mut tmp = tempfile::NamedTempFile::new().ok()?;
    tmp.write_all(&head).ok()?;
    let from_head = SnapshotReader::new(tmp.path(), decryption.clone()).manifest();
    match from_head {
        Ok(m) => Some(m),
        Err(_) => {
            let whole = store.fetch(name).await.ok()?;
            SnapshotReader::new(whole.path(), decryption)
                .manifest()
                .ok()
        }
    }
}

async fn list(store: &Store, key: &KeyArgs, as_json: bool) -> anyhow::Result<ExitCode> {
    let decryption = key.decryption()?;
    let mut rows = Vec::new();
    let snapshots = idferry_pipeline::stored::snapshots_in(store).await?;
    for s in snapshots {
        let name = &s.parsed;
        let manifest = match (name.encrypted, &decryption) {
            (true, None) => None,
            _ => stored_manifest(store, &s.name, decryption.clone()).await,
        };
        rows.push(json!({
            "file": store.display(&s.name),
            "tenant": name.tenant,
            "time": format!("{}", name.time),
            "encrypted": name.encrypted,
            "size": s.bytes,
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
        let report = reader.verify()?;
        let mut v = serde_json::to_value(&m)?;
        v["verified"] = json!(report.passed());
        v["problems"] = json!(report.problems);
        out!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(if report.passed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
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
    if m.records("users") > 0 || m.user_fields.is_some() {
        match &m.user_fields {
            Some(fields) => out!("user fields {}", fields.join(", ")),
            None => out!("user fields not recorded"),
        }
    }
    let name = reader.path().display().to_string();
    let warnings = idferry_pipeline::platforms::named(&m.platform)
        .map(|p| p.snapshot_warnings(&name, &m))
        .unwrap_or_default();
    for warning in warnings {
        out!("warning     {warning}");
    }
    // What the manifest says is worth what the members are: every one is checked.
    let report = reader.verify()?;
    if report.passed() {
        out!("verified    every member and the archive's end");
    } else {
        for problem in &report.problems {
            out!("DAMAGED     {problem}");
        }
    }
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
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn verify(reader: &SnapshotReader, named: &Path) -> anyhow::Result<ExitCode> {
    let report = reader.verify()?;
    if report.passed() {
        out!(
            "{}: ok ({} members verified)",
            named.display(),
            report.ok.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &report.problems {
            eprintln!("{}: {problem}", named.display());
        }
        eprintln!(
            "{}: FAILED ({} members ok, {} problems)",
            named.display(),
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

async fn prune(args: &PruneArgs) -> anyhow::Result<ExitCode> {
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
    let store = open_store(&args.store)?;
    let key = args.key.decryption()?;
    let check = if args.quick {
        Check::ManifestOnly(key)
    } else {
        Check::Full(key)
    };
    let verdicts =
        idferry_pipeline::stored::plan_store(&store, args.tenant.as_deref(), &policy, &check)
            .await?;
    let plan: Vec<(String, String, bool)> = verdicts
        .iter()
        .map(|v| {
            (
                v.path.to_string_lossy().into_owned(),
                v.tenant.clone(),
                v.keep,
            )
        })
        .collect();
    let damaged: Vec<(&str, &str)> = verdicts
        .iter()
        .zip(&plan)
        .filter_map(|(v, (name, _, _))| match &v.soundness {
            Soundness::Damaged(why) => Some((name.as_str(), why.as_str())),
            _ => None,
        })
        .collect();
    let deleting = plan.iter().filter(|(_, _, k)| !k).count();
    if args.json {
        let rows: Vec<_> = verdicts
            .iter()
            .zip(&plan)
            .map(|(v, (p, t, k))| {
                let (check, why) = match &v.soundness {
                    Soundness::Sound => ("verified", None),
                    Soundness::Unverified(w) => ("unverified", Some(w)),
                    Soundness::Damaged(w) => ("damaged", Some(w)),
                };
                json!({"file": store.display(p), "tenant": t, "keep": k, "check": check, "problem": why})
            })
            .collect();
        out!("{}", serde_json::Value::Array(rows));
    } else {
        for (v, (name, _, kept)) in verdicts.iter().zip(&plan) {
            let verb = match (&v.soundness, kept) {
                (Soundness::Damaged(_), _) => "DAMAGED (kept, not counted)",
                (_, true) => "keep  ",
                (_, false) => "delete",
            };
            let note = match &v.soundness {
                Soundness::Unverified(why) => format!("  (unverified: {why})"),
                _ => String::new(),
            };
            out!("{verb} {}{note}", store.display(name));
        }
        for (name, why) in &damaged {
            eprintln!("damaged: {}: {why}", store.display(name));
        }
    }
    let exit = if damaged.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if args.dry_run {
        if !args.json {
            out!(
                "dry run: {deleting} of {} snapshots would be deleted",
                plan.len()
            );
        }
        return Ok(exit);
    }
    for (name, _, kept) in &plan {
        if !kept {
            store
                .delete(name)
                .await
                .with_context(|| format!("cannot delete {}", store.display(name)))?;
        }
    }
    if !args.json {
        out!("deleted {deleting} of {} snapshots", plan.len());
        if !damaged.is_empty() {
            out!(
                "{} damaged snapshots were not counted (see `idferry snapshots verify`)",
                damaged.len()
            );
        }
    }
    Ok(exit)
}

async fn status(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.store)?;
    // The config's tenants are the ones expected; without a config, those reported.
    let tenants: Vec<String> = if args.config.config.exists() {
        args.config.load()?.tenants.keys().cloned().collect()
    } else {
        Vec::new()
    };
    let since = jiff::Timestamp::now()
        - jiff::SignedDuration::from_hours(
            i64::try_from(args.since_hours).unwrap_or(i64::MAX / 3600),
        );
    let rows = idferry_store::report::status(&store, &tenants, since)
        .await
        .with_context(|| format!("cannot read the run reports of {store}"))?;
    let bad = rows
        .iter()
        .filter(|r| r.outcome != Some(ReportOutcome::Ok))
        .count();
    if args.json {
        out!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        out!(
            "{:<20} {:<14} {:<28} {:<26} snapshot / error",
            "tenant",
            "status",
            "worker",
            "finished"
        );
        for r in &rows {
            let status = match r.outcome {
                Some(ReportOutcome::Ok) => "ok",
                Some(ReportOutcome::Failed) => "FAILED",
                Some(ReportOutcome::Skipped) => "skipped only",
                None => "NOT BACKED UP",
            };
            let report = r.report.as_ref();
            out!(
                "{:<20} {:<14} {:<28} {:<26} {}",
                r.tenant,
                status,
                report.map_or("-", |x| x.worker.as_str()),
                report.map_or("-", |x| x.finished_at.as_str()),
                report
                    .and_then(|x| x.snapshot.clone().or_else(|| x.error.clone()))
                    .unwrap_or_else(|| format!("no report in the last {} hours", args.since_hours))
            );
        }
        out!(
            "{} of {} tenants backed up in the last {} hours",
            rows.len() - bad,
            rows.len(),
            args.since_hours
        );
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What `snapshots export` wrote, and what it left out.
fn print_written(
    written: &idferry_pipeline::results::ConfigWritten,
    out: &Path,
    took: std::time::Duration,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if json {
        out!("{}", serde_json::to_string(written)?);
        return Ok(ExitCode::SUCCESS);
    }
    let objects: usize = written.objects.iter().map(|(_, n)| n).sum();
    out!(
        "wrote {} files to {} in {:.2} s: {objects} objects of {} types",
        written.files.len(),
        out.display(),
        took.as_secs_f64(),
        written.objects.len()
    );
    out!("{:<40} {:>8}", "type", "objects");
    for (asset, n) in &written.objects {
        out!("{asset:<40} {n:>8}");
    }
    if !written.keywords.is_empty() {
        out!(
            "{} secrets written as keyword markers (give their values where the files are used, e.g. AUTH0_KEYWORD_REPLACE_MAPPINGS):",
            written.keywords.len()
        );
        for k in &written.keywords {
            let object = k
                .object
                .as_deref()
                .map_or(String::new(), |o| format!(" {o:?}"));
            let json = if k.json { ", a JSON object" } else { "" };
            out!("  {}  ({}{object}: {}{json})", k.word, k.kind, k.field);
        }
    }
    if !written.left_out.is_empty() {
        out!("not carried by this format:");
        for l in &written.left_out {
            out!("  {} ({} records): {}", l.kind, l.records, l.why);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One side of `snapshots diff`: a snapshot (downloaded if remote, checked whole), or
/// configuration files or a tenant's configuration written as one in a scratch folder.
struct Side {
    path: PathBuf,
    platform: String,
    /// Configuration only (files, or a tenant read now): users and memberships are not
    /// compared.
    configuration_only: bool,
    _opened: Option<Opened>,
}

impl Side {
    async fn open(
        location: &Path,
        key: &KeyArgs,
        keywords: &serde_json::Map<String, serde_json::Value>,
        config: &ConfigArg,
        scratch: &Path,
    ) -> anyhow::Result<Self> {
        let name = location.to_string_lossy();
        let is_tenant = !location.exists()
            && !idferry_pipeline::stored::is_url(location)
            && config.config.is_file();
        if is_tenant {
            let config = config.load()?;
            let tenant = config.tenant(&name)?;
            let platform = idferry_pipeline::platforms::of(tenant)?;
            // Its configuration: what configuration files can hold.
            let options = idferry_model::ExportOptions {
                kinds: Vec::new(),
                exclude: platform
                    .kinds()
                    .into_iter()
                    .filter(|k| !platform.is_configuration(k))
                    .map(str::to_owned)
                    .collect(),
                include_secrets: false,
            };
            let store = Store::open(&scratch.join("tenants").to_string_lossy())?;
            let progress = crate::progress::Reporter::new();
            let taken = idferry_pipeline::stages::snapshot(
                tenant,
                &store,
                &options,
                &idferry_archive::WriteOptions::default(),
                &progress,
            )
            .await?;
            return Ok(Self {
                path: taken.written.path,
                platform: platform.name().to_owned(),
                configuration_only: true,
                _opened: None,
            });
        }
        if crate::restore::is_tenant_file(location) {
            let platform = idferry_pipeline::platforms::reading_files()
                .context("this idferry reads no configuration files")?;
            let dir = scratch.join(format!("{}", std::fs::read_dir(scratch)?.count()));
            let path = platform.files_as_snapshot(location, keywords, &dir)?;
            return Ok(Self {
                path,
                platform: platform.name().to_owned(),
                configuration_only: true,
                _opened: None,
            });
        }
        let opened = key.open(location).await?;
        // Differences of a damaged snapshot would be differences of its damage.
        opened.reader.checked()?;
        Ok(Self {
            path: opened.reader.path().to_owned(),
            platform: opened.reader.manifest()?.platform,
            configuration_only: false,
            _opened: Some(opened),
        })
    }
}
