//! ZITADEL behind [`Platform`]: its client, catalog, export, restore and users
//! importer (`idferry-zitadel`), and Auth0 users converted into its shape
//! (`sinks.rs`, the auth0-to-zitadel profile).

pub mod read;
pub mod sinks;

use std::path::Path;

use futures_util::future::LocalBoxFuture as BoxFuture;
use futures_util::{FutureExt, StreamExt};
use idferry_archive::diff::KindDiff;
use idferry_archive::{Decryption, SnapshotWriter};
use idferry_model::Values;
use idferry_model::{ExportOptions, ExportSummary, Progress, TenantConfig};
use idferry_pacing::RetryPolicy;
use idferry_platform::error::{OrPlatform, PipelineError};
use idferry_platform::results::{Extracted, MembershipsGiven, Restored, UsersImported};
use idferry_platform::{
    Catalog, CatalogRow, Exported, From, Listing, PlanRequest, Platform, RestoreApplied,
    RestoreJob, RestorePlan, UsersJob,
};
use idferry_platform_auth0::hashes::HashFile;
use idferry_zitadel::catalog::{CATALOG, Read, Scope};
use idferry_zitadel::restore::{self as zrestore, Action as ZAction};
use serde_json::json;

use self::sinks::{self as into_zitadel, ZitadelSink};

/// Its built-in profiles (name, mapping spec text): an Auth0 user (as exported) into a
/// ZITADEL human user.
pub const PROFILES: &[(&str, &str)] = &[(
    "auth0-to-zitadel",
    include_str!("../profiles/auth0-to-zitadel.toml"),
)];

/// ZITADEL.
pub struct Zitadel;

fn client(tenant: &TenantConfig) -> Result<idferry_zitadel::Client, PipelineError> {
    idferry_zitadel::Client::new(tenant, RetryPolicy::default()).or_platform()
}

/// The users sink of `job` into its ZITADEL target.
fn users_sink<'a>(job: &UsersJob<'_>, target: &'a idferry_zitadel::Client) -> ZitadelSink<'a> {
    ZitadelSink {
        target,
        org: job
            .org
            .map_or_else(|| job.source_name.clone(), str::to_owned),
        project: job
            .project
            .map_or_else(|| job.source_name.clone(), str::to_owned),
        member_role: job.member_role.to_owned(),
        in_flight: 8,
        upsert: job.upsert,
        spool: job.spool.clone(),
        report: job.report.clone(),
        hashes: job.hashes.map(Path::to_owned),
    }
}

