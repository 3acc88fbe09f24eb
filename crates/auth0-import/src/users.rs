//! Migrating users: import-shaped users (see the `auth0-export-to-import` profile) go into
//! users-imports files under the size limit, as many jobs in flight as the tenant allows
//! (two on Auth0), each with an `external_id` naming the run and the file so that it is
//! recognised later. Jobs are polled as their own estimates suggest; their per-user
//! errors go to an error report (ndjson: the user as sent, hashes masked, and the API's
//! errors). Then users get their roles and organization memberships (and member roles)
//! in the target, by the target's ids.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use idferry_auth0::catalog;
use idferry_auth0::{Client, ExportField, ExportRequest, ImportRequest, Job};
use idferry_model::Progress;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::chunk::{Chunk, Chunker, DEFAULT_FILE_BYTES};
use crate::error::ImportError;
use crate::state::State;

/// How to import.
#[derive(Debug, Clone)]
pub struct UsersOptions {
    /// The target's database connection, by name.
    pub connection: String,
    /// Update users that exist (matched by email) instead of failing them.
    pub upsert: bool,
    /// Bytes per import file (at most the 512000 the API takes).
    pub file_bytes: usize,
    /// Import jobs in flight (the tenant refuses a third on Auth0).
    pub slots: usize,
    /// Names the run in every job's `external_id` (`<run>-<file number>`).
    pub run_id: String,
}

impl Default for UsersOptions {
    fn default() -> Self {
        Self {
            connection: "Username-Password-Authentication".into(),
            upsert: false,
            file_bytes: DEFAULT_FILE_BYTES,
            slots: 2,
            run_id: "idferry".into(),
        }
    }
}

/// Counts of a users import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersSummary {
    /// Users read.
    pub total: u64,
    /// Users created.
    pub inserted: u64,
    /// Existing users updated (with upsert).
    pub updated: u64,
    /// Users the API refused, or that could not be sent (see the report).
    pub failed: u64,
    /// Import jobs run.
    pub jobs: u64,
    /// Job status reads (at least one per job).
    pub status_checks: u64,
    /// Users an interrupted earlier attempt had imported already (found by the
    /// conflicts of a file sent again).
    pub already_present: u64,
}

/// Counts of one users-imports file (shared with the ZITADEL importer's batches).
pub use idferry_model::ChunkCounts;

pub use idferry_model::ChunkState;

/// Where a resumable import records each file before and after every side effect.
pub trait ChunkJournal: Send {
    /// What is known of file `chunk`.
    fn state(&mut self, chunk: u64) -> Result<ChunkState, ImportError>;
    /// File `chunk` is about to be sent with `external_id`.
    fn sending(&mut self, chunk: u64, external_id: &str) -> Result<(), ImportError>;
    /// File `chunk` was accepted as job `job_id`.
    fn submitted(&mut self, chunk: u64, job_id: &str) -> Result<(), ImportError>;
    /// File `chunk`'s job ended.
    fn done(&mut self, chunk: u64, counts: ChunkCounts) -> Result<(), ImportError>;
}

/// No journal: every file is new.
#[derive(Debug, Default)]
pub struct NoJournal;

impl ChunkJournal for NoJournal {
    fn state(&mut self, _: u64) -> Result<ChunkState, ImportError> {
        Ok(ChunkState::New)
    }
    fn sending(&mut self, _: u64, _: &str) -> Result<(), ImportError> {
        Ok(())
    }
    fn submitted(&mut self, _: u64, _: &str) -> Result<(), ImportError> {
        Ok(())
    }
    fn done(&mut self, _: u64, _: ChunkCounts) -> Result<(), ImportError> {
        Ok(())
    }
}

/// Error codes meaning "this user is there already".
const CONFLICTS: &[&str] = &["CONFLICT", "CONFLICT_EMAIL"];

/// Counts of the memberships given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipSummary {
    /// (role, user) assignments.
    pub role_users: u64,
    /// (organization, user) memberships.
    pub organization_members: u64,
    /// (organization, member, role) assignments.
    pub member_roles: u64,
    /// (user, permission) direct permissions.
    #[serde(default)]
    pub user_permissions: u64,
    /// Why direct permissions were not carried, when they were not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_unread: Option<String>,
    /// Assignments whose user was not imported (refused, or left out by a mapping): not
    /// attempted.
    pub not_imported: u64,
    /// Assignments that failed (see the report).
    pub failed: u64,
}

pub use idferry_model::report::Report;

