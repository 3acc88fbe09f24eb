//! Field paths in records (`a.b`, `a[].b`, `*`): reading, setting, removing and
//! rewriting what they name, and the strings a record holds; every platform's records
//! are JSON and use them.

use serde_json::Value;

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
    fn a_found_path_is_set_in_place() {
        let mut v = json!({"a": [{"b": "x"}, {"b": ["y", "z"]}]});
        set_at(&mut v, "a[1].b[1]", json!("w"));
        set_at(&mut v, "a[0].b", json!("v"));
        set_at(&mut v, "a[5].b", json!("never"));
        assert_eq!(v, json!({"a": [{"b": "v"}, {"b": ["y", "w"]}]}));
        assert_eq!(generic_path("a[10].b[2][3].c"), "a[].b[][].c");
    }
}