impl Platform for Zitadel {
    fn name(&self) -> &'static str {
        idferry_zitadel::PLATFORM
    }

    fn tenants(&self) -> &'static str {
        "ZITADEL instances"
    }

    fn logins(&self) -> &'static [idferry_model::Login] {
        &[
            idferry_model::Login::ServiceUserKey,
            idferry_model::Login::Token,
        ]
    }

    fn title(&self) -> &'static str {
        "ZITADEL"
    }

    fn kinds(&self) -> Vec<&'static str> {
        CATALOG.iter().map(|k| k.name).collect()
    }

    fn users_profile(&self) -> &'static str {
        into_zitadel::PROFILE
    }

    fn profiles(&self) -> &'static [(&'static str, &'static str)] {
        PROFILES
    }

    fn catalog(&self) -> Catalog {
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
        let rows = CATALOG
            .iter()
            .map(|k| {
                let write_only: Vec<&str> = k.write_only.iter().map(|w| w.field).collect();
                let detail = json!({
                    "name": k.name, "scope": scope(k.scope), "key": k.key, "read": read(k.read),
                    "write_only": write_only,
                    "server_set": k.server_set, "delete": k.delete, "activation": k.activation,
                    "doc": k.doc,
                });
                CatalogRow {
                    cells: vec![
                        k.name.to_owned(),
                        scope(k.scope).to_owned(),
                        if k.key.is_empty() {
                            "(settings)".to_owned()
                        } else {
                            k.key.join("+")
                        },
                        if write_only.is_empty() {
                            "-".to_owned()
                        } else {
                            write_only.join(",")
                        },
                        read(k.read),
                    ],
                    detail: match detail {
                        serde_json::Value::Object(map) => map,
                        _ => serde_json::Map::new(),
                    },
                }
            })
            .collect();
        Catalog {
            columns: vec!["kind", "in each", "key", "write-only", "read"],
            rows,
        }
    }

    fn list<'a>(
        &'a self,
        tenant: &'a TenantConfig,
        kind: &'a str,
        parents: &'a [String],
        _progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Listing, PipelineError>> {
        async move {
            let kind = idferry_zitadel::catalog::find(kind).ok_or_else(|| {
                PipelineError::NoSuchKind {
                    platform: self.title(),
                    kind: kind.to_owned(),
                    known: CATALOG.iter().map(|k| k.name).collect::<Vec<_>>().join(", "),
                }
            })?;
            if !parents.is_empty() {
                return Err(PipelineError::NoParents {
                    tenant: tenant.name.clone(),
                    why: "a ZITADEL kind is listed across its organizations and projects, each record naming them",
                });
            }
            let client = client(tenant)?;
            let records = idferry_zitadel::export::read_kind(&client, kind).await.or_platform()?;
            let stats = client.clone();
            Ok(Listing {
                kind: kind.name,
                records: futures_util::stream::iter(records.into_iter().map(Ok)).boxed(),
                // ZITADEL never answers its write-only fields.
                secrets: &[],
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
            if !options.kinds.is_empty() || !options.exclude.is_empty() {
                return Err(PipelineError::KindsNotFiltered {
                    tenant: tenant.name.clone(),
                    platform: self.title(),
                });
            }
            let client = client(tenant)?;
            let counts = idferry_zitadel::export::export(&client, writer, progress)
                .await
                .or_platform()?;
            let stats = client.stats();
            Ok(Exported {
                summary: ExportSummary {
                    counts,
                    ..ExportSummary::default()
                },
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
        read::zitadel_diff(a, b, key, ignore_ids)
    }

    fn plan_restore<'a>(
        &'a self,
        request: PlanRequest<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn RestorePlan + 'a>, PipelineError>> {
        async move {
            let known = || {
                CATALOG
                    .iter()
                    .map(|k| k.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for k in request.kinds {
                if idferry_zitadel::catalog::find(k).is_none() {
                    return Err(PipelineError::NotAKindOf {
                        what: format!("--kinds {k}"),
                        platform: self.title(),
                        known: known(),
                    });
                }
            }
            let only = idferry_platform::parse_only(
                request.only,
                self,
                "project_roles:acme/portal/admin",
                |kind| idferry_zitadel::catalog::find(kind).is_some(),
                &known,
            )?;
            let options = zrestore::PlanOptions {
                kinds: request.kinds.to_vec(),
                only,
                allow_delete: request.allow_delete,
            };
            let (mut records, source) = match request.from {
                From::Snapshot(path, key) => (
                    read::zitadel_snapshot(path, key)?,
                    path.display().to_string(),
                ),
                From::Tenant(tenant) => {
                    (read::zitadel_instance(tenant).await?, tenant.name.clone())
                }
                From::Files(path, _) => return Err(no_files(path)),
            };
            if let Some(mapping) = request.mapping {
                into_zitadel::map_records(&mut records, mapping)?;
            }
            let values = match request.values {
                Some(file) => Values::load(file).or_platform()?,
                None => Values::none(),
            };
            let target = client(request.target)?;
            let current = zrestore::read_instance(&target).await.or_platform()?;
            let secrets = |kind: &str, name: &str, field: &str| values.text(kind, name, field);
            let plan = zrestore::plan(&records, &current, &secrets, &options);
            Ok(Box::new(ZitadelPlan {
                plan,
                values,
                source,
                target,
            }) as Box<dyn RestorePlan>)
        }
        .boxed_local()
    }

    fn restore<'a>(
        &'a self,
        job: RestoreJob<'a>,
    ) -> BoxFuture<'a, Result<Restored, PipelineError>> {
        async move {
            let records = match job.from {
                From::Snapshot(path, key) => read::zitadel_snapshot(path, key)?,
                From::Tenant(tenant) => read::zitadel_instance(tenant).await?,
                From::Files(path, _) => return Err(no_files(path)),
            };
            let target = client(job.target)?;
            into_zitadel::restore(
                records,
                job.mappings,
                &target,
                job.kinds,
                job.values,
                job.allow_delete,
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
            let hashes = match job.hashes {
                Some(file) => Some(HashFile::open(file)?),
                None => None,
            };
            into_zitadel::extract(
                &*(job.source)()?,
                job.mappings,
                hashes.as_ref(),
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
            let before = target.stats();
            let s = into_zitadel::import(&sink, job.journal.clone(), job.unit, stage, job.progress)
                .await?;
            let after = target.stats();
            Ok(UsersImported {
                total: s.total,
                counts: s.counts,
                requests: after.requests - before.requests,
                rate_limited: after.rate_limited - before.rate_limited,
                ..UsersImported::default()
            })
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
            let m = into_zitadel::memberships(&*(job.source)()?, &sink, job.progress).await?;
            let after = target.stats();
            Ok(MembershipsGiven {
                role_users: m.grants,
                organization_members: m.members,
                member_roles: 0,
                user_permissions: 0,
                // ZITADEL grants roles, not permissions: an Auth0 user's direct
                // permissions have no place there.
                permissions_unread: Some(
                    "not carried: ZITADEL grants project roles, it has no direct permissions"
                        .into(),
                ),
                already: m.already,
                not_imported: m.not_imported,
                failed: m.failed,
                requests: after.requests - before.requests,
                rate_limited: after.rate_limited - before.rate_limited,
            })
        }
        .boxed_local()
    }
}

/// A ZITADEL restore planned (with the values its write-only secrets come from).
struct ZitadelPlan {
    plan: zrestore::Plan,
    values: Values,
    source: String,
    target: idferry_zitadel::Client,
}

fn describe(action: &ZAction) -> String {
    match action {
        ZAction::Create => "create".to_owned(),
        ZAction::Update { fields } => format!("update {}", fields.join(", ")),
        ZAction::SetSecret { field } => format!("set {field} (write-only, from the values)"),
        ZAction::Activate => "activate".to_owned(),
        ZAction::Delete => "DELETE (only in the target; --allow-delete)".to_owned(),
    }
}

impl RestorePlan for ZitadelPlan {
    fn source_name(&self) -> String {
        self.source.clone()
    }

    fn lines(&self) -> Vec<String> {
        let target = self.target.instance();
        let mut out = vec![format!("Plan: {} -> {target}", self.source)];
        for step in &self.plan.steps {
            out.push(format!(
                "  {:<30} {:<32} {}",
                step.kind,
                step.name,
                describe(&step.action)
            ));
        }
        for (kind, n) in self.plan.unchanged.iter().filter(|(_, n)| *n > 0) {
            out.push(format!("  {kind:<30} {n} unchanged"));
        }
        for m in &self.plan.missing {
            out.push(format!(
                "  NOT WRITTEN: {} {:?} lacks its write-only {}; add to the values file: {}",
                m.kind, m.name, m.field, m.add
            ));
        }
        if self.plan.is_empty() {
            out.push(format!("Nothing to do: {target} already matches."));
        }
        out
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.plan).unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.plan.is_empty()
    }

    fn nothing_to_apply(&self) -> bool {
        self.plan.steps.is_empty()
    }

    fn incomplete(&self) -> bool {
        !self.plan.missing.is_empty()
    }

    fn overwrites(&self) -> bool {
        self.plan.overwrites()
    }

    fn question(&self) -> String {
        format!(
            "Apply to {}: {} steps?",
            self.target.instance(),
            self.plan.steps.len()
        )
    }

    fn apply<'b>(
        &'b self,
        _progress: &'b dyn Progress,
    ) -> BoxFuture<'b, Result<Box<dyn RestoreApplied>, PipelineError>> {
        async move {
            let secrets = |kind: &str, name: &str, field: &str| self.values.text(kind, name, field);
            let report = zrestore::apply(&self.target, &self.plan, &secrets).await;
            // Human users created here have no password: ZITADEL exports no hashes.
            let humans = self
                .plan
                .steps
                .iter()
                .filter(|s| s.kind == "users" && matches!(s.action, ZAction::Create))
                .filter(|s| s.record.pointer("/record/human").is_some())
                .count();
            Ok(Box::new(ZitadelApplied { report, humans }) as Box<dyn RestoreApplied>)
        }
        .boxed_local()
    }
}

/// A ZITADEL restore applied.
struct ZitadelApplied {
    report: idferry_zitadel::apply::Report,
    humans: usize,
}

impl RestoreApplied for ZitadelApplied {
    fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{} steps done, {} failed",
            self.report.done,
            self.report.failed.len()
        )];
        for (kind, name, error) in &self.report.failed {
            out.push(format!("  FAILED {kind} {name:?}: {error}"));
        }
        if self.humans > 0 {
            out.push(format!(
                "{} human users were created without a password (ZITADEL exports no password hashes): they set one through a password reset.",
                self.humans
            ));
        }
        out
    }

    fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        map.insert(
            "result".into(),
            serde_json::to_value(&self.report).unwrap_or_default(),
        );
        map
    }

    fn failed(&self) -> bool {
        !self.report.failed.is_empty()
    }
}

