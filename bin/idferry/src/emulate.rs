//! `idferry emulate`: emulated tenants on 127.0.0.1 until Ctrl-C.

use crate::output::out;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use idferry_emulator::{Emulator, Faults, GenerateSpec, Platform, TenantOptions};

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry emulate --generate-users 100000 --config-out idferry.toml
  idferry emulate --tenant acme-prod --empty-tenant acme-staging --rate-limit 10 --burst 10
  idferry emulate --fault-429 0.1 --fault-503 0.05 --fault-drop 0.05 --latency-ms 20

Faults, the rate limit and the features a tenant lacks can also be changed while running:
  curl -X PUT $BASE/__emulator/faults -d '{\"rate_429\": 0.2}' -H 'content-type: application/json'
  curl -X PUT $BASE/__emulator/unavailable -d '[\"/rules\", \"/hooks\"]' -H 'content-type: application/json'")]
pub struct EmulateArgs {
    /// A tenant filled with generated data (repeatable). Without any --tenant or
    /// --empty-tenant: acme-prod (generated) and acme-staging (empty).
    #[arg(long = "tenant", value_name = "NAME")]
    pub tenants: Vec<String>,
    /// An empty tenant (repeatable).
    #[arg(long = "empty-tenant", value_name = "NAME")]
    pub empty: Vec<String>,
    /// An empty ZITADEL instance (repeatable): organizations, projects and roles, SMS
    /// providers, users with metadata, grants and organization members, through the
    /// admin, management and v2 APIs, with a personal access token.
    #[arg(long = "zitadel", value_name = "NAME")]
    pub zitadel: Vec<String>,
    /// A ZITADEL instance filled with --generate-users users (two metadata entries
    /// each) in --organizations organizations (repeatable).
    #[arg(long = "generated-zitadel", value_name = "NAME")]
    pub generated_zitadel: Vec<String>,
    /// Users to generate in each generated tenant.
    #[arg(long, default_value_t = 1000)]
    pub generate_users: usize,
    /// Organizations to generate in each generated tenant.
    #[arg(long, default_value_t = 20)]
    pub organizations: usize,
    /// Seed of the generated data (the same seed gives the same tenant).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Requests per second each tenant allows (0: no limit).
    #[arg(long, default_value_t = 0.0)]
    pub rate_limit: f64,
    /// Size of each tenant's rate-limit bucket.
    #[arg(long, default_value_t = 50)]
    pub burst: u32,
    /// Milliseconds added to every API answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share (0..1) of requests answered 429.
    #[arg(long, default_value_t = 0.0)]
    pub fault_429: f64,
    /// Share answered 500.
    #[arg(long, default_value_t = 0.0)]
    pub fault_500: f64,
    /// Share answered 503.
    #[arg(long, default_value_t = 0.0)]
    pub fault_503: f64,
    /// Share whose connection is dropped mid-answer.
    #[arg(long, default_value_t = 0.0)]
    pub fault_drop: f64,
    /// Users per second an import job processes (0: as fast as possible; Auth0 does
    /// about 55 per job).
    #[arg(long, default_value_t = 0.0)]
    pub import_rate: f64,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub token_ttl: u64,
    /// Features the tenants lack (repeatable, or comma-separated), by their Management
    /// API path (`rules,hooks`, `/log-streams`): requests there answer 403 as Auth0
    /// does for a feature off the plan or past its end of life (rules and hooks,
    /// 2026-11-18), to rehearse what a backup and restore make of it. Changed while
    /// running with `PUT /__emulator/unavailable` (a JSON list of paths).
    #[arg(
        long,
        value_name = "PATH",
        alias = "disable-feature",
        value_delimiter = ','
    )]
    pub unavailable: Vec<String>,
    /// Load tenants from this folder if saved there; save them there on Ctrl-C.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Port of the first tenant (the next ones take the following ports); 0: any free.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Write an idferry.toml for the tenants here once they answer (secrets in
    /// files beside it, mode 0600).
    #[arg(long)]
    pub config_out: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate made up at start, so your own tools
    /// connect unchanged: the certificate goes to emulator-ca.pem beside --config-out (or
    /// in the current folder); trust it with NODE_EXTRA_CA_CERTS (auth0-deploy-cli, the
    /// SDKs) or SSL_CERT_FILE (idferry, curl), then AUTH0_DOMAIN=127.0.0.1:PORT.
    #[arg(long)]
    pub tls: bool,
}

