//! `idferry run`, `idferry resume`, `idferry runs`: pipelines over one tenant or many,
//! their run directories and journals.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use idferry_model::Progress;
use idferry_pipeline::{Journal, LoadedSpec, RunReport};
use serde_json::{Value, json};

use crate::cli::ConfigArg;
use crate::output::out;
use crate::progress::Reporter;

/// Where run directories go by default.
const RUNS_DIR: &str = "idferry-runs";

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry run samples/pipelines/nightly-backup.toml --all
  idferry run samples/pipelines/staging-refresh.toml
  idferry run samples/pipelines/migrate-users.toml --run-dir runs/migration-1
  idferry resume runs/migration-1        # after a kill, a crash, a reboot

Each run gets a directory (under --runs-dir) with a journal of what it did; a run that
stops for any reason is continued by `idferry resume DIR` without redoing finished work
or creating anything twice.")]
pub struct RunArgs {
    /// The pipeline spec (TOML).
    pub spec: PathBuf,
    #[command(flatten)]
    pub config: ConfigArg,
    /// Only these source tenants, comma-separated (instead of the spec's).
    #[arg(long, value_delimiter = ',', conflicts_with = "all")]
    pub tenants: Vec<String>,
    /// Every tenant of the config file as a source.
    #[arg(long)]
    pub all: bool,
    /// Only worker I's share of the source tenants, of N workers (rendezvous hashing,
    /// the same split as `backup --shard`).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<idferry_pipeline::shard::Shard>,
    /// Where run directories are made.
    #[arg(long, default_value = RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// This run's directory (default: RUNS_DIR/<time>-<name>).
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// The results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run directory (printed by `idferry run`, listed by `idferry runs`).
    pub run_dir: PathBuf,
    /// The results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Where run directories are.
    #[arg(long, default_value = RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// One JSON object per run.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    idferry_pacing::install_tls_provider();
    let config = args.config.load()?;
    let spec = LoadedSpec::load(&args.spec)?;
    let tenants: Option<Vec<String>> = if args.all {
        Some(config.tenants.keys().cloned().collect())
    } else if args.tenants.is_empty() {
        None
    } else {
        Some(args.tenants.clone())
    };
    let tenants = match args.shard {
        Some(shard) if spec.spec.source.snapshot.is_none() => {
            let names: Vec<String> = config.tenants.keys().cloned().collect();
            let mine: Vec<String> = spec
                .spec
                .tenants(&names, tenants.as_deref())
                .into_iter()
                .filter(|t| shard.owns(t))
                .collect();
            if mine.is_empty() {
                eprintln!("shard {shard}: no source tenant falls to this worker; nothing to do");
                return Ok(ExitCode::SUCCESS);
            }
            Some(mine)
        }
        Some(_) => anyhow::bail!("--shard splits source tenants; this pipeline reads a snapshot"),
        None => tenants,
    };
    let run_dir = args.run_dir.clone().unwrap_or_else(|| {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        args.runs_dir.join(format!("{stamp}-{}", spec.spec.name))
    });
    let progress: Arc<dyn Progress> = Arc::new(Reporter::new());
    progress.message(&format!("run directory: {}", run_dir.display()));
    let report =
        idferry_pipeline::start(&spec, &config, &run_dir, tenants.as_deref(), &[], progress)
            .await?;
    Ok(finish(&report, args.json))
}

pub async fn resume(args: ResumeArgs) -> anyhow::Result<ExitCode> {
    idferry_pacing::install_tls_provider();
    let progress: Arc<dyn Progress> = Arc::new(Reporter::new());
    let report = idferry_pipeline::resume(&args.run_dir, progress).await?;
    Ok(finish(&report, args.json))
}

/// Prints a run's report (or its JSON); the exit code says whether every unit succeeded.
pub fn finish(report: &RunReport, as_json: bool) -> ExitCode {
    if as_json {
        out!("{}", json!(report));
    } else {
        print_report(report);
    }
    if report.failed() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A stage's counts in a few words.
fn brief(counts: &Option<Value>) -> String {
    let Some(Value::Object(map)) = counts else {
        return String::new();
    };
    map.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "spool" | "requests" | "to"))
        .filter_map(|(k, v)| match v {
            Value::Number(n) if n.as_u64() != Some(0) => Some(format!("{k} {n}")),
            Value::String(s) if k == "path" => Some(s.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn print_report(report: &RunReport) {
    out!("Run {} ({}):", report.run_dir.display(), report.name);
    for u in &report.units {
        out!(
            "  {:<20} {:<7} {:>7.1}s",
            u.unit,
            match (u.ok, &u.held_by) {
                (_, Some(_)) => "skipped",
                (true, None) => "ok",
                (false, None) => "FAILED",
            },
            u.seconds
        );
        if let Some(who) = &u.held_by {
            out!("      another worker holds its lease: {who}");
        }
        for s in &u.stages {
            out!("      {:<24} {:<8} {}", s.stage, s.status, brief(&s.counts));
        }
        if let Some(e) = &u.error {
            for line in e.lines() {
                out!("      {line}");
            }
        }
    }
    let failed = report.failed();
    if failed > 0 {
        out!(
            "{failed} of {} tenants failed; fix the cause and `idferry resume {}`",
            report.units.len(),
            report.run_dir.display()
        );
    }
}

pub fn runs(args: RunsArgs) -> anyhow::Result<ExitCode> {
    let mut rows = Vec::new();
    let entries = match std::fs::read_dir(&args.runs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !args.json {
                out!("no runs in {}", args.runs_dir.display());
            } else {
                out!("[]");
            }
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", args.runs_dir.display()));
        }
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(idferry_pipeline::journal::FILE).is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        rows.push(describe(&dir));
    }
    if args.json {
        out!("{}", Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    out!(
        "{:<44} {:<18} {:<8} {:<22} {:<22} tenants",
        "run",
        "pipeline",
        "status",
        "started",
        "finished"
    );
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap_or("-").to_owned();
        out!(
            "{:<44} {:<18} {:<8} {:<22} {:<22} {}",
            s("dir"),
            s("name"),
            s("status"),
            s("started_at").chars().take(20).collect::<String>(),
            s("finished_at").chars().take(20).collect::<String>(),
            r["tenants"]
                .as_array()
                .map(|t| t
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One run directory, from its journal (a damaged one says so).
fn describe(dir: &Path) -> Value {
    let opened = Journal::read(dir).and_then(|j| Ok((j.info()?, j.stages()?)));
    match opened {
        Ok((info, stages)) => {
            let done = stages
                .iter()
                .filter(|s| s.status == idferry_pipeline::Status::Done)
                .count();
            json!({
                "dir": dir, "name": info.name, "status": info.status, "started_at": info.started_at,
                "finished_at": info.finished_at, "tenants": info.tenants, "stages_done": done,
                "stages": stages,
            })
        }
        Err(e) => json!({"dir": dir, "status": "damaged", "error": e.to_string()}),
    }
}

/// Refuses a spec path that is not a file, naming the samples.
pub fn check_spec(path: &Path) -> anyhow::Result<()> {
    if !path.is_file() {
        bail!(
            "no pipeline spec at {} (samples: samples/pipelines/*.toml)",
            path.display()
        );
    }
    Ok(())
}
