//! Running a spec: each source tenant (a unit) goes through the sinks in order, a few
//! tenants at once. A stage the journal has as done is not run again; a stage in
//! progress when a run was killed runs again from what the journal says (for users:
//! the files already imported are skipped, a job in flight is waited for).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use idferry_archive::{Decryption, WriteOptions};
use idferry_model::ExportOptions;
use idferry_model::{Config, Progress};
use idferry_store::{Fetched, Store};
use idferry_transform::Mapping;
use serde::Serialize;

use crate::error::PipelineError;
use crate::journal::{Journal, StageRow, Status};
use crate::platforms::{self, From, RestoreJob, UsersJob};
use crate::progress::Prefixed;
use crate::results::{Extracted, MembershipsGiven, Snapshotted, UsersImported};
use crate::spec::{LoadedSpec, SinkSpec};
use crate::stages;
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
    /// Skipped: another worker holds the tenant's lease in the snapshot store (who, and
    /// until when). Not a failure: that worker backs it up.
    pub held_by: Option<String>,
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
    } else if spec.spec.source.files.is_some() {
        vec!["files".to_owned()]
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
    let config = platforms::load_config(&info.config_path)?;
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
    /// The values of the source files' keywords (none without files).
    keywords: serde_json::Map<String, serde_json::Value>,
    journal: Arc<Mutex<Journal>>,
    spec: &'a LoadedSpec,
    config: &'a Config,
    mappings: &'a [Mapping],
    run_dir: PathBuf,
    progress: Arc<dyn Progress>,
}

