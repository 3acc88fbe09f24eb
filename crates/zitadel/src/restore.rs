//! Restoring a ZITADEL snapshot's configuration into an instance: a plan first (what
//! each catalog kind needs, matched by natural key), then its application. Write-only
//! secrets (a Twilio token) come from the caller (a values file); an object whose secret
//! is missing is not written, and the plan says exactly which object lacks which value.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::Result;
use crate::catalog::{Kind, Scope, Write};
use crate::client::Client;
use crate::sms::{self, Twilio};
use futures_util::TryStreamExt;

/// What to do with one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Create it.
    Create,
    /// Change these fields.
    Update {
        /// The fields that differ.
        fields: Vec<String>,
    },
    /// Set its write-only secret (supplied, so it is sent; it cannot be compared).
    SetSecret {
        /// The field.
        field: String,
    },
    /// Make it the active one.
    Activate,
}

/// One step of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The kind.
    pub kind: String,
    /// The object's natural key.
    pub name: String,
    /// What to do.
    #[serde(flatten)]
    pub action: Action,
    /// Whether the step changes an object of the target that someone set (an existing
    /// object; settings still at their built-in values do not count).
    pub exists: bool,
    /// The object as the snapshot has it.
    #[serde(skip)]
    pub record: Value,
}

/// A write-only value the plan needs and was not given.
#[derive(Debug, Clone, Serialize)]
pub struct Missing {
    /// The kind.
    pub kind: String,
    /// The object.
    pub name: String,
    /// The field.
    pub field: String,
    /// The values-file line that supplies it.
    pub add: String,
}

/// A restore plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// Steps, in dependency order.
    pub steps: Vec<Step>,
    /// Objects left unwritten for want of a secret.
    pub missing: Vec<Missing>,
    /// Objects already as in the snapshot, per kind.
    pub unchanged: Vec<(String, usize)>,
}

impl Plan {
    /// Nothing to write and nothing missing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.missing.is_empty()
    }

    /// Whether it changes objects that exist (asks for consent).
    pub fn overwrites(&self) -> bool {
        self.steps.iter().any(|s| s.exists)
    }
}

/// Supplies write-only values: `(kind, object name, field)` -> the value.
pub type Secrets<'a> = &'a dyn Fn(&str, &str, &str) -> Option<String>;

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// An object of a snapshot or an instance: its name within the instance (parents'
/// names first: `acme/portal/admin`), the object, and the whole snapshot entry.
struct Object<'a> {
    name: String,
    record: &'a Value,
    entry: &'a Value,
}

/// The objects of `entries` (snapshot shape) by their names within the instance
/// (parents' names first: `acme/portal/admin`); with `ignore_ids`, without what each
/// instance sets for itself (ids, `details`, the kind's `server_set`), so that two
/// instances' objects compare equal when they are the same.
pub fn keyed(kind: &Kind, entries: &[Value], ignore_ids: bool) -> Vec<(String, Value)> {
    objects(kind, entries)
        .into_iter()
        .map(|o| {
            let mut record = o.record.clone();
            if ignore_ids {
                for field in crate::catalog::ALWAYS_SERVER_SET
                    .iter()
                    .chain(kind.server_set)
                {
                    idferry_model::record::remove_path(&mut record, field);
                }
            }
            (o.name, record)
        })
        .collect()
}

fn objects<'a>(kind: &Kind, entries: &'a [Value]) -> Vec<Object<'a>> {
    entries
        .iter()
        .map(|entry| {
            let record = match kind.scope {
                Scope::Instance => entry,
                Scope::Org | Scope::Project => entry.get("record").unwrap_or(&Value::Null),
            };
            let mut parts: Vec<String> = ["/parent/org", "/parent/project"]
                .iter()
                .map(|p| text(entry, p))
                .filter(|p| !p.is_empty())
                .collect();
            parts.push(kind.name_of(record));
            Object {
                name: parts.join("/"),
                record,
                entry,
            }
        })
        .collect()
}

