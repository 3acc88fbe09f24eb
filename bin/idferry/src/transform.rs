//! `idferry transform`: records through a mapping spec, as a shell-pipe citizen.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use idferry_transform::codec::{Output, open_input};
use idferry_transform::{EngineOptions, Mapping, OnError, run};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ErrorMode {
    /// Stop at the first bad line, naming it.
    Fail,
    /// Write bad lines to --rejects (line, reason, input) and go on.
    Skip,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Input and output are ndjson; .gz and .zst files are (de)compressed by their name.
Examples:
  idferry transform --map samples/mappings/staging.toml -i users.ndjson.zst -o staging-users.ndjson.zst
  idferry snapshots cat prod.tar.zst clients | idferry transform --map staging.toml --kind clients | jq .callbacks

Scrub rules read their key from IDFERRY_SCRUB_KEY (or the variable the rule names)."
)]
pub struct TransformArgs {
    /// The mapping spec (TOML).
    #[arg(long = "map", value_name = "FILE")]
    pub map: PathBuf,
    /// The kind of the records (which rules of the spec apply).
    #[arg(long, default_value = "users")]
    pub kind: String,
    /// Input file (`-`: stdin).
    #[arg(short, long, default_value = "-")]
    pub input: PathBuf,
    /// Output file (`-`: stdout); written aside and renamed when complete.
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
    /// What to do with a line that is not JSON or that a rule cannot apply to.
    #[arg(long, value_enum, default_value_t = ErrorMode::Fail)]
    pub on_error: ErrorMode,
    /// Where rejected lines go (needed with --on-error skip: nothing is dropped silently).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// zstd level of a .zst output.
    #[arg(long, default_value_t = 3)]
    pub zstd_level: i32,
}

pub fn run_transform(args: TransformArgs) -> anyhow::Result<ExitCode> {
    let mapping = Mapping::load(&args.map, &|var| std::env::var(var).ok())?;
    let on_error = match args.on_error {
        ErrorMode::Fail => OnError::Fail,
        ErrorMode::Skip => OnError::Skip,
    };
    if matches!(on_error, OnError::Skip) && args.rejects.is_none() {
        bail!(
            "--on-error skip needs --rejects FILE: rejected lines are kept there, never dropped silently"
        );
    }
    let input = open_input(Some(&args.input)).context("cannot open the input")?;
    let mut output =
        Output::create(Some(&args.output), args.zstd_level).context("cannot create the output")?;
    let mut rejects = args
        .rejects
        .as_deref()
        .map(|p| Output::create(Some(p), 3))
        .transpose()
        .context("cannot create the rejects file")?;
    let options = EngineOptions {
        kind: args.kind.clone(),
        on_error,
        ..EngineOptions::default()
    };
    let started = Instant::now();
    let stats = run(
        &mapping,
        &options,
        input,
        &mut output,
        rejects
            .as_mut()
            .map(|r| r as &mut (dyn std::io::Write + Send)),
    )?;
    output.finish().context("cannot finish the output")?;
    if let Some(r) = rejects {
        r.finish().context("cannot finish the rejects file")?;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} {}: {} read, {} written, {} filtered out, {} rejected in {secs:.2}s ({:.0} records/s)",
        args.kind,
        args.map.display(),
        stats.read,
        stats.written,
        stats.filtered,
        stats.rejected,
        stats.read as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
