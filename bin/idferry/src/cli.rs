//! The command line: what each command takes and where it goes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use idferry_model::Config;

use crate::{backup, demo, emulate, list, migrate, restore, run, snapshots, transform};

/// Migrate, back up and restore identity tenants (Auth0 first, ZITADEL second).
#[derive(Debug, Parser)]
#[command(name = "idferry", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// More detail on stderr (-v, -vv); IDFERRY_LOG=<filter> for full control.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The three jobs end to end on emulated tenants: a nightly backup, a staging
    /// refresh and a users migration, through the sample pipelines.
    Demo(demo::DemoArgs),
    /// Run emulated Auth0 tenants on 127.0.0.1 until Ctrl-C (for tests, demos and
    /// rehearsing a migration).
    Emulate(emulate::EmulateArgs),
    /// Back up tenants into verifiable snapshot archives (.tar.zst).
    Backup(backup::BackupArgs),
    /// List, inspect, verify, diff, prune and read snapshot files.
    #[command(subcommand)]
    Snapshots(snapshots::SnapshotsCommand),
    /// Write a snapshot's (or a tenant's) configuration into a tenant: plan, then apply.
    Restore(restore::RestoreArgs),
    /// Move users between tenants with hashes, metadata, roles and organizations.
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
    /// Run a pipeline spec (backups, restores, migrations) over one tenant or many.
    Run(run::RunArgs),
    /// Continue a run that stopped (killed, crashed, failed) where it stopped.
    Resume(run::ResumeArgs),
    /// List past runs with their status, stages and times.
    Runs(run::RunsArgs),
    /// Rewrite records (ndjson) through a mapping spec: rename, move, set, map, rewrite
    /// URLs, filter, scrub personal data.
    Transform(transform::TransformArgs),
    /// Print the resource catalog: every kind idferry reads and writes, and how.
    Catalog {
        /// One JSON object per kind instead of a table.
        #[arg(long)]
        json: bool,
        /// Whose kinds (a platform's name; the first of those listed when left out).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(
            idferry_pipeline::platforms::all().iter().map(|p| p.name())
        ))]
        platform: Option<String>,
    },
    /// Print every object of one kind of a tenant, as ndjson on stdout.
    List(list::ListArgs),
}

/// Where the tenant config file is.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The tenant config file.
    #[arg(
        long,
        short = 'c',
        env = "IDFERRY_CONFIG",
        default_value = "idferry.toml"
    )]
    pub config: PathBuf,
}

impl ConfigArg {
    /// Reads and checks the file.
    pub fn load(&self) -> anyhow::Result<Config> {
        idferry_pipeline::platforms::load_config(&self.config).with_context(|| {
            if self.config.exists() {
                "the tenant config is not usable".to_owned()
            } else {
                format!(
                    "no config at {} (pass --config FILE, or run `idferry emulate --config-out idferry.toml` for local tenants)",
                    self.config.display()
                )
            }
        })
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Emulate(args) => emulate::run(args).await,
        Command::Backup(args) => backup::run(args).await,
        Command::Snapshots(cmd) => snapshots::run(cmd).await,
        Command::Restore(args) => restore::run(args).await,
        Command::Migrate(cmd) => migrate::run(cmd).await,
        Command::Run(args) => {
            run::check_spec(&args.spec)?;
            run::run(args).await
        }
        Command::Resume(args) => run::resume(args).await,
        Command::Runs(args) => run::runs(args),
        Command::Transform(args) => transform::run_transform(args),
        Command::Catalog { json, platform } => list::catalog(platform.as_deref(), json),
        Command::List(args) => list::run(args).await,
    }
}
