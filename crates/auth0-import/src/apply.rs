//! Running a plan against the target: kind after kind in the plan's order, the steps of
//! one kind a few at a time through the client's throttle and retries. A create's answer
//! gives the id that later steps' placeholders stand for; a step that fails is reported
//! with the API's message, and the steps that needed what it would have created are
//! reported as not done, while everything else goes on.

use std::collections::{BTreeMap, HashMap};

use futures_util::stream::{self, StreamExt};
use idferry_auth0::Method;
use idferry_auth0::{Client, HttpMethod, Payload};
use idferry_model::Progress;
use idferry_model::record::for_each_string;
use serde::Serialize;
use serde_json::Value;

use crate::plan::{Action, Plan, Request, Step, is_placeholder};

/// Steps of one kind sent at once: enough to keep a distant tenant busy; the throttle
/// keeps the pace.
const CONCURRENCY: usize = 4;

/// Results of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindResult {
    /// Objects (or links) created.
    pub created: usize,
    /// Objects updated.
    pub updated: usize,
    /// Objects left as they were.
    pub unchanged: usize,
    /// Objects (or links) deleted.
    pub deleted: usize,
    /// Objects that could not be written.
    pub failed: usize,
    /// Objects made live (actions deployed, module versions published).
    #[serde(default)]
    pub made_live: usize,
}

/// A step that did not happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The kind.
    pub kind: String,
    /// The object.
    pub name: String,
    /// Why.
    pub error: String,
}

/// An object a restore created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    /// The kind.
    pub kind: String,
    /// The object.
    pub name: String,
    /// Its id in the target.
    pub id: String,
}

/// What a restore did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApplyReport {
    /// Per kind.
    pub kinds: BTreeMap<String, KindResult>,
    /// What failed, and why.
    pub failures: Vec<Failure>,
    /// Objects created, with their new ids.
    pub created: Vec<Created>,
}

impl ApplyReport {
    /// Objects that failed, over all kinds.
    pub fn failed(&self) -> usize {
        self.kinds.values().map(|k| k.failed).sum()
    }
}

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::GET,
        Method::Post => HttpMethod::POST,
        Method::Put => HttpMethod::PUT,
        Method::Patch => HttpMethod::PATCH,
        Method::Delete => HttpMethod::DELETE,
    }
}

/// Replaces placeholders in `value` by resolved ids; Err names one not resolved.
fn substitute(value: &mut Value, resolved: &HashMap<String, String>) -> Result<(), String> {
    match value {
        Value::String(s) if is_placeholder(s) => match resolved.get(s.as_str()) {
            Some(id) => {
                *s = id.clone();
                Ok(())
            }
            None => Err(s.clone()),
        },
        Value::Array(items) => items.iter_mut().try_for_each(|v| substitute(v, resolved)),
        Value::Object(map) => map.values_mut().try_for_each(|v| substitute(v, resolved)),
        _ => Ok(()),
    }
}

/// Whether `request` holds any of `placeholders` (in its ids or anywhere in its body).
fn needs_any(request: &Request, placeholders: &[&str]) -> bool {
    let mut hit = request
        .ids
        .iter()
        .any(|i| placeholders.contains(&i.as_str()));
    if let Some(body) = &request.body {
        for_each_string(body, &mut |_, s| hit |= placeholders.contains(&s));
    }
    hit
}

