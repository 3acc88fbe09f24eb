//! `idferry migrate users`: users of a tenant or a snapshot imported into a tenant with
//! their password hashes, metadata, roles and organization memberships.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use futures_util::stream::StreamExt;
use idferry_auth0::{Client, ClientOptions};
use idferry_import::state::Selection;
use idferry_import::users::{
    Memberships, NoJournal, Report, UsersOptions, assign_memberships, import_users, target_ids,
};
use idferry_model::{Config, Platform, Progress};
use idferry_pipeline::into_zitadel::PROFILE;
use idferry_pipeline::spec::SourceSpec;
use idferry_pipeline::stages::{import_profile, shape_user};
use idferry_pipeline::{LoadedSpec, SinkSpec, Spec};
use serde_json::{Value, json};

use crate::cli::ConfigArg;
use crate::output::out;
use crate::progress::Reporter;
use crate::restore::resolve_source;
use crate::snapshots::KeyArgs;

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Import the users of a tenant or a snapshot into a tenant, with their hashes,
    /// metadata, roles and organizations.
    Users(MigrateUsersArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry migrate users --from acme-prod --to acme-staging --hashes prod-hashes.ndjson
  idferry migrate users --from snapshots/...acme-prod.tar.zst --to acme-staging --map samples/mappings/staging.toml

  idferry migrate users --from acme-prod --to zitadel-prod --map auth0-to-zitadel --hashes prod-hashes.ndjson

Users go through --map (if given), then the auth0-export-to-import profile (ids keep
their value without the provider prefix), then the hashes of --hashes (the password-hash
export Auth0 support delivers). Users the API refuses are written with its errors to
--report. Roles and organizations must exist in the target (idferry restore first).

Into a ZITADEL instance, users go through --map, then the auth0-to-zitadel profile, and
become human users of --org with their email and its verified flag, names, phone,
metadata and hash (bcrypt and the other formats ZITADEL verifies); Auth0 roles become
roles of --project with one user grant per user, Auth0 organizations become
organizations whose members they are. It runs as a pipeline with a run directory: if it
stops, `idferry resume DIR` carries on without creating anyone twice. What a user loses
(a social login, a hash in another format, a field the profile does not place) is listed
per user in --report; the picture URL is kept as metadata.")]
pub struct MigrateUsersArgs {
    /// The tenant (as named in the config) or snapshot file to read users from.
    #[arg(long)]
    pub from: String,
    /// The tenant to import into.
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub config: ConfigArg,
    /// The target's database connection.
    #[arg(long, default_value = "Username-Password-Authentication")]
    pub connection: String,
    /// Rewrite users through this mapping spec first (kind `users`); into a ZITADEL
    /// instance the built-in `auth0-to-zitadel` profile follows it (naming it is allowed).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Password hashes (an Auth0 password-hash export, ndjson).
    #[arg(long, value_name = "FILE")]
    pub hashes: Option<PathBuf>,
    /// Update users that already exist in the target (matched by email; in a ZITADEL
    /// instance by username).
    #[arg(long)]
    pub upsert: bool,
    /// Where users the API refuses are written, with its errors (ndjson).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "idferry-import-errors.ndjson"
    )]
    pub report: PathBuf,
    /// Import jobs in flight (Auth0 runs at most 2 per tenant; not used for ZITADEL,
    /// which takes users one request each, paced by the client).
    #[arg(long, default_value_t = 2)]
    pub slots: usize,
    /// Users only: no roles or organization memberships.
    #[arg(long)]
    pub no_memberships: bool,
    /// A summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub key: KeyArgs,
    /// ZITADEL targets: the organization users are created in (created when missing;
    /// default: the source tenant's name).
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    /// ZITADEL targets: the project whose roles stand for the source's roles (created
    /// in --org when missing; default: the source tenant's name).
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
    /// ZITADEL targets: the member role organization members get.
    #[arg(long, value_name = "ROLE", default_value = "ORG_USER_SELF_MANAGER")]
    pub member_role: String,
    /// ZITADEL targets: this migration's run directory (journal, spool, report), for
    /// `idferry resume DIR` (default: idferry-runs/<time>-migrate-users-<target>).
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
}

