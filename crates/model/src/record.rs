//! How records are written one per line (ndjson) in snapshots and streams, and the
//! field paths the catalog uses to name parts of a record.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{Kind, Shape};

/// A record of a sub-resource or keyed kind, with what places it: the ids of its parents
/// (outermost first) and, for keyed kinds, its key (`login/en`). Top-level collections
/// and singletons are written bare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Ids of the parent objects, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent: Vec<String>,
    /// The key of a keyed kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The record as the API returns it.
    pub record: Value,
}

/// The member of a snapshot without secrets that names the secret fields left out of
/// it, one [`Redacted`] per object: a restore then knows which secrets the source had set
/// and asks for each, rather than leaving them silently unset.
pub const REDACTED_MEMBER: &str = "config/redacted_secrets.ndjson";
/// The kind named in the manifest for [`REDACTED_MEMBER`] (not a catalog kind).
pub const REDACTED_KIND: &str = "redacted_secrets";

/// Secret fields an object had set, left out of a snapshot written without secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    /// The object's kind.
    pub kind: String,
    /// Ids of its parents, outermost first (as its envelope writes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent: Vec<String>,
    /// Its key, for keyed kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Its id (none for a singleton).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The catalog's secret paths that held a value (`recaptcha_v2.secret`).
    pub fields: Vec<String>,
}

/// Where a [`Redacted`] entry belongs: (kind, parents, key, id).
pub type RedactedAt = (String, Vec<String>, Option<String>, Option<String>);

/// The [`RedactedAt`] of `record`, an object of `kind` placed by `parent` and `key`.
pub fn redacted_at(
    kind: &Kind,
    parent: &[String],
    key: Option<&str>,
    record: &Value,
) -> RedactedAt {
    let id = kind
        .id_field
        .and_then(|f| record.get(f))
        .and_then(Value::as_str)
        .map(str::to_owned);
    (
        kind.name.to_owned(),
        parent.to_vec(),
        key.map(str::to_owned),
        id,
    )
}

impl Redacted {
    /// Where it belongs.
    pub fn at(&self) -> RedactedAt {
        (
            self.kind.clone(),
            self.parent.clone(),
            self.key.clone(),
            self.id.clone(),
        )
    }

    /// Removes `kind`'s secret fields from `record`; the fields that held a value (not
    /// null, not an empty text), if any.
    pub fn strip(
        kind: &Kind,
        record: &mut Value,
        parent: &[&str],
        key: Option<&str>,
    ) -> Option<Self> {
        let mut fields = Vec::new();
        for path in kind.secrets {
            let set = if *path == "*" {
                record.as_object().is_some_and(|m| m.values().any(is_set))
            } else {
                values_at(record, path).into_iter().any(is_set)
            };
            if set {
                fields.push((*path).to_owned());
            }
            remove_path(record, path);
        }
        let parent: Vec<String> = parent.iter().map(|p| (*p).to_owned()).collect();
        (!fields.is_empty()).then(|| {
            let (kind, parent, key, id) = redacted_at(kind, &parent, key, record);
            Self {
                kind,
                parent,
                key,
                id,
                fields,
            }
        })
    }
}

fn is_set(v: &Value) -> bool {
    !(v.is_null() || v.as_str() == Some(""))
}

/// Whether records of `kind` are written in an [`Envelope`].
pub fn enveloped(kind: &Kind) -> bool {
    kind.parent.is_some() || matches!(kind.shape, Shape::Keyed { .. })
}

/// Removes the field at `path` (dot path; `a[]` walks every item of array `a`; `*`
/// blanks every value of an object, keeping the names).
pub fn remove_path(value: &mut Value, path: &str) {
    if path == "*" {
        if let Value::Object(map) = value {
            for v in map.values_mut() {
                *v = Value::Null;
            }
        }
        return;
    }
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    if let Some(array_field) = head.strip_suffix("[]") {
        if let Some(Value::Array(items)) = value.get_mut(array_field) {
            for item in items {
                if rest.is_empty() {
                    *item = Value::Null;
                } else {
                    remove_path(item, rest);
                }
            }
        }
    } else if rest.is_empty() {
        if let Value::Object(map) = value {
            map.remove(head);
        }
    } else if let Some(inner) = value.get_mut(head) {
        remove_path(inner, rest);
    }
}

/// The values at `path` (same syntax as [`remove_path`]), for references and checks.
pub fn values_at<'v>(value: &'v Value, path: &str) -> Vec<&'v Value> {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    let mut out = Vec::new();
    if let Some(array_field) = head.strip_suffix("[]") {
        if let Some(Value::Array(items)) = value.get(array_field) {
            for item in items {
                if rest.is_empty() {
                    out.push(item);
                } else {
                    out.extend(values_at(item, rest));
                }
            }
        }
    } else if let Some(inner) = value.get(head) {
        if rest.is_empty() {
            out.push(inner);
        } else {
            out.extend(values_at(inner, rest));
        }
    }
    out
}

