//! The differences of two snapshots, kind by kind (objects added, removed, and changed
//! with the fields that changed), as every platform reports them; each platform reads
//! and keys its own snapshots (`idferry-platform-auth0`'s `diff`, ZITADEL's by name).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

/// How to compare.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    /// Compare two tenants' snapshots: leave out ids and API-set fields, follow
    /// references by natural key.
    pub ignore_ids: bool,
}

/// An object present in both, with the fields that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// Its natural key.
    pub key: String,
    /// Dot paths of the fields that differ.
    pub fields: Vec<String>,
}

/// The differences of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindDiff {
    /// The kind.
    pub kind: String,
    /// Keys only in the second snapshot.
    pub added: Vec<String>,
    /// Keys only in the first.
    pub removed: Vec<String>,
    /// Objects in both that differ.
    pub changed: Vec<Changed>,
}

impl KindDiff {
    /// True when the kind is the same in both.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares the objects of one kind, keyed by name, from two snapshots (for platforms
/// whose snapshots the caller reads and keys itself).
pub fn compare(
    kind: &str,
    left: &BTreeMap<String, Value>,
    right: &BTreeMap<String, Value>,
) -> KindDiff {
    let mut d = KindDiff {
        kind: kind.to_owned(),
        ..KindDiff::default()
    };
    for (key, x) in left {
        match right.get(key) {
            None => d.removed.push(key.clone()),
            Some(y) if x != y => {
                let mut fields = Vec::new();
                changed_fields(x, y, "", &mut fields);
                d.changed.push(Changed {
                    key: key.clone(),
                    fields,
                });
            }
            Some(_) => {}
        }
    }
    d.added = right
        .keys()
        .filter(|k| !left.contains_key(*k))
        .cloned()
        .collect();
    d
}

/// Dot paths of the fields that differ between `a` and `b`.
pub fn changed_fields(a: &Value, b: &Value, prefix: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) if p == q => {}
                    (Some(p), Some(q)) => changed_fields(p, q, &path, out),
                    _ => out.push(path),
                }
            }
        }
        _ if a != b => out.push(if prefix.is_empty() {
            "(value)".into()
        } else {
            prefix.into()
        }),
        _ => {}
    }
}
