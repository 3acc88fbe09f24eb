//! Auth0's side of a run's sinks: a configuration restored (plan, apply, the ids of what
//! was created journaled), and users in three journaled steps (extract through the
//! `auth0-export-to-import` profile into a spool, import in users-imports jobs with the
//! hashes merged as they are sent, then roles and organization memberships).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::hashes::HashFile;
use futures_util::stream::{self, StreamExt};
use idferry_auth0::Client;
use idferry_auth0_import::plan::{PlanOptions, plan};
use idferry_auth0_import::state::Selection;
use idferry_auth0_import::users::{
    ChunkJournal, ChunkState, MembershipSummary, Report, SourceUser, UsersOptions,
    assign_memberships, import_users, target_ids,
};
use idferry_auth0_import::{ImportError, apply};
use idferry_model::{ChunkCounts, Progress};
use idferry_transform::Mapping;
use idferry_transform::rules::{Rule, apply_all};
use serde_json::{Value, json};

use idferry_platform::UsersSource;

use crate::source::Source;
use idferry_platform::error::{ObjectFailure, OrPlatform, PipelineError};
use idferry_platform::journal::{Journal, UnitChunks};
use idferry_platform::results::{Extracted, Restored, UsersImported};
use idferry_platform::sinks::{Shaped, append, extract};

/// The profile users go through after the pipeline's mappings, into an Auth0 tenant.
pub const PROFILE: &str = "auth0-export-to-import";

/// What a restore sink takes.
pub struct RestoreSink<'a> {
    /// The target.
    pub target: &'a Client,
    /// Only these kinds.
    pub kinds: &'a [String],
    /// Values for write-only secrets.
    pub values: Option<&'a Path>,
    /// Delete what only the target has.
    pub allow_delete: bool,
}

/// Restores `source`'s configuration (through `mappings`) into the target.
pub async fn restore(
    source: &Source,
    mappings: &[Mapping],
    sink: &RestoreSink<'_>,
    journal: &Mutex<Journal>,
    unit: &str,
    progress: &dyn Progress,
) -> Result<Restored, PipelineError> {
    let mut from = source.state(Selection::Config, progress).await?;
    // What the source says of itself (files: keywords without a value, parts no kind
    // holds), as `idferry restore` puts it in its plan's notes.
    for warning in source.warnings()? {
        progress.message(&format!("warning: {warning}"));
    }
    for m in mappings {
        from.apply_mapping(m).or_platform()?;
    }
    let values = source.values(sink.values)?;
    let into = idferry_auth0_import::State::from_tenant(sink.target, Selection::Config, progress)
        .await
        .or_platform()?;
    let options = PlanOptions {
        kinds: sink.kinds.to_vec(),
        only: Vec::new(),
        allow_delete: sink.allow_delete,
    };
    let plan = plan(&from, &into, &values, &options);
    let report = apply(sink.target, &plan, progress).await;
    {
        let mut j = Journal::lock(journal)?;
        j.put_ids(
            unit,
            "configuration",
            report
                .created
                .iter()
                .map(|c| (format!("{} {}", c.kind, c.name), c.id.clone())),
        )?;
    }
    let sum = |f: fn(&idferry_auth0_import::apply::KindResult) -> usize| -> usize {
        report.kinds.values().map(f).sum()
    };
    let counts = Restored {
        to: sink.target.tenant().to_owned(),
        created: sum(|k| k.created),
        updated: sum(|k| k.updated),
        unchanged: sum(|k| k.unchanged),
        deleted: sum(|k| k.deleted),
        failed: sum(|k| k.failed),
    };
    if report.failed() > 0 {
        return Err(PipelineError::ObjectsNotRestored {
            target: sink.target.tenant().to_owned(),
            failures: report
                .failures
                .iter()
                .map(|f| ObjectFailure {
                    kind: f.kind.clone(),
                    name: f.name.clone(),
                    problem: f.error.clone(),
                })
                .collect(),
        });
    }
    Ok(counts)
}

