//! Auth0 behind [`Platform`]: its Management API client (`idferry-auth0`), its export
//! (`idferry-export`), its restore plans and users imports (`idferry-import`), as the
//! pipeline's stages (`stages.rs`) drive them.

use std::path::Path;

use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture as BoxFuture;
use idferry_archive::diff::{DiffOptions, KindDiff, diff};
use idferry_archive::{Decryption, SnapshotReader, SnapshotWriter};
use idferry_auth0::{Client, ClientOptions};
use idferry_export::{ExportOptions, export};
use idferry_import::users::UsersOptions;
use idferry_model::{Progress, TenantConfig};

use futures_util::{StreamExt, TryStreamExt};
use idferry_auth0::ExportRequest;
use idferry_model::{CATALOG, Kind, Shape};
use serde_json::json;

use super::{Catalog, CatalogRow, Exported, From, Listing, Platform, RestoreJob, UsersJob};
use crate::error::PipelineError;
use crate::results::{Extracted, MembershipsGiven, Restored, UsersImported};
use crate::source::Source;
use crate::stages::{self, RestoreSink, UsersSink};

/// Auth0.
pub struct Auth0;

fn client(tenant: &TenantConfig) -> Result<Client, PipelineError> {
    Ok(Client::new(tenant, ClientOptions::default())?)
}

