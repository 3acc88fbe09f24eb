//! `idferry restore`: a snapshot's (or a live tenant's) configuration written into a
//! tenant, after a plan that can be looked at first (`--plan`) and that needs consent
//! before it overwrites or deletes anything.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use idferry_pipeline::Source;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use idferry_auth0::{Client, ClientOptions};
use idferry_import::plan::{Action, Plan, PlanOptions, secret_notes};
use idferry_import::state::Selection;
use idferry_import::{ApplyReport, State, Values, apply, plan};
use idferry_model::Config;
use serde_json::json;

use crate::cli::ConfigArg;
use crate::output::out;
use crate::progress::Reporter;
use crate::snapshots::KeyArgs;
use idferry_model::Platform;
use idferry_store::Fetched;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry restore snapshots/20261123T020000.000Z_acme-prod.tar.zst --to acme-staging --plan
  idferry restore snapshots/...acme-prod.tar.zst --to acme-staging --map samples/mappings/staging.toml --values staging-values.toml --yes
  idferry restore acme-prod --to acme-staging --kinds clients,client_grants --only clients:web --plan

Objects are matched by natural key (a client's name, an API's identifier, a grant's client
and audience); ids are rewritten to the target's. Write-only values a snapshot cannot hold
(provider credentials, hook and action secrets, rules-config values) come from --values:
  [email_provider]
  credentials = { api_key = { env = \"SENDGRID_API_KEY\" } }
  [hook_secrets.\"my-hook\"]
  API_KEY = { file = \"/run/secrets/hook-api-key\" }
What is still missing is listed, and those objects are not written.

Into a ZITADEL instance (from a ZITADEL snapshot or instance): organizations, their
projects and project roles, and SMS providers so far, matched by name (within their
organization and project) or description; a Twilio token is set through its own
endpoint, from
  [sms_providers.\"Twilio production\"]
  twilio = { token = { env = \"TWILIO_TOKEN\" } }")]
pub struct RestoreArgs {
    /// A snapshot file, or a tenant of the config file to copy from.
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
}

/// A file that exists, or a snapshot URL (`s3://bucket/prefix/NAME`), is a snapshot
/// (downloaded: keep the returned copy while the source is read); otherwise a tenant of
/// the config.
pub async fn resolve_source(
    name: &str,
    config: &Config,
    key: &KeyArgs,
) -> anyhow::Result<(Source, Option<Fetched>)> {
    let path = Path::new(name);
    if path.is_file() || idferry_pipeline::stored::is_url(path) {
        let fetched = idferry_pipeline::stored::fetch_snapshot(path).await?;
        let source = Source::Snapshot(fetched.path().to_owned(), key.decryption()?);
        return Ok((source, Some(fetched)));
    }
    match config.tenant(name) {
        Ok(t) => Ok((
            Source::Tenant(Client::new(t, ClientOptions::default())?),
            None,
        )),
        Err(_) => bail!(
            "{name} is neither a snapshot file nor a tenant of the config (tenants: {})",
            config.names()
        ),
    }
}

fn parse_only(only: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    only.iter()
        .map(|o| {
            let (kind, name) = o
                .split_once(':')
                .with_context(|| format!("--only {o}: expected KIND:NAME, e.g. clients:web"))?;
            if idferry_model::catalog::find(kind).is_none() {
                bail!("--only {o}: no kind {kind} (see `idferry catalog`)");
            }
            Ok((kind.to_owned(), name.to_owned()))
        })
        .collect()
}

pub async fn run(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    idferry_pacing::install_tls_provider();
    let config = args.config.load()?;
    if config.tenant(&args.to)?.platform == Platform::Zitadel {
        return restore_zitadel(&args, &config).await;
    }
    let target = Client::new(config.tenant(&args.to)?, ClientOptions::default())?;
    let (source, _copy) = resolve_source(&args.source, &config, &args.key).await?;
    for k in &args.kinds {
        if idferry_model::catalog::find(k).is_none_or(|k| !k.config) {
            bail!("--kinds {k}: not a kind of configuration (see `idferry catalog`)");
        }
    }
    let options = PlanOptions {
        kinds: args.kinds.clone(),
        only: parse_only(&args.only)?,
        allow_delete: args.allow_delete,
    };
    let values = match &args.values {
        Some(file) => Values::load(file)?,
        None => Values::none(),
    };
    let progress = Reporter::new();
    let mut from = source.state(Selection::Config, &progress).await?;
    if let Some(file) = &args.map {
        let mapping = idferry_pipeline::kinds::load_mapping(file, &|v| std::env::var(v).ok())?;
        from.apply_mapping(&mapping)?;
    }
    let into = State::from_tenant(&target, Selection::Config, &progress)
        .await
        .with_context(|| format!("reading {}", args.to))?;
    let mut plan = plan(&from, &into, &values, &options);
    let notes = secret_notes(&plan, &from);
    plan.notes.extend(notes);
    plan.notes.extend(source.warnings()?);

    if args.plan || plan.is_empty() {
        if args.json {
            out!(
                "{}",
                json!({"source": source.name(), "target": args.to, "plan": plan})
            );
        } else {
            print_plan(&plan, &source.name(), &args.to);
            if plan.is_empty() {
                out!("Nothing to do: {} already matches.", args.to);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !args.json {
        print_plan(&plan, &source.name(), &args.to);
    }
    if plan.overwrites() && !args.yes && !confirm(&plan, &args.to)? {
        bail!(
            "not applied: the plan changes or deletes objects of {}; confirm, or pass --yes (--plan only shows it)",
            args.to
        );
    }
    let before = target.stats();
    let report = apply(&target, &plan, &progress).await;
    let after = target.stats();
    let requests = after.requests - before.requests;
    let rate_limited = after.rate_limited - before.rate_limited;
    if args.json {
        out!(
            "{}",
            json!({"source": source.name(), "target": args.to, "plan": plan, "result": report,
                   "requests": requests, "rate_limited": rate_limited})
        );
    } else {
        print_report(&report, &args.to, requests, rate_limited);
    }
    Ok(if report.failed() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Asks on a terminal; refuses elsewhere.
fn confirm(plan: &Plan, target: &str) -> anyhow::Result<bool> {
    let (updates, deletes) = plan.steps.iter().fold((0, 0), |(u, d), s| match s.action {
        Action::Update => (u + s.count, d),
        Action::Delete => (u, d + s.count),
        _ => (u, d),
    });
    ask(&format!(
        "Apply to {target}: {updates} updates, {deletes} deletes?"
    ))
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

/// Steps listed one by one before the list is cut short.
const SHOWN_STEPS: usize = 60;

fn print_plan(plan: &Plan, source: &str, target: &str) {
    out!("Plan: {source} -> {target}");
    out!(
        "  {:<34} {:>7} {:>7} {:>9} {:>7} {:>7} {:>6}",
        "kind",
        "create",
        "update",
        "unchanged",
        "delete",
        "blocked",
        "extra"
    );
    for (kind, t) in &plan.tally {
        out!(
            "  {kind:<34} {:>7} {:>7} {:>9} {:>7} {:>7} {:>6}",
            t.create,
            t.update,
            t.unchanged,
            t.delete,
            t.blocked,
            t.extra
        );
    }
    if !plan.steps.is_empty() {
        out!("Changes ({} requests):", plan.requests());
    }
    for step in plan.steps.iter().take(SHOWN_STEPS) {
        let mark = match step.action {
            Action::Create => "+",
            Action::Update => "~",
            Action::Delete => "-",
            Action::Blocked => "!",
        };
        let detail = match (&step.reason, step.fields.is_empty()) {
            (Some(r), _) => format!(": {r}"),
            (None, false) if step.fields.len() <= 6 => format!(" ({})", step.fields.join(", ")),
            (None, false) => format!(" ({} items)", step.fields.len()),
            (None, true) => String::new(),
        };
        let name = if step.name.starts_with(step.kind) {
            step.name.clone()
        } else {
            format!("{} {}", step.kind, step.name)
        };
        out!("  {mark} {name}{detail}");
    }
    if plan.steps.len() > SHOWN_STEPS {
        out!(
            "  ... and {} more (--json lists all)",
            plan.steps.len() - SHOWN_STEPS
        );
    }
    if plan.tally.values().any(|t| t.extra > 0) {
        out!("Objects only in {target} are kept; --allow-delete removes them.");
    }
    if !plan.needed_values.is_empty() {
        out!(
            "Values needed (in a --values file; {{ env = \"VAR\" }} or {{ file = \"PATH\" }} keep secrets out of it):"
        );
        for v in &plan.needed_values {
            out!("  {}", v.hint());
        }
    }
    for note in &plan.notes {
        out!("Note: {note}");
    }
}

fn print_report(report: &ApplyReport, target: &str, requests: u64, rate_limited: u64) {
    out!("Restored into {target} ({requests} requests, {rate_limited} answered 429):");
    out!(
        "  {:<34} {:>7} {:>7} {:>9} {:>7} {:>6}",
        "kind",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "failed"
    );
    for (kind, k) in &report.kinds {
        out!(
            "  {kind:<34} {:>7} {:>7} {:>9} {:>7} {:>6}",
            k.created,
            k.updated,
            k.unchanged,
            k.deleted,
            k.failed
        );
    }
    for f in &report.failures {
        out!("  failed: {} {}: {}", f.kind, f.name, f.error);
    }
}

/// A restore into a ZITADEL instance, from a ZITADEL snapshot or instance: its catalog's
/// kinds, matched by natural key; a Twilio token comes from the values file.
async fn restore_zitadel(args: &RestoreArgs, config: &Config) -> anyhow::Result<ExitCode> {
    use idferry_zitadel::restore::{self as zrestore, Action as ZAction};
    let known = || {
        idferry_zitadel::catalog::CATALOG
            .iter()
            .map(|k| k.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for k in &args.kinds {
        if idferry_zitadel::catalog::find(k).is_none() {
            bail!("--kinds {k}: not a ZITADEL kind (they are: {})", known());
        }
    }
    let mut only = Vec::new();
    for o in &args.only {
        let (kind, name) = o.split_once(':').with_context(|| {
            format!("--only {o}: expected KIND:NAME, e.g. project_roles:acme/portal/admin")
        })?;
        if idferry_zitadel::catalog::find(kind).is_none() {
            bail!("--only {o}: not a ZITADEL kind (they are: {})", known());
        }
        only.push((kind.to_owned(), name.to_owned()));
    }
    let options = zrestore::PlanOptions {
        kinds: args.kinds.clone(),
        only,
        allow_delete: args.allow_delete,
    };
    let target = idferry_zitadel::Client::new(config.tenant(&args.to)?, Default::default())?;
    let path = Path::new(&args.source);
    let (source, _copy) = if path.is_file() || idferry_pipeline::stored::is_url(path) {
        let fetched = idferry_pipeline::stored::fetch_snapshot(path).await?;
        let records =
            idferry_pipeline::source::zitadel_snapshot(fetched.path(), args.key.decryption()?)?;
        (records, Some(fetched))
    } else {
        let tenant = config.tenant(&args.source)?;
        (
            idferry_pipeline::source::zitadel_instance(tenant).await?,
            None,
        )
    };
    let values = match &args.values {
        Some(file) => Values::load(file)?,
        None => Values::none(),
    };
    let secrets = |kind: &str, name: &str, field: &str| values.text(kind, name, field);
    let mut source = source;
    if let Some(file) = &args.map {
        let mapping = idferry_pipeline::kinds::load_mapping(file, &|v| std::env::var(v).ok())?;
        idferry_pipeline::into_zitadel::map_records(&mut source, &mapping)?;
    }
    let current = zrestore::read_instance(&target).await?;
    let plan = zrestore::plan(&source, &current, &secrets, &options);
    let describe = |action: &ZAction| match action {
        ZAction::Create => "create".to_owned(),
        ZAction::Update { fields } => format!("update {}", fields.join(", ")),
        ZAction::SetSecret { field } => format!("set {field} (write-only, from the values)"),
        ZAction::Activate => "activate".to_owned(),
        ZAction::Delete => "DELETE (only in the target; --allow-delete)".to_owned(),
    };
    if !args.json {
        out!("Plan: {} -> {}", args.source, args.to);
        for step in &plan.steps {
            out!(
                "  {:<30} {:<32} {}",
                step.kind,
                step.name,
                describe(&step.action)
            );
        }
        for (kind, n) in plan.unchanged.iter().filter(|(_, n)| *n > 0) {
            out!("  {kind:<30} {n} unchanged");
        }
        for m in &plan.missing {
            out!(
                "  NOT WRITTEN: {} {:?} lacks its write-only {}; add to the values file: {}",
                m.kind,
                m.name,
                m.field,
                m.add
            );
        }
    }
    let missing = if plan.missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if args.plan || plan.steps.is_empty() {
        if args.json {
            out!(
                "{}",
                json!({"source": args.source, "target": args.to, "plan": plan})
            );
        } else if plan.is_empty() {
            out!("Nothing to do: {} already matches.", args.to);
        }
        return Ok(missing);
    }
    if plan.overwrites()
        && !args.yes
        && !ask(&format!(
            "Apply to {}: {} steps?",
            args.to,
            plan.steps.len()
        ))?
    {
        bail!(
            "not applied: the plan changes objects of {}; confirm, or pass --yes (--plan only shows it)",
            args.to
        );
    }
    let report = zrestore::apply(&target, &plan, &secrets).await;
    if args.json {
        out!(
            "{}",
            json!({"source": args.source, "target": args.to, "plan": plan, "result": report})
        );
    } else {
        out!("{} steps done, {} failed", report.done, report.failed.len());
        for (kind, name, error) in &report.failed {
            out!("  FAILED {kind} {name:?}: {error}");
        }
        let humans = plan
            .steps
            .iter()
            .filter(|s| s.kind == "users" && matches!(s.action, ZAction::Create))
            .filter(|s| s.record.pointer("/record/human").is_some())
            .count();
        if humans > 0 {
            out!(
                "{humans} human users were created without a password (ZITADEL exports no password hashes): they set one through a password reset."
            );
        }
    }
    Ok(if report.failed.is_empty() {
        missing
    } else {
        ExitCode::FAILURE
    })
}