/// The write-only field an object of `kind` needs to be created, if any, with the
/// values-file line that supplies it.
fn secret_field(kind: &Kind, record: &Value, name: &str) -> Option<(&'static str, String)> {
    match kind.name {
        "sms_providers" if record.get("twilio").is_some() => Some((
            "twilio.token",
            format!(
                "[sms_providers.\"{name}\"] twilio = {{ token = {{ env = \"TWILIO_TOKEN\" }} }}"
            ),
        )),
        // An SMTP server without a user takes no password.
        "smtp_providers" if !text(record, "/user").is_empty() => Some((
            "password",
            format!("[smtp_providers.\"{name}\"] password = {{ env = \"SMTP_PASSWORD\" }}"),
        )),
        _ => None,
    }
}

/// Whether one object of the kind is the active one (providers).
fn is_active(kind: &Kind, record: &Value) -> Option<bool> {
    matches!(kind.name, "sms_providers" | "smtp_providers")
        .then(|| text(record, "/state").ends_with("_ACTIVE"))
}

/// The fields of `source` and `current` (objects of `kind`) that differ.
fn differing(kind: &Kind, source: &Value, current: &Value) -> Vec<String> {
    if kind.compared == crate::catalog::ALL_FIELDS {
        let normalize = |record: &Value| {
            let mut record = record.clone();
            for field in crate::catalog::ALWAYS_SERVER_SET
                .iter()
                .chain(kind.server_set)
            {
                idferry_model::record::remove_path(&mut record, field);
            }
            record
        };
        let (a, b) = (normalize(source), normalize(current));
        let (Value::Object(a), Value::Object(b)) = (&a, &b) else {
            return if a == b {
                Vec::new()
            } else {
                vec!["(value)".into()]
            };
        };
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        return keys
            .into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .map(|k| k.to_owned())
            .collect();
    }
    kind.compared
        .iter()
        .filter(|f| text(source, f) != text(current, f))
        .map(|f| f.trim_start_matches('/').replace('/', "."))
        .collect()
}

/// Plans the restore of `source` (entries per catalog kind, in snapshot shape) into the
/// instance whose entries are `target`.
pub fn plan(
    source: &HashMap<String, Vec<Value>>,
    target: &HashMap<String, Vec<Value>>,
    secrets: Secrets<'_>,
) -> Plan {
    let mut out = Plan::default();
    let none = Vec::new();
    for kind in crate::catalog::CATALOG {
        let from = objects(kind, source.get(kind.name).unwrap_or(&none));
        let into_list = objects(kind, target.get(kind.name).unwrap_or(&none));
        let into: HashMap<&str, &Object<'_>> =
            into_list.iter().map(|o| (o.name.as_str(), o)).collect();
        let mut unchanged = 0;
        for object in &from {
            let existing = into.get(object.name.as_str());
            // Settings still at the instance's built-in values overwrite nothing anyone
            // chose.
            let customized = existing
                .is_some_and(|c| c.record.get("isDefault").and_then(Value::as_bool) != Some(true));
            let step = |action| Step {
                kind: kind.name.to_owned(),
                name: object.name.clone(),
                action,
                exists: customized,
                record: object.entry.clone(),
            };
            let mut steps = Vec::new();
            let secret = secret_field(kind, object.record, &object.name);
            let value = secret
                .as_ref()
                .and_then(|(field, _)| secrets(kind.name, &object.name, field));
            match existing {
                None => match (&secret, &value) {
                    (Some((field, add)), None) => {
                        out.missing.push(Missing {
                            kind: kind.name.to_owned(),
                            name: object.name.clone(),
                            field: (*field).to_owned(),
                            add: add.clone(),
                        });
                        continue;
                    }
                    _ => steps.push(step(Action::Create)),
                },
                Some(current) => {
                    let fields = differing(kind, object.record, current.record);
                    if !fields.is_empty() {
                        steps.push(step(Action::Update { fields }));
                    }
                    if let (Some((field, _)), Some(_)) = (&secret, &value) {
                        steps.push(step(Action::SetSecret {
                            field: (*field).to_owned(),
                        }));
                    }
                }
            }
            if is_active(kind, object.record) == Some(true)
                && existing.is_none_or(|c| is_active(kind, c.record) != Some(true))
            {
                steps.push(step(Action::Activate));
            }
            if steps.is_empty() {
                unchanged += 1;
            }
            out.steps.extend(steps);
        }
        out.unchanged.push((kind.name.to_owned(), unchanged));
    }
    out
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Steps done.
    pub done: usize,
    /// Steps that failed, with why.
    pub failed: Vec<(String, String, String)>,
}