/// The users sink of `job` into its Auth0 target.
fn users_sink<'a>(job: &UsersJob<'_>, target: &'a Client) -> UsersSink<'a> {
    UsersSink {
        target,
        options: UsersOptions {
            connection: job.connection.to_owned(),
            upsert: job.upsert,
            run_id: job.run_id.clone(),
            slots: job.slots.unwrap_or(UsersOptions::default().slots),
            ..UsersOptions::default()
        },
        spool: job.spool.clone(),
        report: job.report.clone(),
        hashes: job.hashes.map(Path::to_owned),
    }
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

impl Platform for Auth0 {
    fn name(&self) -> &'static str {
        "auth0"
    }

    fn title(&self) -> &'static str {
        "Auth0"
    }

    fn users_profile(&self) -> &'static str {
        "auth0-export-to-import"
    }

    fn catalog(&self) -> Catalog {
        let rows = CATALOG
            .iter()
            .map(|k| {
                let endpoints: Vec<String> = k
                    .endpoints()
                    .map(|e| format!("{} {}", e.method.as_str(), e.path))
                    .collect();
                let detail = json!({
                    "name": k.name, "parent": k.parent, "shape": shape_name(k),
                    "pagination": format!("{:?}", k.pagination), "id_field": k.id_field,
                    "natural_key": k.natural_key, "read_only": k.read_only, "secrets": k.secrets,
                    "write_only": k.write_only,
                    "references": k.references.iter().map(|r| format!("{} -> {}.{}", r.field, r.kind, r.by)).collect::<Vec<_>>(),
                    "endpoints": endpoints, "config": k.config,
                });
                CatalogRow {
                    cells: vec![
                        k.name.to_owned(),
                        k.parent.unwrap_or("-").to_owned(),
                        shape_name(k),
                        k.natural_key.join("+"),
                        k.list.or(k.get).map_or("-", |e| e.path).to_owned(),
                    ],
                    detail: match detail {
                        serde_json::Value::Object(map) => map,
                        _ => serde_json::Map::new(),
                    },
                }
            })
            .collect();
        Catalog {
            columns: vec!["kind", "parent", "shape", "natural key", "list endpoint"],
            rows,
        }
    }

    fn list<'a>(
        &'a self,
        tenant: &'a TenantConfig,
        kind: &'a str,
        parents: &'a [String],
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Listing, PipelineError>> {
        async move {
            let kind =
                idferry_model::catalog::find(kind).ok_or_else(|| PipelineError::NoSuchKind {
                    platform: self.title(),
                    kind: kind.to_owned(),
                    known: CATALOG
                        .iter()
                        .map(|k| k.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            if parents.len() != kind.depth() {
                return Err(PipelineError::ParentsNeeded {
                    kind: kind.name,
                    parent: kind.parent.unwrap_or("?"),
                    depth: kind.depth(),
                });
            }
            let client = client(tenant)?;
            let records = if kind.name == "users" {
                // Offset paging stops at 1000 users; an export job reads them all.
                let job = client
                    .create_export(&ExportRequest::every_user_field())
                    .await?;
                client.wait_job(job.id(), progress).await?;
                client.export_records(job.id()).await?
            } else {
                let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
                client.list(kind, &parents)
            };
            let stats = client.clone();
            Ok(Listing {
                kind: kind.name,
                records: records.map_err(PipelineError::from).boxed(),
                secrets: kind.secrets,
                stats: Box::new(move || stats.stats()),
            })
        }
        .boxed_local()
    }

    fn export<'a>(
        &'a self,
        tenant: &'a TenantConfig,
        writer: &'a mut SnapshotWriter,
        options: &'a ExportOptions,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Exported, PipelineError>> {
        async move {
            let client = client(tenant)?;
            let summary = export(&client, options, writer, progress).await?;
            let stats = client.stats();
            Ok(Exported {
                summary,
                requests: stats.requests,
                rate_limited: stats.rate_limited,
            })
        }
        .boxed_local()
    }

    fn diff(
        &self,
        a: &Path,
        b: &Path,
        key: Option<Decryption>,
        ignore_ids: bool,
    ) -> Result<Vec<KindDiff>, PipelineError> {
        let (a, b) = (
            SnapshotReader::new(a, key.clone()),
            SnapshotReader::new(b, key),
        );
        Ok(diff(&a, &b, DiffOptions { ignore_ids })?)
    }

    fn restore<'a>(
        &'a self,
        job: RestoreJob<'a>,
    ) -> BoxFuture<'a, Result<Restored, PipelineError>> {
        async move {
            let source = match job.from {
                From::Snapshot(path, key) => Source::Snapshot(path.to_owned(), key),
                From::Tenant(tenant) => Source::Tenant(client(tenant)?),
            };
            let target = client(job.target)?;
            let sink = RestoreSink {
                target: &target,
                kinds: job.kinds,
                values: job.values,
                allow_delete: job.allow_delete,
            };
            stages::restore(
                &source,
                job.mappings,
                &sink,
                job.journal,
                job.unit,
                job.progress,
            )
            .await
        }
        .boxed_local()
    }

    fn extract_users<'a>(
        &'a self,
        job: &'a UsersJob<'a>,
    ) -> BoxFuture<'a, Result<Extracted, PipelineError>> {
        async move {
            // Hashes are merged at import, so that the spool holds none.
            let (profile, _) = stages::import_profile(None)?;
            stages::extract_users(
                &(job.source)()?,
                job.mappings,
                &profile,
                &job.spool,
                &job.report,
                job.progress,
            )
            .await
        }
        .boxed_local()
    }

    fn import_users<'a>(
        &'a self,
        job: &'a UsersJob<'a>,
        stage: &'a str,
    ) -> BoxFuture<'a, Result<UsersImported, PipelineError>> {
        async move {
            let target = client(job.target)?;
            let sink = users_sink(job, &target);
            stages::import_spool(&sink, job.journal.clone(), job.unit, stage, job.progress).await
        }
        .boxed_local()
    }

    fn give_memberships<'a>(
        &'a self,
        job: &'a UsersJob<'a>,
    ) -> BoxFuture<'a, Result<MembershipsGiven, PipelineError>> {
        async move {
            let target = client(job.target)?;
            let sink = users_sink(job, &target);
            let before = target.stats();
            let m = stages::memberships(
                &(job.source)()?,
                &sink,
                &job.journal,
                job.unit,
                job.progress,
            )
            .await?;
            let after = target.stats();
            Ok(MembershipsGiven {
                role_users: m.role_users,
                organization_members: m.organization_members,
                member_roles: m.member_roles,
                already: 0,
                not_imported: m.not_imported,
                failed: m.failed,
                requests: after.requests - before.requests,
                rate_limited: after.rate_limited - before.rate_limited,
            })
        }
        .boxed_local()
    }
}
