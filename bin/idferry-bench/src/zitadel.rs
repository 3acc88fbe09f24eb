//! `idferry-bench to-zitadel`: a generated Auth0 tenant's users migrated into an
//! emulated ZITADEL instance limited to R requests/s (ZITADEL sends no rate-limit
//! headers, so the client is set to the same limit), with the requests made per user,
//! the 429s met and the wall time against requests/R.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use idferry_auth0_import::state::Selection;
use idferry_emulator::Platform;
use idferry_emulator::{Emulator, GenerateSpec, TenantOptions};
use idferry_model::Silent;
use idferry_platform_auth0::source::Source;
use idferry_zitadel::users::{self as zusers, AssignOptions, ImportOptions, NoJournal, SourceUser};
use serde_json::json;

use crate::bench::ZitadelBench;

pub async fn run(args: ZitadelBench) -> anyhow::Result<ExitCode> {
    idferry_pacing::install_tls_provider();
    let mut source = TenantOptions::new("bench-auth0");
    source.generate = Some(GenerateSpec {
        users: args.users,
        organizations: args.organizations,
    });
    let mut target = TenantOptions::new("bench-zitadel");
    target.platform = Platform::Zitadel;
    target.rate_limit = args.rate;
    target.burst = args.burst;
    let emulator = Emulator::start(vec![source, target]).await?;
    let dir = tempfile::tempdir().context("cannot make a temporary folder")?;
    let config_path = dir.path().join("idferry.toml");
    emulator.write_config(&config_path)?;
    let config = idferry_pipeline::platforms::load_config(&config_path)?;
    let from = idferry_auth0::Client::new(
        config.tenant("bench-auth0")?,
        idferry_auth0::ClientOptions::default(),
    )?;
    let mut zitadel = config.tenant("bench-zitadel")?.clone();
    zitadel.rate_limit = Some(args.rate);
    zitadel.burst = Some(args.burst);
    let into = idferry_zitadel::Client::new(&zitadel, Default::default())?;

    // The users as the pipeline shapes them (no hashes: they change no request).
    let profile = idferry_transform::profiles::find(
        idferry_platform_zitadel::PROFILES,
        idferry_platform_zitadel::sinks::PROFILE,
    )?;
    let mut users = Vec::with_capacity(args.users);
    let mut stream = Source::Tenant(from.clone()).users(&Silent).await?;
    while let Some(user) = stream.next().await {
        let user = user?;
        let source_id = user["user_id"].as_str().unwrap_or_default().to_owned();
        let shaped = idferry_platform_zitadel::sinks::shape_user(&[], &profile, None, user)
            .map_err(anyhow::Error::msg)?;
        if let Some(shaped) = shaped {
            users.push(SourceUser {
                source_id,
                user: shaped,
                source_email: None,
            });
        }
    }
    let m = idferry_auth0_import::users::memberships_of(
        &Source::Tenant(from)
            .state(Selection::Memberships, &Silent)
            .await?,
    );
    let memberships = zusers::Memberships {
        roles: m.roles,
        organizations: m.organizations,
    };
    if !args.json {
        println!(
            "source: {} users, {} roles, {} organizations; target limited to {} req/s (burst {})",
            users.len(),
            memberships.roles.len(),
            memberships.organizations.len(),
            args.rate,
            args.burst
        );
    }

    let started = Instant::now();
    let org_id = zusers::ensure_org(&into, "bench").await?;
    let options = ImportOptions {
        org_id,
        batch: 250,
        in_flight: 8,
        upsert: false,
    };
    let summary = zusers::import(
        &into,
        &users,
        &options,
        &mut NoJournal,
        &mut std::io::sink(),
        &Silent,
    )
    .await?;
    let imported = into.stats();
    let import_seconds = started.elapsed().as_secs_f64();
    let usernames = users
        .iter()
        .map(|u| (u.source_id.clone(), u.user.username()))
        .collect();
    let assign = AssignOptions {
        home_org: "bench".into(),
        project: "bench".into(),
        member_role: "ORG_USER_SELF_MANAGER".into(),
    };
    let assigned = zusers::assign(
        &into,
        &memberships,
        &usernames,
        &assign,
        &mut std::io::sink(),
        &Silent,
    )
    .await?;
    let wall = started.elapsed().as_secs_f64();
    let stats = into.stats();
    if summary.counts.failed > 0 || assigned.failed > 0 {
        bail!(
            "{} users and {} grants or memberships failed",
            summary.counts.failed,
            assigned.failed
        );
    }
    let blocked = users.iter().filter(|u| u.user.deactivate).count() as u64;
    // One create per user, one deactivation per blocked user, one grant per user with
    // roles, one membership per member; the rest are reads and the setup of the
    // organizations, project and roles.
    let work = summary.counts.inserted + blocked + assigned.grants + assigned.members;
    let retries = stats.rate_limited;
    let ideal = stats.requests as f64 / args.rate;
    let figures = json!({
        "users": summary.counts.inserted, "rate": args.rate, "burst": args.burst,
        "import_requests": imported.requests, "import_seconds": import_seconds,
        "grants": assigned.grants, "members": assigned.members,
        "requests": stats.requests, "writes_per_user": work as f64 / args.users as f64,
        "requests_per_user": stats.requests as f64 / args.users as f64,
        "rate_limited": retries, "rate_limited_server": emulator.tenants()[1].stats().rate_limited,
        "users_per_second": summary.counts.inserted as f64 / wall,
        "wall_seconds": wall, "requests_over_rate_seconds": ideal, "wall_ratio": wall / ideal,
    });
    if args.json {
        println!("{figures}");
    } else {
        println!(
            "users     {} created ({blocked} then deactivated) in {import_seconds:.1}s: {} requests",
            summary.counts.inserted, imported.requests
        );
        println!(
            "members   {} user grants, {} organization memberships",
            assigned.grants, assigned.members
        );
        println!(
            "requests made    {:>8}  ({work} writes of users, grants and memberships; {:.2} requests per user)",
            stats.requests,
            stats.requests as f64 / args.users as f64
        );
        println!("429s received    {retries:>8}");
        println!(
            "wall time        {wall:>8.1}s (requests/limit {ideal:.1}s)  -> {:.3}x; {:.0} users/s",
            wall / ideal,
            summary.counts.inserted as f64 / wall
        );
    }
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// `idferry-bench zitadel-backup`: the users of a generated ZITADEL instance (in an
/// emulator process of its own, so that only the backup's memory is measured) streamed
/// into a snapshot through the client limited to the instance's rate.
pub async fn backup(args: crate::bench::ZitadelBackupBench) -> anyhow::Result<ExitCode> {
    use idferry_archive::{SnapshotWriter, WriteOptions};

    idferry_pacing::install_tls_provider();
    let scratch = tempfile::Builder::new()
        .prefix("idferry-bench-")
        .tempdir()?;
    let config_path = scratch.path().join("idferry.toml");
    eprintln!(
        "generating a ZITADEL instance of {} users in {} organizations in an emulator process...",
        args.users, args.organizations
    );
    let child = std::process::Command::new(crate::idferry_exe()?)
        .args(["emulate", "--generated-zitadel", "bench-zitadel"])
        .args(["--generate-users", &args.users.to_string()])
        .args(["--organizations", &args.organizations.to_string()])
        .args(["--rate-limit", &args.rate.to_string()])
        .args(["--burst", &args.burst.to_string()])
        .arg("--config-out")
        .arg(&config_path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("cannot start the emulator")?;
    let _child = crate::bench::Child(child);
    while !config_path.exists() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let config = idferry_pipeline::platforms::load_config(&config_path)?;
    let mut tenant = config.tenant("bench-zitadel")?.clone();
    tenant.rate_limit = Some(args.rate);
    tenant.burst = Some(args.burst);
    let client = idferry_zitadel::Client::new(&tenant, Default::default())?;
    let users_kind = idferry_zitadel::catalog::CATALOG
        .iter()
        .find(|k| k.name == "users")
        .context("the ZITADEL catalog has no users kind")?;

    eprintln!("backing up the users at {} requests/s...", args.rate);
    let before = client.stats();
    let started = Instant::now();
    let out = scratch.path().join("snapshots");
    let mut writer =
        SnapshotWriter::create(&out, "bench-zitadel", "zitadel", &tenant.base_url, false)?;
    let users =
        idferry_zitadel::export::export_kind(&client, users_kind, &mut writer, &Silent).await?;
    let read_secs = started.elapsed().as_secs_f64();
    let read_rss = crate::bench::peak_rss_bytes();
    let written =
        tokio::task::spawn_blocking(move || writer.finish(&WriteOptions::default())).await??;
    let secs = started.elapsed().as_secs_f64();
    let stats = client.stats();
    let requests = stats.requests - before.requests;
    let rss = crate::bench::peak_rss_bytes();

    // The least any client needs: the organizations (one page), each organization's users
    // at the largest page ZITADEL allows (1000), and one metadata read per user (there is
    // no bulk read of metadata).
    let orgs = args.organizations.max(1);
    let per_org = |i: usize| args.users / orgs + usize::from(i < args.users % orgs);
    let pages: usize = (0..orgs).map(|i| per_org(i).div_ceil(1000).max(1)).sum();
    let minimum = 1 + pages + args.users;
    let floor = requests as f64 / args.rate;
    let figures = json!({
        "users": users, "requests": requests, "minimum_requests": minimum,
        "requests_vs_minimum": requests as f64 / minimum as f64, "rate_limited": stats.rate_limited - before.rate_limited,
        "seconds": secs, "read_seconds": read_secs, "requests_over_rate_seconds": floor,
        "time_vs_requests_over_rate": secs / floor, "peak_rss_bytes": rss, "peak_rss_reading_bytes": read_rss,
        "archive_bytes": written.bytes,
    });
    if args.json {
        println!("{figures}");
    } else {
        println!(
            "users backed up     {users} in {secs:.1}s ({:.0} users/s; reading {read_secs:.1}s)",
            users as f64 / secs
        );
        println!(
            "requests            {requests} against a minimum of {minimum} ({:.4}x); {} answered 429",
            requests as f64 / minimum as f64,
            stats.rate_limited - before.rate_limited
        );
        println!(
            "time                {secs:.1}s against requests/limit {floor:.1}s at {} req/s ({:.4}x)",
            args.rate,
            secs / floor
        );
        println!(
            "peak RSS            {} while reading users, {} with the archive written",
            read_rss.map_or("unknown".into(), idferry_model::units::human_bytes),
            rss.map_or("unknown".into(), idferry_model::units::human_bytes)
        );
        println!(
            "archive             {}",
            idferry_model::units::human_bytes(written.bytes)
        );
    }
    Ok(ExitCode::SUCCESS)
}
