//! Field paths of mapping specs: dots between keys, `[n]` for array items
//! (`identities[0].connection`, `user_metadata.address.city`).

use std::fmt;

use serde_json::{Map, Value};

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
        let mut at = value;
        for step in &self.steps {
            at = match step {
                Step::Key(k) => at.get(k)?,
                Step::Index(i) => at.get(*i)?,
            };
        }
        Some(at)
    }

    /// The value at this path, mutably.
    pub fn get_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        let mut at = value;
        for step in &self.steps {
            at = match step {
                Step::Key(k) => at.get_mut(k)?,
                Step::Index(i) => at.get_mut(*i)?,
            };
        }
        Some(at)
    }

    /// Removes and returns the value at this path.
    pub fn remove(&self, value: &mut Value) -> Option<Value> {
        let (last, parents) = self.steps.split_last()?;
        let mut at = value;
        for step in parents {
            at = match step {
                Step::Key(k) => at.get_mut(k)?,
                Step::Index(i) => at.get_mut(*i)?,
            };
        }
        match (last, at) {
            (Step::Key(k), Value::Object(map)) => map.remove(k),
            (Step::Index(i), Value::Array(items)) if *i < items.len() => Some(items.remove(*i)),
            _ => None,
        }
    }

    /// Sets the value at this path, creating objects on the way. Errors when the way
    /// goes through something that is not an object (or an array, for an index).
    pub fn set(&self, value: &mut Value, new: Value) -> Result<(), String> {
        let mut at = value;
        let mut walked = String::new();
        for (n, step) in self.steps.iter().enumerate() {
            let last = n + 1 == self.steps.len();
            match step {
                Step::Key(k) => {
                    if at.is_null() {
                        *at = Value::Object(Map::new());
                    }
                    let Value::Object(map) = at else {
                        return Err(format!(
                            "{} is {}, not an object",
                            shown(&walked),
                            kind_of(at)
                        ));
                    };
                    if last {
                        map.insert(k.clone(), new);
                        return Ok(());
                    }
                    at = map.entry(k.clone()).or_insert(Value::Null);
                    push_key(&mut walked, k);
                }
                Step::Index(i) => {
                    let Value::Array(items) = at else {
                        return Err(format!(
                            "{} is {}, not an array",
                            shown(&walked),
                            kind_of(at)
                        ));
                    };
                    let len = items.len();
                    let slot = items.get_mut(*i).ok_or_else(|| {
                        format!("{}[{i}] is past the end ({len} items)", shown(&walked))
                    })?;
                    if last {
                        *slot = new;
                        return Ok(());
                    }
                    at = slot;
                    walked.push_str(&format!("[{i}]"));
                }
            }
        }
        Ok(())
    }
}

fn push_key(walked: &mut String, key: &str) {
    if !walked.is_empty() {
        walked.push('.');
    }
    walked.push_str(key);
}

fn shown(walked: &str) -> &str {
    if walked.is_empty() {
        "the record"
    } else {
        walked
    }
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
