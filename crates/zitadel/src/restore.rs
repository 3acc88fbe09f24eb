//! Restoring a ZITADEL snapshot's configuration into an instance: a plan first (what
//! each catalog kind needs, matched by natural key), then its application
//! ([`crate::apply`]). Write-only
//! secrets (a Twilio token) come from the caller (a values file); an object whose secret
//! is missing is not written, and the plan says exactly which object lacks which value.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Kind, Scope};

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
    /// Delete it: the target has it, the source does not (`allow_delete`).
    Delete,
}

/// What a plan covers.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
    /// Only these objects and what hangs from them, as `(kind, name)` with the names
    /// plans show (`acme-eu/portal` takes the project with its roles and applications);
    /// all when empty.
    pub only: Vec<(String, String)>,
    /// Delete what only the target has (children before their parents).
    pub allow_delete: bool,
}

impl PlanOptions {
    fn wants(&self, kind: &str, name: &str) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
            && (self.only.is_empty()
                || self
                    .only
                    .iter()
                    .any(|(k, n)| (k == kind && n == name) || name.starts_with(&format!("{n}/"))))
    }
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

pub(crate) fn text(v: &Value, pointer: &str) -> String {
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

/// The write-only field an object of `kind` needs (its catalog row says which and
/// when), with the values-file line that supplies it.
fn secret_field(kind: &Kind, record: &Value, name: &str) -> Option<(&'static str, String)> {
    kind.write_only
        .iter()
        .find(|w| w.needed_by(record))
        .map(|w| (w.field, w.values_line(kind.name, name)))
}

/// Whether the object is the active one, for kinds with one active object.
fn is_active(kind: &Kind, record: &Value) -> Option<bool> {
    kind.activation
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
/// instance whose entries are `target`, as far as `options` say.
pub fn plan(
    source: &HashMap<String, Vec<Value>>,
    target: &HashMap<String, Vec<Value>>,
    secrets: Secrets<'_>,
    options: &PlanOptions,
) -> Plan {
    let mut out = Plan::default();
    let mut deletions = Vec::new();
    let none = Vec::new();
    for kind in crate::catalog::CATALOG {
        let mut from = objects(kind, source.get(kind.name).unwrap_or(&none));
        from.retain(|o| options.wants(kind.name, &o.name));
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
        if options.allow_delete && kind.delete.is_some() {
            let names: std::collections::HashSet<&str> =
                from.iter().map(|o| o.name.as_str()).collect();
            for object in &into_list {
                if !names.contains(object.name.as_str()) && options.wants(kind.name, &object.name) {
                    deletions.push(Step {
                        kind: kind.name.to_owned(),
                        name: object.name.clone(),
                        action: Action::Delete,
                        exists: true,
                        record: object.entry.clone(),
                    });
                }
            }
        }
        if options.wants(kind.name, "") || options.only.iter().any(|(k, _)| k == kind.name) {
            out.unchanged.push((kind.name.to_owned(), unchanged));
        }
    }
    // Children before their parents: the catalog's order, reversed.
    deletions.reverse();
    out.steps.extend(deletions);
    out
}

pub use crate::apply::{Report, apply};
pub use crate::export::read_instance;
