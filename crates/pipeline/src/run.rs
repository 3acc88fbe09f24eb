//! Running a spec: each source tenant (a unit) goes through the sinks in order, a few
//! tenants at once. A stage the journal has as done is not run again; a stage in
//! progress when a run was killed runs again from what the journal says (for users:
//! the files already imported are skipped, a job in flight is waited for).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use idferry_archive::WriteOptions;
use idferry_auth0::{Client, ClientOptions};
use idferry_export::ExportOptions;
use idferry_import::users::UsersOptions;
use idferry_model::{Config, Platform, Progress};
use idferry_pacing::RetryPolicy;
use idferry_store::{Fetched, Store};
use idferry_transform::Mapping;
use idferry_transform::hashes::HashFile;
use serde::Serialize;

use crate::error::PipelineError;
use crate::into_zitadel::{self, ZitadelSink};
use crate::journal::{Journal, StageRow, Status};
use crate::progress::Prefixed;
use crate::results::Snapshotted;
use crate::source::Source;
use crate::spec::{LoadedSpec, SinkSpec};
use crate::stages::{self, RestoreSink, UsersSink};
use crate::stored;

/// What happened to one source tenant.
#[derive(Debug, Clone, Serialize)]
pub struct UnitReport {
    /// The source tenant (or `snapshot`).
    pub unit: String,
    /// Whether every stage succeeded.
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
    /// Its stages, with their counts.
    pub stages: Vec<StageRow>,
    /// Time taken by this attempt.
    pub seconds: f64,
}

/// What a run (or a resume) did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The pipeline.
    pub name: String,
    /// One per source tenant.
    pub units: Vec<UnitReport>,
}

impl RunReport {
    /// Units that failed.
    pub fn failed(&self) -> usize {
        self.units.iter().filter(|u| !u.ok).count()
    }
}

/// Starts a new run of `spec` in `run_dir`, over `tenants` (or the spec's). `vars` are
/// environment variables the mappings see before the process's own (a scrubbing key).
pub async fn start(
    spec: &LoadedSpec,
    config: &Config,
    run_dir: &Path,
    tenants: Option<&[String]>,
    vars: &[(String, String)],
    progress: Arc<dyn Progress>,
) -> Result<RunReport, PipelineError> {
    let names: Vec<String> = config.tenants.keys().cloned().collect();
    let units = if spec.spec.source.snapshot.is_some() {
        vec!["snapshot".to_owned()]
    } else {
        let units = spec.spec.tenants(&names, tenants);
        for u in &units {
            config.tenant(u)?;
        }
        units
    };
    if units.is_empty() {
        return Err(PipelineError::SpecShape {
            path: spec.path.clone(),
            problem: "no source tenant (name them in [source] or with --tenants)",
        });
    }
    let mappings = load_mappings(spec, vars)?;
    let journal = Journal::create(
        run_dir,
        &spec.spec.name,
        &spec.path,
        &spec.hash,
        &config.path,
        &units,
    )?;
    execute(
        Arc::new(Mutex::new(journal)),
        spec,
        config,
        &mappings,
        units,
        progress,
    )
    .await
}

/// Continues the run in `run_dir` where it stopped. Refused when the spec (or a file it
/// names) changed, or the journal is damaged.
pub async fn resume(
    run_dir: &Path,
    progress: Arc<dyn Progress>,
) -> Result<RunReport, PipelineError> {
    let journal = Journal::open(run_dir)?;
    let info = journal.info()?;
    let spec = LoadedSpec::load(&info.spec_path).map_err(|e| PipelineError::SpecUnreadable {
        path: info.spec_path.clone(),
        message: e.to_string(),
    })?;
    if spec.hash != info.spec_hash {
        return Err(PipelineError::SpecChanged {
            path: info.spec_path.clone(),
        });
    }
    let config = Config::load(&info.config_path)?;
    let mappings = load_mappings(&spec, &[])?;
    journal.set_status(Status::Running)?;
    execute(
        Arc::new(Mutex::new(journal)),
        &spec,
        &config,
        &mappings,
        info.tenants,
        progress,
    )
    .await
}

