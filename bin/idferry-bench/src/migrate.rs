//! `idferry-bench migrate`: a configuration restore and a users migration into a tenant
//! limited to R requests/s, with the requests made against the minimum needed.
//!
//! The minimum counts what carries work: every write, every page read, one token, and one
//! status read per job. What is above it is overhead: job status reads beyond the first,
//! and retries (of 429s and failures).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use futures_util::StreamExt;
use idferry_auth0::{Client, ClientOptions, RequestStats};
use idferry_auth0_import::plan::{PlanOptions, plan};
use idferry_auth0_import::state::Selection;
use idferry_auth0_import::users::{
    NoJournal, Report, UsersOptions, assign_memberships, import_users, target_ids,
};
use idferry_auth0_import::{ImportError, State, Values, apply};
use idferry_emulator::{Emulator, GenerateSpec, TenantOptions};
use idferry_model::Silent;
use idferry_platform_auth0::sinks::{import_profile, shape_user};
use idferry_platform_auth0::source::Source;
use serde_json::json;

use crate::bench::MigrateBench;

fn client(
    t: &idferry_emulator::Tenant,
    rate: Option<f64>,
    burst: Option<u32>,
) -> anyhow::Result<Client> {
    Ok(Client::from_parts(
        &t.name,
        &t.base_url,
        t.client_credentials(),
        rate,
        burst,
        ClientOptions::default(),
    )?)
}

/// Requests of a phase, and its retries (overhead).
fn delta(before: RequestStats, after: RequestStats) -> (u64, u64) {
    let retries = (after.rate_limited - before.rate_limited)
        + (after.transient_retries - before.transient_retries);
    (after.requests - before.requests, retries)
}

/// Values for every write-only value a plan asks for (the benchmark's stand-in for the
/// operator's values file).
fn stand_in_values(needed: &[idferry_auth0_import::plan::NeededValue]) -> Values {
    let mut root = serde_json::Map::new();
    for v in needed {
        let kind = root.entry(v.kind.clone()).or_insert_with(|| json!({}));
        let table = match &v.name {
            Some(name) => &mut kind[name.as_str()],
            None => kind,
        };
        table[v.field.as_str()] = json!("bench-secret");
    }
    Values::from_json(root)
}

