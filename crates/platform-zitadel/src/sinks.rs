//! Sinks whose target is a ZITADEL instance. Users: the same three journaled steps as
//! into Auth0 (extract to a spool, import batch by batch, then memberships), with the
//! `auth0-to-zitadel` profile and ZITADEL's users importer (`idferry_zitadel::users`).
//! Configuration: a ZITADEL snapshot's or instance's records through the mappings, then
//! a restore plan applied.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use idferry_model::ChunkState;
use idferry_model::Progress;
use idferry_model::report::Report;
use idferry_platform_auth0::hashes::HashFile;
use idferry_transform::Mapping;
use idferry_transform::rules::apply_all;
use idferry_zitadel::users::{
    self as zusers, AssignOptions, BatchJournal, BatchState, Counts, ImportOptions, SourceUser,
};
use serde_json::{Value, json};

use idferry_platform::UsersSource;
use idferry_platform::error::{ObjectFailure, OrPlatform, PipelineError};
use idferry_platform::journal::{Journal, UnitChunks};
use idferry_platform::results::{Extracted, Restored};
use idferry_platform::sinks::Shaped;

/// The profile users go through after the pipeline's mappings.
pub const PROFILE: &str = "auth0-to-zitadel";

/// Users per journaled batch.
const BATCH: usize = 250;

/// What a users sink into ZITADEL takes.
pub struct ZitadelSink<'a> {
    /// The target instance.
    pub target: &'a idferry_zitadel::Client,
    /// The organization users are created in (created when missing).
    pub org: String,
    /// The project holding the source's roles.
    pub project: String,
    /// The member role given to organization members.
    pub member_role: String,
    /// Requests in flight.
    pub in_flight: usize,
    /// Update users that exist instead of reporting them.
    pub upsert: bool,
    /// The spool file of the extract step.
    pub spool: PathBuf,
    /// The report (refusals and what is not carried).
    pub report: PathBuf,
    /// The password-hash export: hashes are read from it when users are sent, never
    /// written into the spool.
    pub hashes: Option<PathBuf>,
}

fn io(what: String) -> impl Fn(std::io::Error) -> PipelineError {
    move |source| PipelineError::Io {
        what: what.clone(),
        source,
    }
}

/// An Auth0 user (`user_id` and email as exported) through `mappings`, then `profile`
/// (the `auth0-to-zitadel` profile), shaped for ZITADEL with its hash from `hashes`;
/// `None` when a filter leaves it out, an error saying why it cannot be created.
pub fn shape_user(
    mappings: &[Mapping],
    profile: &Mapping,
    hashes: Option<&HashFile>,
    mut user: Value,
) -> Result<Option<zusers::Shaped>, String> {
    let hash = hashes.and_then(|h| h.find(&user)).map(str::to_owned);
    for m in mappings.iter().chain([profile]) {
        if !apply_all(m.rules_for("users"), &mut user).map_err(|e| e.to_string())? {
            return Ok(None);
        }
    }
    zusers::shape(&user, hash.as_deref()).map(Some)
}

