//! `idferry demo`: the jobs idferry is for, end to end, on emulated tenants started in
//! this process and reached over HTTP through a config file, as real tenants are: the
//! nightly backup of four tenants, a staging refresh (production's configuration
//! restored into staging with staging URLs, a scrubbed subset of its users imported), a
//! users migration into a new tenant, and the same users into a ZITADEL instance, each
//! through its sample pipeline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use idferry_emulator::{Emulator, GenerateSpec, TenantOptions};
use idferry_model::Progress;
use idferry_pipeline::LoadedSpec;

use crate::output::out;
use crate::progress::Reporter;
use idferry_model::units::human_bytes;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo writes its files: config, pipelines, snapshots, runs.
    #[arg(long, default_value = "idferry-demo")]
    pub out: PathBuf,
    /// Users in the generated production tenant.
    #[arg(long, default_value_t = 5000)]
    pub users: usize,
}

/// The sample pipelines and what they name, written into the demo folder with the same
/// layout as the repository's `samples/` (their paths are relative to themselves).
const SAMPLES: &[(&str, &str)] = &[
    (
        "samples/pipelines/nightly-backup.toml",
        include_str!("../../../samples/pipelines/nightly-backup.toml"),
    ),
    (
        "samples/pipelines/staging-refresh.toml",
        include_str!("../../../samples/pipelines/staging-refresh.toml"),
    ),
    (
        "samples/pipelines/migrate-users.toml",
        include_str!("../../../samples/pipelines/migrate-users.toml"),
    ),
    (
        "samples/pipelines/auth0-to-zitadel.toml",
        include_str!("../../../samples/pipelines/auth0-to-zitadel.toml"),
    ),
    (
        "samples/pipelines/values.toml",
        include_str!("../../../samples/pipelines/values.toml"),
    ),
    (
        "samples/mappings/staging.toml",
        include_str!("../../../samples/mappings/staging.toml"),
    ),
    (
        "samples/mappings/staging-subset.toml",
        include_str!("../../../samples/mappings/staging-subset.toml"),
    ),
];

/// The pipelines the demo runs, in order, with what each shows.
const STEPS: &[(&str, &str)] = &[
    (
        "nightly-backup",
        "the nightly backup: a snapshot of each of the four tenants, with retention",
    ),
    (
        "staging-refresh",
        "the staging refresh: prod's configuration into acme-staging with staging URLs, and a scrubbed subset of its users",
    ),
    (
        "migrate-users",
        "a users migration: prod's users, with hashes, metadata, roles and organizations, into acme-eu",
    ),
    (
        "auth0-to-zitadel",
        "Auth0 to ZITADEL: prod's users into the zitadel-prod instance, roles as project roles and grants, organizations with members",
    ),
];

/// The scrubbing key of the demo's staging users (a real run takes IDFERRY_SCRUB_KEY).
const DEMO_SCRUB_KEY: &str = "idferry-demo-scrub-key";

fn write_samples(out: &Path) -> anyhow::Result<()> {
    for (path, text) in SAMPLES {
        let to = out.join(path);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&to, text).with_context(|| format!("cannot write {}", to.display()))?;
    }
    Ok(())
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    idferry_pacing::install_tls_provider();
    let started = Instant::now();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut prod = TenantOptions::new("acme-prod");
    prod.generate = Some(GenerateSpec {
        users: args.users,
        organizations: 20,
    });
    prod.seed = 2026;
    let mut dev = TenantOptions::new("acme-dev");
    dev.generate = Some(GenerateSpec {
        users: 200,
        organizations: 2,
    });
    dev.seed = 7;
    out!(
        "Starting emulated tenants: acme-prod ({} users, full configuration), acme-dev (200 users), acme-staging and acme-eu (empty), and an empty ZITADEL instance, zitadel-prod...",
        args.users
    );
    let mut zitadel = TenantOptions::new("zitadel-prod");
    zitadel.platform = idferry_emulator::Platform::Zitadel;
    let emulator = Emulator::start(vec![
        prod,
        TenantOptions::new("acme-staging"),
        TenantOptions::new("acme-eu"),
        dev,
        zitadel,
    ])
    .await?;
    let config_path = args.out.join("idferry.toml");
    emulator.write_config(&config_path)?;
    write_samples(&args.out)?;
    for t in emulator.tenants() {
        out!("  {:<14} {}", t.name, t.base_url);
    }
    out!(
        "Wrote {} (client secrets in {}/secrets, mode 0600) and the sample pipelines in {}/samples.\n",
        config_path.display(),
        args.out.display(),
        args.out.display()
    );

    let config = idferry_pipeline::platforms::load_config(&config_path)?;
    let progress: Arc<dyn Progress> = Arc::new(Reporter::new());
    let vars = vec![(
        "IDFERRY_SCRUB_KEY".to_owned(),
        std::env::var("IDFERRY_SCRUB_KEY").unwrap_or_else(|_| DEMO_SCRUB_KEY.to_owned()),
    )];
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let mut failed = 0;
    let mut run_dirs = Vec::new();
    for (n, (name, what)) in STEPS.iter().enumerate() {
        out!("{}/{}: {what}", n + 1, STEPS.len());
        let spec = LoadedSpec::load(&args.out.join(format!("samples/pipelines/{name}.toml")))?;
        let run_dir = args.out.join("runs").join(format!("{stamp}-{name}"));
        let step_started = Instant::now();
        let report =
            idferry_pipeline::start(&spec, &config, &run_dir, None, &vars, progress.clone())
                .await?;
        crate::run::print_report(&report);
        out!("  ({:.1} s)\n", step_started.elapsed().as_secs_f64());
        failed += report.failed();
        run_dirs.push(run_dir);
    }

    let tenants = emulator.tenants();
    let users = |name: &str| {
        tenants
            .iter()
            .find(|t| t.name == name)
            .map_or(0, |t| match t.platform {
                idferry_emulator::Platform::Auth0 => t.with(|s| s.users.len()),
                idferry_emulator::Platform::Zitadel => t.with_zitadel(|z| z.users.len()),
            })
    };
    out!("What the tenants hold now:");
    for t in tenants {
        out!("  {:<14} {:>7} users", t.name, users(&t.name));
    }
    let snapshots = args.out.join("snapshots");
    out!("Files:");
    out!("  {}  the tenants' config", config_path.display());
    if let Ok(files) = idferry_archive::prune::snapshot_files(&snapshots) {
        for (path, _) in files {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            out!("  {}  ({})", path.display(), human_bytes(size));
        }
    }
    for dir in &run_dirs {
        out!("  {}/  run journal and reports", dir.display());
    }
    out!(
        "\nDone in {:.1} s. Next: `idferry runs --runs-dir {}`, `idferry snapshots list {}`, or `idferry emulate` to keep tenants running for your own commands.",
        started.elapsed().as_secs_f64(),
        args.out.join("runs").display(),
        snapshots.display()
    );
    emulator.shutdown().await;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
