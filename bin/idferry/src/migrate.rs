//! `idferry migrate users`: users of a tenant or a snapshot imported into a tenant with
//! their password hashes, metadata, roles and organization memberships.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use idferry_model::Progress;
use idferry_pipeline::run::UsersResults as Results;
use idferry_pipeline::spec::SourceSpec;
use idferry_pipeline::{LoadedSpec, SinkSpec, Spec};
use serde_json::json;

use crate::cli::ConfigArg;
use crate::output::out;
use crate::progress::Reporter;
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

Every migration runs as a pipeline with a run directory (--run-dir, default
idferry-runs/<time>-migrate-users-<target>): if it stops, `idferry resume DIR` carries on
without creating anyone twice.

Into a ZITADEL instance, users go through --map, then the auth0-to-zitadel profile, and
become human users of --org with their email and its verified flag, names, phone,
metadata and hash (bcrypt and the other formats ZITADEL verifies); Auth0 roles become
roles of --project with one user grant per user, Auth0 organizations become
organizations whose members they are. What a user loses
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
    /// Auth0 targets: also carry users who log in with a social or enterprise connection
    /// (google-oauth2|..., samlp|...) into the database connection, with their metadata,
    /// roles and organizations, as database users (auth0|...; for tenants that link
    /// accounts on first login). Without it they are left out, each named in the report
    /// with the connection they log in with.
    #[arg(long)]
    pub carry_social_users: bool,
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
    /// This migration's run directory (journal, spool, report), for `idferry resume DIR`
    /// (default: idferry-runs/<time>-migrate-users-<target>).
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
}

pub async fn run(cmd: MigrateCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MigrateCommand::Users(args) => users(args).await,
    }
}

/// A users migration, into any platform, runs as a one-sink pipeline (its spec built
/// as a value and written into its run directory) so that it resumes like any run.
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
    let target = config.tenant(&args.to)?;
    let platform = idferry_pipeline::platforms::of(target)?;
    // Naming the target's own profile is allowed (it runs anyway); another built-in
    // profile is for another platform's targets.
    let builtin = args.map.as_deref().and_then(Path::to_str).filter(|m| {
        idferry_pipeline::platforms::profiles()
            .iter()
            .any(|(name, _)| name == m)
    });
    if let Some(profile) = builtin
        && profile != platform.users_profile()
    {
        bail!(
            "--map {profile}: that profile is for another platform's targets; {} is a {} tenant, whose users go through {}",
            args.to,
            platform.title(),
            platform.users_profile()
        );
    }
    let to_profile = builtin.is_some();
    let absolute = |p: &Path| -> anyhow::Result<PathBuf> {
        std::path::absolute(p).with_context(|| format!("{}", p.display()))
    };
    let from = Path::new(&args.from);
    let source = if crate::restore::is_snapshot(&args.from, &config)? {
        SourceSpec {
            snapshot: Some(if from.is_file() {
                absolute(from)?
            } else {
                from.to_owned()
            }),
            identity: args.key.identity.as_deref().map(absolute).transpose()?,
            passphrase_env: args.key.passphrase_env.clone(),
            ..SourceSpec::default()
        }
    } else {
        SourceSpec {
            tenant: Some(args.from.clone()),
            ..SourceSpec::default()
        }
    };
    let transforms = match args.map.as_deref().filter(|_| !to_profile) {
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
            slots: Some(args.slots),
            carry_social_users: args.carry_social_users,
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
    let report = idferry_pipeline::start(&loaded, &config, &run_dir, None, &[], progress).await?;
    let mut summaries = Vec::new();
    for unit in &report.units {
        let results = idferry_pipeline::run::users_results(&run_dir, &unit.unit, 0)?;
        // The unit's report (refusals, what is not carried) where --report says.
        if results.report.is_file() {
            std::fs::copy(&results.report, &args.report)
                .with_context(|| format!("cannot write {}", args.report.display()))?;
        }
        summaries.push(results);
    }
    if args.json {
        // The run's report, with the users' figures on top.
        let mut out = serde_json::to_value(&report)?;
        if let (Some(object), Some(first)) = (out.as_object_mut(), summaries.first()) {
            let requests = |r: &Results| -> (u64, u64) {
                let i = r.imported.map_or((0, 0), |i| (i.requests, i.rate_limited));
                let m = r
                    .memberships
                    .as_ref()
                    .map_or((0, 0), |m| (m.requests, m.rate_limited));
                (i.0 + m.0, i.1 + m.1)
            };
            let (requests, rate_limited) = requests(first);
            object.insert("users".into(), json!(first.imported));
            object.insert(
                "filtered".into(),
                json!(first.extracted.as_ref().map_or(0, |e| e.filtered)),
            );
            object.insert(
                "left_out".into(),
                json!(first.extracted.as_ref().map_or(0, |e| e.left_out)),
            );
            object.insert("memberships".into(), json!(first.memberships));
            object.insert("report".into(), json!(args.report));
            object.insert("requests".into(), json!(requests));
            object.insert("rate_limited".into(), json!(rate_limited));
        }
        out!("{out}");
    } else {
        crate::run::print_report(&report);
        for r in &summaries {
            if let Some(e) = r.extracted.as_ref().filter(|e| e.left_out > 0) {
                out!(
                    "Left out: {} users who log in with a social or enterprise connection (a users import takes database users only); each is in the report with its connection. --carry-social-users carries them as database users.",
                    e.left_out
                );
            }
            if let Some(i) = &r.imported
                && (i.hashes_merged > 0 || i.hashes_unsupported > 0)
            {
                out!(
                    "Hashes: {} users given their hash; {} with a format the import does not take (not carried).",
                    i.hashes_merged,
                    i.hashes_unsupported
                );
            }
        }
        out!(
            "Report (refused users, what was not carried): {}",
            args.report.display()
        );
    }
    Ok(if report.failed() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
