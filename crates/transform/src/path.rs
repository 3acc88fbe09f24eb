//! Field paths of mapping specs: dots between keys, `[n]` for array items
//! (`identities[0].connection`, `user_metadata.address.city`).

use std::fmt;

use serde_json::{Map, Value};

use crate::record::{Fields, Record};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
    steps: Vec<Step>,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Path {
    /// Parses `a.b[0].c`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        if text.is_empty() {
            return Err("an empty path".into());
        }
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() {
                return Err(format!(
                    "{text:?}: an empty key (two dots, or a leading dot or bracket)"
                ));
            }
            steps.push(Step::Key(key.to_owned()));
            while let Some(after) = rest.strip_prefix('[') {
                let close = after
                    .find(']')
                    .ok_or_else(|| format!("{text:?}: a '[' without ']'"))?;
                let index = after[..close].parse::<usize>().map_err(|_| {
                    format!("{text:?}: [{}] is not an array index", &after[..close])
                })?;
                steps.push(Step::Index(index));
                rest = &after[close + 1..];
            }
            if !rest.is_empty() {
                return Err(format!("{text:?}: unexpected {rest:?} after an index"));
            }
        }
        Ok(Self {
            text: text.to_owned(),
            steps,
        })
    }

    /// The value at this path.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        walk(value, &self.steps)
    }

    /// The value at this path, mutably.
    pub fn get_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        walk_mut(value, &self.steps)
    }

    /// Removes and returns the value at this path.
    pub fn remove(&self, value: &mut Value) -> Option<Value> {
        remove_at(value, &self.steps)
    }

    /// Sets the value at this path, creating objects on the way. Errors when the way
    /// goes through something that is not an object (or an array, for an index).
    pub fn set(&self, value: &mut Value, new: Value) -> Result<(), String> {
        set_at(value, &self.steps, 0, new)
    }

    /// [`Path::get`] in a record: only the fields on the way are read.
    pub fn get_in<'r>(&self, record: &'r mut Record<'_>) -> Option<&'r Value> {
        get_lazy(record.fields_mut()?, &self.steps)
    }

    /// [`Path::get_mut`] in a record.
    pub fn get_mut_in<'r>(&self, record: &'r mut Record<'_>) -> Option<&'r mut Value> {
        get_mut_lazy(record.fields_mut()?, &self.steps)
    }

    /// [`Path::remove`] in a record.
    pub fn remove_in(&self, record: &mut Record<'_>) -> Option<Value> {
        remove_lazy(record.fields_mut()?, &self.steps)
    }

    /// [`Path::remove`] in a record, not reading what is removed; true when it was there.
    pub fn discard_in(&self, record: &mut Record<'_>) -> bool {
        record
            .fields_mut()
            .is_some_and(|fields| discard_lazy(fields, &self.steps))
    }

    /// Calls `f` on the value at this path in a record, or, when it is an object not yet
    /// read, on each value below it that holds a string (see
    /// [`Fields::for_each_string_holder`]): for rules that change strings only.
    pub fn strings_in(&self, record: &mut Record<'_>, f: &mut dyn FnMut(&mut Value)) {
        if let Some(fields) = record.fields_mut() {
            strings_lazy(fields, &self.steps, f);
        }
    }

    /// [`Path::set`] in a record.
    pub fn set_in(&self, record: &mut Record<'_>, new: Value) -> Result<(), String> {
        let kind = record.kind();
        match record.fields_mut() {
            Some(fields) => set_lazy(fields, &self.steps, 0, new),
            None => Err(format!("the record is {kind}, not an object")),
        }
    }
}

/// The first key of `steps` and what follows, and whether the walk goes on into that
/// key's object (so an unparsed object there can be read field by field).
fn split_key(steps: &[Step]) -> Option<(&str, &[Step], bool)> {
    match steps.split_first()? {
        (Step::Key(k), rest) => Some((k, rest, matches!(rest.first(), Some(Step::Key(_))))),
        (Step::Index(_), _) => None,
    }
}

fn get_lazy<'f>(fields: &'f mut Fields<'_>, steps: &[Step]) -> Option<&'f Value> {
    let (key, rest, into) = split_key(steps)?;
    if into && fields.is_unparsed_object(key) {
        return get_lazy(fields.lazy_mut(key)?, rest);
    }
    walk(fields.get(key)?, rest)
}

fn get_mut_lazy<'f>(fields: &'f mut Fields<'_>, steps: &[Step]) -> Option<&'f mut Value> {
    let (key, rest, into) = split_key(steps)?;
    if into && fields.is_unparsed_object(key) {
        return get_mut_lazy(fields.lazy_mut(key)?, rest);
    }
    walk_mut(fields.get_mut(key)?, rest)
}

fn remove_lazy(fields: &mut Fields<'_>, steps: &[Step]) -> Option<Value> {
    let (key, rest, into) = split_key(steps)?;
    if rest.is_empty() {
        return fields.remove(key);
    }
    if into && fields.is_unparsed_object(key) {
        return remove_lazy(fields.lazy_mut(key)?, rest);
    }
    remove_at(fields.get_mut(key)?, rest)
}

fn discard_lazy(fields: &mut Fields<'_>, steps: &[Step]) -> bool {
    let Some((key, rest, into)) = split_key(steps) else {
        return false;
    };
    if rest.is_empty() {
        return fields.discard(key);
    }
    if into && fields.is_unparsed_object(key) {
        return fields
            .lazy_mut(key)
            .is_some_and(|inner| discard_lazy(inner, rest));
    }
    fields
        .get_mut(key)
        .and_then(|v| remove_at(v, rest))
        .is_some()
}