pub async fn run(cmd: MigrateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MigrateCommand::Users(args) => users(args).await,
    }
}

async fn users(args: MigrateUsersArgs) -> anyhow::Result<ExitCode> {
    idferry_pacing::install_tls_provider();
    let config = args.config.load()?;
    let same_tenant = args.from == args.to
        || config.tenant(&args.from).is_ok_and(|from| {
            config
                .tenant(&args.to)
                .is_ok_and(|to| from.base_url == to.base_url)
        });
    if same_tenant {
        bail!(
            "--from {} and --to {} are the same tenant: migrating it into itself would create every user again; name another target",
            args.from,
            args.to
        );
    }
    if config.tenant(&args.to)?.platform == Platform::Zitadel {
        return into_zitadel(args, &config).await;
    }
    if args.map.as_deref() == Some(Path::new(PROFILE)) {
        bail!(
            "--map {PROFILE}: that profile is for ZITADEL targets; {} is an Auth0 tenant",
            args.to
        );
    }
    let target = Client::new(config.tenant(&args.to)?, ClientOptions::default())?;
    let (source, _copy) = resolve_source(&args.from, &config, &args.key).await?;
    let mappings = match &args.map {
        Some(file) => vec![idferry_pipeline::kinds::load_mapping(file, &|v| {
            std::env::var(v).ok()
        })?],
        None => Vec::new(),
    };
    let (profile, hashes) = import_profile(args.hashes.as_deref())?;
    let progress = Reporter::new();
    let memberships = if args.no_memberships {
        Memberships::default()
    } else {
        Memberships::from_state(&source.state(Selection::Memberships, &progress).await?)
    };
    let records = source.users(&progress).await?;

    let report_file = std::fs::File::create(&args.report)
        .with_context(|| format!("cannot write the report {}", args.report.display()))?;
    let mut report = Report::new(std::io::BufWriter::new(report_file));
    let filtered = AtomicU64::new(0);
    let local_failures = std::sync::Mutex::new(Vec::new());
    let users = records
        .filter_map(|r| {
            let out = match r {
                Err(e) => Some(Err(e)),
                Ok(user) => {
                    let id = user.get("user_id").cloned();
                    match shape_user(&mappings, &profile, user) {
                        Ok(Some(u)) => Some(Ok(u)),
                        Ok(None) => {
                            filtered.fetch_add(1, Ordering::Relaxed);
                            None
                        }
                        Err(message) => {
                            if let Ok(mut f) = local_failures.lock() {
                                f.push(json!({"user_id": id, "errors": [{"code": "MAPPING", "message": message}]}));
                            }
                            None
                        }
                    }
                }
            };
            std::future::ready(out)
        })
        .boxed();
    let options = UsersOptions {
        connection: args.connection.clone(),
        upsert: args.upsert,
        slots: args.slots,
        run_id: format!("idferry-{}", jiff::Timestamp::now().as_second()),
        ..UsersOptions::default()
    };
    let before = target.stats();
    let (mut summary, emails) = import_users(
        &target,
        users,
        &options,
        &mut report,
        &mut NoJournal,
        &progress,
    )
    .await?;
    for line in local_failures.into_inner().unwrap_or_default() {
        summary.failed += 1;
        summary.total += 1;
        report_line(&mut report, &line)?;
    }

    let membership = if args.no_memberships {
        None
    } else {
        let user_ids = target_ids(&target, emails, &progress).await?;
        Some(assign_memberships(&target, &memberships, &user_ids, &mut report, &progress).await?)
    };
    let after = target.stats();
    let lines = report.lines;
    report.finish()?;
    let filtered = filtered.into_inner();
    let requests = after.requests - before.requests;
    let rate_limited = after.rate_limited - before.rate_limited;
    if args.json {
        out!(
            "{}",
            json!({"users": summary, "filtered": filtered, "memberships": membership,
                   "report": args.report, "report_lines": lines,
                   "hashes_merged": hashes.as_ref().map(|h| h.merged.load(Ordering::Relaxed)),
                   "requests": requests, "rate_limited": rate_limited})
        );
    } else {
        out!(
            "Users into {}: {} read, {} inserted, {} updated, {} failed, {} left out by the mapping ({} import jobs).",
            args.to,
            summary.total + filtered,
            summary.inserted,
            summary.updated,
            summary.failed,
            filtered,
            summary.jobs
        );
        if let Some(h) = &hashes {
            out!(
                "Hashes: {} users given their hash; {} with a format the import does not take (not carried).",
                h.merged.load(Ordering::Relaxed),
                h.unsupported.load(Ordering::Relaxed)
            );
        }
        if let Some(m) = &membership {
            out!(
                "Memberships: {} role assignments, {} organization memberships, {} member roles; {} failed, {} skipped (user not imported).",
                m.role_users,
                m.organization_members,
                m.member_roles,
                m.failed,
                m.not_imported
            );
        }
        out!("Requests: {requests} ({rate_limited} answered 429).");
        out!("Error report: {} ({lines} lines).", args.report.display());
    }
    let failed = summary.failed + membership.map_or(0, |m| m.failed);
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A users migration into a ZITADEL instance, run as a one-sink pipeline (written into
/// its run directory) so that it resumes like any.
async fn into_zitadel(args: MigrateUsersArgs, config: &Config) -> anyhow::Result<ExitCode> {
    if args.key.identity.is_some() || args.key.passphrase_env.is_some() {
        bail!(
            "into a ZITADEL instance the migration runs as a pipeline, which reads plain snapshots: decrypt it first (`age -d -i KEY -o plain.tar.zst SNAPSHOT`)"
        );
    }
    let absolute = |p: &Path| -> anyhow::Result<PathBuf> {
        std::path::absolute(p).with_context(|| format!("{}", p.display()))
    };
    let from = Path::new(&args.from);
    let source = if from.is_file() {
        SourceSpec {
            snapshot: Some(absolute(from)?),
            ..SourceSpec::default()
        }
    } else if idferry_pipeline::stored::is_url(from) {
        SourceSpec {
            snapshot: Some(from.to_owned()),
            ..SourceSpec::default()
        }
    } else {
        config.tenant(&args.from)?;
        SourceSpec {
            tenant: Some(args.from.clone()),
            ..SourceSpec::default()
        }
    };
    let transforms = match args.map.as_deref().filter(|m| *m != Path::new(PROFILE)) {
        Some(map) => vec![absolute(map)?],
        None => Vec::new(),
    };
    let spec = Spec {
        name: format!("migrate-users-{}", args.to),
        description: None,
        source,
        transforms,
        sinks: vec![SinkSpec::Users {
            to: args.to.clone(),
            connection: args.connection.clone(),
            hashes: args.hashes.as_deref().map(absolute).transpose()?,
            upsert: args.upsert,
            memberships: !args.no_memberships,
            org: args.org.clone(),
            project: args.project.clone(),
            member_role: args.member_role.clone(),
        }],
        concurrency: 1,
    };
    let run_dir = args.run_dir.clone().unwrap_or_else(|| {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        PathBuf::from("idferry-runs").join(format!("{stamp}-migrate-users-{}", args.to))
    });
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let loaded = LoadedSpec::write(
        &spec,
        &run_dir.join("migrate-users.toml"),
        "idferry migrate users",
    )?;
    let progress: Arc<dyn Progress> = Arc::new(Reporter::new());
    progress.message(&format!(
        "run directory: {} (if this stops: idferry resume {})",
        run_dir.display(),
        run_dir.display()
    ));
    let report = idferry_pipeline::start(&loaded, config, &run_dir, None, &[], progress).await?;
    // The unit's report (refusals, what is not carried) where --report says.
    for unit in &report.units {
        let written = SinkSpec::users_report(&run_dir, &unit.unit, 0);
        if written.is_file() {
            std::fs::copy(&written, &args.report)
                .with_context(|| format!("cannot write {}", args.report.display()))?;
            if !args.json {
                eprintln!(
                    "Report (refused users, what was not carried): {}",
                    args.report.display()
                );
            }
        }
    }
    Ok(crate::run::finish(&report, args.json))
}

fn report_line<W: std::io::Write>(report: &mut Report<W>, line: &Value) -> anyhow::Result<()> {
    report.write_line(line)?;
    Ok(())
}