fn twilio_of(record: &Value) -> Twilio {
    let verify = text(record, "/twilio/verifyServiceSid");
    Twilio {
        sid: text(record, "/twilio/sid"),
        sender_number: text(record, "/twilio/senderNumber"),
        description: text(record, "/description"),
        verify_service_sid: (!verify.is_empty()).then_some(verify),
    }
}

/// Ids of the target's objects, found by name as the steps need them (objects created
/// by earlier steps get new ids).
#[derive(Default)]
struct Ids {
    orgs: HashMap<String, String>,
    projects: HashMap<(String, String), String>,
    sms: HashMap<String, String>,
    /// (search path, organization id, name) -> id.
    objects: HashMap<(String, String, String), String>,
}

impl Ids {
    async fn org(&mut self, client: &Client, name: &str) -> Result<String> {
        if !self.orgs.contains_key(name) {
            let orgs: Vec<Value> =
                crate::list::search(client, "/admin/v1/orgs/_search", None, json!({}))
                    .try_collect()
                    .await?;
            self.orgs = orgs
                .iter()
                .map(|o| (text(o, "/name"), text(o, "/id")))
                .collect();
        }
        self.orgs
            .get(name)
            .cloned()
            .ok_or_else(|| missing_parent(client, "organization", name))
    }

    async fn project(
        &mut self,
        client: &Client,
        org: &str,
        name: &str,
    ) -> Result<(String, String)> {
        let org_id = self.org(client, org).await?;
        let key = (org.to_owned(), name.to_owned());
        if !self.projects.contains_key(&key) {
            let projects: Vec<Value> = crate::list::search(
                client,
                "/management/v1/projects/_search",
                Some(&org_id),
                json!({}),
            )
            .try_collect()
            .await?;
            for p in projects {
                self.projects
                    .insert((org.to_owned(), text(&p, "/name")), text(&p, "/id"));
            }
        }
        let id = self
            .projects
            .get(&key)
            .cloned()
            .ok_or_else(|| missing_parent(client, "project", &format!("{org}/{name}")))?;
        Ok((org_id, id))
    }
}

impl Ids {
    /// The id of the user called `username` (anywhere in the instance).
    async fn user(&mut self, client: &Client, username: &str) -> Result<String> {
        let key = ("/v2/users".to_owned(), String::new(), username.to_owned());
        if let Some(id) = self.objects.get(&key) {
            return Ok(id.clone());
        }
        let filter = json!({"queries": [{"userNameQuery": {"userName": username}}]});
        let found: Vec<Value> = crate::list::search(client, "/v2/users", None, filter)
            .try_collect()
            .await?;
        let id = found
            .first()
            .map(|u| text(u, "/userId"))
            .ok_or_else(|| missing_parent(client, "user", username))?;
        self.objects.insert(key, id.clone());
        Ok(id)
    }

    /// The id of the object called `name` (by its `name`, or `description` for
    /// providers) in the list at `search`.
    async fn named(
        &mut self,
        client: &Client,
        search: &str,
        org: Option<&str>,
        name: &str,
    ) -> Result<String> {
        let key = (
            search.to_owned(),
            org.unwrap_or_default().to_owned(),
            name.to_owned(),
        );
        if let Some(id) = self.objects.get(&key) {
            return Ok(id.clone());
        }
        let found: Vec<Value> = crate::list::search(client, search, org, json!({}))
            .try_collect()
            .await?;
        for o in &found {
            let id = text(o, "/id");
            for field in ["/name", "/description"] {
                let n = text(o, field);
                if !n.is_empty() {
                    self.objects
                        .insert((key.0.clone(), key.1.clone(), n), id.clone());
                }
            }
        }
        self.objects
            .get(&key)
            .cloned()
            .ok_or_else(|| missing_parent(client, "object", name))
    }
}

fn missing_parent(client: &Client, what: &str, name: &str) -> crate::Error {
    crate::Error::Decode {
        instance: client.instance().to_owned(),
        method: "POST".into(),
        path: "_search".into(),
        message: format!("no {what} named {name:?} in the target (was its creation refused?)"),
    }
}

