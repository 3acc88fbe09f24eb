//! Users into ZITADEL. [`shape`] turns a user in the shape the `auth0-to-zitadel`
//! mapping profile gives (ZITADEL's names, metadata as an object) into the v2 user
//! service's create body, with its password hash when ZITADEL can verify the format, and
//! names what it cannot carry. [`import`] creates users batch by batch through a
//! [`BatchJournal`], so that a run killed at any moment resumes without creating anyone
//! twice (ZITADEL refuses a second user with the same username: in a batch sent before,
//! that refusal means "already there"). [`assign`] then gives them their roles (user
//! grants on one project whose roles are the source's) and organization memberships.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use idferry_model::Progress;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Result;
use crate::client::Client;
use crate::error::Error;

/// Password-hash formats (Modular Crypt Format prefixes) ZITADEL verifies once an
/// administrator enables them (bcrypt is on by default), with their names.
pub const HASH_SCHEMES: &[(&str, &str)] = &[
    ("$2a$", "bcrypt"),
    ("$2b$", "bcrypt"),
    ("$2y$", "bcrypt"),
    ("$argon2id$", "argon2id"),
    ("$argon2i$", "argon2i"),
    ("$scrypt$", "scrypt"),
    ("$pbkdf2-sha256$", "pbkdf2-sha256"),
    ("$pbkdf2-sha512$", "pbkdf2-sha512"),
    ("$pbkdf2$", "pbkdf2-sha1"),
    ("$5$", "sha256-crypt"),
    ("$6$", "sha512-crypt"),
    ("$1$", "md5-crypt"),
];

/// Fields of a shaped record that [`shape`] reads; any other is reported as not carried.
const KNOWN: &[&str] = &[
    "user_id",
    "username",
    "human",
    "metadata",
    "blocked",
    "picture",
    "identities",
];

/// A user ready for ZITADEL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shaped {
    /// The user: `username` and a `human` object (profile, email, phone, metadata,
    /// hashedPassword), sent through [`add_human_body`].
    pub body: Value,
    /// Deactivate it once created (it was blocked at the source).
    #[serde(default)]
    pub deactivate: bool,
    /// What of the source user ZITADEL will not have, one line each.
    #[serde(default)]
    pub not_carried: Vec<String>,
}

impl Shaped {
    /// The username it is created with (ZITADEL uses the email when none is given).
    pub fn username(&self) -> String {
        self.body
            .get("username")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| text(&self.body, "/human/email/email"))
    }
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The name of `hash`'s format, for a report: its MCF scheme or a short prefix, never
/// the hash itself.
fn hash_format(hash: &str) -> String {
    if let Some(rest) = hash.strip_prefix('$') {
        return format!("${}$", rest.split('$').next().unwrap_or_default());
    }
    if let Some(end) = hash.strip_prefix('{').and_then(|r| r.find('}')) {
        return hash[..end + 2].to_owned();
    }
    format!("{} characters without a scheme", hash.len())
}