fn strings_lazy(fields: &mut Fields<'_>, steps: &[Step], f: &mut dyn FnMut(&mut Value)) {
    let Some((key, rest, into)) = split_key(steps) else {
        return;
    };
    if fields.is_unparsed_object(key) && (rest.is_empty() || into) {
        if let Some(inner) = fields.lazy_mut(key) {
            if rest.is_empty() {
                inner.for_each_string_holder(&|_| false, f);
            } else {
                strings_lazy(inner, rest, f);
            }
        }
        return;
    }
    if let Some(v) = fields.get_mut(key).and_then(|v| walk_mut(v, rest)) {
        f(v);
    }
}

/// [`set_at`] through objects not yet read; `all[..done]` is the way walked so far.
fn set_lazy(fields: &mut Fields<'_>, all: &[Step], done: usize, new: Value) -> Result<(), String> {
    let steps = &all[done..];
    let Some((key, rest, into)) = split_key(steps) else {
        return Err(format!(
            "{} is an object, not an array",
            walked(&all[..done])
        ));
    };
    if rest.is_empty() {
        fields.insert(key, new);
        return Ok(());
    }
    if into && fields.is_unparsed_object(key) {
        // An object scanned with its line always reads field by field.
        if let Some(inner) = fields.lazy_mut(key) {
            return set_lazy(inner, all, done + 1, new);
        }
    }
    match fields.entry(key) {
        Some(at) => set_at(at, all, done + 1, new),
        None => Err(format!("{} could not be read", walked(&all[..=done]))),
    }
}

fn walk<'v>(mut at: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    for step in steps {
        at = match step {
            Step::Key(k) => at.get(k)?,
            Step::Index(i) => at.get(*i)?,
        };
    }
    Some(at)
}

fn walk_mut<'v>(mut at: &'v mut Value, steps: &[Step]) -> Option<&'v mut Value> {
    for step in steps {
        at = match step {
            Step::Key(k) => at.get_mut(k)?,
            Step::Index(i) => at.get_mut(*i)?,
        };
    }
    Some(at)
}

fn remove_at(value: &mut Value, steps: &[Step]) -> Option<Value> {
    let (last, parents) = steps.split_last()?;
    match (last, walk_mut(value, parents)?) {
        (Step::Key(k), Value::Object(map)) => map.remove(k),
        (Step::Index(i), Value::Array(items)) if *i < items.len() => Some(items.remove(*i)),
        _ => None,
    }
}

/// Sets `new` at `all[done..]` below `at`, which `all[..done]` leads to. The way walked
/// is written out only for an error (a set that succeeds allocates nothing for it).
fn set_at(mut at: &mut Value, all: &[Step], done: usize, new: Value) -> Result<(), String> {
    for (n, step) in all.iter().enumerate().skip(done) {
        let last = n + 1 == all.len();
        match step {
            Step::Key(k) => {
                if at.is_null() {
                    *at = Value::Object(Map::new());
                }
                let Value::Object(map) = at else {
                    return Err(format!(
                        "{} is {}, not an object",
                        walked(&all[..n]),
                        kind_of(at)
                    ));
                };
                if last {
                    map.insert(k.clone(), new);
                    return Ok(());
                }
                at = map.entry(k.clone()).or_insert(Value::Null);
            }
            Step::Index(i) => {
                let Value::Array(items) = at else {
                    return Err(format!(
                        "{} is {}, not an array",
                        walked(&all[..n]),
                        kind_of(at)
                    ));
                };
                let len = items.len();
                let slot = items.get_mut(*i).ok_or_else(|| {
                    format!("{}[{i}] is past the end ({len} items)", walked(&all[..n]))
                })?;
                if last {
                    *slot = new;
                    return Ok(());
                }
                at = slot;
            }
        }
    }
    Ok(())
}

/// `steps` as a path is written (`a.b[0].c`), or "the record" for none.
fn walked(steps: &[Step]) -> String {
    if steps.is_empty() {
        return "the record".to_owned();
    }
    let mut text = String::new();
    for step in steps {
        match step {
            Step::Key(k) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(k);
            }
            Step::Index(i) => text.push_str(&format!("[{i}]")),
        }
    }
    text
}

/// "a string", "an array"..., for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Path {
        Path::parse(s).unwrap()
    }

    #[test]
    fn nested_paths_and_indexes() {
        let mut v = json!({"identities": [{"connection": "db"}], "m": {"a": 1}});
        assert_eq!(p("identities[0].connection").get(&v), Some(&json!("db")));
        assert_eq!(p("identities[1].connection").get(&v), None);
        p("m.b.c").set(&mut v, json!(2)).unwrap();
        assert_eq!(v["m"], json!({"a": 1, "b": {"c": 2}}));
        assert_eq!(p("m.a").remove(&mut v), Some(json!(1)));
        p("identities[0].provider")
            .set(&mut v, json!("auth0"))
            .unwrap();
        assert_eq!(v["identities"][0]["provider"], "auth0");
    }

    #[test]
    fn type_mismatches_and_bad_paths_say_why() {
        let mut v = json!({"name": "x", "list": [1]});
        assert_eq!(
            p("name.first").set(&mut v, json!(1)).unwrap_err(),
            "name is a string, not an object"
        );
        assert_eq!(
            p("list[3]").set(&mut v, json!(1)).unwrap_err(),
            "list[3] is past the end (1 items)"
        );
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("a[x]").is_err());
        assert!(Path::parse("a[0").is_err());
    }
}
