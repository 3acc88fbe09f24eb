//! Reading every kind of the catalog from an instance: into a snapshot's members, or as
//! the target side of a restore plan. Scoped kinds are read organization by organization
//! (and project by project), each record wrapped with its parents' names.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use idferry_model::{MemberSink, Progress};
use serde_json::{Value, json};

use crate::Result;
use crate::catalog::{CATALOG, Kind, Read, Scope};
use crate::client::Client;
use crate::error::Error;

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Metadata reads of users in flight at once: enough to keep the client's throttle busy
/// whatever the server's latency; the throttle keeps them to the configured rate.
const USER_READS_IN_FLIGHT: usize = 16;

/// The results of the search at `path`, page by page (in organization `org` when given).
fn list<'a>(
    client: &'a Client,
    path: &'a str,
    org: Option<&'a str>,
) -> futures_util::stream::BoxStream<'a, Result<Value>> {
    // v2 lists ignore the organization header: they take a query.
    let filter = match org {
        Some(org) if path.starts_with("/v2/") => {
            json!({"queries": [{"organizationIdQuery": {"organizationId": org}}]})
        }
        _ => json!({}),
    };
    crate::list::search(client, path, org, filter)
}

async fn all(client: &Client, path: &str, org: Option<&str>) -> Result<Vec<Value>> {
    list(client, path, org).try_collect().await
}

/// A user's metadata as `{key: base64 value}` (as the API stores it).
async fn metadata(client: &Client, org: &str, user: &str) -> Result<Value> {
    let path = format!("/management/v1/users/{user}/metadata/_search");
    let entries = all(client, &path, Some(org)).await?;
    Ok(Value::Object(
        entries
            .iter()
            .map(|e| (text(e, "key"), json!(text(e, "value"))))
            .collect(),
    ))
}

