//! `idferry transform`: records through a mapping spec, as a shell-pipe citizen.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use idferry_transform::codec::{Output, open_input};
use idferry_transform::rules::Rule;
use idferry_transform::{EngineOptions, OnError, run};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ErrorMode {
    /// Stop at the first bad line, naming it.
    Fail,
    /// Write bad lines to --rejects (line, reason, input) and go on.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON record a line.
    Ndjson,
    /// csv with a header row; nested objects as dotted columns.
    Csv,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Input and output are ndjson; .gz and .zst files are (de)compressed by their name.
Examples:
  idferry transform --map samples/mappings/staging.toml -i users.ndjson.zst -o staging-users.ndjson.zst
  idferry snapshots cat prod.tar.zst clients | idferry transform --map staging.toml --kind clients | jq .callbacks
  idferry snapshots cat prod.tar.zst users | idferry transform --profile auth0-export-to-import --hashes hashes.ndjson

Scrub rules read their key from IDFERRY_SCRUB_KEY (or the variable the rule names)."
)]
pub struct TransformArgs {
    /// The mapping spec (TOML).
    #[arg(long = "map", value_name = "FILE", required_unless_present = "profile")]
    pub map: Option<PathBuf>,
    /// A built-in mapping instead of a file: auth0-export-to-import (Auth0 users-exports
    /// ndjson into the users-imports shape).
    #[arg(long, value_name = "NAME", conflicts_with = "map")]
    pub profile: Option<String>,
    /// Merge password hashes from an Auth0 password-hash export (ndjson, by user id or
    /// email) into password_hash / custom_password_hash.
    #[arg(long, value_name = "FILE")]
    pub hashes: Option<PathBuf>,
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
    /// The input's format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    pub from: Format,
    /// The output's format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    pub to: Format,
    /// csv output columns (dotted paths), comma-separated; other fields are left out.
    /// Without it, the columns are those of the first 1000 records, and a later record
    /// with another field is an error.
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// zstd level of a .zst output.
    #[arg(long, default_value_t = 3)]
    pub zstd_level: i32,
}

pub fn run_transform(args: TransformArgs) -> anyhow::Result<ExitCode> {
    let (mut mapping, spec_name) = match (&args.map, &args.profile) {
        (Some(file), _) => (
            idferry_pipeline::kinds::load_mapping(file, &|var| std::env::var(var).ok())?,
            file.display().to_string(),
        ),
        (None, Some(name)) => (
            idferry_pipeline::platforms::profile(name)?,
            format!("profile {name}"),
        ),
        (None, None) => bail!("give --map FILE or --profile NAME"),
    };
    idferry_pipeline::kinds::check_kind(&args.kind, "--kind")?;
    // The rejects file must not be the input or the output: it would overwrite it.
    if let Some(rejects) = &args.rejects {
        let same = |a: &Path, b: &Path| {
            a != Path::new("-")
                && b != Path::new("-")
                && (std::path::absolute(a).ok() == std::path::absolute(b).ok()
                    || std::fs::canonicalize(a)
                        .ok()
                        .is_some_and(|x| std::fs::canonicalize(b).ok().is_some_and(|y| x == y)))
        };
        for (other, name) in [(&args.input, "--input"), (&args.output, "--output")] {
            if same(rejects, other) {
                bail!(
                    "--rejects {} is also {name}: it would be overwritten; give another file",
                    rejects.display()
                );
            }
        }
    }
    let hashes = match &args.hashes {
        Some(file) => {
            let loaded = idferry_pipeline::platforms::password_hashes(file)?;
            mapping.push(
                &args.kind,
                Rule::Merge {
                    line: 0,
                    with: loaded.clone(),
                },
            );
            Some(loaded)
        }
        None => None,
    };
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
    let output =
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
    // csv is converted to and from ndjson beside the engine, through pipes, so that
    // every stage streams.
    let stats = std::thread::scope(|scope| -> anyhow::Result<_> {
        let (input, from_csv): (Box<dyn std::io::BufRead + Send>, _) = match args.from {
            Format::Ndjson => (input, None),
            Format::Csv => {
                let (reader, writer) = std::io::pipe()?;
                let skip = matches!(on_error, OnError::Skip);
                let from_csv = scope.spawn(move || {
                    // Rows csv cannot read go to the rejects after the engine's, with
                    // --on-error skip.
                    let mut csv_rejects = Vec::new();
                    idferry_transform::csv::csv_to_ndjson(
                        input,
                        std::io::BufWriter::new(writer),
                        skip.then_some(&mut csv_rejects as &mut dyn std::io::Write),
                    )
                    .map(|(_, rejected)| (csv_rejects, rejected))
                });
                (Box::new(std::io::BufReader::new(reader)), Some(from_csv))
            }
        };
        let engine_rejects = rejects
            .as_mut()
            .map(|r| r as &mut (dyn std::io::Write + Send));
        let (stats, output) = match args.to {
            Format::Ndjson => {
                let mut output = output;
                (
                    run(&mapping, &options, input, &mut output, engine_rejects),
                    output,
                )
            }
            Format::Csv => {
                let (reader, mut writer) = std::io::pipe()?;
                let columns = args.columns.clone();
                let to_csv = scope.spawn(move || {
                    let mut output = output;
                    let reader = std::io::BufReader::new(reader);
                    idferry_transform::csv::ndjson_to_csv(reader, &mut output, columns, 1000)
                        .map(|_| output)
                });
                let stats = run(&mapping, &options, input, &mut writer, engine_rejects);
                drop(writer);
                let output = to_csv
                    .join()
                    .map_err(|_| anyhow::anyhow!("the csv writer stopped"))?
                    .context("writing csv")?;
                (stats, output)
            }
        };
        // The engine's own error first: a csv error after it is its consequence.
        let mut stats = stats?;
        if let Some(t) = from_csv {
            let (csv_rejects, rejected) = t
                .join()
                .map_err(|_| anyhow::anyhow!("the csv reader stopped"))?
                .context("reading csv")?;
            // The engine's rejects first, then the rows csv could not read.
            if let Some(r) = rejects.as_mut() {
                std::io::Write::write_all(r, &csv_rejects)
                    .context("cannot write the rejects file")?;
            }
            stats.rejected += rejected;
            stats.read += rejected;
        }
        output.finish().context("cannot finish the output")?;
        Ok(stats)
    })?;
    if let Some(r) = rejects {
        r.finish().context("cannot finish the rejects file")?;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} {}: {} read, {} written, {} filtered out, {} rejected in {secs:.2}s ({:.0} records/s)",
        args.kind,
        spec_name,
        stats.read,
        stats.written,
        stats.filtered,
        stats.rejected,
        stats.read as f64 / secs.max(1e-9)
    );
    if let Some(h) = hashes {
        eprintln!("{}", h.summary());
    }
    Ok(ExitCode::SUCCESS)
}