/// ZITADEL reads no other tool's files of configuration.
fn no_files(path: &Path) -> PipelineError {
    PipelineError::NoFilesReader {
        platform: idferry_zitadel::PLATFORM,
        path: path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use idferry_transform::rules::apply_all;
    use serde_json::json;

    #[test]
    fn an_exported_auth0_user_becomes_a_zitadel_human() {
        let mapping =
            idferry_transform::profiles::find(super::PROFILES, super::sinks::PROFILE).unwrap();
        let mut user = json!({"user_id": "auth0|x", "email": "a@example.com", "email_verified": true,
                              "given_name": "A", "name": "A B", "logins_count": 4, "user_metadata": {"lang": "fr"}});
        assert!(apply_all(mapping.rules_for("users"), &mut user).unwrap());
        assert_eq!(
            user,
            json!({"user_id": "auth0|x", "human": {"email": {"email": "a@example.com", "isVerified": true},
                   "profile": {"givenName": "A", "displayName": "A B"}},
                   "metadata": {"user_metadata": {"lang": "fr"}}})
        );
        assert!(idferry_platform::Platform::converts_users_of(
            &super::Zitadel,
            "auth0"
        ));
        assert!(!idferry_platform::Platform::converts_users_of(
            &super::Zitadel,
            "zitadel"
        ));
    }
}