fn load_mappings(
    spec: &LoadedSpec,
    vars: &[(String, String)],
) -> Result<Vec<Mapping>, PipelineError> {
    let env = |v: &str| {
        vars.iter()
            .find(|(k, _)| k == v)
            .map(|(_, x)| x.clone())
            .or_else(|| std::env::var(v).ok())
    };
    spec.spec
        .transforms
        .iter()
        .map(|p| crate::kinds::load_mapping(p, &env))
        .collect()
}

struct Ctx<'a> {
    journal: Arc<Mutex<Journal>>,
    spec: &'a LoadedSpec,
    config: &'a Config,
    mappings: &'a [Mapping],
    run_dir: PathBuf,
    progress: Arc<dyn Progress>,
}

fn lock(journal: &Mutex<Journal>) -> Result<std::sync::MutexGuard<'_, Journal>, PipelineError> {
    journal.lock().map_err(|_| PipelineError::JournalPoisoned)
}

async fn execute(
    journal: Arc<Mutex<Journal>>,
    spec: &LoadedSpec,
    config: &Config,
    mappings: &[Mapping],
    units: Vec<String>,
    progress: Arc<dyn Progress>,
) -> Result<RunReport, PipelineError> {
    let run_dir = lock(&journal)?.info()?.dir;
    let ctx = Ctx {
        journal: journal.clone(),
        spec,
        config,
        mappings,
        run_dir: run_dir.clone(),
        progress,
    };
    let mut reports: Vec<UnitReport> = stream::iter(units.iter().cloned())
        .map(|unit| ctx.unit(unit))
        .buffer_unordered(spec.spec.concurrency.max(1))
        .collect()
        .await;
    reports.sort_by_key(|r| units.iter().position(|u| *u == r.unit));
    let ok = reports.iter().all(|r| r.ok);
    lock(&journal)?.set_status(if ok { Status::Done } else { Status::Failed })?;
    Ok(RunReport {
        run_dir,
        name: spec.spec.name.clone(),
        units: reports,
    })
}

/// `{tenant}` in a sink's target, replaced by the source tenant.
fn target_name(to: &str, unit: &str) -> String {
    to.replace("{tenant}", unit)
}

