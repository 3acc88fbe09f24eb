//! Restoring a ZITADEL snapshot's configuration into an instance: a plan first (what
//! each catalog kind needs, matched by natural key), then its application. Write-only
//! secrets (a Twilio token) come from the caller (a values file); an object whose secret
//! is missing is not written, and the plan says exactly which object lacks which value.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::Result;
use crate::client::Client;
use crate::sms::{self, Twilio};

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

fn keyed<'a>(records: &'a [Value], key: &str) -> HashMap<String, &'a Value> {
    records
        .iter()
        .map(|r| (text(r, &format!("/{key}")), r))
        .collect()
}

/// The settings compared for an SMS provider (the token apart: never returned).
const SMS_FIELDS: &[&str] = &[
    "/twilio/sid",
    "/twilio/senderNumber",
    "/twilio/verifyServiceSid",
    "/http/endpoint",
];

/// Plans the restore of `source` (records per catalog kind, from a snapshot) into the
/// instance whose records are `target`.
pub fn plan(
    source: &HashMap<String, Vec<Value>>,
    target: &HashMap<String, Vec<Value>>,
    secrets: Secrets<'_>,
) -> Plan {
    let mut out = Plan::default();
    let none = Vec::new();
    for kind in crate::catalog::CATALOG {
        let from = source.get(kind.name).unwrap_or(&none);
        let into = keyed(target.get(kind.name).unwrap_or(&none), kind.key);
        let mut unchanged = 0;
        for record in from {
            let name = text(record, &format!("/{}", kind.key));
            let existing = into.get(&name);
            let step = |action| Step {
                kind: kind.name.to_owned(),
                name: name.clone(),
                action,
                exists: existing.is_some(),
                record: record.clone(),
            };
            let mut steps = Vec::new();
            match (kind.name, existing) {
                ("sms_providers", existing) => {
                    let twilio = record.get("twilio").is_some();
                    let token = twilio
                        .then(|| secrets(kind.name, &name, "twilio.token"))
                        .flatten();
                    match existing {
                        None if twilio && token.is_none() => {
                            out.missing.push(Missing {
                                kind: kind.name.to_owned(),
                                name: name.clone(),
                                field: "twilio.token".into(),
                                add: format!(
                                    "[{}.\"{}\"] twilio = {{ token = {{ env = \"TWILIO_TOKEN\" }} }}",
                                    kind.name, name
                                ),
                            });
                            continue;
                        }
                        None => steps.push(step(Action::Create)),
                        Some(current) => {
                            let fields: Vec<String> = SMS_FIELDS
                                .iter()
                                .filter(|f| text(record, f) != text(current, f))
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
                    let active = |r: &Value| text(r, "/state").ends_with("_ACTIVE");
                    if active(record) && !existing.is_some_and(|c| active(c)) {
                        steps.push(step(Action::Activate));
                    }
                }
                (_, None) => steps.push(step(Action::Create)),
                (_, Some(_)) => {}
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

/// Applies `plan` to `client`'s instance, step by step; a failed step is reported and
/// the others go on. Ids are looked up again by natural key (created objects get new ones).
pub async fn apply(client: &Client, plan: &Plan, secrets: Secrets<'_>) -> Report {
    let mut report = Report::default();
    let mut ids: HashMap<(String, String), String> = HashMap::new();
    for step in &plan.steps {
        let result = apply_step(client, step, secrets, &mut ids).await;
        match result {
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
    ids: &mut HashMap<(String, String), String>,
) -> Result<()> {
    let key = (step.kind.clone(), step.name.clone());
    let r = &step.record;
    match (step.kind.as_str(), &step.action) {
        ("organizations", Action::Create) => {
            client
                .post("/management/v1/orgs", &json!({ "name": step.name }))
                .await?;
        }
        ("sms_providers", Action::Create) => {
            let id = if r.get("twilio").is_some() {
                let token = secrets(&step.kind, &step.name, "twilio.token").unwrap_or_default();
                sms::add_twilio(client, &twilio_of(r), &token).await?
            } else {
                let body = json!({"endpoint": text(r, "/http/endpoint"), "description": step.name});
                let answer = client.post("/admin/v1/sms/http", &body).await?;
                text(&answer, "/id")
            };
            ids.insert(key, id);
        }
        ("sms_providers", action) => {
            let id = match ids.get(&key) {
                Some(id) => id.clone(),
                None => {
                    let found = sms::list(client)
                        .await?
                        .into_iter()
                        .find(|p| text(p, "/description") == step.name)
                        .map(|p| text(&p, "/id"))
                        .unwrap_or_default();
                    ids.insert(key, found.clone());
                    found
                }
            };
            match action {
                Action::Update { .. } if r.get("twilio").is_some() => {
                    sms::update_twilio(client, &id, &twilio_of(r)).await?;
                }
                Action::Update { .. } => {
                    let body =
                        json!({"endpoint": text(r, "/http/endpoint"), "description": step.name});
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

/// Every catalog kind of `client`'s instance, as a plan's target.
pub async fn read_instance(client: &Client) -> Result<HashMap<String, Vec<Value>>> {
    use futures_util::TryStreamExt;
    let mut out = HashMap::new();
    for kind in crate::catalog::CATALOG {
        let records: Vec<Value> = crate::list::search(client, kind.search, None, json!({}))
            .try_collect()
            .await?;
        out.insert(kind.name.to_owned(), records);
    }
    Ok(out)
}