async fn execute(
    journal: Arc<Mutex<Journal>>,
    spec: &LoadedSpec,
    config: &Config,
    mappings: &[Mapping],
    units: Vec<String>,
    progress: Arc<dyn Progress>,
) -> Result<RunReport, PipelineError> {
    let run_dir = Journal::lock(&journal)?.info()?.dir;
    let keywords = match &spec.spec.source.files {
        Some(_) => crate::spec::load_keywords(spec.spec.source.keywords.as_deref())?,
        None => serde_json::Map::new(),
    };
    let ctx = Ctx {
        keywords,
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
    Journal::lock(&journal)?.set_status(if ok { Status::Done } else { Status::Failed })?;
    Ok(RunReport {
        run_dir,
        name: spec.spec.name.clone(),
        units: reports,
    })
}

/// What a users sink did for one unit, read back from the run's journal: each stage's
/// result, None for a stage not done.
#[derive(Debug, Clone, Serialize)]
pub struct UsersResults {
    /// The extract.
    pub extracted: Option<Extracted>,
    /// The import.
    pub imported: Option<UsersImported>,
    /// The memberships.
    pub memberships: Option<MembershipsGiven>,
    /// The report naming every user refused or not carried whole.
    pub report: PathBuf,
}

/// What users sink `index` of the run in `run_dir` did for `unit`.
pub fn users_results(
    run_dir: &Path,
    unit: &str,
    index: usize,
) -> Result<UsersResults, PipelineError> {
    let journal = Journal::read(run_dir)?;
    let stage = |step: &str| SinkSpec::users_stage(index, step);
    Ok(UsersResults {
        extracted: journal.stage_result(unit, &stage("extract"))?,
        imported: journal.stage_result(unit, &stage("import"))?,
        memberships: journal.stage_result(unit, &stage("memberships"))?,
        report: SinkSpec::users_report(run_dir, unit, index),
    })
}

/// `{tenant}` in a sink's target, replaced by the source tenant.
fn target_name(to: &str, unit: &str) -> String {
    to.replace("{tenant}", unit)
}

impl Ctx<'_> {
    async fn unit(&self, unit: String) -> UnitReport {
        let started = Instant::now();
        let mut held_by = None;
        // A run that writes snapshots works on a tenant under its lease in the (first)
        // snapshot store, as `backup` does, so that two workers (`run --shard`, or a
        // backup at the same time) never take one tenant at once.
        let result = match self.lease_store() {
            Ok(Some(store)) => {
                let worker = format!(
                    "{} run {}",
                    crate::leased::worker_name(None),
                    self.run_dir.display()
                );
                match crate::leased::under_lease(
                    &store,
                    &unit,
                    &worker,
                    crate::leased::DEFAULT_TTL,
                    self.stages(&unit),
                )
                .await
                {
                    Ok(crate::leased::Leased::Ran(result)) => result,
                    Ok(crate::leased::Leased::Held(body)) => {
                        let who = format!("{} until {}", body.worker, body.expires_at);
                        self.progress
                            .message(&format!("{unit}: skipped: {who} holds its lease"));
                        held_by = Some(who);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Ok(None) => self.stages(&unit).await,
            Err(e) => Err(e),
        };
        let stages = Journal::lock(&self.journal)
            .and_then(|j| j.stages())
            .map(|all| all.into_iter().filter(|s| s.unit == unit).collect())
            .unwrap_or_default();
        if let Err(e) = &result {
            self.progress.message(&format!("{unit}: FAILED: {e}"));
        }
        UnitReport {
            ok: result.is_ok(),
            error: result.err().map(|e| e.to_string()),
            held_by,
            unit,
            stages,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    /// The store a unit's lease is taken in: the first snapshot sink's, when the run
    /// reads tenants (a snapshot source has no tenant to lease).
    fn lease_store(&self) -> Result<Option<Store>, PipelineError> {
        if self.spec.spec.source.snapshot.is_some() {
            return Ok(None);
        }
        let dir = self.spec.spec.sinks.iter().find_map(|s| match s {
            SinkSpec::Snapshot { dir, .. } => Some(dir),
            _ => None,
        });
        Ok(match dir {
            Some(dir) => Some(Store::open(&dir.to_string_lossy())?),
            None => None,
        })
    }

    /// What a sink of `unit` reads: the snapshot the run read or wrote (with its key
    /// when it is the spec's encrypted source), else the tenant.
    fn reads_from<'a>(
        &'a self,
        unit: &str,
        snapshot: &'a Option<(Fetched, Option<Decryption>)>,
    ) -> Result<From<'a>, PipelineError> {
        if let Some(files) = &self.spec.spec.source.files {
            return Ok(From::Files(files, &self.keywords));
        }
        Ok(match snapshot {
            Some((fetched, key)) => From::Snapshot(fetched.path(), key.clone()),
            None => From::Tenant(self.config.tenant(unit)?),
        })
    }

    /// The name users' organization and project default to: the source tenant, or the
    /// tenant a source snapshot was taken of.
    fn source_name(&self, unit: &str, snapshot: &Option<(Fetched, Option<Decryption>)>) -> String {
        if self.spec.spec.source.snapshot.is_none() {
            return unit.to_owned();
        }
        snapshot
            .as_ref()
            .and_then(|(f, key)| {
                idferry_archive::SnapshotReader::new(f.path(), key.clone())
                    .manifest()
                    .ok()
            })
            .map(|m| m.tenant)
            .unwrap_or_else(|| unit.to_owned())
    }

    /// Runs `f` as stage `stage` of `unit` unless the journal has it done (then what it
    /// did then comes back, read as the same type).
    async fn stage<T, F, Fut>(&self, unit: &str, stage: &str, f: F) -> Result<T, PipelineError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, PipelineError>>,
    {
        if let Some(done) = Journal::lock(&self.journal)?.stage_result::<T>(unit, stage)? {
            return Ok(done);
        }
        Journal::lock(&self.journal)?.stage_started(unit, stage)?;
        self.progress.message(&format!("{unit}: {stage}"));
        match f().await {
            Ok(counts) => {
                Journal::lock(&self.journal)?.stage_done(unit, stage, &counts)?;
                Ok(counts)
            }
            Err(e) => {
                Journal::lock(&self.journal)?.stage_failed(unit, stage, &e.to_string())?;
                Err(e)
            }
        }
    }

    async fn stages(&self, unit: &str) -> Result<(), PipelineError> {
        let spec = &self.spec.spec;
        // Later sinks read the snapshot an earlier sink wrote, so that they all see the
        // same moment of the tenant.
        // A snapshot in object storage is downloaded once, and deleted after.
        let mut snapshot: Option<(Fetched, Option<Decryption>)> = match &spec.source.snapshot {
            Some(location) => Some((
                stored::fetch_snapshot(location).await?,
                spec.source.decryption()?,
            )),
            None => None,
        };
        let unit_dir = self.run_dir.join(unit);
        for (i, sink) in spec.sinks.iter().enumerate() {
            let stage = sink.stage(i);
            let progress = Prefixed {
                inner: self.progress.as_ref(),
                prefix: format!("{unit} {stage}"),
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
                                    unavailable: summary.unavailable.clone(),
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
                    // Written by this run, unencrypted.
                    snapshot = Some((stored::fetch_snapshot(&done.path).await?, None));
                }
                SinkSpec::Restore {
                    to,
                    kinds,
                    values,
                    allow_delete,
                } => {
                    let target = self.config.tenant(&target_name(to, unit))?;
                    self.stage(unit, &stage, || async {
                        let job = RestoreJob {
                            from: self.reads_from(unit, &snapshot)?,
                            mappings: self.mappings,
                            target,
                            kinds,
                            values: values.as_deref(),
                            allow_delete: *allow_delete,
                            journal: &self.journal,
                            unit,
                            progress: &progress,
                        };
                        platforms::of(target)?.restore(job).await
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
                    slots,
                    carry_social_users,
                } => {
                    let target = self.config.tenant(&target_name(to, unit))?;
                    let platform = platforms::of(target)?;
                    let source = || -> Result<Box<dyn platforms::UsersSource>, PipelineError> {
                        platforms::users_source(self.reads_from(unit, &snapshot)?, target)
                    };
                    let job = UsersJob {
                        source: &source,
                        source_name: self.source_name(unit, &snapshot),
                        mappings: self.mappings,
                        target,
                        connection,
                        hashes: hashes.as_deref(),
                        upsert: *upsert,
                        org: org.as_deref(),
                        project: project.as_deref(),
                        member_role,
                        slots: *slots,
                        carry_social_users: *carry_social_users,
                        // Stable across resumes: the jobs of this run and sink.
                        run_id: format!(
                            "idferry-{}-{}-{i}",
                            self.run_dir
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default(),
                            unit
                        ),
                        spool: unit_dir.join(format!("users-{i}.ndjson.zst")),
                        report: SinkSpec::users_report(&self.run_dir, unit, i),
                        journal: self.journal.clone(),
                        unit,
                        progress: &progress,
                    };
                    let extracted = self
                        .stage(unit, &SinkSpec::users_stage(i, "extract"), || {
                            platform.extract_users(&job)
                        })
                        .await?;
                    let import_stage = SinkSpec::users_stage(i, "import");
                    let imported = self
                        .stage(unit, &import_stage, || {
                            platform.import_users(&job, &import_stage)
                        })
                        .await?;
                    if *memberships {
                        self.stage(unit, &SinkSpec::users_stage(i, "memberships"), || {
                            platform.give_memberships(&job)
                        })
                        .await?;
                    }
                    // Users the extract could not shape are not migrated either.
                    let refused = imported.counts.failed + extracted.failed;
                    if refused > 0 {
                        return Err(PipelineError::UsersNotMigrated {
                            count: refused,
                            target: target.name.clone(),
                            report: job.report.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}