impl Ctx<'_> {
    async fn unit(&self, unit: String) -> UnitReport {
        let started = Instant::now();
        let result = self.stages(&unit).await;
        let stages = lock(&self.journal)
            .and_then(|j| j.stages())
            .map(|all| all.into_iter().filter(|s| s.unit == unit).collect())
            .unwrap_or_default();
        if let Err(e) = &result {
            self.progress.message(&format!("{unit}: FAILED: {e}"));
        }
        UnitReport {
            ok: result.is_ok(),
            error: result.err().map(|e| e.to_string()),
            unit,
            stages,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    fn client(&self, tenant: &str) -> Result<Client, PipelineError> {
        Ok(Client::new(
            self.config.tenant(tenant)?,
            ClientOptions::default(),
        )?)
    }

    /// The name users' organization and project default to: the source tenant, or the
    /// tenant a source snapshot was taken of.
    fn source_name(&self, unit: &str, snapshot: &Option<Fetched>) -> String {
        if self.spec.spec.source.snapshot.is_none() {
            return unit.to_owned();
        }
        snapshot
            .as_ref()
            .and_then(|f| {
                idferry_archive::SnapshotReader::new(f.path(), None)
                    .manifest()
                    .ok()
            })
            .map(|m| m.tenant)
            .unwrap_or_else(|| unit.to_owned())
    }

    /// A users sink into a ZITADEL instance: extract, import, memberships, each a
    /// journaled stage; returns the users refused.
    #[allow(clippy::too_many_arguments)]
    async fn users_into_zitadel(
        &self,
        unit: &str,
        stage: &str,
        sink: &ZitadelSink<'_>,
        hashes: Option<&Path>,
        memberships: bool,
        source: &dyn Fn() -> Result<Source, PipelineError>,
        progress: &dyn Progress,
    ) -> Result<u64, PipelineError> {
        let extracted = self
            .stage(unit, &format!("{stage}:extract"), || async {
                let hashes = match hashes {
                    Some(file) => {
                        Some(HashFile::load(file).map_err(|e| PipelineError::Hashes {
                            path: file.to_owned(),
                            message: e.to_string(),
                        })?)
                    }
                    None => None,
                };
                into_zitadel::extract(
                    &source()?,
                    self.mappings,
                    hashes.as_ref(),
                    &sink.spool,
                    &sink.report,
                    progress,
                )
                .await
            })
            .await?;
        let import_stage = format!("{stage}:import");
        let imported = self
            .stage(unit, &import_stage, || async {
                into_zitadel::import(sink, self.journal.clone(), unit, &import_stage, progress)
                    .await
            })
            .await?;
        if memberships {
            self.stage(unit, &format!("{stage}:memberships"), || async {
                into_zitadel::memberships(&source()?, sink, progress).await
            })
            .await?;
        }
        // Users the extract could not shape (or duplicates) were not migrated either.
        Ok(imported.counts.failed + extracted.failed)
    }

    /// Runs `f` as stage `stage` of `unit` unless the journal has it done (then what it
    /// did then comes back, read as the same type).
    async fn stage<T, F, Fut>(&self, unit: &str, stage: &str, f: F) -> Result<T, PipelineError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, PipelineError>>,
    {
        if let Some(done) = lock(&self.journal)?.stage_result::<T>(unit, stage)? {
            return Ok(done);
        }
        lock(&self.journal)?.stage_started(unit, stage)?;
        self.progress.message(&format!("{unit}: {stage}"));
        match f().await {
            Ok(counts) => {
                lock(&self.journal)?.stage_done(unit, stage, &counts)?;
                Ok(counts)
            }
            Err(e) => {
                lock(&self.journal)?.stage_failed(unit, stage, &e.to_string())?;
                Err(e)
            }
        }
    }

    async fn stages(&self, unit: &str) -> Result<(), PipelineError> {
        let spec = &self.spec.spec;
        // Later sinks read the snapshot an earlier sink wrote, so that they all see the
        // same moment of the tenant.
        // A snapshot in object storage is downloaded once, and deleted after.
        let mut snapshot: Option<Fetched> = match &spec.source.snapshot {
            Some(location) => Some(stored::fetch_snapshot(location).await?),
            None => None,
        };
        let unit_dir = self.run_dir.join(unit);
        let mut refused_users = 0u64;
        for (i, sink) in spec.sinks.iter().enumerate() {
            let stage = sink.stage(i);
            let progress = Prefixed {
                inner: self.progress.as_ref(),
                prefix: format!("{unit} {stage}"),
            };
            let source = || -> Result<Source, PipelineError> {
                Ok(match &snapshot {
                    Some(fetched) => Source::Snapshot(fetched.path().to_owned(), None),
                    None => Source::Tenant(self.client(unit)?),
                })
            };
            match sink {
                SinkSpec::Snapshot {
                    dir,
                    kinds,
                    exclude_kinds,
                    retention,
                } => {
                    let done = self
                        .stage(unit, &stage, || async {
                            let tenant = self.config.tenant(unit)?;
                            let options = ExportOptions {
                                kinds: kinds.clone(),
                                exclude: exclude_kinds.clone(),
                                include_secrets: false,
                            };
                            let store = Store::open(&dir.to_string_lossy())?;
                            let started = jiff::Timestamp::now();
                            let result = async {
                                let taken = stages::snapshot(
                                    tenant,
                                    &store,
                                    &options,
                                    &WriteOptions::default(),
                                    &progress,
                                )
                                .await?;
                                let (written, summary) = (taken.written, taken.summary);
                                let pruned = match retention {
                                    Some(r) => stored::apply_retention(&store, unit, *r).await?,
                                    None => 0,
                                };
                                Ok(Snapshotted {
                                    path: written.path,
                                    bytes: written.bytes,
                                    records: summary.counts.iter().map(|(_, n)| n).sum::<u64>(),
                                    users: summary.count("users"),
                                    pruned,
                                    requests: taken.requests,
                                })
                            }
                            .await;
                            let worker = format!("run {}", self.run_dir.display());
                            stored::file_report(
                                &store,
                                unit,
                                &worker,
                                started,
                                stored::Ended::from_result(&result),
                            )
                            .await;
                            result
                        })
                        .await?;
                    snapshot = Some(stored::fetch_snapshot(&done.path).await?);
                }
                SinkSpec::Restore {
                    to,
                    kinds,
                    values,
                    allow_delete,
                } => {
                    let to = target_name(to, unit);
                    if self.config.tenant(&to)?.platform == Platform::Zitadel {
                        self.stage(unit, &stage, || async {
                            let records = match &snapshot {
                                Some(fetched) => {
                                    crate::source::zitadel_snapshot(fetched.path(), None)?
                                }
                                None => {
                                    crate::source::zitadel_instance(self.config.tenant(unit)?)
                                        .await?
                                }
                            };
                            let target = idferry_zitadel::Client::new(
                                self.config.tenant(&to)?,
                                RetryPolicy::default(),
                            )?;
                            into_zitadel::restore(
                                records,
                                self.mappings,
                                &target,
                                kinds,
                                values.as_deref(),
                                *allow_delete,
                            )
                            .await
                        })
                        .await?;
                        continue;
                    }
                    self.stage(unit, &stage, || async {
                        let target = self.client(&to)?;
                        let sink = RestoreSink {
                            target: &target,
                            kinds,
                            values: values.as_deref(),
                            allow_delete: *allow_delete,
                        };
                        stages::restore(
                            &source()?,
                            self.mappings,
                            &sink,
                            &self.journal,
                            unit,
                            &progress,
                        )
                        .await
                    })
                    .await?;
                }
                SinkSpec::Users {
                    to,
                    connection,
                    hashes,
                    upsert,
                    memberships,
                    org,
                    project,
                    member_role,
                } => {
                    let to = target_name(to, unit);
                    if self.config.tenant(&to)?.platform == Platform::Zitadel {
                        let target = idferry_zitadel::Client::new(
                            self.config.tenant(&to)?,
                            RetryPolicy::default(),
                        )?;
                        let source_name = self.source_name(unit, &snapshot);
                        let sink = ZitadelSink {
                            target: &target,
                            org: org.clone().unwrap_or_else(|| source_name.clone()),
                            project: project.clone().unwrap_or(source_name),
                            member_role: member_role.clone(),
                            in_flight: 8,
                            upsert: *upsert,
                            spool: unit_dir.join(format!("users-{i}.ndjson.zst")),
                            report: SinkSpec::users_report(&self.run_dir, unit, i),
                            hashes: hashes.clone(),
                        };
                        let refused = self
                            .users_into_zitadel(
                                unit,
                                &stage,
                                &sink,
                                hashes.as_deref(),
                                *memberships,
                                &source,
                                &progress,
                            )
                            .await?;
                        if refused > 0 {
                            return Err(PipelineError::UsersNotMigrated {
                                count: refused,
                                target: to,
                                report: sink.report.clone(),
                            });
                        }
                        continue;
                    }
                    let target = self.client(&to)?;
                    let sink = UsersSink {
                        target: &target,
                        options: UsersOptions {
                            connection: connection.clone(),
                            upsert: *upsert,
                            // Stable across resumes: the jobs of this run and sink.
                            run_id: format!(
                                "idferry-{}-{}-{i}",
                                self.run_dir
                                    .file_name()
                                    .map(|n| n.to_string_lossy().into_owned())
                                    .unwrap_or_default(),
                                unit
                            ),
                            ..UsersOptions::default()
                        },
                        spool: unit_dir.join(format!("users-{i}.ndjson.zst")),
                        report: unit_dir.join(format!("users-{i}-errors.ndjson")),
                        hashes: hashes.clone(),
                    };
                    self.stage(unit, &format!("{stage}:extract"), || async {
                        // Hashes are merged at import, so that the spool holds none.
                        let (profile, _) = stages::import_profile(None)?;
                        stages::extract_users(
                            &source()?,
                            self.mappings,
                            &profile,
                            &sink.spool,
                            &sink.report,
                            &progress,
                        )
                        .await
                    })
                    .await?;
                    let import_stage = format!("{stage}:import");
                    let imported = self
                        .stage(unit, &import_stage, || async {
                            stages::import_spool(
                                &sink,
                                self.journal.clone(),
                                unit,
                                &import_stage,
                                &progress,
                            )
                            .await
                        })
                        .await?;
                    refused_users += imported.failed;
                    if *memberships {
                        self.stage(unit, &format!("{stage}:memberships"), || async {
                            stages::memberships(&source()?, &sink, &self.journal, unit, &progress)
                                .await
                        })
                        .await?;
                    }
                    if refused_users > 0 {
                        return Err(PipelineError::UsersNotMigrated {
                            count: refused_users,
                            target: to,
                            report: sink.report.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}
