//! Applying a restore plan to an instance, step by step: settings and plain objects as
//! their catalog rows say (`Write::Settings`, `Write::Objects`), the other kinds by code
//! of their own (write-only secrets, activation, one endpoint per application type,
//! users without passwords), deletions with the ids the target gave. Target ids are
//! looked up by name as steps need them, since earlier steps create objects.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::{Value, json};

use crate::Result;
use crate::catalog::{Kind, Scope, Write};
use crate::client::Client;
use crate::restore::{Action, Plan, Secrets, Step, text};
use crate::sms::{self, Twilio};

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
                crate::list::search(client, crate::catalog::ORG_SEARCH, None, json!({}))
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

/// Deletes an object the target has and the source does not.
async fn delete_step(
    client: &Client,
    kind: &Kind,
    entry: &Value,
    record: &Value,
    org: &str,
    ids: &mut Ids,
) -> Result<()> {
    let Some(path) = kind.delete else {
        return Ok(());
    };
    let id = match text(record, "/id") {
        id if id.is_empty() => text(record, "/userId"),
        id => id,
    };
    let mut path = path
        .replace("{id}", &id)
        .replace("{user}", &text(record, "/userId"))
        .replace("{key}", &text(record, "/key"))
        .replace("{language}", &text(record, "/language"));
    let org_id = match kind.scope {
        Scope::Instance if kind.name == "organizations" => Some(id.clone()),
        Scope::Instance => None,
        Scope::Org | Scope::Project => Some(ids.org(client, org).await?),
    };
    if path.contains("{project}") {
        let (_, project) = ids
            .project(client, org, &text(entry, "/parent/project"))
            .await?;
        path = path.replace("{project}", &project);
    }
    client
        .send(reqwest::Method::DELETE, &path, org_id.as_deref(), None)
        .await?;
    Ok(())
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
            let answer = if let Some(machine) = record.get("machine") {
                let mut body = pick(machine, &["name", "description"]);
                body["userName"] = json!(username);
                client
                    .send(
                        reqwest::Method::POST,
                        crate::users::ADD_MACHINE,
                        Some(&org_id),
                        Some(&body),
                    )
                    .await?
            } else {
                let mut h = pick(&human, &["profile", "email", "phone"]);
                h["metadata"] = metadata_entries(record);
                let body = crate::users::add_human_body(&org_id, &username, &h);
                client.post(crate::users::ADD_HUMAN, &body).await?
            };
            if inactive {
                let path = format!("/v2/users/{}/deactivate", text(&answer, "/userId"));
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

/// An identity provider's endpoint name and request body (without its secret), from
/// its listed form: `config.options` become `providerOptions`, the type's block its
/// fields.
fn idp_body(record: &Value) -> Option<(&'static str, Value)> {
    let config = record.get("config")?;
    let (endpoint, block) = [
        ("generic_oidc", "oidc"),
        ("google", "google"),
        ("github", "github"),
    ]
    .into_iter()
    .find(|(_, block)| config.get(*block).is_some())?;
    let mut body = config.get(block).cloned().unwrap_or(json!({}));
    body["name"] = json!(text(record, "/name"));
    body["providerOptions"] = config.get("options").cloned().unwrap_or(json!({}));
    Some((endpoint, body))
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

/// A settings body with its counts as numbers: policies are read with their integers as
/// strings (uint64 in the JSON gateway: `"minLength": "12"`) and updated with uint32
/// fields, which ZITADEL's definitions type as numbers. Other strings (durations like
/// `"864000s"`, links, names) are never all digits.
fn counts_as_numbers(mut body: Value) -> Value {
    if let Value::Object(map) = &mut body {
        for value in map.values_mut() {
            if let Value::String(s) = value
                && let Ok(n) = s.parse::<u32>()
                && s.bytes().all(|b| b.is_ascii_digit())
            {
                *value = json!(n);
            }
        }
    }
    body
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
    if step.action == Action::Delete {
        return delete_step(client, kind, entry, record, &org, ids).await;
    }
    match (kind.write, &step.action) {
        (Write::Settings { put, then, fields }, _) => {
            client
                .put(put, &counts_as_numbers(pick(record, fields)))
                .await?;
            if let Some(then) = then {
                client.post(then, &json!({})).await?;
            }
        }
        (Write::Texts, _) => {
            let crate::catalog::Read::Each { path, .. } = kind.read else {
                return Ok(());
            };
            let mut body = record.clone();
            if let Value::Object(map) = &mut body {
                for own in ["language", "details", "isDefault"] {
                    map.remove(own);
                }
            }
            let path = path.replace("{value}", &text(record, "/language"));
            client.put(&path, &body).await?;
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
                    crate::catalog::ORG_ADD,
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
            // The key names the role in an update's path; only a create sends it.
            let mut body = json!({
                "displayName": text(record, "/displayName"),
                "group": text(record, "/group"),
            });
            if method == reqwest::Method::POST {
                body["roleKey"] = json!(text(record, "/key"));
            }
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
        ("action_flows", _) => {
            // The flow as the snapshot has it: cleared, then each trigger's actions
            // (by name: ids are each instance's own).
            let org_id = ids.org(client, &org).await?;
            let flow = text(record, "/type/id");
            let cleared = format!("/management/v1/flows/{flow}/_clear");
            client
                .send(
                    reqwest::Method::POST,
                    &cleared,
                    Some(&org_id),
                    Some(&json!({})),
                )
                .await?;
            for trigger in record
                .get("triggerActions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut action_ids = Vec::new();
                for action in trigger
                    .get("actions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let name = text(action, "/name");
                    action_ids.push(
                        ids.named(
                            client,
                            "/management/v1/actions/_search",
                            Some(&org_id),
                            &name,
                        )
                        .await?,
                    );
                }
                let path = format!(
                    "/management/v1/flows/{flow}/trigger/{}",
                    text(trigger, "/triggerType/id")
                );
                let body = json!({ "actionIds": action_ids });
                client
                    .send(reqwest::Method::POST, &path, Some(&org_id), Some(&body))
                    .await?;
            }
        }
        ("identity_providers", action) => {
            let Some((endpoint, body)) = idp_body(record) else {
                return Err(crate::Error::Decode {
                    instance: client.instance().to_owned(),
                    method: "POST".into(),
                    path: "/admin/v1/idps/{type}".into(),
                    message: format!(
                        "identity provider {}: its type is not one idferry writes (OIDC, Google, GitHub)",
                        step.name
                    ),
                });
            };
            let mut body = body;
            let path = format!("/admin/v1/idps/{endpoint}");
            match action {
                Action::Create => {
                    body["clientSecret"] = json!(secret("clientSecret"));
                    client.post(&path, &body).await?;
                }
                Action::Update { .. } | Action::SetSecret { .. } => {
                    // An empty secret keeps the target's.
                    if matches!(action, Action::SetSecret { .. }) {
                        body["clientSecret"] = json!(secret("clientSecret"));
                    }
                    let id = ids
                        .named(client, "/admin/v1/idps/templates/_search", None, &step.name)
                        .await?;
                    client.put(&format!("{path}/{id}"), &body).await?;
                }
                Action::Activate | Action::Delete => {}
            }
        }
        ("smtp_providers", action) => {
            let smtp = record.get("smtp").cloned().unwrap_or(Value::Null);
            let mut body = pick(&smtp, crate::catalog::SMTP_SETTINGS);
            body["description"] = json!(text(record, "/description"));
            if matches!(action, Action::Create) {
                if !text(&smtp, "/user").is_empty() {
                    body["password"] = json!(secret("password"));
                }
                client.post("/admin/v1/email/smtp", &body).await?;
                return Ok(());
            }
            let id = ids
                .named(client, "/admin/v1/email/_search", None, &step.name)
                .await?;
            match action {
                Action::Update { .. } => {
                    client
                        .put(&format!("/admin/v1/email/smtp/{id}"), &body)
                        .await?;
                }
                Action::SetSecret { .. } => {
                    let body = json!({ "password": secret("password") });
                    client
                        .put(&format!("/admin/v1/email/smtp/{id}/password"), &body)
                        .await?;
                }
                Action::Activate => {
                    client
                        .post(&format!("/admin/v1/email/{id}/_activate"), &json!({}))
                        .await?;
                }
                Action::Create | Action::Delete => {}
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
                Action::Create | Action::Delete => {}
            }
        }
        _ => {}
    }
    Ok(())
}