/// Turns `record` (the `auth0-to-zitadel` profile's output) and its password hash, if
/// any, into a create body. Missing given or family names are taken from the display
/// name, then the email (ZITADEL requires both). An error says why the user cannot be
/// created at all.
pub fn shape(record: &Value, hash: Option<&str>) -> std::result::Result<Shaped, String> {
    let mut human = record.get("human").cloned().unwrap_or(json!({}));
    let email = text(&human, "/email/email");
    if email.is_empty() {
        return Err("no email: ZITADEL's human users need one".into());
    }
    let mut not_carried = Vec::new();
    let profile = human
        .as_object_mut()
        .map(|h| h.entry("profile").or_insert(json!({})));
    if let Some(Value::Object(profile)) = profile {
        let display = profile
            .get("displayName")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_default();
        let local = email.split('@').next().unwrap_or_default().to_owned();
        let mut words = display.split_whitespace();
        let first = words.next().map(str::to_owned).unwrap_or(local.clone());
        let rest = words.collect::<Vec<_>>().join(" ");
        for (field, fallback) in [("givenName", first.clone()), ("familyName", rest)] {
            let empty = profile
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(|v| v.trim().is_empty());
            if empty {
                let value = if fallback.is_empty() {
                    &first
                } else {
                    &fallback
                };
                profile.insert(field.into(), json!(value));
            }
        }
    }
    if human.pointer("/phone/phone").is_some_and(Value::is_null)
        && let Some(h) = human.as_object_mut()
    {
        h.remove("phone");
    }
    let mut metadata = Vec::new();
    if let Some(Value::Object(entries)) = record.get("metadata") {
        for (key, value) in entries {
            // Strings as they are; anything else as its JSON text.
            let bytes = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            metadata.push(json!({"key": key, "value": BASE64.encode(bytes)}));
        }
    }
    if !metadata.is_empty() {
        human["metadata"] = json!(metadata);
    }
    match hash {
        Some(h) if HASH_SCHEMES.iter().any(|(prefix, _)| h.starts_with(prefix)) => {
            human["hashedPassword"] = json!({"hash": h, "changeRequired": false});
        }
        Some(h) => not_carried.push(format!(
            "password hash: format {} is not one ZITADEL verifies (the user must set a new password)",
            hash_format(h)
        )),
        None => {}
    }
    for identity in record
        .get("identities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let provider = text(identity, "/provider");
        if !provider.is_empty() && provider != "auth0" {
            not_carried.push(format!(
                "login through {provider}: link the user to a ZITADEL identity provider"
            ));
        }
    }
    if let Some(fields) = record.as_object() {
        for field in fields.keys().filter(|f| !KNOWN.contains(&f.as_str())) {
            not_carried.push(format!("{field}: no ZITADEL field"));
        }
    }
    let mut body = json!({ "human": human });
    let username = text(record, "/username");
    if !username.is_empty() {
        body["username"] = json!(username);
    }
    Ok(Shaped {
        body,
        deactivate: record.get("blocked").and_then(Value::as_bool) == Some(true),
        not_carried,
    })
}

/// Creates a human user (UserService AddHumanUser, the stable v2 create; the newer
/// CreateUser at `/v2/users/new` is not bound by v4.0 instances).
pub const ADD_HUMAN: &str = "/v2/users/human";

/// Creates a machine user in the organization of the `x-zitadel-orgid` header
/// (ManagementService AddMachineUser: v4.0 has no stable v2 replacement).
pub const ADD_MACHINE: &str = "/management/v1/users/machine";

/// The [`ADD_HUMAN`] body for a human of organization `org_id`: `human`'s fields
/// (profile, email, phone, metadata, hashedPassword) at the top, `username` when given.
pub fn add_human_body(org_id: &str, username: &str, human: &Value) -> Value {
    let mut body = serde_json::Map::new();
    body.insert("organization".into(), json!({ "orgId": org_id }));
    if !username.is_empty() {
        body.insert("username".into(), json!(username));
    }
    for field in ["profile", "email", "phone", "metadata", "hashedPassword"] {
        if let Some(v) = human.get(field).filter(|v| !v.is_null()) {
            body.insert(field.into(), v.clone());
        }
    }
    Value::Object(body)
}

/// Gives `user` the password hash `hash` when it is in a format ZITADEL verifies (what
/// [`shape`] does; a hash in another format was reported as not carried there).
pub fn set_hash(user: &mut Shaped, hash: &str) {
    if HASH_SCHEMES
        .iter()
        .any(|(prefix, _)| hash.starts_with(prefix))
        && let Some(human) = user.body.get_mut("human").and_then(Value::as_object_mut)
    {
        human.insert(
            "hashedPassword".into(),
            json!({"hash": hash, "changeRequired": false}),
        );
    }
}

/// A user to import: its id at the source and its shaped form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceUser {
    /// The source's user id.
    pub source_id: String,
    /// The user for ZITADEL.
    pub user: Shaped,
    /// The source's email, as the password-hash file was searched with (a mapping may
    /// have changed the one in `user`): the hash is found again by it when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_email: Option<String>,
}

/// Counts of a batch or of a whole import (the journals' shape, shared with Auth0's).
pub use idferry_model::ChunkCounts as Counts;

/// What an earlier attempt did with a batch (batches are cut the same way from the same
/// input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    /// Never sent.
    New,
    /// Sent, or being sent, when the attempt stopped: some users may exist.
    Sent,
    /// Finished, with these counts.
    Done(Counts),
}

/// Where a resumable import records each batch before and after sending it.
pub trait BatchJournal: Send {
    /// What is known of batch `n`.
    fn state(&mut self, n: u64) -> Result<BatchState>;
    /// Batch `n` is about to be sent.
    fn sending(&mut self, n: u64) -> Result<()>;
    /// Batch `n` is finished.
    fn done(&mut self, n: u64, counts: Counts) -> Result<()>;
}