/// The request with placeholders filled in, or why it cannot be sent.
fn prepare(
    request: &Request,
    resolved: &HashMap<String, String>,
    creators: &HashMap<String, String>,
) -> Result<(String, Option<Value>), String> {
    let missing = |p: &str| {
        format!(
            "not done: it needs {}, which was not created",
            creators.get(p).map_or("an object", String::as_str)
        )
    };
    let mut ids = Vec::with_capacity(request.ids.len());
    for id in &request.ids {
        if is_placeholder(id) {
            ids.push(resolved.get(id).cloned().ok_or_else(|| missing(id))?);
        } else {
            ids.push(id.clone());
        }
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let path = request.endpoint.fill(&refs);
    let mut body = request.body.clone();
    if let Some(b) = &mut body {
        substitute(b, resolved).map_err(|p| missing(&p))?;
    }
    Ok((path, body))
}

async fn send(
    client: &Client,
    request: &Request,
    path: String,
    body: Option<Value>,
) -> Result<Option<String>, String> {
    let payload = match body {
        Some(b) => Payload::Json(b),
        None => Payload::None,
    };
    let answer = client
        .send(http_method(request.method), &path, &[], payload)
        .await
        .map_err(|e| e.to_string())?;
    match &request.new_id {
        Some((field, _)) => answer
            .body
            .as_ref()
            .and_then(|b| b.get(*field))
            .and_then(Value::as_str)
            .map(|id| Some(id.to_owned()))
            .ok_or_else(|| format!("the create answered without {field}")),
        None => Ok(None),
    }
}

/// Runs `plan` against `client`'s tenant.
pub async fn apply(client: &Client, plan: &Plan, progress: &dyn Progress) -> ApplyReport {
    let mut report = ApplyReport::default();
    for (kind, tally) in &plan.tally {
        report.kinds.entry(kind.clone()).or_default().unchanged = tally.unchanged;
    }
    let creators: HashMap<String, String> = plan
        .steps
        .iter()
        .filter_map(|s| {
            let (_, p) = s.request.as_ref()?.new_id.as_ref()?;
            Some((p.clone(), format!("{} {}", s.kind, s.name)))
        })
        .collect();
    let mut resolved: HashMap<String, String> = HashMap::new();
    let total = plan.steps.len() as u64;
    progress.start("restore", Some(total));
    let mut at = 0;
    while at < plan.steps.len() {
        let first = &plan.steps[at];
        // A run ends where the kind or action changes, or where a step needs an object
        // created earlier in the same run (a client naming another client).
        let mut creating: Vec<&str> = Vec::new();
        let end = plan.steps[at..]
            .iter()
            .position(|s| {
                let ends = s.kind != first.kind
                    || s.action != first.action
                    || s.request.as_ref().is_some_and(|r| needs_any(r, &creating));
                if let Some((_, p)) = s.request.as_ref().and_then(|r| r.new_id.as_ref()) {
                    creating.push(p);
                }
                ends
            })
            .map_or(plan.steps.len(), |n| at + n);
        let run = &plan.steps[at..end];
        let outcomes: Vec<Result<Option<String>, String>> = stream::iter(run)
            .map(|step| {
                let prepared = match (&step.action, &step.request) {
                    (Action::Blocked, _) | (_, None) => Err(step
                        .reason
                        .clone()
                        .unwrap_or_else(|| "nothing to send".into())),
                    (_, Some(request)) => prepare(request, &resolved, &creators),
                };
                async move {
                    let (path, body) = prepared?;
                    let request = step.request.as_ref().ok_or("no request")?;
                    send(client, request, path, body).await
                }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        for (step, outcome) in run.iter().zip(outcomes) {
            record(&mut report, &mut resolved, step, outcome);
        }
        progress.advance("restore", run.len() as u64);
        at = end;
    }
    progress.finish("restore");
    report
}

fn record(
    report: &mut ApplyReport,
    resolved: &mut HashMap<String, String>,
    step: &Step,
    outcome: Result<Option<String>, String>,
) {
    let k = report.kinds.entry(step.kind.to_owned()).or_default();
    match outcome {
        Ok(new_id) => {
            match step.action {
                Action::Create => k.created += step.count,
                Action::Update => k.updated += step.count,
                Action::Delete => k.deleted += step.count,
                Action::GoLive => k.made_live += step.count,
                Action::Blocked => {}
            }
            if let (Some(id), Some((_, placeholder))) = (
                new_id,
                step.request.as_ref().and_then(|r| r.new_id.as_ref()),
            ) {
                report.created.push(Created {
                    kind: step.kind.to_owned(),
                    name: step.name.clone(),
                    id: id.clone(),
                });
                resolved.insert(placeholder.clone(), id);
            }
        }
        Err(error) => {
            k.failed += step.count.max(1);
            tracing::warn!(kind = step.kind, name = %step.name, %error, "restore step failed");
            report.failures.push(Failure {
                kind: step.kind.to_owned(),
                name: step.name.clone(),
                error,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_filled_or_named() {
        let mut resolved = HashMap::new();
        let p = "\u{1}new#1".to_owned();
        let mut v = json!({"client_id": p.clone(), "list": [p.clone(), "x"]});
        assert_eq!(substitute(&mut v, &resolved), Err(p.clone()));
        resolved.insert(p.clone(), "C1".to_owned());
        substitute(&mut v, &resolved).unwrap();
        assert_eq!(v, json!({"client_id": "C1", "list": ["C1", "x"]}));
    }
}