/// Applies `plan` to `client`'s instance, step by step; a failed step is reported and
/// the others go on.
pub async fn apply(client: &Client, plan: &Plan, secrets: Secrets<'_>) -> Report {
    let mut report = Report::default();
    let mut ids = Ids::default();
    for step in &plan.steps {
        match apply_step(client, step, secrets, &mut ids).await {
            Ok(()) => report.done += 1,
            Err(e) => report
                .failed
                .push((step.kind.clone(), step.name.clone(), e.to_string())),
        }
    }
    report
}

/// A user's metadata object (`{key: base64}`) as the API's list of entries.
fn metadata_entries(record: &Value) -> Value {
    let entries: Vec<Value> = record
        .get("metadata")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    json!(entries)
}

/// Creates or updates a user: human users without a password (ZITADEL exports none),
/// with their profile, email, phone, metadata and state; machine users by name.
async fn user_step(
    client: &Client,
    record: &Value,
    org: &str,
    action: &Action,
    ids: &mut Ids,
) -> Result<()> {
    let org_id = ids.org(client, org).await?;
    let username = text(record, "/username");
    let inactive = text(record, "/state") == "USER_STATE_INACTIVE";
    let human = record.get("human").cloned().unwrap_or(Value::Null);
    match action {
        Action::Create => {
            let mut body = json!({"organizationId": org_id, "username": username});
            if let Some(machine) = record.get("machine") {
                body["machine"] = pick(machine, &["name", "description"]);
            } else {
                let mut h = pick(&human, &["profile", "email", "phone"]);
                h["metadata"] = metadata_entries(record);
                body["human"] = h;
            }
            let answer = client.post("/v2/users/new", &body).await?;
            if inactive {
                let path = format!("/v2/users/{}/deactivate", text(&answer, "/id"));
                client.post(&path, &json!({})).await?;
            }
        }
        Action::Update { fields } => {
            let id = ids.user(client, &username).await?;
            for field in fields {
                match field.as_str() {
                    "human" => {
                        let body = pick(&human, &["profile", "email", "phone"]);
                        client.put(&format!("/v2/users/human/{id}"), &body).await?;
                    }
                    "metadata" => {
                        let path = format!("/management/v1/users/{id}/metadata/_bulk");
                        let body = json!({ "metadata": metadata_entries(record) });
                        client
                            .send(reqwest::Method::POST, &path, Some(&org_id), Some(&body))
                            .await?;
                    }
                    "state" => {
                        let verb = if inactive { "deactivate" } else { "reactivate" };
                        client
                            .post(&format!("/v2/users/{id}/{verb}"), &json!({}))
                            .await?;
                    }
                    other => {
                        return Err(crate::Error::Decode {
                            instance: client.instance().to_owned(),
                            method: "PUT".into(),
                            path: format!("/v2/users/{id}"),
                            message: format!(
                                "user {username}: changing its {other} is not supported yet"
                            ),
                        });
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The fields of `record` named in `fields`, as a request body.
fn pick(record: &Value, fields: &[&str]) -> Value {
    let mut body = serde_json::Map::new();
    for field in fields {
        if let Some(v) = record.get(*field) {
            body.insert((*field).to_owned(), v.clone());
        }
    }
    Value::Object(body)
}

/// An application's type-specific settings: its `*Config` block less what the target
/// issues itself, and the endpoints that create and update it.
fn app_config(record: &Value) -> Option<(&'static str, &'static str, Value)> {
    let (block, create, update) = if record.get("oidcConfig").is_some() {
        ("oidcConfig", "oidc", "oidc_config")
    } else if record.get("apiConfig").is_some() {
        ("apiConfig", "api", "api_config")
    } else if record.get("samlConfig").is_some() {
        ("samlConfig", "saml", "saml_config")
    } else {
        return None;
    };
    let mut config = record.get(block).cloned().unwrap_or(json!({}));
    if let Value::Object(map) = &mut config {
        for issued in ["clientId", "noneCompliant", "complianceProblems"] {
            map.remove(issued);
        }
    }
    Some((create, update, config))
}

async fn apply_step(
    client: &Client,
    step: &Step,
    secrets: Secrets<'_>,
    ids: &mut Ids,
) -> Result<()> {
    let Some(kind) = crate::catalog::find(&step.kind) else {
        return Ok(());
    };
    let entry = &step.record;
    let record = match kind.scope {
        Scope::Instance => entry,
        Scope::Org | Scope::Project => entry.get("record").unwrap_or(&Value::Null),
    };
    let org = text(entry, "/parent/org");
    match (kind.write, &step.action) {
        (Write::Settings { put, then, fields }, _) => {
            client.put(put, &pick(record, fields)).await?;
            if let Some(then) = then {
                client.post(then, &json!({})).await?;
            }
        }
        (
            Write::Objects {
                create,
                update,
                fields,
            },
            action,
        ) => {
            let org_id = ids.org(client, &org).await?;
            let (method, path) = match action {
                Action::Create => (reqwest::Method::POST, create.to_owned()),
                _ => {
                    let search = kind.search().unwrap_or_default();
                    let id = ids
                        .named(client, search, Some(&org_id), &kind.name_of(record))
                        .await?;
                    (reqwest::Method::PUT, update.replace("{id}", &id))
                }
            };
            client
                .send(method, &path, Some(&org_id), Some(&pick(record, fields)))
                .await?;
        }
        (Write::Custom, action) => {
            custom_step(client, kind, step, record, action, secrets, ids).await?
        }
    }
    Ok(())
}

async fn custom_step(
    client: &Client,
    kind: &Kind,
    step: &Step,
    record: &Value,
    action: &Action,
    secrets: Secrets<'_>,
    ids: &mut Ids,
) -> Result<()> {
    let entry = &step.record;
    let org = text(entry, "/parent/org");
    let secret = |field: &str| secrets(&step.kind, &step.name, field).unwrap_or_default();
    match (kind.name, action) {
        ("organizations", Action::Create) => {
            client
                .post(
                    "/management/v1/orgs",
                    &json!({ "name": text(record, "/name") }),
                )
                .await?;
        }
        ("projects", Action::Create) => {
            let org_id = ids.org(client, &org).await?;
            let body = json!({ "name": text(record, "/name") });
            client
                .send(
                    reqwest::Method::POST,
                    "/management/v1/projects",
                    Some(&org_id),
                    Some(&body),
                )
                .await?;
        }
        ("project_roles", action) => {
            let project = text(entry, "/parent/project");
            let (org_id, project_id) = ids.project(client, &org, &project).await?;
            let (method, path) = match action {
                Action::Create => (
                    reqwest::Method::POST,
                    format!("/management/v1/projects/{project_id}/roles"),
                ),
                _ => (
                    reqwest::Method::PUT,
                    format!(
                        "/management/v1/projects/{project_id}/roles/{}",
                        text(record, "/key")
                    ),
                ),
            };
            let body = json!({
                "roleKey": text(record, "/key"),
                "displayName": text(record, "/displayName"),
                "group": text(record, "/group"),
            });
            client
                .send(method, &path, Some(&org_id), Some(&body))
                .await?;
        }
        ("applications", action) => {
            let project = text(entry, "/parent/project");
            let (org_id, project_id) = ids.project(client, &org, &project).await?;
            let Some((create, update, config)) = app_config(record) else {
                return Err(missing_parent(
                    client,
                    "type (oidcConfig, apiConfig or samlConfig) for application",
                    &step.name,
                ));
            };
            let apps = format!("/management/v1/projects/{project_id}/apps");
            let name = text(record, "/name");
            match action {
                Action::Create => {
                    let mut body = config;
                    body["name"] = json!(name);
                    // The answer holds the new client secret: not kept, never printed.
                    client
                        .send(
                            reqwest::Method::POST,
                            &format!("{apps}/{create}"),
                            Some(&org_id),
                            Some(&body),
                        )
                        .await?;
                }
                _ => {
                    let id = ids
                        .named(client, &format!("{apps}/_search"), Some(&org_id), &name)
                        .await?;
                    client
                        .send(
                            reqwest::Method::PUT,
                            &format!("{apps}/{id}/{update}"),
                            Some(&org_id),
                            Some(&config),
                        )
                        .await?;
                }
            }
        }
        ("users", action) => user_step(client, record, &org, action, ids).await?,
        ("user_grants", action) => {
            let org_id = ids.org(client, &org).await?;
            let user = ids.user(client, &text(record, "/userName")).await?;
            let (_, project) = ids
                .project(client, &org, &text(record, "/projectName"))
                .await?;
            let roles = record.get("roleKeys").cloned().unwrap_or(json!([]));
            if matches!(action, Action::Create) {
                let body = json!({"projectId": project, "roleKeys": roles});
                let path = format!("/management/v1/users/{user}/grants");
                client
                    .send(reqwest::Method::POST, &path, Some(&org_id), Some(&body))
                    .await?;
                return Ok(());
            }
            let filter = json!({"queries": [{"userIdQuery": {"userId": user}}, {"projectIdQuery": {"projectId": project}}]});
            let found: Vec<Value> = crate::list::search(
                client,
                "/management/v1/users/grants/_search",
                Some(&org_id),
                filter,
            )
            .try_collect()
            .await?;
            for grant in found {
                let path = format!("/management/v1/users/{user}/grants/{}", text(&grant, "/id"));
                let body = json!({ "roleKeys": roles });
                client
                    .send(reqwest::Method::PUT, &path, Some(&org_id), Some(&body))
                    .await?;
            }
        }
        ("org_members", action) => {
            let org_id = ids.org(client, &org).await?;
            let user = ids
                .user(client, &text(record, "/preferredLoginName"))
                .await?;
            let roles = record.get("roles").cloned().unwrap_or(json!([]));
            let (method, path, body) = match action {
                Action::Create => (
                    reqwest::Method::POST,
                    "/management/v1/orgs/me/members".to_owned(),
                    json!({"userId": user, "roles": roles}),
                ),
                _ => (
                    reqwest::Method::PUT,
                    format!("/management/v1/orgs/me/members/{user}"),
                    json!({ "roles": roles }),
                ),
            };
            client
                .send(method, &path, Some(&org_id), Some(&body))
                .await?;
        }
        ("smtp_providers", action) => {
            let mut body = pick(
                record,
                &[
                    "senderAddress",
                    "senderName",
                    "tls",
                    "host",
                    "user",
                    "replyToAddress",
                    "description",
                ],
            );
            if matches!(action, Action::Create) {
                if !text(record, "/user").is_empty() {
                    body["password"] = json!(secret("password"));
                }
                client.post("/admin/v1/smtp", &body).await?;
                return Ok(());
            }
            let id = ids
                .named(client, "/admin/v1/smtp/_search", None, &step.name)
                .await?;
            match action {
                Action::Update { .. } => {
                    client.put(&format!("/admin/v1/smtp/{id}"), &body).await?;
                }
                Action::SetSecret { .. } => {
                    let body = json!({ "password": secret("password") });
                    client
                        .put(&format!("/admin/v1/smtp/{id}/password"), &body)
                        .await?;
                }
                Action::Activate => {
                    client
                        .post(&format!("/admin/v1/smtp/{id}/_activate"), &json!({}))
                        .await?;
                }
                Action::Create => {}
            }
        }
        ("sms_providers", Action::Create) => {
            let id = if record.get("twilio").is_some() {
                sms::add_twilio(client, &twilio_of(record), &secret("twilio.token")).await?
            } else {
                let body =
                    json!({"endpoint": text(record, "/http/endpoint"), "description": step.name});
                let answer = client.post("/admin/v1/sms/http", &body).await?;
                text(&answer, "/id")
            };
            ids.sms.insert(step.name.clone(), id);
        }
        ("sms_providers", action) => {
            if !ids.sms.contains_key(&step.name) {
                for p in sms::list(client).await? {
                    ids.sms.insert(text(&p, "/description"), text(&p, "/id"));
                }
            }
            let id = ids.sms.get(&step.name).cloned().unwrap_or_default();
            match action {
                Action::Update { .. } if record.get("twilio").is_some() => {
                    sms::update_twilio(client, &id, &twilio_of(record)).await?;
                }
                Action::Update { .. } => {
                    let body = json!({"endpoint": text(record, "/http/endpoint"), "description": step.name});
                    client
                        .put(&format!("/admin/v1/sms/http/{id}"), &body)
                        .await?;
                }
                Action::SetSecret { .. } => {
                    sms::set_twilio_token(client, &id, &secret("twilio.token")).await?;
                }
                Action::Activate => sms::activate(client, &id).await?,
                Action::Create => {}
            }
        }
        _ => {}
    }
    Ok(())
}

pub use crate::export::read_instance;