/// The `auth0-export-to-import` profile, with the password hashes of `hashes` merged
/// in: what a user goes through after the pipeline's mappings. The hash file comes back
/// too, for its counts.
pub fn import_profile(
    hashes: Option<&Path>,
) -> Result<(Mapping, Option<Arc<HashFile>>), PipelineError> {
    let mut profile = idferry_transform::profiles::find(crate::PROFILES, PROFILE)?;
    let mut loaded = None;
    if let Some(file) = hashes {
        let file = Arc::new(HashFile::open(file)?);
        profile.push(
            "users",
            Rule::Merge {
                line: 0,
                with: file.clone(),
            },
        );
        loaded = Some(file);
    }
    Ok((profile, loaded))
}

/// Runs a user through `mappings`, then `profile`; None when a filter leaves it out.
pub fn shape_user(
    mappings: &[Mapping],
    profile: &Mapping,
    mut user: Value,
) -> Result<Option<SourceUser>, String> {
    let source_id = user
        .get("user_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    for m in mappings.iter().chain([profile]) {
        if !apply_all(m.rules_for("users"), &mut user).map_err(|e| e.to_string())? {
            return Ok(None);
        }
    }
    Ok(Some(SourceUser { source_id, user }))
}

/// The connection a user logs in with and its provider (`auth0` for a database), from
/// the export's first identity, or the user id's prefix when the export has none.
pub fn login(user: &Value) -> (Option<String>, String) {
    let identity = user.pointer("/identities/0");
    let connection = identity
        .and_then(|i| i.get("connection"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let provider = identity
        .and_then(|i| i.get("provider"))
        .and_then(Value::as_str)
        .or_else(|| {
            user.get("user_id")?
                .as_str()?
                .split_once('|')
                .map(|(p, _)| p)
        })
        .unwrap_or("auth0")
        .to_owned();
    (connection, provider)
}

/// The Auth0 users of `source` through the mappings and the import profile into the
/// spool; users a rule fails on are named in the report. A users import takes database
/// users only: users who log in with a social or enterprise connection are left out and
/// named in the report with that connection, or with `carry_social` carried as database
/// users and named in the report as such.
pub async fn extract_users(
    source: &dyn UsersSource,
    mappings: &[Mapping],
    profile: &Mapping,
    spool: &Path,
    report: &Path,
    carry_social: bool,
    progress: &dyn Progress,
) -> Result<Extracted, PipelineError> {
    extract(source, spool, Report::new(append(report)?), progress, |user| {
        let id = user.get("user_id").cloned();
        let (connection, provider) = login(&user);
        let social = provider != "auth0";
        if social && !carry_social {
            return Shaped::LeftOut(json!({"user_id": id, "left_out": {
                "connection": connection, "provider": provider,
                "reason": format!("logs in with {} ({provider}), not a database connection: a users import takes database users only (migrate users --carry-social-users carries such users as database users)",
                    connection.as_deref().unwrap_or(&provider)),
            }}));
        }
        match shape_user(mappings, profile, user) {
            Ok(Some(u)) => Shaped::Keep {
                note: social.then(|| json!({"user_id": id, "carried_as_database_user": {
                    "connection": connection, "provider": provider,
                    "reason": "--carry-social-users: imported into the database connection with a new auth0| id and no password; it logs in after a password reset or account linking",
                }})),
                line: json!({"source_id": u.source_id, "user": u.user}),
                with_hash: false,
                blocked: false,
            },
            Ok(None) => Shaped::Filtered,
            Err(message) => Shaped::Failed(
                json!({"user_id": id, "errors": [{"code": "MAPPING", "message": message}]}),
            ),
        }
    })
    .await
}

/// A spooled user, as written by [`extract_users`].
#[derive(serde::Deserialize)]
struct Spooled {
    source_id: Option<String>,
    user: Value,
}

/// The spooled users, in order.
fn read_spool(spool: &Path) -> Result<Vec<SourceUser>, PipelineError> {
    Ok(idferry_platform::spool::read::<Spooled>(spool)?
        .into_iter()
        .map(|s| SourceUser {
            source_id: s.source_id,
            user: s.user,
        })
        .collect())
}

/// What a users sink takes.
pub struct UsersSink<'a> {
    /// The target.
    pub target: &'a Client,
    /// Import options (the run id names the jobs).
    pub options: UsersOptions,
    /// The spool file of the extract step.
    pub spool: PathBuf,
    /// The error report.
    pub report: PathBuf,
    /// The password-hash export: hashes are merged when users are sent, never written
    /// into the spool.
    pub hashes: Option<PathBuf>,
}

/// Imports the spooled users, file by file, journaled.
pub async fn import_spool(
    sink: &UsersSink<'_>,
    journal: Arc<Mutex<Journal>>,
    unit: &str,
    stage: &str,
    progress: &dyn Progress,
) -> Result<UsersImported, PipelineError> {
    let mut users = read_spool(&sink.spool)?;
    let (mut merged, mut unsupported) = (0, 0);
    if let Some(file) = &sink.hashes {
        let hashes = HashFile::open(file)?;
        for u in &mut users {
            // The profile's last step (`import_profile`), on the spooled user it saw.
            hashes.merge_into(&mut u.user);
        }
        merged = hashes.merged.load(std::sync::atomic::Ordering::Relaxed);
        unsupported = hashes
            .unsupported
            .load(std::sync::atomic::Ordering::Relaxed);
    }
    let before = sink.target.stats();
    let mut report = Report::new(append(&sink.report)?);
    let mut chunks = Chunks(UnitChunks {
        journal,
        unit: unit.to_owned(),
        stage: stage.to_owned(),
    });
    let stream = stream::iter(users.into_iter().map(Ok::<_, ImportError>)).boxed();
    let (s, _) = import_users(
        sink.target,
        stream,
        &sink.options,
        &mut report,
        &mut chunks,
        progress,
    )
    .await
    .or_platform()?;
    report.finish().or_platform()?;
    let after = sink.target.stats();
    Ok(UsersImported {
        total: s.total,
        counts: ChunkCounts {
            inserted: s.inserted,
            updated: s.updated,
            failed: s.failed,
            already_present: s.already_present,
        },
        jobs: s.jobs,
        status_checks: s.status_checks,
        hashes_merged: merged,
        hashes_unsupported: unsupported,
        requests: after.requests - before.requests,
        rate_limited: after.rate_limited - before.rate_limited,
    })
}

/// Gives the imported users their roles and organizations in the target.
pub async fn memberships(
    source: &dyn UsersSource,
    mappings: &[Mapping],
    sink: &UsersSink<'_>,
    journal: &Mutex<Journal>,
    unit: &str,
    progress: &dyn Progress,
) -> Result<MembershipSummary, PipelineError> {
    let emails: HashMap<String, String> = read_spool(&sink.spool)?
        .into_iter()
        .filter_map(|u| Some((u.source_id?, u.user.get("email")?.as_str()?.to_lowercase())))
        .collect();
    // The users' mappings apply to what they are given too: an API identifier a staging
    // mapping rewrites is the staging API's in a direct permission as well.
    let memberships = source.memberships(mappings, progress).await?;
    let ids = target_ids(sink.target, emails, progress)
        .await
        .or_platform()?;
    {
        let mut j = Journal::lock(journal)?;
        j.put_ids(
            unit,
            "users",
            ids.iter().map(|(s, t)| (s.clone(), t.clone())),
        )?;
    }
    let mut report = Report::new(append(&sink.report)?);
    let m = assign_memberships(sink.target, &memberships, &ids, &mut report, progress)
        .await
        .or_platform()?;
    report.finish().or_platform()?;
    if m.failed > 0 {
        return Err(PipelineError::MembershipsRefused {
            count: m.failed,
            target: sink.target.tenant().to_owned(),
            report: sink.report.clone(),
        });
    }
    Ok(m)
}

/// The run journal's batch rows, as the users-imports files of an Auth0 import.
struct Chunks(UnitChunks);

impl ChunkJournal for Chunks {
    fn state(&mut self, chunk: u64) -> Result<ChunkState, ImportError> {
        self.0.state(chunk).map_err(journal_error)
    }

    fn sending(&mut self, chunk: u64, external_id: &str) -> Result<(), ImportError> {
        self.0.sending(chunk, external_id).map_err(journal_error)
    }

    fn submitted(&mut self, chunk: u64, job_id: &str) -> Result<(), ImportError> {
        self.0.submitted(chunk, job_id).map_err(journal_error)
    }

    fn done(&mut self, chunk: u64, counts: ChunkCounts) -> Result<(), ImportError> {
        self.0.done(chunk, counts).map_err(journal_error)
    }
}

fn journal_error(e: PipelineError) -> ImportError {
    ImportError::Usage(e.to_string())
}
