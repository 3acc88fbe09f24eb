//! `idferry backup`: snapshots of one or many tenants, concurrently, each on its own
//! rate limit; one tenant's failure does not stop the others. Into a directory or object
//! storage; with `--shard I/N`, this worker's share of the tenants. This file parses the
//! arguments into a [`Backup`] (which the pipeline conducts: leases, reports) and prints
//! its outcomes.

use crate::output::out;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use idferry_archive::{Encryption, WriteOptions};
use idferry_model::error::chain;
use idferry_model::units::human_bytes;
use idferry_model::{ExportOptions, TenantConfig};
use idferry_pipeline::backup::{Backup, Ended, Outcome};
use idferry_pipeline::shard::Shard;
use idferry_store::Store;
use serde_json::json;

use crate::cli::ConfigArg;
use crate::progress::Reporter;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry backup acme-prod --out /var/backups/idferry
  idferry backup --all --exclude-kinds users --json
  idferry backup acme-prod --encrypt-to age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  idferry backup --all --shard 0/4 --out s3://acme-backups/idferry

The store (--out) is a directory, file://, s3://BUCKET/PREFIX (gs:// and az:// in builds
with those features). Cloud credentials come from the cloud's own environment variables
and files (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials, AWS_ENDPOINT_URL...), never
from the command line. A snapshot appears in the store only once completely written.

With --shard I/N, worker I of N backs up the tenants rendezvous hashing gives it: every
worker runs the same command with its own I, and changing N moves few tenants. A tenant
is backed up under a lease in the store, so two workers never back it up at once; a
lease left by a worker that died lapses after --lease-minutes. Every tenant's run leaves
a report in the store: `idferry snapshots status STORE` shows them.

Secret fields (client secrets, connection secrets, provider credentials...) are kept
only in encrypted snapshots (--encrypt-to or --passphrase-env). Those a snapshot leaves
out are named in it, so that a restore asks for each.

Users' direct permissions are read with one request per user after the users (100,000
users: 100,000 requests, about 1 h 45 min at an Enterprise tenant's sustained 16
requests/s, 3 h 20 min at 500 a minute); --exclude-kinds user_permissions leaves them
out, and a restore from such a snapshot says they were not carried. Kinds the tenant does not offer (a feature off its
plan, rules and hooks past their end of life) are recorded in the snapshot as not
available; the backup goes on.")]
pub struct BackupArgs {
    /// Tenants to back up, as named in the config file.
    pub tenants: Vec<String>,
    /// Back up every tenant of the config file.
    #[arg(long, conflicts_with = "tenants")]
    pub all: bool,
    #[command(flatten)]
    pub config: ConfigArg,
    /// The snapshot store: a directory or a URL (s3://BUCKET/PREFIX...).
    #[arg(long, value_name = "STORE", default_value = "snapshots")]
    pub out: String,
    /// Back up only worker I's share of the tenants, of N workers (I from 0).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// This worker's name in leases and reports [default: host name, and the shard].
    #[arg(long)]
    pub worker: Option<String>,
    /// How long a tenant's lease holds if its worker dies before giving it back.
    #[arg(long, default_value_t = 120)]
    pub lease_minutes: u64,
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
    let names: Vec<String> = match args.shard {
        Some(shard) => names.into_iter().filter(|n| shard.owns(n)).collect(),
        None => names,
    };
    let store = Store::open(&args.out)?;
    let worker = args
        .worker
        .clone()
        .unwrap_or_else(|| idferry_pipeline::leased::worker_name(args.shard));
    let lease_ttl = std::time::Duration::from_secs(args.lease_minutes.saturating_mul(60));
    let tenants: Vec<TenantConfig> = names
        .iter()
        .map(|n| config.tenant(n).cloned())
        .collect::<Result<_, _>>()?;
    let mut backup = Backup {
        tenants,
        store,
        worker,
        lease_ttl,
        export: ExportOptions {
            kinds: args.kinds.clone(),
            exclude: args.exclude_kinds.clone(),
            include_secrets: !args.encrypt_to.is_empty() || args.passphrase_env.is_some(),
        },
        write: WriteOptions::default(),
        concurrency: args.concurrency,
    };
    backup.check()?;
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
    backup.write = WriteOptions {
        level: args.level,
        encryption,
        ..WriteOptions::default()
    };
    let outcomes = backup.run(Arc::new(Reporter::new())).await;
    report(&outcomes, args.json);
    Ok(
        if outcomes
            .iter()
            .all(|o| !matches!(o.ended, Ended::Failed(_)))
        {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// Why a tenant has no snapshot, as the summary says it.
fn why(ended: &Ended) -> Option<String> {
    match ended {
        Ended::Done(_) => None,
        Ended::Held(body) => Some(Ended::held_message(body)),
        Ended::Failed(e) => Some(chain(e)),
    }
}

fn report(outcomes: &[Outcome], as_json: bool) {
    if as_json {
        let rows: Vec<_> = outcomes
            .iter()
            .map(|o| match &o.ended {
                Ended::Done(d) => json!({"tenant": o.tenant, "ok": true, "file": d.path, "bytes": d.bytes, "kinds": d.kinds,
                                "records": d.records, "users": d.users, "requests": d.requests,
                                "rate_limited": d.rate_limited, "seconds": o.seconds,
                                "not_available": d.unavailable}),
                other => json!({"tenant": o.tenant, "ok": false, "skipped": matches!(other, Ended::Held(_)),
                                 "error": why(other), "seconds": o.seconds}),
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
        match &o.ended {
            Ended::Done(d) => out!(
                "{:<20} {:<7} {:>6} {:>9} {:>10} {:>7.1}s  {}",
                o.tenant,
                "ok",
                d.kinds,
                d.users,
                human_bytes(d.bytes),
                o.seconds,
                d.path
            ),
            other => out!(
                "{:<20} {:<7} {:>6} {:>9} {:>10} {:>7.1}s  {}",
                o.tenant,
                if matches!(other, Ended::Held(_)) {
                    "skipped"
                } else {
                    "FAILED"
                },
                "-",
                "-",
                "-",
                o.seconds,
                why(other).unwrap_or_default()
            ),
        }
    }
    for o in outcomes {
        let Ended::Done(d) = &o.ended else { continue };
        for u in &d.unavailable {
            out!(
                "{}: {} not available (the tenant answered {}: {}); left out, recorded in the snapshot",
                o.tenant,
                u.kind,
                u.status,
                u.message
            );
        }
    }
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o.ended, Ended::Failed(_)))
        .count();
    if failed > 0 {
        out!("{failed} of {} tenants failed", outcomes.len());
    }
}
