//! `idferry list` (a kind of a tenant as ndjson) and `idferry catalog`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use futures_util::TryStreamExt;
use serde_json::json;

use crate::cli::ConfigArg;
use crate::progress::Reporter;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry list acme-prod clients | jq .name
  idferry list acme-prod role_permissions --parent rol_0123456789abcdef
  idferry list acme-prod users > users.ndjson      # all users, through an export job
  idferry list zitadel-prod project_roles          # a ZITADEL instance: see `idferry catalog --platform zitadel`")]
pub struct ListArgs {
    /// The tenant, as named in the config file.
    pub tenant: String,
    /// The kind (see `idferry catalog`, `--platform zitadel` for ZITADEL instances).
    pub kind: String,
    /// Ids of the parent objects of a sub-resource, outermost first.
    #[arg(long = "parent", value_name = "ID")]
    pub parents: Vec<String>,
    /// Print secret fields (client secrets, connection and provider credentials, signing
    /// keys) as the API returns them; without it they are shown as `[redacted]`.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// What a secret field shows without `--show-secrets`.
const REDACTED: &str = "[redacted]";

pub async fn run(args: ListArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    let tenant = config.tenant(&args.tenant)?;
    let platform = idferry_pipeline::platforms::of(tenant)?;
    let listing = platform
        .list(tenant, &args.kind, &args.parents, &Reporter::new())
        .await?;
    let mut records = listing.records;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut count = 0u64;
    let mut redacted = 0u64;
    while let Some(mut record) = records.try_next().await? {
        if !args.show_secrets {
            for path in listing.secrets {
                idferry_model::record::map_values(&mut record, path, &mut |v| {
                    if !v.is_null() {
                        *v = json!(REDACTED);
                        redacted += 1;
                    }
                });
            }
        }
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
        count += 1;
    }
    out.flush()?;
    let stats = (listing.stats)();
    eprintln!(
        "{}: {count} {} in {} requests ({} answered 429)",
        args.tenant, listing.kind, stats.requests, stats.rate_limited
    );
    if redacted > 0 {
        eprintln!("{redacted} secret values shown as {REDACTED} (--show-secrets prints them)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `idferry catalog [--platform P]`: the platform's kinds (the registry's first when
/// none is named), as a table or JSON lines.
pub fn catalog(platform: Option<&str>, as_json: bool) -> anyhow::Result<ExitCode> {
    let all = idferry_pipeline::platforms::all();
    let platform = match platform {
        Some(name) => idferry_pipeline::platforms::named(name)
            .with_context(|| format!("no platform named {name:?}"))?,
        None => all[0],
    };
    let catalog = platform.catalog();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if as_json {
        for row in &catalog.rows {
            writeln!(out, "{}", serde_json::Value::Object(row.detail.clone()))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Every column as wide as its widest cell, the last as it comes.
    let widths: Vec<usize> = (0..catalog.columns.len())
        .map(|c| {
            catalog
                .rows
                .iter()
                .map(|r| r.cells[c].len())
                .chain([catalog.columns[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        let last = cells.len() - 1;
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    (*c).to_owned()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    writeln!(out, "{}", line(&catalog.columns))?;
    for row in &catalog.rows {
        let cells: Vec<&str> = row.cells.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    writeln!(out, "\n{} kinds", catalog.rows.len())?;
    Ok(ExitCode::SUCCESS)
}
