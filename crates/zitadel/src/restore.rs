//! Restoring a ZITADEL snapshot's configuration into an instance: a plan first (what
//! each catalog kind needs, matched by natural key), then its application. Write-only
//! secrets (a Twilio token) come from the caller (a values file); an object whose secret
//! is missing is not written, and the plan says exactly which object lacks which value.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::Result;
use crate::catalog::{Kind, Scope};
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
    /// Whether the object exists in the target already (else a step of its creation).
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
            parts.push(text(record, &format!("/{}", kind.key)));
            Object {
                name: parts.join("/"),
                record,
                entry,
            }
        })
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
            let step = |action| Step {
                kind: kind.name.to_owned(),
                name: object.name.clone(),
                action,
                exists: existing.is_some(),
                record: object.entry.clone(),
            };
            let mut steps = Vec::new();
            let twilio = kind.name == "sms_providers" && object.record.get("twilio").is_some();
            let token = twilio
                .then(|| secrets(kind.name, &object.name, "twilio.token"))
                .flatten();
            match existing {
                None if twilio && token.is_none() => {
                    out.missing.push(Missing {
                        kind: kind.name.to_owned(),
                        name: object.name.clone(),
                        field: "twilio.token".into(),
                        add: format!(
                            "[{}.\"{}\"] twilio = {{ token = {{ env = \"TWILIO_TOKEN\" }} }}",
                            kind.name, object.name
                        ),
                    });
                    continue;
                }
                None => steps.push(step(Action::Create)),
                Some(current) => {
                    let fields: Vec<String> = kind
                        .compared
                        .iter()
                        .filter(|f| text(object.record, f) != text(current.record, f))
                        .map(|f| f.trim_start_matches('/').replace('/', "."))
                        .collect();
                    if !fields.is_empty() {
                        steps.push(step(Action::Update { fields }));
                    }
                    if token.is_some() {
                        steps.push(step(Action::SetSecret {
                            field: "twilio.token".into(),
                        }));
                    }
                }
            }
            if kind.name == "sms_providers" {
                let active = |r: &Value| text(r, "/state").ends_with("_ACTIVE");
                if active(object.record) && !existing.is_some_and(|c| active(c.record)) {
                    steps.push(step(Action::Activate));
                }
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

async fn apply_step(
    client: &Client,
    step: &Step,
    secrets: Secrets<'_>,
    ids: &mut Ids,
) -> Result<()> {
    let entry = &step.record;
    let org = text(entry, "/parent/org");
    match (step.kind.as_str(), &step.action) {
        ("organizations", Action::Create) => {
            client
                .post(
                    "/management/v1/orgs",
                    &json!({ "name": text(entry, "/name") }),
                )
                .await?;
        }
        ("projects", Action::Create) => {
            let org_id = ids.org(client, &org).await?;
            let body = json!({ "name": text(entry, "/record/name") });
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
            let r = entry.get("record").unwrap_or(&Value::Null);
            let (method, path) = match action {
                Action::Create => (
                    reqwest::Method::POST,
                    format!("/management/v1/projects/{project_id}/roles"),
                ),
                _ => (
                    reqwest::Method::PUT,
                    format!(
                        "/management/v1/projects/{project_id}/roles/{}",
                        text(r, "/key")
                    ),
                ),
            };
            let body = json!({
                "roleKey": text(r, "/key"),
                "displayName": text(r, "/displayName"),
                "group": text(r, "/group"),
            });
            client
                .send(method, &path, Some(&org_id), Some(&body))
                .await?;
        }
        ("sms_providers", Action::Create) => {
            let id = if entry.get("twilio").is_some() {
                let token = secrets(&step.kind, &step.name, "twilio.token").unwrap_or_default();
                sms::add_twilio(client, &twilio_of(entry), &token).await?
            } else {
                let body =
                    json!({"endpoint": text(entry, "/http/endpoint"), "description": step.name});
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
                Action::Update { .. } if entry.get("twilio").is_some() => {
                    sms::update_twilio(client, &id, &twilio_of(entry)).await?;
                }
                Action::Update { .. } => {
                    let body = json!({"endpoint": text(entry, "/http/endpoint"), "description": step.name});
                    client
                        .put(&format!("/admin/v1/sms/http/{id}"), &body)
                        .await?;
                }
                Action::SetSecret { .. } => {
                    let token = secrets(&step.kind, &step.name, "twilio.token").unwrap_or_default();
                    sms::set_twilio_token(client, &id, &token).await?;
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