/// Hash values masked, as the API masks them in its error answers.
pub fn mask_secrets(user: &Value) -> Value {
    let mut u = user.clone();
    const MASK: &str = "*****";
    if u.get("password_hash").is_some() {
        u["password_hash"] = json!(MASK);
    }
    if let Some(h) = u.pointer_mut("/custom_password_hash/hash/value") {
        *h = json!(MASK);
    }
    if let Some(Value::Array(factors)) = u.get_mut("mfa_factors") {
        for f in factors {
            if let Some(s) = f.pointer_mut("/totp/secret") {
                *s = json!(MASK);
            }
        }
    }
    u
}

/// The database connection's id in the target.
pub async fn connection_id(client: &Client, name: &str) -> Result<String, ImportError> {
    let kind = catalog::find("connections")
        .ok_or_else(|| ImportError::Usage("the catalog lacks connections".into()))?;
    let all = client.list_all(kind, &[]).await?;
    let found = all
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name));
    match found {
        Some(c) if c.get("strategy").and_then(Value::as_str) == Some("auth0") => Ok(c
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()),
        Some(_) => Err(ImportError::Usage(format!(
            "{}: connection {name:?} is not a database connection; users are imported into database connections (--connection)",
            client.tenant()
        ))),
        None => Err(ImportError::Usage(format!(
            "{}: no connection {name:?}; the database connections are: {}",
            client.tenant(),
            all.iter()
                .filter(|c| c.get("strategy").and_then(Value::as_str) == Some("auth0"))
                .filter_map(|c| c.get("name").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A user to import, with the id it had in the source (for its memberships).
#[derive(Debug, Clone)]
pub struct SourceUser {
    /// The source's user id (`auth0|abc`).
    pub source_id: Option<String>,
    /// The user in users-imports shape.
    pub user: Value,
}

/// How a job ended: with its outcome, or unknown to the tenant (a journaled job the
/// tenant has forgotten: jobs live 24 hours), its users to be sent again.
enum JobEnd {
    Ended(JobOutcome),
    Lost { chunk: u64, users: Vec<Value> },
}

/// What an import job came back with.
struct JobOutcome {
    chunk: u64,
    /// Sent again after an interrupted attempt: conflicts are users it had imported.
    in_doubt: bool,
    job: Job,
    status_checks: u64,
    users: Vec<Value>,
    errors: Vec<Value>,
}

/// Polls a job until it ends, at the pace its own estimate suggests, then reads its
/// per-user errors if it has any.
async fn run_job(
    client: Client,
    chunk: u64,
    in_doubt: bool,
    id: String,
    users: Vec<Value>,
) -> Result<JobEnd, ImportError> {
    // A file of ~1000 users takes the platform seconds; the emulator less. Start short.
    let mut pause = Duration::from_millis(200);
    let mut status_checks = 0;
    let job = loop {
        tokio::time::sleep(pause).await;
        let job = match client.job(&id).await {
            Ok(job) => job,
            Err(e) if e.status() == Some(404) => return Ok(JobEnd::Lost { chunk, users }),
            Err(e) => return Err(e.into()),
        };
        status_checks += 1;
        match job.status() {
            "completed" => break job,
            "failed" => {
                return Err(ImportError::Client(idferry_auth0::Error::Job {
                    tenant: client.tenant().to_owned(),
                    job: id,
                    message: format!("the import job failed: {}", job.0),
                }));
            }
            _ => {
                let left = job.0.get("time_left_seconds").and_then(Value::as_f64);
                pause = match left {
                    Some(s) => Duration::from_secs_f64(s.clamp(0.2, 10.0)),
                    None => (pause * 2).min(Duration::from_secs(5)),
                };
            }
        }
    };
    let errors = if job.summary("failed") > 0 {
        client.job_errors(&id).await?
    } else {
        Vec::new()
    };
    Ok(JobEnd::Ended(JobOutcome {
        chunk,
        in_doubt,
        job,
        status_checks,
        users,
        errors,
    }))
}

/// Import jobs of one run: started while slots are free, settled as they end.
struct Importer<'a, W: Write> {
    client: &'a Client,
    connection_id: String,
    options: &'a UsersOptions,
    summary: UsersSummary,
    in_flight: JoinSet<Result<JobEnd, ImportError>>,
    report: &'a mut Report<W>,
    journal: &'a mut dyn ChunkJournal,
    next_chunk: u64,
    progress: &'a dyn Progress,
}

impl<W: Write> Importer<'_, W> {
    /// Imports `chunk` (the next file), unless an earlier attempt did.
    async fn submit(&mut self, chunk: Chunk, users: Vec<Value>) -> Result<(), ImportError> {
        let n = self.next_chunk;
        self.next_chunk += 1;
        let state = self.journal.state(n)?;
        if let ChunkState::Done(c) = state {
            self.book(c);
            self.progress.advance("import users", chunk.users as u64);
            return Ok(());
        }
        while self.in_flight.len() >= self.options.slots.max(1) {
            self.settle_one().await?;
        }
        match state {
            ChunkState::Submitted { job, in_doubt } => {
                self.summary.jobs += 1;
                self.in_flight
                    .spawn(run_job(self.client.clone(), n, in_doubt, job, users));
            }
            ChunkState::New | ChunkState::Sending | ChunkState::Done(_) => {
                let in_doubt = state == ChunkState::Sending;
                self.start_job(n, chunk.bytes, users, in_doubt).await?;
            }
        }
        Ok(())
    }

    /// Sends file `n` as a new job, journaled before and after.
    async fn start_job(
        &mut self,
        n: u64,
        bytes: Vec<u8>,
        users: Vec<Value>,
        in_doubt: bool,
    ) -> Result<(), ImportError> {
        let external_id = format!("{}-{n:05}", self.options.run_id);
        self.journal.sending(n, &external_id)?;
        let job = self
            .client
            .create_import(&ImportRequest {
                users: Bytes::from(bytes),
                connection_id: self.connection_id.clone(),
                upsert: self.options.upsert,
                external_id: Some(external_id),
                send_completion_email: false,
            })
            .await?;
        self.journal.submitted(n, job.id())?;
        self.summary.jobs += 1;
        self.in_flight.spawn(run_job(
            self.client.clone(),
            n,
            in_doubt,
            job.id().to_owned(),
            users,
        ));
        Ok(())
    }

    fn book(&mut self, c: ChunkCounts) {
        self.summary.inserted += c.inserted;
        self.summary.updated += c.updated;
        self.summary.failed += c.failed;
        self.summary.already_present += c.already_present;
    }

    /// Waits for one job to end and books its counts and errors.
    async fn settle_one(&mut self) -> Result<(), ImportError> {
        let Some(joined) = self.in_flight.join_next().await else {
            return Ok(());
        };
        let outcome = match joined
            .map_err(|e| ImportError::Usage(format!("an import task failed: {e}")))??
        {
            JobEnd::Ended(outcome) => outcome,
            JobEnd::Lost { chunk, users } => {
                // The same users make the same file; what the lost job had imported
                // comes back as conflicts, counted as already there.
                let bytes =
                    serde_json::to_vec(&users).map_err(|e| ImportError::Usage(e.to_string()))?;
                return self.start_job(chunk, bytes, users, true).await;
            }
        };
        let mut counts = ChunkCounts {
            inserted: outcome.job.summary("inserted"),
            updated: outcome.job.summary("updated"),
            failed: outcome.job.summary("failed"),
            already_present: 0,
        };
        self.summary.status_checks += outcome.status_checks;
        let by_email: HashMap<String, &Value> = outcome
            .users
            .iter()
            .filter_map(|u| Some((u.get("email")?.as_str()?.to_lowercase(), u)))
            .collect();
        for e in &outcome.errors {
            let errors = e.get("errors").cloned().unwrap_or(Value::Null);
            let conflict = errors.as_array().is_some_and(|list| {
                !list.is_empty()
                    && list.iter().all(|x| {
                        x.get("code")
                            .and_then(Value::as_str)
                            .is_some_and(|c| CONFLICTS.contains(&c))
                    })
            });
            if outcome.in_doubt && conflict {
                // Sent again after an interruption: the first job had imported it.
                counts.failed = counts.failed.saturating_sub(1);
                counts.already_present += 1;
                continue;
            }
            let api_user = e.get("user").cloned().unwrap_or(Value::Null);
            let sent = api_user
                .get("email")
                .and_then(Value::as_str)
                .and_then(|m| by_email.get(&m.to_lowercase()))
                .map_or(api_user.clone(), |u| mask_secrets(u));
            self.report.write_line(&json!({
                "job": outcome.job.id(),
                "user": sent,
                "errors": errors,
            }))?;
        }
        self.journal.done(outcome.chunk, counts)?;
        self.book(counts);
        self.progress
            .advance("import users", outcome.users.len() as u64);
        Ok(())
    }
}

/// Imports `users` into `client`'s tenant. Returns the counts, and for every user sent
/// its source id -> email, to find it in the target afterwards.
///
/// With a journal, files an earlier attempt imported are skipped, a job it started is
/// waited for, and a file it was sending when it stopped is sent again, its conflicts
/// counted as users already there: no user is created twice.
pub async fn import_users<W: Write>(
    client: &Client,
    mut users: BoxStream<'_, Result<SourceUser, ImportError>>,
    options: &UsersOptions,
    report: &mut Report<W>,
    journal: &mut dyn ChunkJournal,
    progress: &dyn Progress,
) -> Result<(UsersSummary, HashMap<String, String>), ImportError> {
    let connection_id = connection_id(client, &options.connection).await?;
    progress.start("import users", None);
    let mut importer = Importer {
        client,
        connection_id,
        options,
        summary: UsersSummary::default(),
        in_flight: JoinSet::new(),
        report,
        journal,
        next_chunk: 0,
        progress,
    };
    let mut chunker = Chunker::new(options.file_bytes.min(crate::chunk::IMPORT_LIMIT));
    // The users of the file being filled, kept to name them in the error report.
    let mut held: Vec<Value> = Vec::new();
    let mut emails: HashMap<String, String> = HashMap::new();
    while let Some(u) = users.try_next().await? {
        importer.summary.total += 1;
        let text = serde_json::to_vec(&u.user).map_err(|e| ImportError::Usage(e.to_string()))?;
        match chunker.push(&text) {
            Err(e) => {
                importer.summary.failed += 1;
                importer.report.write_line(&json!({
                    "user": mask_secrets(&u.user),
                    "errors": [{"code": "TOO_LARGE", "message": e.to_string()}],
                }))?;
            }
            Ok(done) => {
                if let Some(chunk) = done {
                    let sent = std::mem::take(&mut held);
                    importer.submit(chunk, sent).await?;
                }
                if let (Some(id), Some(email)) =
                    (u.source_id, u.user.get("email").and_then(Value::as_str))
                {
                    emails.insert(id, email.to_lowercase());
                }
                held.push(u.user);
            }
        }
    }
    if let Some(chunk) = chunker.finish() {
        importer.submit(chunk, held).await?;
    }
    while !importer.in_flight.is_empty() {
        importer.settle_one().await?;
    }
    progress.finish("import users");
    Ok((importer.summary, emails))
}

pub use idferry_model::Memberships;

/// The memberships of a state read with [`crate::state::Selection::Memberships`].
pub fn memberships_of(state: &State) -> Memberships {
    {
        let names = |kind: &str| -> HashMap<String, String> {
            state
                .items(kind)
                .iter()
                .filter_map(|i| {
                    Some((
                        i.record.get("id")?.as_str()?.to_owned(),
                        i.record.get("name")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        };
        let role_names = names("roles");
        let org_names = names("organizations");
        let mut m = Memberships {
            permissions_unread: (!state.read_kind("user_permissions")).then(|| {
                "the source holds no direct permissions of users: they are read with one request per user by `idferry backup` (not from a live tenant); migrate from a snapshot to carry them".to_owned()
            }),
            ..Memberships::default()
        };
        for i in state.items("user_permissions") {
            let (Some(user), Some(api), Some(name)) = (
                i.parent.first(),
                i.record
                    .get("resource_server_identifier")
                    .and_then(Value::as_str),
                i.record.get("permission_name").and_then(Value::as_str),
            ) else {
                continue;
            };
            m.permissions
                .entry(user.clone())
                .or_default()
                .push((api.to_owned(), name.to_owned()));
        }
        for i in state.items("role_users") {
            let (Some(role), Some(user)) = (
                i.parent.first().and_then(|r| role_names.get(r)),
                i.record.get("user_id").and_then(Value::as_str),
            ) else {
                continue;
            };
            m.roles
                .entry(role.clone())
                .or_default()
                .push(user.to_owned());
        }
        for i in state.items("organization_members") {
            let (Some(org), Some(user)) = (
                i.parent.first().and_then(|o| org_names.get(o)),
                i.record.get("user_id").and_then(Value::as_str),
            ) else {
                continue;
            };
            let roles = i
                .record
                .get("roles")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|r| r.get("name").and_then(Value::as_str).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            m.organizations
                .entry(org.clone())
                .or_default()
                .push((user.to_owned(), roles));
        }
        m
    }
}

/// Users given per role or membership request (well under the API's 1 MB body limit).
const MEMBERS_PER_REQUEST: usize = 500;

/// Membership writes sent at once.
const CONCURRENCY: usize = 4;

/// The target's ids of the users sent: `emails` maps a source user id to the email it
/// was imported with; the target's users are read by one export job and matched by email
/// (which also finds users an upsert matched).
pub async fn target_ids(
    client: &Client,
    emails: HashMap<String, String>,
    progress: &dyn Progress,
) -> Result<HashMap<String, String>, ImportError> {
    let job = client
        .create_export(&ExportRequest {
            fields: ["user_id", "email"]
                .iter()
                .map(|f| ExportField {
                    name: (*f).to_owned(),
                    export_as: None,
                })
                .collect(),
            ..ExportRequest::default()
        })
        .await?;
    client.wait_job(job.id(), progress).await?;
    let mut ids = HashMap::new();
    let mut records = client.export_records(job.id()).await?;
    while let Some(r) = records.try_next().await? {
        if let (Some(email), Some(id)) = (
            r.get("email").and_then(Value::as_str),
            r.get("user_id").and_then(Value::as_str),
        ) {
            ids.insert(email.to_lowercase(), id.to_owned());
        }
    }
    Ok(emails
        .into_iter()
        .filter_map(|(source, email)| Some((source, ids.get(&email)?.clone())))
        .collect())
}

/// Ids by name of a kind of the target (roles, organizations).
async fn ids_by_name(client: &Client, kind: &str) -> Result<HashMap<String, String>, ImportError> {
    let k = catalog::find(kind)
        .ok_or_else(|| ImportError::Usage(format!("the catalog lacks {kind}")))?;
    Ok(client
        .list_all(k, &[])
        .await?
        .iter()
        .filter_map(|r| {
            Some((
                r.get("name")?.as_str()?.to_owned(),
                r.get("id")?.as_str()?.to_owned(),
            ))
        })
        .collect())
}

/// One membership write.
struct Write1 {
    path: String,
    body: Value,
    what: &'static str,
    count: u64,
}

/// Gives the target's users their roles and memberships. `user_ids` maps a source
/// user id to the target's id.
pub async fn assign_memberships<W: Write>(
    client: &Client,
    memberships: &Memberships,
    user_ids: &HashMap<String, String>,
    report: &mut Report<W>,
    progress: &dyn Progress,
) -> Result<MembershipSummary, ImportError> {
    let mut summary = MembershipSummary {
        permissions_unread: memberships.permissions_unread.clone(),
        ..MembershipSummary::default()
    };
    let roles = ids_by_name(client, "roles").await?;
    let orgs = if memberships.organizations.is_empty() {
        HashMap::new()
    } else {
        ids_by_name(client, "organizations").await?
    };
    let mut writes = Vec::new();
    let absent = |what: &str, name: &str, n: usize, report: &mut Report<W>| {
        report.write_line(&json!({
            "membership": what,
            "name": name,
            "error": format!("{what} {name:?} is not in the target; restore the configuration first (idferry restore --kinds {what}s)"),
            "users": n,
        }))
    };
    for (role, users) in &memberships.roles {
        let Some(role_id) = roles.get(role) else {
            summary.failed += users.len() as u64;
            absent("role", role, users.len(), report)?;
            continue;
        };
        let targets: Vec<&String> = users.iter().filter_map(|u| user_ids.get(u)).collect();
        summary.not_imported += (users.len() - targets.len()) as u64;
        for batch in targets.chunks(MEMBERS_PER_REQUEST) {
            writes.push(Write1 {
                path: format!("/roles/{}/users", segment(role_id)),
                body: json!({ "users": batch }),
                what: "role_users",
                count: batch.len() as u64,
            });
        }
    }
    for (org, members) in &memberships.organizations {
        let Some(org_id) = orgs.get(org) else {
            summary.failed += members.len() as u64;
            absent("organization", org, members.len(), report)?;
            continue;
        };
        let targets: Vec<(&String, &Vec<String>)> = members
            .iter()
            .filter_map(|(u, r)| Some((user_ids.get(u)?, r)))
            .collect();
        summary.not_imported += (members.len() - targets.len()) as u64;
        for batch in targets.chunks(MEMBERS_PER_REQUEST) {
            let ids: Vec<&String> = batch.iter().map(|(u, _)| *u).collect();
            writes.push(Write1 {
                path: format!("/organizations/{}/members", segment(org_id)),
                body: json!({ "members": ids }),
                what: "organization_members",
                count: ids.len() as u64,
            });
        }
        for (user, member_roles) in targets {
            let ids: Vec<&String> = member_roles.iter().filter_map(|r| roles.get(r)).collect();
            if ids.len() < member_roles.len() {
                summary.failed += (member_roles.len() - ids.len()) as u64;
                report.write_line(&json!({"membership": "member_roles", "organization": org, "user_id": user,
                    "error": "some of the member's roles are not in the target; restore roles first"}))?;
            }
            if ids.is_empty() {
                continue;
            }
            writes.push(Write1 {
                path: format!(
                    "/organizations/{}/members/{}/roles",
                    segment(org_id),
                    segment(user)
                ),
                body: json!({ "roles": ids }),
                what: "member_roles",
                count: ids.len() as u64,
            });
        }
    }
    for (user, permissions) in &memberships.permissions {
        let Some(target) = user_ids.get(user) else {
            summary.not_imported += permissions.len() as u64;
            continue;
        };
        let body: Vec<Value> = permissions
            .iter()
            .map(|(api, name)| json!({"resource_server_identifier": api, "permission_name": name}))
            .collect();
        writes.push(Write1 {
            path: format!("/users/{}/permissions", segment(target)),
            body: json!({ "permissions": body }),
            what: "user_permissions",
            count: body.len() as u64,
        });
    }
    // Members before their member roles: organization writes are ordered by kind.
    writes.sort_by_key(|w| match w.what {
        "role_users" => 0,
        "organization_members" => 1,
        "member_roles" => 2,
        _ => 3,
    });
    progress.start("memberships", Some(writes.len() as u64));
    for what in [
        "role_users",
        "organization_members",
        "member_roles",
        "user_permissions",
    ] {
        let batch: Vec<&Write1> = writes.iter().filter(|w| w.what == what).collect();
        let results: Vec<(&Write1, Result<(), String>)> = stream::iter(batch)
            .map(|w| async move {
                let r = client
                    .post(&w.path, w.body.clone())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                (w, r)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (w, r) in results {
            progress.advance("memberships", 1);
            match r {
                Ok(()) => match w.what {
                    "role_users" => summary.role_users += w.count,
                    "organization_members" => summary.organization_members += w.count,
                    "member_roles" => summary.member_roles += w.count,
                    _ => summary.user_permissions += w.count,
                },
                Err(error) => {
                    summary.failed += w.count;
                    report.write_line(&json!({"membership": w.what, "request": w.path, "body": w.body, "error": error}))?;
                }
            }
        }
    }
    progress.finish("memberships");
    Ok(summary)
}

/// An id as one path segment.
fn segment(id: &str) -> String {
    idferry_auth0::Endpoint {
        method: idferry_auth0::Method::Post,
        path: "{id}",
    }
    .fill(&[id])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_hashes_like_the_api() {
        let u = json!({"email": "a@x", "password_hash": "$2b$10$abc", "custom_password_hash": {"algorithm": "md5", "hash": {"value": "x", "encoding": "hex"}}});
        let m = mask_secrets(&u);
        assert_eq!(m["password_hash"], "*****");
        assert_eq!(m["custom_password_hash"]["hash"]["value"], "*****");
        assert_eq!(m["custom_password_hash"]["algorithm"], "md5");
        assert_eq!(m["email"], "a@x");
    }

    #[test]
    fn memberships_come_by_names() {
        let mut state = State::default();
        let push = |state: &mut State, kind: &str, parent: &[&str], record: Value| {
            state.push(
                catalog::find(kind).unwrap(),
                crate::state::Item {
                    parent: parent.iter().map(|p| (*p).to_owned()).collect(),
                    key: None,
                    record,
                },
            );
        };
        push(
            &mut state,
            "roles",
            &[],
            json!({"id": "rol_1", "name": "admin"}),
        );
        push(
            &mut state,
            "organizations",
            &[],
            json!({"id": "org_1", "name": "acme"}),
        );
        push(
            &mut state,
            "role_users",
            &["rol_1"],
            json!({"user_id": "auth0|u1", "email": "a@x"}),
        );
        push(
            &mut state,
            "organization_members",
            &["org_1"],
            json!({"user_id": "auth0|u1", "roles": [{"id": "rol_1", "name": "admin"}]}),
        );
        let m = memberships_of(&state);
        assert_eq!(m.roles["admin"], vec!["auth0|u1"]);
        assert_eq!(
            m.organizations["acme"],
            vec![("auth0|u1".to_owned(), vec!["admin".to_owned()])]
        );
    }
}
