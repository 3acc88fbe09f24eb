//! `idferry list` (a kind of a tenant as ndjson) and `idferry catalog`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use futures_util::TryStreamExt;
use idferry_auth0::{Client, ClientOptions, ExportRequest};
use idferry_model::{CATALOG, Kind, Shape, catalog};
use serde_json::json;

use crate::cli::ConfigArg;
use crate::progress::Reporter;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  idferry list acme-prod clients | jq .name
  idferry list acme-prod role_permissions --parent rol_0123456789abcdef
  idferry list acme-prod users > users.ndjson      # all users, through an export job
  idferry list zitadel-prod project_roles          # a ZITADEL instance: see `idferry catalog --platform zitadel`")]
pub struct ListArgs {
    /// The tenant, as named in the config file.
    pub tenant: String,
    /// The kind (see `idferry catalog`, `--platform zitadel` for ZITADEL instances).
    pub kind: String,
    /// Ids of the parent objects of a sub-resource, outermost first.
    #[arg(long = "parent", value_name = "ID")]
    pub parents: Vec<String>,
    /// Print secret fields (client secrets, connection and provider credentials, signing
    /// keys) as the API returns them; without it they are shown as `[redacted]`.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// What a secret field shows without `--show-secrets`.
const REDACTED: &str = "[redacted]";

/// The kind called `name`, or an error listing the kinds there are.
pub fn kind(name: &str) -> anyhow::Result<&'static Kind> {
    catalog::find(name).with_context(|| {
        let names: Vec<&str> = CATALOG.iter().map(|k| k.name).collect();
        format!("no kind {name:?}; the kinds are: {}", names.join(", "))
    })
}

