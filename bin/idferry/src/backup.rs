//! `idferry backup`: snapshots of one or many tenants, concurrently, each on its own
//! rate limit; one tenant's failure does not stop the others.

use crate::output::out;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use futures_util::StreamExt;
use idferry_archive::{Encryption, WriteOptions};
use idferry_auth0::{Client, ClientOptions};
use idferry_export::{ExportOptions, selected_kinds};
use idferry_model::{Platform, Progress, TenantConfig};
use serde_json::json;

use crate::cli::ConfigArg;
use crate::progress::Reporter;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry backup acme-prod --out /var/backups/idferry
  idferry backup --all --exclude-kinds users --json
  idferry backup acme-prod --encrypt-to age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p

Secret fields (client secrets, connection secrets, provider credentials...) are kept
only in encrypted snapshots (--encrypt-to or --passphrase-env).")]
pub struct BackupArgs {
    /// Tenants to back up, as named in the config file.
    pub tenants: Vec<String>,
    /// Back up every tenant of the config file.
    #[arg(long, conflicts_with = "tenants")]
    pub all: bool,
    #[command(flatten)]
    pub config: ConfigArg,
    /// Where snapshots are written.
    #[arg(long, default_value = "snapshots")]
    pub out: PathBuf,
    /// Only these kinds (with their sub-resources), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// Not these kinds, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub exclude_kinds: Vec<String>,
    /// Encrypt to this age recipient (repeatable); secrets are then kept.
    #[arg(long = "encrypt-to", value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// Encrypt with the passphrase in this environment variable; secrets are then kept.
    #[arg(long, value_name = "VAR", conflicts_with = "encrypt_to")]
    pub passphrase_env: Option<String>,
    /// Tenants backed up at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// zstd level.
    #[arg(long, default_value_t = WriteOptions::default().level)]
    pub level: i32,
    /// A summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The outcome of one tenant.
struct Outcome {
    tenant: String,
    result: anyhow::Result<Done>,
    seconds: f64,
}

struct Done {
    path: PathBuf,
    bytes: u64,
    kinds: usize,
    records: u64,
    users: u64,
    requests: u64,
    rate_limited: u64,
}

pub async fn run(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    let names: Vec<String> = if args.all {
        config.tenants.keys().cloned().collect()
    } else if args.tenants.is_empty() {
        bail!(
            "name the tenants to back up, or --all (the config has: {})",
            config.names()
        );
    } else {
        args.tenants.clone()
    };
    let tenants: Vec<TenantConfig> = names
        .iter()
        .map(|n| config.tenant(n).cloned())
        .collect::<Result<_, _>>()?;
    let export_options = ExportOptions {
        kinds: args.kinds.clone(),
        exclude: args.exclude_kinds.clone(),
        include_secrets: !args.encrypt_to.is_empty() || args.passphrase_env.is_some(),
    };
    selected_kinds(&export_options)?;
    let encryption = match (&args.passphrase_env, args.encrypt_to.is_empty()) {
        (Some(var), _) => Some(Encryption::passphrase(
            std::env::var(var).with_context(|| format!("--passphrase-env: {var} is not set"))?,
        )),
        (None, false) => Some(Encryption::Recipients(args.encrypt_to.clone())),
        (None, true) => None,
    };
    if let Some(e) = &encryption {
        e.validate()?;
    }
    let write_options = WriteOptions {
        level: args.level,
        encryption,
        ..WriteOptions::default()
    };
    let progress: Arc<dyn Progress> = Arc::new(Reporter::new());
    let outcomes: Vec<Outcome> = futures_util::stream::iter(tenants)
        .map(|tenant| {
            let progress = progress.clone();
            let export_options = export_options.clone();
            let write_options = write_options.clone();
            let out = args.out.clone();
            async move {
                let started = Instant::now();
                let result = backup_one(
                    &tenant,
                    &out,
                    &export_options,
                    &write_options,
                    progress.as_ref(),
                )
                .await;
                Outcome {
                    tenant: tenant.name.clone(),
                    result,
                    seconds: started.elapsed().as_secs_f64(),
                }
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    report(&outcomes, args.json);
    Ok(if outcomes.iter().all(|o| o.result.is_ok()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn backup_one(
    tenant: &TenantConfig,
    out: &Path,
    export_options: &ExportOptions,
    write_options: &WriteOptions,
    progress: &dyn Progress,
) -> anyhow::Result<Done> {
    if tenant.platform != Platform::Auth0 {
        bail!(
            "backups of {} tenants are not supported yet",
            tenant.platform
        );
    }
    let client = Client::new(tenant, ClientOptions::default())?;
    let (written, summary) = idferry_pipeline::stages::snapshot_tenant(
        tenant,
        &client,
        out,
        export_options,
        write_options,
        progress,
    )
    .await?;
    let stats = client.stats();
    Ok(Done {
        path: written.path,
        bytes: written.bytes,
        kinds: summary.counts.len(),
        records: summary.counts.iter().map(|(_, n)| n).sum(),
        users: summary.count("users"),
        requests: stats.requests,
        rate_limited: stats.rate_limited,
    })
}

fn report(outcomes: &[Outcome], as_json: bool) {
    if as_json {
        let rows: Vec<_> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(d) => json!({"tenant": o.tenant, "ok": true, "file": d.path, "bytes": d.bytes, "kinds": d.kinds,
                                "records": d.records, "users": d.users, "requests": d.requests,
                                "rate_limited": d.rate_limited, "seconds": o.seconds}),
                Err(e) => json!({"tenant": o.tenant, "ok": false, "error": format!("{e:#}"), "seconds": o.seconds}),
            })
            .collect();
        out!("{}", serde_json::Value::Array(rows));
        return;
    }
    out!(
        "{:<20} {:<7} {:>6} {:>9} {:>10} {:>8}  file / error",
        "tenant",
        "status",
        "kinds",
        "users",
        "size",
        "time"
    );
    for o in outcomes {
        match &o.result {
            Ok(d) => out!(
                "{:<20} {:<7} {:>6} {:>9} {:>10} {:>7.1}s  {}",
                o.tenant,
                "ok",
                d.kinds,
                d.users,
                human_bytes(d.bytes),
                o.seconds,
                d.path.display()
            ),
            Err(e) => out!(
                "{:<20} {:<7} {:>6} {:>9} {:>10} {:>7.1}s  {e:#}",
                o.tenant,
                "FAILED",
                "-",
                "-",
                "-",
                o.seconds
            ),
        }
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    if failed > 0 {
        out!("{failed} of {} tenants failed", outcomes.len());
    }
}

/// `1536` -> `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