/// No journal: every batch is new.
#[derive(Debug, Default)]
pub struct NoJournal;

impl BatchJournal for NoJournal {
    fn state(&mut self, _: u64) -> Result<BatchState> {
        Ok(BatchState::New)
    }
    fn sending(&mut self, _: u64) -> Result<()> {
        Ok(())
    }
    fn done(&mut self, _: u64, _: Counts) -> Result<()> {
        Ok(())
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The organization users are created in, by id.
    pub org_id: String,
    /// Users per journaled batch.
    pub batch: usize,
    /// Requests in flight (the throttle paces them).
    pub in_flight: usize,
    /// Update users that exist (matched by username) instead of reporting them.
    pub upsert: bool,
}

/// Counts of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Users given.
    pub total: u64,
    /// Per outcome.
    #[serde(flatten)]
    pub counts: Counts,
}

fn io_error(e: std::io::Error) -> Error {
    Error::Sink {
        kind: "users report".into(),
        source: e,
    }
}

fn report_line(report: &mut dyn Write, line: &Value) -> Result<()> {
    serde_json::to_writer(&mut *report, line).map_err(|e| io_error(e.into()))?;
    report.write_all(b"\n").map_err(io_error)
}

enum Outcome {
    Created,
    Updated,
    Existed,
    Refused(Error),
}

/// The user called `username`, if the instance has one.
async fn find_user(client: &Client, username: &str) -> Result<Option<Value>> {
    let filter = json!({"queries": [{"userNameQuery": {"userName": username}}]});
    let found: Vec<Value> = crate::list::search(client, "/v2/users", None, filter)
        .try_collect()
        .await?;
    Ok(found.into_iter().next())
}

/// Makes user `id` (`existing` as listed) what `user` says: profile, email, phone and
/// hash, metadata, and its state.
async fn update(client: &Client, org_id: &str, existing: &Value, user: &Shaped) -> Result<()> {
    let id = text(existing, "/userId");
    let human = user.body.get("human").cloned().unwrap_or(json!({}));
    let mut body = serde_json::Map::new();
    for field in ["profile", "email", "phone"] {
        if let Some(v) = human.get(field) {
            body.insert(field.into(), v.clone());
        }
    }
    if let Some(hash) = human.pointer("/hashedPassword/hash") {
        // SetPassword: the flag belongs to the hashed password.
        body.insert(
            "password".into(),
            json!({"hashedPassword": {"hash": hash, "changeRequired": false}}),
        );
    }
    client
        .put(&format!("/v2/users/human/{id}"), &Value::Object(body))
        .await?;
    if let Some(metadata) = human.get("metadata") {
        let path = format!("/management/v1/users/{id}/metadata/_bulk");
        let body = json!({ "metadata": metadata });
        client
            .send(Method::POST, &path, Some(org_id), Some(&body))
            .await?;
    }
    let active = text(existing, "/state") == "USER_STATE_ACTIVE";
    if active == user.deactivate {
        let verb = if user.deactivate {
            "deactivate"
        } else {
            "reactivate"
        };
        client
            .post(&format!("/v2/users/{id}/{verb}"), &json!({}))
            .await?;
    }
    Ok(())
}

/// Creates `user` in `org_id`; one that exists is updated with `upsert`, else left
/// (only made inactive if it should be: an interrupted send may have stopped between
/// its creation and its deactivation).
async fn create(client: &Client, org_id: &str, user: &Shaped, upsert: bool) -> Result<Outcome> {
    let human = user.body.get("human").cloned().unwrap_or(Value::Null);
    let body = add_human_body(org_id, &text(&user.body, "/username"), &human);
    let refused = |e: Error| -> Result<Outcome> {
        if refusal(&e) {
            Ok(Outcome::Refused(e))
        } else {
            Err(e)
        }
    };
    let id = match client.post(ADD_HUMAN, &body).await {
        Ok(answer) => text(&answer, "/userId"),
        Err(e) if e.status() == Some(409) => {
            let Some(existing) = find_user(client, &user.username()).await? else {
                return Ok(Outcome::Existed);
            };
            if upsert {
                return match update(client, org_id, &existing, user).await {
                    Ok(()) => Ok(Outcome::Updated),
                    Err(e) => refused(e),
                };
            }
            if user.deactivate && text(&existing, "/state") == "USER_STATE_ACTIVE" {
                let path = format!("/v2/users/{}/deactivate", text(&existing, "/userId"));
                client.post(&path, &json!({})).await?;
            }
            return Ok(Outcome::Existed);
        }
        Err(e) => return refused(e),
    };
    if user.deactivate
        && let Err(e) = client
            .post(&format!("/v2/users/{id}/deactivate"), &json!({}))
            .await
    {
        return refused(e);
    }
    Ok(Outcome::Created)
}