/// Reads the source's users through `mappings`, the profile and `hashes`, into the
/// spool (ndjson.zst of [`SourceUser`], written aside and renamed). The report starts
/// with the users that cannot be shaped or share a username with an earlier one
/// (Auth0 keeps unlinked accounts with the same email; ZITADEL takes one), and, per
/// user, what is not carried.
pub async fn extract(
    source: &dyn UsersSource,
    mappings: &[Mapping],
    hashes: Option<&HashFile>,
    spool: &Path,
    report: &Path,
    progress: &dyn Progress,
) -> Result<Extracted, PipelineError> {
    let profile = idferry_transform::profiles::find(crate::PROFILES, PROFILE)?;
    // The report starts here (a rerun of this step starts it again); later steps add.
    let report = Report::new(idferry_platform::sinks::open_report(report, true)?);
    let mut usernames: HashMap<String, String> = HashMap::new();
    idferry_platform::sinks::extract(source, spool, report, progress, |user| {
        let source_id = user
            .get("user_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let source_email = user.get("email").and_then(Value::as_str).map(str::to_owned);
        let shaped = shape_user(mappings, &profile, hashes, user);
        let shaped = shaped.and_then(|s| match s {
            Some(s) => match usernames.get(&s.username().to_lowercase()) {
                Some(first) => Err(format!(
                    "DUPLICATE: username {} is already {first}'s (accounts not linked at the source); not created",
                    s.username()
                )),
                None => {
                    usernames.insert(s.username().to_lowercase(), source_id.clone());
                    Ok(Some(s))
                }
            },
            None => Ok(None),
        });
        match shaped {
            Ok(Some(mut shaped)) => {
                let with_hash = shaped.body.pointer("/human/hashedPassword").is_some();
                let note = (!shaped.not_carried.is_empty()).then(|| {
                    json!({"source_id": source_id, "username": shaped.username(),
                           "not_carried": shaped.not_carried})
                });
                let blocked = shaped.deactivate;
                // The spool never holds a hash: the import reads it from the file again.
                if let Some(human) = shaped.body.get_mut("human").and_then(Value::as_object_mut) {
                    human.remove("hashedPassword");
                }
                Shaped::Keep {
                    line: SourceUser {
                        source_id,
                        user: shaped,
                        source_email,
                    },
                    note,
                    with_hash,
                    blocked,
                }
            }
            Ok(None) => Shaped::Filtered,
            Err(message) => Shaped::Failed(
                json!({"source_id": source_id, "errors": [{"code": "MAPPING", "message": message}]}),
            ),
        }
    })
    .await
}

/// The spooled users, in order.
fn read_spool(spool: &Path) -> Result<Vec<SourceUser>, PipelineError> {
    idferry_platform::spool::read(spool)
}

/// The run journal's chunk rows, as batches of a ZITADEL import.
struct Batches(UnitChunks);

impl BatchJournal for Batches {
    fn state(&mut self, n: u64) -> idferry_zitadel::Result<BatchState> {
        let state = self.0.state(n).map_err(journal_error)?;
        Ok(match state {
            ChunkState::New => BatchState::New,
            ChunkState::Done(c) => BatchState::Done(c),
            ChunkState::Sending | ChunkState::Submitted { .. } => BatchState::Sent,
        })
    }

    fn sending(&mut self, n: u64) -> idferry_zitadel::Result<()> {
        self.0
            .sending(n, &format!("batch-{n}"))
            .map_err(journal_error)
    }

    fn done(&mut self, n: u64, counts: Counts) -> idferry_zitadel::Result<()> {
        self.0.done(n, counts).map_err(journal_error)
    }
}

fn journal_error(e: PipelineError) -> idferry_zitadel::Error {
    idferry_zitadel::Error::Sink {
        kind: "run journal".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Creates the spooled users in the sink's organization, batch by batch, journaled.
pub async fn import(
    sink: &ZitadelSink<'_>,
    journal: Arc<Mutex<Journal>>,
    unit: &str,
    stage: &str,
    progress: &dyn Progress,
) -> Result<zusers::Summary, PipelineError> {
    let mut users = read_spool(&sink.spool)?;
    if let Some(file) = &sink.hashes {
        let hashes = HashFile::open(file)?;
        for u in &mut users {
            // Found as at extract: by the source's user id, else by its email there.
            let key = json!({"user_id": u.source_id, "email": u.source_email});
            if let Some(hash) = hashes.find(&key) {
                zusers::set_hash(&mut u.user, hash);
            }
        }
    }
    let org_id = zusers::ensure_org(sink.target, &sink.org)
        .await
        .or_platform()?;
    let mut report = idferry_platform::sinks::append(&sink.report)?;
    let mut chunks = Batches(UnitChunks {
        journal,
        unit: unit.to_owned(),
        stage: stage.to_owned(),
    });
    let options = ImportOptions {
        org_id,
        batch: BATCH,
        in_flight: sink.in_flight,
        upsert: sink.upsert,
    };
    let summary = zusers::import(
        sink.target,
        &users,
        &options,
        &mut chunks,
        &mut report,
        progress,
    )
    .await
    .or_platform()?;
    report
        .flush()
        .map_err(io(format!("writing {}", sink.report.display())))?;
    Ok(summary)
}

/// Gives the imported users their roles and organization memberships.
pub async fn memberships(
    source: &dyn UsersSource,
    sink: &ZitadelSink<'_>,
    progress: &dyn Progress,
) -> Result<zusers::AssignSummary, PipelineError> {
    let usernames: HashMap<String, String> = read_spool(&sink.spool)?
        .into_iter()
        .map(|u| {
            let username = u.user.username();
            (u.source_id, username)
        })
        .collect();
    // The run's mappings are not applied to these (into Auth0 they are): as it was.
    let m = source.memberships(&[], progress).await?;
    let memberships = zusers::Memberships {
        roles: m.roles,
        organizations: m.organizations,
    };
    let options = AssignOptions {
        home_org: sink.org.clone(),
        project: sink.project.clone(),
        member_role: sink.member_role.clone(),
    };
    let mut report = idferry_platform::sinks::append(&sink.report)?;
    let summary = zusers::assign(
        sink.target,
        &memberships,
        &usernames,
        &options,
        &mut report,
        progress,
    )
    .await
    .or_platform()?;
    if summary.failed > 0 {
        return Err(PipelineError::MembershipsRefused {
            count: summary.failed,
            target: sink.target.instance().to_owned(),
            report: sink.report.clone(),
        });
    }
    Ok(summary)
}

/// Runs each kind's records (snapshot shape: scoped kinds' fields under `record.`)
/// through `mapping`; a filter rule leaves records out.
pub fn map_records(
    records: &mut HashMap<String, Vec<Value>>,
    mapping: &Mapping,
) -> Result<(), PipelineError> {
    for (kind, list) in records.iter_mut() {
        let mut kept = Vec::with_capacity(list.len());
        for mut record in list.drain(..) {
            if apply_all(mapping.rules_for(kind), &mut record).map_err(|e| {
                PipelineError::MappingFailed {
                    kind: kind.clone(),
                    message: e.to_string(),
                }
            })? {
                kept.push(record);
            }
        }
        *list = kept;
    }
    Ok(())
}

/// Restores ZITADEL `records` (through `mappings`) into `target`: planned, then applied
/// without asking (a pipeline runs unattended). Write-only values come from `values`;
/// an object lacking one, or a failed step, fails the stage with what to do.
pub async fn restore(
    mut records: HashMap<String, Vec<Value>>,
    mappings: &[Mapping],
    target: &idferry_zitadel::Client,
    kinds: &[String],
    values: Option<&Path>,
    allow_delete: bool,
) -> Result<Restored, PipelineError> {
    use idferry_zitadel::restore::{self as zrestore, PlanOptions};
    for m in mappings {
        map_records(&mut records, m)?;
    }
    let values = match values {
        Some(file) => idferry_model::Values::load(file).or_platform()?,
        None => idferry_model::Values::none(),
    };
    let secrets = |kind: &str, name: &str, field: &str| values.text(kind, name, field);
    let current = zrestore::read_instance(target).await.or_platform()?;
    let options = PlanOptions {
        kinds: kinds.to_vec(),
        only: Vec::new(),
        allow_delete,
    };
    let plan = zrestore::plan(&records, &current, &secrets, &options);
    let report = zrestore::apply(target, &plan, &secrets).await;
    let mut failures: Vec<ObjectFailure> = plan
        .missing
        .iter()
        .map(|m| ObjectFailure {
            kind: m.kind.clone(),
            name: m.name.clone(),
            problem: format!(
                "lacks its write-only {}; add to the values file: {}",
                m.field, m.add
            ),
        })
        .collect();
    failures.extend(
        report
            .failed
            .iter()
            .map(|(kind, name, error)| ObjectFailure {
                kind: kind.clone(),
                name: name.clone(),
                problem: error.clone(),
            }),
    );
    if !failures.is_empty() {
        return Err(PipelineError::ObjectsNotRestored {
            target: target.instance().to_owned(),
            failures,
        });
    }
    // Every step was done (a failed one fails the stage above): counted by what it did.
    let mut restored = Restored {
        to: target.instance().to_owned(),
        created: 0,
        updated: 0,
        unchanged: plan.unchanged.iter().map(|(_, n)| n).sum::<usize>(),
        deleted: 0,
        failed: 0,
    };
    for step in &plan.steps {
        match step.action {
            zrestore::Action::Create => restored.created += 1,
            zrestore::Action::Delete => restored.deleted += 1,
            zrestore::Action::Update { .. }
            | zrestore::Action::SetSecret { .. }
            | zrestore::Action::Activate => restored.updated += 1,
        }
    }
    Ok(restored)
}