pub async fn run(args: ListArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    let tenant = config.tenant(&args.tenant)?;
    if tenant.platform == idferry_model::Platform::Zitadel {
        return zitadel(tenant, &args).await;
    }
    let kind = kind(&args.kind)?;
    if args.parents.len() != kind.depth() {
        bail!(
            "{} is a sub-resource of {}: give {} --parent id(s), outermost first",
            kind.name,
            kind.parent.unwrap_or("?"),
            kind.depth()
        );
    }
    let client = Client::new(tenant, ClientOptions::default())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut count = 0u64;
    let mut records = if kind.name == "users" {
        // Offset paging stops at 1000 users; an export job reads them all.
        let job = client
            .create_export(&ExportRequest::every_user_field())
            .await?;
        client.wait_job(job.id(), &Reporter::new()).await?;
        client.export_records(job.id()).await?
    } else {
        let parents: Vec<&str> = args.parents.iter().map(String::as_str).collect();
        client.list(kind, &parents)
    };
    let mut redacted = 0u64;
    while let Some(mut record) = records.try_next().await? {
        if !args.show_secrets {
            for path in kind.secrets {
                idferry_model::record::map_values(&mut record, path, &mut |v| {
                    if !v.is_null() {
                        *v = json!(REDACTED);
                        redacted += 1;
                    }
                });
            }
        }
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
        count += 1;
    }
    out.flush()?;
    let stats = client.stats();
    eprintln!(
        "{}: {count} {} in {} requests ({} answered 429)",
        args.tenant, kind.name, stats.requests, stats.rate_limited
    );
    if redacted > 0 {
        eprintln!("{redacted} secret values shown as {REDACTED} (--show-secrets prints them)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `idferry list` of a ZITADEL instance: every object of a kind, in snapshot shape
/// (scoped kinds with their parents' names).
async fn zitadel(
    tenant: &idferry_model::TenantConfig,
    args: &ListArgs,
) -> anyhow::Result<ExitCode> {
    use idferry_zitadel::catalog::{CATALOG, find};
    let kind = find(&args.kind).with_context(|| {
        let names: Vec<&str> = CATALOG.iter().map(|k| k.name).collect();
        format!(
            "no ZITADEL kind {:?}; the kinds are: {}",
            args.kind,
            names.join(", ")
        )
    })?;
    if !args.parents.is_empty() {
        bail!(
            "--parent is for Auth0 sub-resources: a ZITADEL kind is listed across its organizations and projects, each record naming them"
        );
    }
    let client = idferry_zitadel::Client::new(tenant, Default::default())?;
    let records = idferry_zitadel::export::read_kind(&client, kind).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for record in &records {
        serde_json::to_writer(&mut out, record)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let stats = client.stats();
    eprintln!(
        "{}: {} {} in {} requests ({} answered 429)",
        args.tenant,
        records.len(),
        kind.name,
        stats.requests,
        stats.rate_limited
    );
    Ok(ExitCode::SUCCESS)
}

fn shape_name(kind: &Kind) -> String {
    match kind.shape {
        Shape::Collection => "collection".into(),
        Shape::Singleton => "singleton".into(),
        Shape::Keyed { keys } => format!("keyed ({})", keys.len()),
        Shape::Links { target, .. } => format!("links -> {target}"),
        Shape::Replace { .. } => "replaced whole".into(),
        Shape::Map => "map".into(),
    }
}

pub fn catalog(as_json: bool) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if as_json {
        for k in CATALOG {
            let endpoints: Vec<String> = k
                .endpoints()
                .map(|e| format!("{} {}", e.method.as_str(), e.path))
                .collect();
            let line = json!({
                "name": k.name, "parent": k.parent, "shape": shape_name(k),
                "pagination": format!("{:?}", k.pagination), "id_field": k.id_field,
                "natural_key": k.natural_key, "read_only": k.read_only, "secrets": k.secrets,
                "write_only": k.write_only,
                "references": k.references.iter().map(|r| format!("{} -> {}.{}", r.field, r.kind, r.by)).collect::<Vec<_>>(),
                "endpoints": endpoints, "config": k.config,
            });
            writeln!(out, "{line}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<34} {:<22} {:<28} {:<24} list endpoint",
        "kind", "parent", "shape", "natural key"
    )?;
    for k in CATALOG {
        writeln!(
            out,
            "{:<34} {:<22} {:<28} {:<24} {}",
            k.name,
            k.parent.unwrap_or("-"),
            shape_name(k),
            k.natural_key.join("+"),
            k.list.or(k.get).map_or("-", |e| e.path)
        )?;
    }
    writeln!(out, "\n{} kinds", CATALOG.len())?;
    Ok(ExitCode::SUCCESS)
}

/// `idferry catalog --platform zitadel`: ZITADEL's kinds.
pub fn zitadel_catalog(as_json: bool) -> anyhow::Result<ExitCode> {
    use idferry_zitadel::catalog::{CATALOG, Read, Scope};
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let scope = |s: Scope| match s {
        Scope::Instance => "instance",
        Scope::Org => "organization",
        Scope::Project => "project",
    };
    let read = |r: Read| match r {
        Read::Search(path) => format!("POST {path}"),
        Read::Settings(path) => format!("GET {path}"),
        Read::Each { path, .. } => format!("GET {path}"),
    };
    if as_json {
        for k in CATALOG {
            let line = json!({
                "name": k.name, "scope": scope(k.scope), "key": k.key, "read": read(k.read),
                "write_only": k.write_only.iter().map(|w| w.field).collect::<Vec<_>>(),
                "server_set": k.server_set, "delete": k.delete, "activation": k.activation,
                "doc": k.doc,
            });
            writeln!(out, "{line}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<28} {:<13} {:<24} {:<14} read",
        "kind", "in each", "key", "write-only"
    )?;
    for k in CATALOG {
        writeln!(
            out,
            "{:<28} {:<13} {:<24} {:<14} {}",
            k.name,
            scope(k.scope),
            if k.key.is_empty() {
                "(settings)".to_owned()
            } else {
                k.key.join("+")
            },
            if k.write_only.is_empty() {
                "-".to_owned()
            } else {
                k.write_only
                    .iter()
                    .map(|w| w.field)
                    .collect::<Vec<_>>()
                    .join(",")
            },
            read(k.read)
        )?;
    }
    writeln!(out, "\n{} kinds", CATALOG.len())?;
    Ok(ExitCode::SUCCESS)
}