/// Creates `users` in `options.org_id`, batch by batch as the journal allows; users the
/// API refuses go to `report` (ndjson: source id, username, the error). A transport
/// failure stops the import (resume later). What is not carried of each user is the
/// caller's to report (it is known before sending).
pub async fn import(
    client: &Client,
    users: &[SourceUser],
    options: &ImportOptions,
    journal: &mut dyn BatchJournal,
    report: &mut dyn Write,
    progress: &dyn Progress,
) -> Result<Summary> {
    let mut summary = Summary {
        total: users.len() as u64,
        ..Summary::default()
    };
    progress.start("users", Some(users.len() as u64));
    for (n, batch) in users.chunks(options.batch.max(1)).enumerate() {
        let n = n as u64;
        let state = journal.state(n)?;
        if let BatchState::Done(counts) = state {
            summary.counts.add(counts);
            progress.advance("users", batch.len() as u64);
            continue;
        }
        let resent = state == BatchState::Sent;
        journal.sending(n)?;
        let outcomes: Vec<(usize, Result<Outcome>)> = stream::iter(batch.iter().enumerate())
            .map(|(i, u)| async move {
                (
                    i,
                    create(client, &options.org_id, &u.user, options.upsert).await,
                )
            })
            .buffer_unordered(options.in_flight.max(1))
            .collect()
            .await;
        let mut counts = Counts::default();
        let mut ordered: Vec<Option<Outcome>> = Vec::new();
        ordered.resize_with(batch.len(), || None);
        for (i, outcome) in outcomes {
            ordered[i] = Some(outcome?);
        }
        for (u, outcome) in batch.iter().zip(ordered) {
            let username = u.user.username();
            match outcome {
                Some(Outcome::Created) => counts.inserted += 1,
                Some(Outcome::Updated) => counts.updated += 1,
                Some(Outcome::Existed) if resent => counts.already_present += 1,
                Some(Outcome::Existed) => {
                    counts.failed += 1;
                    report_line(
                        report,
                        &json!({"source_id": u.source_id, "username": username,
                                "errors": [{"code": "ALREADY_EXISTS", "message": "a user with this username exists in the target already"}]}),
                    )?;
                }
                Some(Outcome::Refused(e)) => {
                    counts.failed += 1;
                    report_line(
                        report,
                        &json!({"source_id": u.source_id, "username": username,
                                "errors": [{"code": "REFUSED", "message": e.to_string()}]}),
                    )?;
                }
                None => {}
            }
        }
        report.flush().map_err(io_error)?;
        journal.done(n, counts)?;
        summary.counts.add(counts);
        progress.advance("users", batch.len() as u64);
    }
    progress.finish("users");
    Ok(summary)
}

/// Where roles and organization memberships go.
#[derive(Debug, Clone)]
pub struct AssignOptions {
    /// The organization users live in (and the project with the roles), by name.
    pub home_org: String,
    /// The project whose roles stand for the source's roles.
    pub project: String,
    /// The member role given to members of an organization.
    pub member_role: String,
}

/// Counts of [`assign`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignSummary {
    /// Users given a grant with their roles.
    pub grants: u64,
    /// Organization memberships given.
    pub members: u64,
    /// Users whose grant or membership was there already (a resumed run).
    pub already: u64,
    /// Grants or memberships refused (see the report).
    pub failed: u64,
    /// Memberships of users not in the target (refused or filtered out).
    pub not_imported: u64,
}

/// Source roles and organizations, by source user id (the Auth0 side's memberships).
#[derive(Debug, Clone, Default)]
pub struct Memberships {
    /// Role name -> source user ids.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Organization name -> (source user id, names of its member roles).
    pub organizations: BTreeMap<String, Vec<(String, Vec<String>)>>,
}

/// The ids of the instance's organizations, by name.
async fn org_ids(client: &Client) -> Result<HashMap<String, String>> {
    let orgs: Vec<Value> = crate::list::search(client, crate::catalog::ORG_SEARCH, None, json!({}))
        .try_collect()
        .await?;
    Ok(orgs
        .iter()
        .map(|o| (text(o, "/name"), text(o, "/id")))
        .collect())
}

