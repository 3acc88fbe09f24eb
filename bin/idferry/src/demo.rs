//! `idferry demo`: emulated tenants started in this process, then read back through the
//! config file and the client as a user's own tenants would be.

use crate::output::out;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use futures_util::TryStreamExt;
use idferry_auth0::{Client, ClientOptions, ExportRequest};
use idferry_emulator::{Emulator, GenerateSpec, TenantOptions};
use idferry_model::{CATALOG, Config, Kind, Shape, catalog};
use serde_json::Value;

use crate::progress::Reporter;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo writes its files (the config of the emulated tenants).
    #[arg(long, default_value = "idferry-demo")]
    pub out: PathBuf,
    /// Users in the generated tenant.
    #[arg(long, default_value_t = 5000)]
    pub users: usize,
}

/// Kinds read per parent object only for these parents: the others have too many
/// parents (every user, every member) for a demo.
const WALKED_PARENTS: &[&str] = &[
    "roles",
    "organizations",
    "connections",
    "clients",
    "hooks",
    "action_triggers",
];

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut prod = TenantOptions::new("acme-prod");
    prod.generate = Some(GenerateSpec {
        users: args.users,
        organizations: 20,
    });
    prod.seed = 2026;
    let staging = TenantOptions::new("acme-staging");
    out!(
        "Starting emulated tenants: acme-prod ({} users, full configuration) and acme-staging (empty)...",
        args.users
    );
    let emulator = Emulator::start(vec![prod, staging]).await?;
    let config_path = args.out.join("idferry.toml");
    emulator.write_config(&config_path)?;
    for t in emulator.tenants() {
        out!("  {:<14} {}", t.name, t.base_url);
    }
    out!(
        "Wrote {} (client secrets in {}/secrets, mode 0600).\n",
        config_path.display(),
        args.out.display()
    );

    let config = Config::load(&config_path)?;
    let mut table: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    let mut clients = Vec::new();
    for (i, tenant) in config.tenants.values().enumerate() {
        let client = Client::new(tenant, ClientOptions::default())?;
        for (kind, n) in count_kinds(&client).await? {
            let row = table
                .entry(kind)
                .or_insert_with(|| vec![0; config.tenants.len()]);
            row[i] = n;
        }
        let job = client.create_export(&ExportRequest::default()).await?;
        client.wait_job(job.id(), &Reporter::new()).await?;
        let users = client
            .export_records(job.id())
            .await?
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await?;
        table
            .entry("users (export job)")
            .or_insert_with(|| vec![0; config.tenants.len()])[i] = users;
        clients.push(client);
    }

    let names: Vec<&String> = config.tenants.keys().collect();
    out!(
        "{:<36} {:>12} {:>14}",
        "kind",
        names[0],
        names.get(1).map_or("", |s| s.as_str())
    );
    for (kind, counts) in &table {
        out!(
            "{kind:<36} {:>12} {:>14}",
            counts[0],
            counts.get(1).copied().unwrap_or(0)
        );
    }
    let requests: u64 = clients.iter().map(|c| c.stats().requests).sum();
    let throttled: u64 = clients.iter().map(|c| c.stats().rate_limited).sum();
    out!(
        "\nRead {} kinds from 2 tenants in {requests} requests ({throttled} answered 429), {:.1} s in all.",
        table.len(),
        started.elapsed().as_secs_f64()
    );
    out!(
        "Next: `idferry emulate --config-out {}` keeps tenants running for your own commands.",
        config_path.display()
    );
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Counts every kind of a tenant: top-level kinds directly, sub-resources under each
/// parent of the kinds in [`WALKED_PARENTS`].
async fn count_kinds(client: &Client) -> anyhow::Result<Vec<(&'static str, u64)>> {
    let mut out = Vec::new();
    for kind in CATALOG
        .iter()
        .filter(|k| k.parent.is_none() && k.name != "users")
    {
        let records = client.list_all(kind, &[]).await?;
        out.push((kind.name, count(kind, &records)));
        if !WALKED_PARENTS.contains(&kind.name) {
            continue;
        }
        let id_field = kind.id_field.unwrap_or("id");
        for child in catalog::children(kind.name) {
            let mut n = 0;
            for parent in &records {
                let Some(id) = parent.get(id_field).and_then(Value::as_str) else {
                    continue;
                };
                match client.list_all(child, &[id]).await {
                    Ok(items) => n += count(child, &items),
                    // Singletons per parent (a connection's SCIM configuration) may be absent.
                    Err(e) if e.status() == Some(404) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            out.push((child.name, n));
        }
    }
    Ok(out)
}

fn count(kind: &Kind, records: &[Value]) -> u64 {
    match kind.shape {
        // A map (hook secrets) is one record holding its names.
        Shape::Map => records
            .iter()
            .filter_map(Value::as_object)
            .map(|m| m.len() as u64)
            .sum(),
        _ => records.len() as u64,
    }
}
