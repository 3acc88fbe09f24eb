//! `idferry bench`: benchmarks that print their figures, so that anyone can rerun them.

use crate::output::out;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use idferry_auth0::{Client, ClientOptions};
use idferry_emulator::{Emulator, TenantOptions};
use idferry_model::{Credentials, Secret, catalog};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// List N objects from an emulated tenant limited to R requests/s, and compare the
    /// requests made with the minimum needed and the time taken with requests/R.
    List(ListBench),
}

#[derive(Debug, Args)]
pub struct ListBench {
    /// Objects in the tenant.
    #[arg(long, default_value_t = 5000)]
    pub objects: usize,
    /// The tenant's rate limit, requests per second.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// The tenant's bucket size.
    #[arg(long, default_value_t = 10)]
    pub burst: u32,
    /// A rate for the client's own limiter (default: none, it learns from the headers).
    #[arg(long)]
    pub client_rate: Option<f64>,
    /// The kind listed: organizations (checkpoint paging) or roles (offset paging).
    #[arg(long, default_value = "organizations")]
    pub kind: String,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::List(args) => list(args).await,
    }
}

async fn list(args: ListBench) -> anyhow::Result<ExitCode> {
    let kind = catalog::find(&args.kind).with_context(|| format!("no kind {}", args.kind))?;
    if !matches!(kind.name, "organizations" | "roles") {
        bail!("the list benchmark fills organizations or roles");
    }
    let mut options = TenantOptions::new("bench");
    options.rate_limit = args.rate;
    options.burst = args.burst;
    let emulator = Emulator::start(vec![options]).await?;
    let tenant = emulator.tenants()[0].clone();
    let prefix = if kind.name == "roles" { "rol_" } else { "org_" };
    tenant.with(|store| {
        let table = store.table(kind.name, "");
        for i in 0..args.objects {
            let id = format!("{prefix}{i:016}");
            table.insert(id.clone(), json!({"id": id, "name": format!("bench-{i:06}"), "display_name": format!("Bench {i}")}));
        }
    });
    let credentials = Credentials::ClientCredentials {
        client_id: tenant.client_id.clone(),
        client_secret: Secret::new(tenant.client_secret.clone()),
        audience: None,
    };
    let client = Client::from_parts(
        "bench",
        &tenant.base_url,
        credentials,
        args.client_rate,
        None,
        ClientOptions::default(),
    )?;

    let started = Instant::now();
    let listed = client
        .list(kind, &[])
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await?;
    let wall = started.elapsed().as_secs_f64();
    let stats = client.stats();
    let server = tenant.stats();
    let pages = args
        .objects
        .div_ceil(idferry_auth0::paginate::PAGE_SIZE)
        .max(1) as u64;
    let minimum = pages + 1;
    let ideal = stats.requests as f64 / args.rate;
    if listed != args.objects {
        bail!("listed {listed} objects, expected {}", args.objects);
    }
    if args.json {
        out!(
            "{}",
            json!({
                "objects": listed, "kind": kind.name, "rate": args.rate, "burst": args.burst,
                "requests": stats.requests, "minimum_requests": minimum,
                "requests_ratio": stats.requests as f64 / minimum as f64,
                "rate_limited_client": stats.rate_limited, "rate_limited_server": server.rate_limited,
                "wall_seconds": wall, "requests_over_rate_seconds": ideal, "wall_ratio": wall / ideal,
            })
        );
    } else {
        out!(
            "listed {listed} {} from a tenant limited to {} req/s (burst {})",
            kind.name,
            args.rate,
            args.burst
        );
        out!(
            "requests made    {:>8}  (minimum {minimum}: {pages} pages + 1 token)  -> {:.3}x",
            stats.requests,
            stats.requests as f64 / minimum as f64
        );
        out!(
            "429s received    {:>8}  (server counted {})",
            stats.rate_limited,
            server.rate_limited
        );
        out!(
            "wall time        {wall:>8.2}s (requests/limit {ideal:.2}s)  -> {:.3}x",
            wall / ideal
        );
    }
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
