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
}