/// Calls `f` on every value at `path` (same syntax as [`remove_path`]).
pub fn map_values(value: &mut Value, path: &str, f: &mut dyn FnMut(&mut Value)) {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    if let Some(array_field) = head.strip_suffix("[]") {
        if let Some(Value::Array(items)) = value.get_mut(array_field) {
            for item in items {
                if rest.is_empty() {
                    f(item);
                } else {
                    map_values(item, rest, f);
                }
            }
        }
    } else if let Some(inner) = value.get_mut(head) {
        if rest.is_empty() {
            f(inner);
        } else {
            map_values(inner, rest, f);
        }
    }
}

/// Sets the field at dot path `path` (no array steps), making the objects on the way.
/// A non-object on the way is replaced by one.
pub fn set_path(value: &mut Value, path: &str, new: Value) {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    if !value.is_object() {
        *value = Value::Object(serde_json::Map::new());
    }
    let Value::Object(map) = value else { return };
    if rest.is_empty() {
        map.insert(head.to_owned(), new);
    } else {
        set_path(map.entry(head).or_insert(Value::Null), rest, new);
    }
}

/// The shortest made-up id looked for in records by [`Kind::ids_are_made_up`]: a
/// name the caller chose could equal any text, a platform's random id cannot.
pub const MIN_MADE_UP_ID: usize = 8;

/// Calls `f` with the path (`actions[0].params.connection_id`) and text of every string
/// anywhere under `value`.
pub fn for_each_string(value: &Value, f: &mut dyn FnMut(&str, &str)) {
    fn walk(value: &Value, path: &mut String, f: &mut dyn FnMut(&str, &str)) {
        match value {
            Value::String(s) => f(path, s),
            Value::Array(items) => {
                let len = path.len();
                for (i, item) in items.iter().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    walk(item, path, f);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                let len = path.len();
                for (k, v) in map {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    walk(v, path, f);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
    walk(value, &mut String::new(), f);
}

/// Calls `f` on every string anywhere under `value`, which it may replace.
pub fn map_strings(value: &mut Value, f: &mut dyn FnMut(&str) -> Option<String>) {
    match value {
        Value::String(s) => {
            if let Some(new) = f(s) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| map_strings(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| map_strings(v, f)),
        _ => {}
    }
}

/// Sets the value at `path` as [`for_each_string`] writes paths (with array positions);
/// nothing when the path is not there.
pub fn set_at(value: &mut Value, path: &str, to: Value) {
    let mut at = value;
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            match at.get_mut(key) {
                Some(v) => at = v,
                None => return,
            }
        }
        while let Some((n, after)) = rest.split_once(']') {
            match n.parse::<usize>().ok().and_then(|i| at.get_mut(i)) {
                Some(v) => at = v,
                None => return,
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    *at = to;
}

/// A path with its array positions left out, as the catalog writes fields:
/// `a[0].b[12]` -> `a[].b[]`.
pub fn generic_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_path_makes_the_objects_on_the_way() {
        let mut v = json!({"a": 1});
        set_path(&mut v, "ref.type", json!("action_id"));
        set_path(&mut v, "a", json!(2));
        assert_eq!(v, json!({"a": 2, "ref": {"type": "action_id"}}));
    }

    #[test]
    fn paths_reach_nested_fields_and_array_items() {
        let mut v = json!({"options": {"client_secret": "s", "keep": 1}, "secrets": [{"name": "a", "value": "x"}, {"name": "b", "value": "y"}]});
        assert_eq!(
            values_at(&v, "secrets[].value"),
            vec![&json!("x"), &json!("y")]
        );
        remove_path(&mut v, "options.client_secret");
        remove_path(&mut v, "secrets[].value");
        assert_eq!(
            v,
            json!({"options": {"keep": 1}, "secrets": [{"name": "a"}, {"name": "b"}]})
        );
        let mut m = json!({"A": "1", "B": "2"});
        remove_path(&mut m, "*");
        assert_eq!(m, json!({"A": null, "B": null}));
    }

    #[test]
    fn envelopes_leave_out_what_is_empty() {
        let e = Envelope {
            parent: vec!["rol_1".into()],
            key: None,
            record: json!({"a": 1}),
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"parent": ["rol_1"], "record": {"a": 1}})
        );
    }

    #[test]
    fn a_found_path_is_set_in_place() {
        let mut v = json!({"a": [{"b": "x"}, {"b": ["y", "z"]}]});
        set_at(&mut v, "a[1].b[1]", json!("w"));
        set_at(&mut v, "a[0].b", json!("v"));
        set_at(&mut v, "a[5].b", json!("never"));
        assert_eq!(v, json!({"a": [{"b": "v"}, {"b": ["y", "w"]}]}));
        assert_eq!(generic_path("a[10].b[2][3].c"), "a[].b[][].c");
    }
}