impl EmulateArgs {
    /// The options of every tenant asked for.
    pub fn tenant_options(&self) -> Vec<TenantOptions> {
        let (generated, empty) = if self.tenants.is_empty()
            && self.empty.is_empty()
            && self.zitadel.is_empty()
            && self.generated_zitadel.is_empty()
        {
            (
                vec!["acme-prod".to_owned()],
                vec!["acme-staging".to_owned()],
            )
        } else {
            (self.tenants.clone(), self.empty.clone())
        };
        let faults = Faults {
            latency_ms: self.latency_ms,
            rate_429: self.fault_429,
            rate_500: self.fault_500,
            rate_503: self.fault_503,
            rate_drop: self.fault_drop,
        };
        let spec = GenerateSpec {
            users: self.generate_users,
            organizations: self.organizations,
        };
        let tagged = generated
            .into_iter()
            .map(|n| (n, true, Platform::Auth0))
            .chain(empty.into_iter().map(|n| (n, false, Platform::Auth0)))
            .chain(
                self.zitadel
                    .iter()
                    .map(|n| (n.clone(), false, Platform::Zitadel)),
            )
            .chain(
                self.generated_zitadel
                    .iter()
                    .map(|n| (n.clone(), true, Platform::Zitadel)),
            );
        tagged
            .enumerate()
            .map(|(i, (name, generate, platform))| {
                let mut o = TenantOptions::new(&name);
                o.platform = platform;
                o.seed = self.seed.wrapping_add(i as u64);
                o.generate = generate.then_some(spec);
                o.rate_limit = self.rate_limit;
                o.burst = self.burst;
                o.faults = faults;
                o.import_rate = self.import_rate;
                o.token_ttl_secs = self.token_ttl;
                o.unavailable = self.unavailable.clone();
                o.tls = self.tls;
                o.data_dir = self.data_dir.clone();
                o.port = if self.port == 0 {
                    0
                } else {
                    self.port.saturating_add(i as u16)
                };
                o
            })
            .collect()
    }
}

pub async fn run(args: EmulateArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let emulator = Emulator::start(args.tenant_options())
        .await
        .context("cannot start the emulator")?;
    if let Some(path) = &args.config_out {
        emulator.write_config(path)?;
    }
    // The certificate to trust, beside the config (written with it) or here.
    let certificate = match (emulator.certificate_pem(), &args.config_out) {
        (None, _) => None,
        (Some(_), Some(config)) => Some(
            config
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
                .join(idferry_emulator::server::CERTIFICATE_FILE),
        ),
        (Some(pem), None) => {
            let path = std::path::PathBuf::from(idferry_emulator::server::CERTIFICATE_FILE);
            std::fs::write(&path, pem)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Some(path)
        }
    };
    let ready = started.elapsed();
    for t in emulator.tenants() {
        let users = t.lock().users.len();
        out!("{:<16} {}  ({} users)", t.name, t.base_url, users);
    }
    if let Some(path) = &args.config_out {
        out!("config: {}", path.display());
    }
    if let Some(path) = &certificate {
        out!(
            "HTTPS: trust {} (NODE_EXTRA_CA_CERTS for auth0-deploy-cli and the SDKs, SSL_CERT_FILE for idferry and curl)",
            path.display()
        );
    }
    out!("ready in {:.2} s; Ctrl-C stops", ready.as_secs_f64());
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    for t in emulator.tenants() {
        if let Some(dir) = t
            .save()
            .with_context(|| format!("cannot save tenant {}", t.name))?
        {
            out!("saved {} to {}", t.name, dir.display());
        }
    }
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