/// The id of the organization named `name`, created when missing.
pub async fn ensure_org(client: &Client, name: &str) -> Result<String> {
    if let Some(id) = org_ids(client).await?.remove(name) {
        return Ok(id);
    }
    let answer = client
        .post(crate::catalog::ORG_ADD, &json!({ "name": name }))
        .await?;
    Ok(text(&answer, "/organizationId"))
}

/// Target user ids by username, for the users of organization `org_id`.
async fn user_ids(client: &Client, org_id: &str) -> Result<HashMap<String, String>> {
    let filter = json!({"queries": [{"organizationIdQuery": {"organizationId": org_id}}]});
    let users: Vec<Value> = crate::list::search(client, "/v2/users", None, filter)
        .try_collect()
        .await?;
    Ok(users
        .iter()
        .map(|u| (text(u, "/username"), text(u, "/userId")))
        .collect())
}

fn refusal(e: &Error) -> bool {
    e.status()
        .is_some_and(|s| (400..500).contains(&s) && s != 429)
}

/// Gives the imported users their roles and memberships: the home organization, its
/// project and the project's roles (one per source role) and the source's organizations
/// are created where missing (through a restore plan); each user with roles gets one
/// user grant on the project with them; each organization member becomes a member with
/// `member_role`. Source member roles are not carried (ZITADEL's member roles are its
/// own administrative roles) and are reported per user. Safe to run again.
pub async fn assign(
    client: &Client,
    memberships: &Memberships,
    usernames: &HashMap<String, String>,
    options: &AssignOptions,
    report: &mut dyn Write,
    progress: &dyn Progress,
) -> Result<AssignSummary> {
    let home = &options.home_org;
    let mut wanted: HashMap<String, Vec<Value>> = HashMap::new();
    wanted.insert(
        "organizations".into(),
        std::iter::once(home)
            .chain(memberships.organizations.keys())
            .map(|name| json!({ "name": name }))
            .collect(),
    );
    wanted.insert(
        "projects".into(),
        vec![json!({"parent": {"org": home}, "record": {"name": options.project}})],
    );
    wanted.insert(
        "project_roles".into(),
        memberships
            .roles
            .keys()
            .map(|role| {
                json!({"parent": {"org": home, "project": options.project},
                       "record": {"key": role, "displayName": role, "group": ""}})
            })
            .collect(),
    );
    // Only what is missing: existing roles keep their names and groups.
    let mut current = HashMap::new();
    for name in ["organizations", "projects", "project_roles"] {
        if let Some(kind) = crate::catalog::find(name) {
            current.insert(
                name.to_owned(),
                crate::export::read_kind(client, kind).await?,
            );
        }
    }
    let mut plan = crate::restore::plan(
        &wanted,
        &current,
        &|_, _, _| None,
        &crate::restore::PlanOptions::default(),
    );
    plan.steps
        .retain(|s| matches!(s.action, crate::restore::Action::Create));
    let applied = crate::restore::apply(client, &plan, &|_, _, _| None).await;
    if let Some((kind, name, why)) = applied.failed.first() {
        return Err(Error::Decode {
            instance: client.instance().to_owned(),
            method: "POST".into(),
            path: kind.clone(),
            message: format!("cannot create {kind} {name:?} for the memberships: {why}"),
        });
    }

    let orgs = org_ids(client).await?;
    let home_id = orgs.get(home).cloned().unwrap_or_default();
    let projects: Vec<Value> = crate::list::search(
        client,
        "/management/v1/projects/_search",
        Some(&home_id),
        json!({}),
    )
    .try_collect()
    .await?;
    let project_id = projects
        .iter()
        .find(|p| text(p, "/name") == options.project)
        .map(|p| text(p, "/id"))
        .unwrap_or_default();
    let ids = user_ids(client, &home_id).await?;
    let target = |source: &str| usernames.get(source).and_then(|u| ids.get(u)).cloned();

    let mut summary = AssignSummary::default();
    let mut roles_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (role, users) in &memberships.roles {
        for user in users {
            roles_of.entry(user).or_default().push(role.clone());
        }
    }
    let total = (roles_of.len()
        + memberships
            .organizations
            .values()
            .map(Vec::len)
            .sum::<usize>()) as u64;
    progress.start("memberships", Some(total));
    for (source, roles) in &roles_of {
        progress.advance("memberships", 1);
        let Some(user) = target(source) else {
            summary.not_imported += 1;
            continue;
        };
        let body = json!({"projectId": project_id, "roleKeys": roles});
        let path = format!("/management/v1/users/{user}/grants");
        match client
            .send(Method::POST, &path, Some(&home_id), Some(&body))
            .await
        {
            Ok(_) => summary.grants += 1,
            Err(e) if e.status() == Some(409) => {
                // There from an earlier run: make its roles the source's.
                let filter = json!({"queries": [{"userIdQuery": {"userId": user}}, {"projectIdQuery": {"projectId": project_id}}]});
                let grants: Vec<Value> = crate::list::search(
                    client,
                    "/management/v1/users/grants/_search",
                    Some(&home_id),
                    filter,
                )
                .try_collect()
                .await?;
                for grant in grants {
                    let path =
                        format!("/management/v1/users/{user}/grants/{}", text(&grant, "/id"));
                    client
                        .send(
                            Method::PUT,
                            &path,
                            Some(&home_id),
                            Some(&json!({"roleKeys": roles})),
                        )
                        .await?;
                }
                summary.already += 1;
            }
            Err(e) if refusal(&e) => {
                summary.failed += 1;
                report_line(
                    report,
                    &json!({"source_id": source, "errors": [{"code": "GRANT", "message": e.to_string()}]}),
                )?;
            }
            Err(e) => return Err(e),
        }
    }
    for (org, members) in &memberships.organizations {
        let org_id = orgs.get(org).cloned().unwrap_or_default();
        for (source, member_roles) in members {
            progress.advance("memberships", 1);
            let Some(user) = target(source) else {
                summary.not_imported += 1;
                continue;
            };
            let body = json!({"userId": user, "roles": [options.member_role]});
            match client
                .send(
                    Method::POST,
                    "/management/v1/orgs/me/members",
                    Some(&org_id),
                    Some(&body),
                )
                .await
            {
                Ok(_) => summary.members += 1,
                Err(e) if e.status() == Some(409) => summary.already += 1,
                Err(e) if refusal(&e) => {
                    summary.failed += 1;
                    report_line(
                        report,
                        &json!({"source_id": source, "errors": [{"code": "MEMBER", "message": format!("organization {org}: {e}")}]}),
                    )?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            if !member_roles.is_empty() {
                report_line(
                    report,
                    &json!({"source_id": source, "not_carried": [format!(
                        "member roles {} in organization {org}: ZITADEL's member roles are its own administrative roles",
                        member_roles.join(", "))]}),
                )?;
            }
        }
    }
    progress.finish("memberships");
    report.flush().map_err(io_error)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_record_becomes_a_create_body() {
        let record = json!({
            "user_id": "auth0|abc", "human": {
                "profile": {"displayName": "Ada King Lovelace"},
                "email": {"email": "ada@example.com", "isVerified": true},
                "phone": {"phone": null}},
            "metadata": {"user_metadata": {"lang": "fr"}, "plan": "pro"},
            "blocked": true, "picture": "https://x/p.png",
            "identities": [{"provider": "google-oauth2"}], "last_ip": "x"
        });
        let shaped = shape(
            &record,
            Some("$2b$04$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234"),
        )
        .unwrap();
        let human = &shaped.body["human"];
        assert_eq!(human["profile"]["givenName"], "Ada");
        assert_eq!(human["profile"]["familyName"], "King Lovelace");
        assert!(human.get("phone").is_none());
        assert_eq!(human["hashedPassword"]["changeRequired"], false);
        assert_eq!(
            human["metadata"],
            json!([{"key": "user_metadata", "value": BASE64.encode(r#"{"lang":"fr"}"#)},
                   {"key": "plan", "value": BASE64.encode("pro")}])
        );
        assert!(shaped.deactivate);
        assert_eq!(shaped.username(), "ada@example.com");
        assert_eq!(shaped.not_carried.len(), 2, "{:?}", shaped.not_carried);
        assert!(shaped.not_carried.iter().any(|n| n.starts_with("last_ip")));

        let ssha = shape(&record, Some("{SSHA}c2VjcmV0")).unwrap();
        assert!(ssha.body["human"].get("hashedPassword").is_none());
        assert!(ssha.not_carried[0].contains("format {SSHA}"));
        assert!(
            !ssha.not_carried[0].contains("c2VjcmV0"),
            "the hash is never written"
        );
        assert!(
            shape(&json!({"human": {}}), None)
                .unwrap_err()
                .contains("no email")
        );
    }
}
