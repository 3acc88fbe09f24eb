//! `idferry restore`: a snapshot's (or a live tenant's) configuration written into a
//! tenant, after a plan that can be looked at first (`--plan`) and that needs consent
//! before it overwrites or deletes anything.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use idferry_pipeline::platforms::{From, PlanRequest};
use serde_json::json;

use crate::cli::ConfigArg;
use crate::output::out;
use crate::progress::Reporter;
use crate::snapshots::KeyArgs;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry restore snapshots/20261123T020000.000Z_acme-prod.tar.zst --to acme-staging --plan
  idferry restore snapshots/...acme-prod.tar.zst --to acme-staging --map samples/mappings/staging.toml --values staging-values.toml --yes
  idferry restore acme-prod --to acme-staging --kinds clients,client_grants --only clients:web --plan
  idferry restore ./acme-config/tenant.yaml --to acme-staging --keywords config.json --plan

auth0-deploy-cli's files (a tenant.yaml, *.yaml or *.yml, or its directory tree) are a
source too: keywords (##KEY##, @@KEY@@) replaced as a0deploy replaces them, from
--keywords (a JSON object, or a0deploy's config file with AUTH0_KEYWORD_REPLACE_MAPPINGS)
or that environment variable; objects are matched by name as for a snapshot. A secret
whose keyword has no value is asked for (--values); a keyword without a value outside a
secret, or a file a0deploy would refuse, is an error naming file, line and key.

Objects are matched by natural key (a client's name, an API's identifier, a grant's client
and audience); ids are rewritten to the target's: every id of the source anywhere in a
record, whether the catalog lists the field or not (an express configuration's profiles, a
flow's vault connection). An object naming something this restore does not write and the
target lacks is not written; the plan names the field and what it pointed at. Actions
deployed in the source are deployed, module versions published; one with changes not
deployed in the source runs the source's deployed code under the same draft. The default
custom domain is set once the target has verified that domain (the plan says how); a
tenant's canonical domain is its own and not carried. Secrets come from an
encrypted snapshot; those an unencrypted snapshot left out (it names them) and write-only
ones (provider credentials, hook and action secrets, rules-config values) come from
--values:
  [email_provider]
  credentials = { api_key = { env = \"SENDGRID_API_KEY\" } }
  [captcha]
  \"recaptcha_v2.secret\" = { env = \"RECAPTCHA_SECRET\" }
  [hook_secrets.\"my-hook\"]
  API_KEY = { file = \"/run/secrets/hook-api-key\" }
What is still missing is listed, and those objects are not written (the restore fails).
Kinds the source tenant did not offer are left as the target has them.

Into a ZITADEL instance (from a ZITADEL snapshot or instance): organizations, their
projects and project roles, and SMS providers so far, matched by name (within their
organization and project) or description; a Twilio token is set through its own
endpoint, from
  [sms_providers.\"Twilio production\"]
  twilio = { token = { env = \"TWILIO_TOKEN\" } }")]
pub struct RestoreArgs {
    /// A snapshot file, a tenant of the config file to copy from, or auth0-deploy-cli's
    /// files (a tenant.yaml).
    pub source: String,
    /// The tenant to write into, as named in the config file.
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub config: ConfigArg,
    /// Only these kinds (with their sub-resources), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// Only this object and what hangs from it, as KIND:NAME (repeatable).
    #[arg(long, value_name = "KIND:NAME")]
    pub only: Vec<String>,
    /// Rewrite the records through this mapping spec first (e.g. staging URLs).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Values for write-only secrets (TOML; see below).
    #[arg(long, value_name = "FILE")]
    pub values: Option<PathBuf>,
    /// Print the plan and write nothing.
    #[arg(long)]
    pub plan: bool,
    /// Delete objects of the target that the source does not have.
    #[arg(long)]
    pub allow_delete: bool,
    /// Apply a plan that updates or deletes without asking.
    #[arg(long)]
    pub yes: bool,
    /// The plan and the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub key: KeyArgs,
    /// The values of the keywords of auth0-deploy-cli's files (##KEY## and @@KEY@@): a
    /// JSON object of them, or a0deploy's config file holding
    /// AUTH0_KEYWORD_REPLACE_MAPPINGS. Without it, that environment variable (JSON).
    #[arg(long, value_name = "FILE")]
    pub keywords: Option<PathBuf>,
}

pub async fn run(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    idferry_pacing::install_tls_provider();
    let config = args.config.load()?;
    let target = config.tenant(&args.to)?;
    let platform = idferry_pipeline::platforms::of(target)?;
    // auth0-deploy-cli's files, a snapshot (a file, or a URL downloaded for the time of
    // the restore), else a tenant of the config.
    let path = Path::new(&args.source);
    let keywords = idferry_pipeline::spec::load_keywords(args.keywords.as_deref())?;
    let files = is_tenant_file(path);
    let (from, _copy) = if files {
        (None, None)
    } else if is_snapshot(&args.source, &config)? {
        let fetched = idferry_pipeline::stored::fetch_snapshot(path).await?;
        let key = args.key.decryption()?;
        (Some((fetched.path().to_owned(), key)), Some(fetched))
    } else {
        (None, None)
    };
    let from = match &from {
        _ if files => From::Files(path, &keywords),
        Some((path, key)) => From::Snapshot(path, key.clone()),
        None => From::Tenant(config.tenant(&args.source)?),
    };
    let mapping = match &args.map {
        Some(file) => Some(idferry_pipeline::kinds::load_mapping(file, &|v| {
            std::env::var(v).ok()
        })?),
        None => None,
    };
    let progress = Reporter::new();
    let plan = platform
        .plan_restore(PlanRequest {
            from,
            mapping: mapping.as_ref(),
            target,
            kinds: &args.kinds,
            only: &args.only,
            values: args.values.as_deref(),
            allow_delete: args.allow_delete,
            progress: &progress,
        })
        .await?;
    if !args.json {
        for line in plan.lines() {
            out!("{line}");
        }
    }
    // Objects left unwritten for want of a value fail the command, after the rest.
    let ok = if plan.incomplete() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    };
    if args.plan || plan.nothing_to_apply() {
        if args.json {
            out!(
                "{}",
                json!({"source": plan.source_name(), "target": args.to, "plan": plan.to_json()})
            );
        }
        return Ok(ok);
    }
    if plan.overwrites() && !args.yes && !ask(&plan.question())? {
        bail!(
            "not applied: the plan changes or deletes objects of {}; confirm, or pass --yes (--plan only shows it)",
            args.to
        );
    }
    let applied = plan.apply(&progress).await?;
    if args.json {
        let mut out = serde_json::Map::new();
        out.insert("source".into(), json!(plan.source_name()));
        out.insert("target".into(), json!(args.to));
        out.insert("plan".into(), plan.to_json());
        out.extend(applied.to_json());
        out!("{}", serde_json::Value::Object(out));
    } else {
        for line in applied.lines() {
            out!("{line}");
        }
    }
    Ok(if applied.failed() {
        ExitCode::FAILURE
    } else {
        ok
    })
}

/// Whether `name` is a snapshot (a file that exists, or a snapshot URL) rather than a
/// tenant of the config; an error when it is neither.
pub fn is_snapshot(name: &str, config: &idferry_model::Config) -> anyhow::Result<bool> {
    let path = Path::new(name);
    if path.is_file() || idferry_pipeline::stored::is_url(path) {
        return Ok(true);
    }
    if config.tenant(name).is_err() {
        bail!(
            "{name} is neither a snapshot file nor a tenant of the config (tenants: {})",
            config.names()
        );
    }
    Ok(false)
}

/// Whether `path` is auth0-deploy-cli's tenant file (`*.yaml`, `*.yml`) or directory
/// tree (a folder).
pub(crate) fn is_tenant_file(path: &Path) -> bool {
    path.is_dir() || path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// Asks `question` on a terminal; refuses elsewhere.
fn ask(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