pub async fn run(args: MigrateBench) -> anyhow::Result<ExitCode> {
    idferry_pacing::install_tls_provider();
    let mut source = TenantOptions::new("bench-source");
    source.generate = Some(GenerateSpec {
        users: args.users,
        organizations: args.organizations,
    });
    let mut target = TenantOptions::new("bench-target");
    target.rate_limit = args.rate;
    target.burst = args.burst;
    let generated = Instant::now();
    let emulator = Emulator::start(vec![source, target]).await?;
    let (a, b) = (&emulator.tenants()[0], &emulator.tenants()[1]);
    let from = client(a, None, None)?;
    let into = client(b, Some(args.rate), Some(args.burst))?;
    if !args.json {
        println!(
            "source: {} users generated in {:.1}s; target limited to {} req/s (burst {})",
            args.users,
            generated.elapsed().as_secs_f64(),
            args.rate,
            args.burst
        );
    }
    let config = State::from_tenant(&from, Selection::Config, &Silent).await?;
    let memberships = idferry_auth0_import::users::memberships_of(
        &State::from_tenant(&from, Selection::Memberships, &Silent).await?,
    );
    let objects: usize = config.counts().map(|(_, n)| n).sum();

    // Configuration.
    let started = Instant::now();
    let s0 = into.stats();
    let current = State::from_tenant(&into, Selection::Config, &Silent).await?;
    let s1 = into.stats();
    let first = plan(&config, &current, &Values::none(), &PlanOptions::default());
    let values = stand_in_values(&first.needed_values);
    let the_plan = plan(&config, &current, &values, &PlanOptions::default());
    let report = apply(&into, &the_plan, &Silent).await;
    let s2 = into.stats();
    let restore_seconds = started.elapsed().as_secs_f64();
    if report.failed() > 0 {
        bail!(
            "the restore failed for {} objects: {:?}",
            report.failed(),
            report.failures.first()
        );
    }

    // Users, then memberships.
    let (profile, _) = import_profile(None)?;
    let users = Source::Tenant(from.clone())
        .users(&Silent)
        .await?
        .filter_map(|r| {
            std::future::ready(match r {
                Ok(user) => shape_user(&[], &profile, user)
                    .map_err(ImportError::Usage)
                    .transpose(),
                Err(e) => Some(Err(e)),
            })
        })
        .boxed();
    let mut errors = Report::new(std::io::sink());
    let users_started = Instant::now();
    let s3 = into.stats();
    let (summary, emails) = import_users(
        &into,
        users,
        &UsersOptions::default(),
        &mut errors,
        &mut NoJournal,
        &Silent,
    )
    .await?;
    let s4 = into.stats();
    let ids = target_ids(&into, emails, &Silent).await?;
    let s5 = into.stats();
    let m = assign_memberships(&into, &memberships, &ids, &mut errors, &Silent).await?;
    let s6 = into.stats();
    let users_seconds = users_started.elapsed().as_secs_f64();
    let wall = started.elapsed().as_secs_f64();

    let (reads, reads_retries) = delta(s0, s1);
    let (writes, writes_retries) = delta(s1, s2);
    let (imports, imports_retries) = delta(s3, s4);
    let (export, export_retries) = delta(s4, s5);
    let (assigns, assigns_retries) = delta(s5, s6);
    let total = s6.requests - s0.requests;
    let rate_limited = s6.rate_limited - s0.rate_limited;
    let extra_status =
        (summary.status_checks - summary.jobs) + export.saturating_sub(2 + export_retries);
    let retries =
        reads_retries + writes_retries + imports_retries + export_retries + assigns_retries;
    let minimum = total - extra_status - retries;
    let ideal = total as f64 / args.rate;
    let server = b.stats();
    if summary.failed > 0 || m.failed > 0 {
        bail!(
            "{} users and {} memberships failed",
            summary.failed,
            m.failed
        );
    }
    let figures = json!({
        "users": args.users, "config_objects": objects, "rate": args.rate, "burst": args.burst,
        "restore": {"reads": reads, "writes": writes, "plan_writes": the_plan.requests(), "seconds": restore_seconds},
        "users_import": {"requests": imports, "jobs": summary.jobs, "status_checks": summary.status_checks,
                         "inserted": summary.inserted, "target_export_requests": export},
        "memberships": {"requests": assigns, "role_users": m.role_users, "organization_members": m.organization_members,
                        "member_roles": m.member_roles, "seconds": users_seconds},
        "requests": total, "minimum_requests": minimum, "requests_ratio": total as f64 / minimum as f64,
        "rate_limited_client": rate_limited, "rate_limited_server": server.rate_limited,
        "wall_seconds": wall, "requests_over_rate_seconds": ideal, "wall_ratio": wall / ideal,
    });
    if args.json {
        println!("{figures}");
    } else {
        println!(
            "restore   {objects} configuration objects: {reads} page reads + {writes} writes (plan: {}) in {restore_seconds:.1}s",
            the_plan.requests()
        );
        println!(
            "users     {} inserted by {} import jobs ({} status reads); {} requests",
            summary.inserted, summary.jobs, summary.status_checks, imports
        );
        println!(
            "members   {} role assignments, {} organization memberships, {} member roles: {assigns} requests",
            m.role_users, m.organization_members, m.member_roles
        );
        println!(
            "requests made    {total:>8}  (minimum {minimum}; overhead: {extra_status} extra status reads, {retries} retries)  -> {:.3}x",
            total as f64 / minimum as f64
        );
        println!(
            "429s received    {rate_limited:>8}  (server counted {})",
            server.rate_limited
        );
        println!(
            "wall time        {wall:>8.1}s (requests/limit {ideal:.1}s)  -> {:.3}x",
            wall / ideal
        );
    }
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