/// Every object of `kind` in snapshot shape (see [`Scope`]).
pub async fn read_kind(client: &Client, kind: &Kind) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for_each_record(client, kind, &mut |record| {
        out.push(record);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// Hands every object of `kind` in snapshot shape to `each` as it is read, so that a
/// kind is never held whole: users stream page by page, their metadata read
/// [`USER_READS_IN_FLIGHT`] at a time, in the order listed. Answers how many.
pub async fn for_each_record(
    client: &Client,
    kind: &Kind,
    each: &mut dyn FnMut(Value) -> Result<()>,
) -> Result<u64> {
    let mut count = 0u64;
    let mut each = |record| {
        count += 1;
        each(record)
    };
    let search = match kind.read {
        Read::Settings(path) => {
            let answer = client.get(path).await?;
            answer.get("policy").cloned().map(&mut each).transpose()?;
            return Ok(count);
        }
        Read::Each { .. } => {
            read_each(client, kind)
                .await?
                .into_iter()
                .try_for_each(&mut each)?;
            return Ok(count);
        }
        Read::Search(path) => path,
    };
    if kind.scope == Scope::Instance {
        let mut records = list(client, search, None);
        while let Some(record) = records.try_next().await? {
            each(record)?;
        }
        return Ok(count);
    }
    let orgs = all(client, crate::catalog::ORG_SEARCH, None).await?;
    for org in &orgs {
        let (org_id, org_name) = (text(org, "id"), text(org, "name"));
        let org_id = org_id.as_str();
        if kind.scope == Scope::Org {
            let mut records = list(client, search, Some(org_id));
            if kind.name == "users" {
                let mut users = records
                    .map_ok(|mut user| async move {
                        user["metadata"] = metadata(client, org_id, &text(&user, "userId")).await?;
                        Ok(user)
                    })
                    .try_buffered(USER_READS_IN_FLIGHT);
                while let Some(user) = users.try_next().await? {
                    each(json!({"parent": {"org": org_name}, "record": user}))?;
                }
            } else {
                while let Some(record) = records.try_next().await? {
                    each(json!({"parent": {"org": org_name}, "record": record}))?;
                }
            }
            continue;
        }
        let projects = all(client, "/management/v1/projects/_search", Some(org_id)).await?;
        for project in &projects {
            let path = search.replace("{project}", &text(project, "id"));
            let mut records = list(client, &path, Some(org_id));
            while let Some(record) = records.try_next().await? {
                each(json!({
                    "parent": {"org": org_name, "project": text(project, "name")},
                    "record": record,
                }))?;
            }
        }
    }
    Ok(count)
}

/// A kind read one value at a time ([`Read::Each`]), per organization for scoped
/// kinds; what is as shipped (`isDefault`, or no trigger set) is left out.
async fn read_each(client: &Client, kind: &Kind) -> Result<Vec<Value>> {
    let Read::Each {
        path,
        values,
        field,
    } = kind.read
    else {
        return Ok(Vec::new());
    };
    let orgs = match kind.scope {
        Scope::Instance => vec![(None, String::new())],
        _ => all(client, crate::catalog::ORG_SEARCH, None)
            .await?
            .iter()
            .map(|o| (Some(text(o, "id")), text(o, "name")))
            .collect(),
    };
    let mut out = Vec::new();
    for (org_id, org_name) in orgs {
        for value in values {
            let path = path.replace("{value}", value);
            let answer = client
                .send(reqwest::Method::GET, &path, org_id.as_deref(), None)
                .await?;
            let Some(mut object) = answer.get(field).cloned() else {
                continue;
            };
            let shipped = object.get("isDefault").and_then(Value::as_bool) == Some(true)
                || object
                    .get("triggerActions")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty);
            if shipped {
                continue;
            }
            // Which value it is, when the answer does not say (a text's language).
            if let [key] = kind.key
                && object.get(*key).is_none()
            {
                object[*key] = json!(value);
            }
            if kind.scope == Scope::Instance {
                out.push(object);
            } else {
                out.push(json!({"parent": {"org": org_name}, "record": object}));
            }
        }
    }
    Ok(out)
}

/// Every catalog kind of `client`'s instance, in snapshot shape.
pub async fn read_instance(client: &Client) -> Result<HashMap<String, Vec<Value>>> {
    let mut out = HashMap::new();
    for kind in CATALOG {
        out.insert(kind.name.to_owned(), read_kind(client, kind).await?);
    }
    Ok(out)
}

/// Writes every catalog kind of `client`'s instance into `sink`, one member per kind
/// (`config/<kind>.ndjson`); returns the records written per kind.
pub async fn export(
    client: &Client,
    sink: &mut dyn MemberSink,
    progress: &dyn Progress,
) -> Result<Vec<(String, u64)>> {
    let mut counts = Vec::new();
    for kind in CATALOG {
        counts.push((
            kind.name.to_owned(),
            export_kind(client, kind, sink, progress).await?,
        ));
    }
    Ok(counts)
}

/// Writes every object of `kind` into `sink` as one member (`config/<kind>.ndjson`),
/// each as it is read; answers how many.
pub async fn export_kind(
    client: &Client,
    kind: &Kind,
    sink: &mut dyn MemberSink,
    progress: &dyn Progress,
) -> Result<u64> {
    let sink_error = |source: std::io::Error| Error::Sink {
        kind: kind.name.to_owned(),
        source,
    };
    progress.start(kind.name, None);
    sink.start_member(&format!("config/{}.ndjson", kind.name), kind.name)
        .map_err(sink_error)?;
    let written = for_each_record(client, kind, &mut |record| {
        let text = serde_json::to_vec(&record).map_err(|e| sink_error(e.into()))?;
        sink.write_record(&text).map_err(sink_error)?;
        progress.advance(kind.name, 1);
        Ok(())
    })
    .await?;
    sink.finish_member().map_err(sink_error)?;
    progress.finish(kind.name);
    Ok(written)
}
