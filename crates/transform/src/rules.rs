//! Compiled rules and how each rewrites a record.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::path::Path;
use crate::record::Record;

/// What a [`Rule::Merge`] sets in each record it sees, from outside the record (the
/// password hashes of a hash export, found by the user's id or email).
pub trait Merge: Send + Sync + std::fmt::Debug {
    /// Sets what it has for `record`, if anything.
    fn merge(&self, record: &mut Record<'_>);

    /// What it has set so far, in a line for a run's summary.
    fn summary(&self) -> String;
}

/// A rule, compiled (paths parsed, patterns built, keys derived). `line` is where it is
/// written in its spec, for errors; the other fields are the spec's (see `spec.rs`).
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum Rule {
    /// Moves a field; nothing when it is absent.
    Move { line: usize, from: Path, to: Path },
    /// Copies a field; nothing when it is absent.
    Copy { line: usize, from: Path, to: Path },
    /// Removes fields.
    Drop { line: usize, fields: Vec<Path> },
    /// Keeps only these top-level fields.
    Keep { line: usize, fields: Vec<String> },
    /// Sets fields from something outside the record (a platform's password-hash
    /// export): never written in a spec, pushed by the code that loaded it.
    Merge {
        line: usize,
        with: std::sync::Arc<dyn Merge>,
    },
    /// Sets a field to a constant.
    SetValue {
        line: usize,
        field: Path,
        value: Value,
    },
    /// Sets a field to a string built from other fields.
    SetTemplate {
        line: usize,
        field: Path,
        parts: Vec<Part>,
    },
    /// Replaces a field's value by its entry in a table (or the default).
    Map {
        line: usize,
        field: Path,
        table: BTreeMap<String, Value>,
        default: Option<Value>,
    },
    /// Replaces what a pattern matches in strings. `plain`: the pattern has no anchor
    /// or word boundary, so a text it does not match holds no string it would (a whole
    /// unparsed field is then left as it is).
    Rewrite {
        line: usize,
        fields: Option<Vec<Path>>,
        pattern: regex::Regex,
        plain: bool,
        replace: String,
    },
    /// Keeps (or drops) records matching a predicate.
    Filter {
        line: usize,
        keep: bool,
        predicate: Predicate,
    },
    /// Replaces personal data by keyed hashes.
    Scrub {
        line: usize,
        fields: Vec<Path>,
        how: ScrubAs,
        key: [u8; 32],
    },
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text as written.
    Text(String),
    /// The value of a field (empty when absent).
    Field(Path),
}

/// A condition on a record.
#[derive(Debug, Clone)]
pub enum Predicate {
    /// The field equals the value.
    Equals(Path, Value),
    /// The field equals one of the values.
    In(Path, Vec<Value>),
    /// The field is present (true) or absent (false).
    Exists(Path, bool),
    /// The field is a string matching the pattern.
    Matches(Path, regex::Regex),
    /// All hold.
    All(Vec<Predicate>),
    /// One holds.
    Any(Vec<Predicate>),
    /// It does not hold.
    Not(Box<Predicate>),
}

/// What scrubbed values look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScrubAs {
    /// `u-<hash>@example.invalid`: valid, unique, undeliverable.
    Email,
    /// `+1555` and seven digits.
    Phone,
    /// `User <hash>`.
    Name,
    /// A hash.
    Text,
    /// Removed.
    Drop,
}

/// A rule that could not be applied to a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule at line {line}: {message}")]
pub struct RuleError {
    /// The rule's line in its spec.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

/// Parses `u-{{user_id}}@{{app_metadata.tenant}}`.
pub fn parse_template(text: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| format!("template {text:?}: a '{{{{' without '}}}}'"))?;
        parts.push(Part::Field(Path::parse(after[..close].trim())?));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Ok(parts)
}

impl Predicate {
    /// Whether `record` satisfies it.
    pub fn holds(&self, record: &mut Record<'_>) -> bool {
        match self {
            Self::Equals(p, v) => p.get_in(record) == Some(v),
            Self::In(p, vs) => p.get_in(record).is_some_and(|x| vs.contains(x)),
            Self::Exists(p, want) => p.get_in(record).is_some_and(|v| !v.is_null()) == *want,
            Self::Matches(p, re) => p
                .get_in(record)
                .and_then(Value::as_str)
                .is_some_and(|s| re.is_match(s)),
            Self::All(ps) => ps.iter().all(|p| p.holds(record)),
            Self::Any(ps) => ps.iter().any(|p| p.holds(record)),
            Self::Not(p) => !p.holds(record),
        }
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A rewrite of every string: of the value when the record is not an object, else of
/// each field, leaving alone the unparsed fields a plain pattern does not match.
fn rewrite_everywhere(record: &mut Record<'_>, pattern: &regex::Regex, plain: bool, replace: &str) {
    if let Some(v) = record.other_mut() {
        return rewrite_strings(v, pattern, replace);
    }
    // One look at the whole line clears every field still as it came.
    let line_clean = plain && record.source().is_some_and(|s| !pattern.is_match(s));
    if let Some(fields) = record.fields_mut() {
        fields.for_each_string_holder(
            &|raw| line_clean || (plain && !pattern.is_match(raw)),
            &mut |v| rewrite_strings(v, pattern, replace),
        );
    }
}

fn rewrite_strings(v: &mut Value, pattern: &regex::Regex, replace: &str) {
    match v {
        Value::String(s) if pattern.is_match(s) => {
            *s = pattern.replace_all(s, replace).into_owned();
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| rewrite_strings(i, pattern, replace)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|i| rewrite_strings(i, pattern, replace)),
        _ => {}
    }
}

/// Appends the first `chars` hex digits of `bytes` to `out` (at most two per byte).
fn push_hex(out: &mut String, bytes: &[u8], chars: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 64];
    let n = chars.min(digits.len()).min(bytes.len() * 2);
    for (i, d) in digits[..n].iter_mut().enumerate() {
        let b = bytes[i / 2];
        *d = DIGITS[usize::from(if i % 2 == 0 { b >> 4 } else { b & 15 })];
    }
    out.push_str(std::str::from_utf8(&digits[..n]).unwrap_or_default());
}

fn scrub_value(v: &mut Value, how: ScrubAs, key: &[u8; 32]) {
    match v {
        Value::String(s) => {
            // SipHash-1-3 (128 bits) is a keyed PRF made for short inputs such as names and
            // emails, where it costs much less than a general-purpose hash.
            let mut sip_key = [0u8; 16];
            sip_key.copy_from_slice(&key[..16]);
            let mut hasher = siphasher::sip128::SipHasher13::new_with_key(&sip_key);
            std::hash::Hasher::write(&mut hasher, s.as_bytes());
            let hash = siphasher::sip128::Hasher128::finish128(&hasher).as_bytes();
            let hash = &hash;
            // Written in place of the old text: only the digits shown are encoded.
            s.clear();
            match how {
                ScrubAs::Email => {
                    s.push_str("u-");
                    push_hex(s, hash, 20);
                    s.push_str("@example.invalid");
                }
                ScrubAs::Phone => {
                    let n = u64::from_le_bytes(hash[..8].try_into().unwrap_or([0; 8]));
                    // Writing into a String cannot fail.
                    let _ =
                        std::fmt::Write::write_fmt(s, format_args!("+1555{:07}", n % 10_000_000));
                }
                ScrubAs::Name => {
                    s.push_str("User ");
                    push_hex(s, hash, 8);
                }
                ScrubAs::Text | ScrubAs::Drop => push_hex(s, hash, 16),
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| scrub_value(i, how, key)),
        Value::Object(map) => map.values_mut().for_each(|i| scrub_value(i, how, key)),
        _ => {}
    }
}

impl Rule {
    fn line(&self) -> usize {
        match self {
            Self::Move { line, .. }
            | Self::Copy { line, .. }
            | Self::Drop { line, .. }
            | Self::Keep { line, .. }
            | Self::Merge { line, .. }
            | Self::SetValue { line, .. }
            | Self::SetTemplate { line, .. }
            | Self::Map { line, .. }
            | Self::Rewrite { line, .. }
            | Self::Filter { line, .. }
            | Self::Scrub { line, .. } => *line,
        }
    }

    /// Applies the rule; Ok(false) when a filter drops the record.
    pub fn apply(&self, record: &mut Record<'_>) -> Result<bool, RuleError> {
        let fail = |message: String| RuleError {
            line: self.line(),
            message,
        };
        // A rewrite everywhere reaches any value (a settings record may be an array).
        let everywhere = matches!(self, Self::Rewrite { fields: None, .. });
        if record.other_mut().is_some() && !everywhere {
            return Err(fail(format!(
                "the record is {}, not an object",
                record.kind()
            )));
        }
        match self {
            Self::Move { from, to, .. } => {
                if let Some(v) = from.remove_in(record) {
                    to.set_in(record, v)
                        .map_err(|m| fail(format!("move {from} to {to}: {m}")))?;
                }
            }
            Self::Copy { from, to, .. } => {
                if let Some(v) = from.get_in(record).cloned() {
                    to.set_in(record, v)
                        .map_err(|m| fail(format!("copy {from} to {to}: {m}")))?;
                }
            }
            Self::Drop { fields, .. } => {
                for f in fields {
                    f.discard_in(record);
                }
            }
            Self::Keep { fields, .. } => record.retain(|k| fields.iter().any(|f| f == k)),
            Self::Merge { with, .. } => with.merge(record),
            Self::SetValue { field, value, .. } => {
                field
                    .set_in(record, value.clone())
                    .map_err(|m| fail(format!("set {field}: {m}")))?;
            }
            Self::SetTemplate { field, parts, .. } => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => out.push_str(t),
                        Part::Field(p) => {
                            out.push_str(&p.get_in(record).map(text_of).unwrap_or_default())
                        }
                    }
                }
                field
                    .set_in(record, Value::String(out))
                    .map_err(|m| fail(format!("set {field}: {m}")))?;
            }
            Self::Map {
                field,
                table,
                default,
                ..
            } => {
                let Some(current) = field.get_in(record) else {
                    return Ok(true);
                };
                let next = match table.get(&text_of(current)) {
                    Some(v) => Some(v.clone()),
                    None => default.clone(),
                };
                if let Some(v) = next {
                    field
                        .set_in(record, v)
                        .map_err(|m| fail(format!("map {field}: {m}")))?;
                }
            }
            Self::Rewrite {
                fields,
                pattern,
                plain,
                replace,
                ..
            } => match fields {
                None => rewrite_everywhere(record, pattern, *plain, replace),
                Some(fields) => {
                    for f in fields {
                        if let Some(v) = f.get_mut_in(record) {
                            rewrite_strings(v, pattern, replace);
                        }
                    }
                }
            },
            Self::Filter {
                keep, predicate, ..
            } => return Ok(predicate.holds(record) == *keep),
            Self::Scrub {
                fields, how, key, ..
            } => {
                for f in fields {
                    if *how == ScrubAs::Drop {
                        f.discard_in(record);
                    } else {
                        f.strings_in(record, &mut |v| scrub_value(v, *how, key));
                    }
                }
            }
        }
        Ok(true)
    }
}

/// Applies `rules` in order to a record; Ok(false) when it is filtered out.
pub fn apply_to<'r>(
    rules: impl IntoIterator<Item = &'r Rule>,
    record: &mut Record<'_>,
) -> Result<bool, RuleError> {
    for rule in rules {
        if !rule.apply(record)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Applies `rules` in order to a value; Ok(false) when it is filtered out.
pub fn apply_all<'r>(
    rules: impl IntoIterator<Item = &'r Rule>,
    value: &mut Value,
) -> Result<bool, RuleError> {
    let mut record = Record::from_value(std::mem::take(value));
    let keep = apply_to(rules, &mut record);
    // The value comes back also when a rule failed (callers name the record in the
    // error). A record made from a value has no field left as text: this cannot fail.
    *value = record
        .into_value()
        .map_err(|message| RuleError { line: 0, message })?;
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Mapping;
    use serde_json::json;

    fn env(var: &str) -> Option<String> {
        (var == "IDFERRY_SCRUB_KEY").then(|| "test-key".to_owned())
    }

    fn run(spec: &str, record: Value) -> Result<Option<Value>, RuleError> {
        let mapping = Mapping::parse(spec, "t.toml", &env).unwrap();
        let mut record = record;
        Ok(apply_all(mapping.rules_for("users"), &mut record)?.then_some(record))
    }

    #[test]
    fn move_copy_drop_rename_across_metadata() {
        let spec = r#"
[[users]]
op = "move"
from = "user_metadata.plan"
to = "app_metadata.billing.plan"
[[users]]
op = "copy"
from = "identities[0].connection"
to = "app_metadata.source"
[[users]]
op = "drop"
fields = ["logins_count", "identities", "absent.field"]
[[users]]
op = "rename"
from = "nickname"
to = "user_metadata.nick"
"#;
        let out = run(spec, json!({"user_metadata": {"plan": "pro", "x": 1}, "identities": [{"connection": "db"}], "logins_count": 3, "nickname": "n"})).unwrap().unwrap();
        assert_eq!(
            out,
            json!({"user_metadata": {"x": 1, "nick": "n"}, "app_metadata": {"billing": {"plan": "pro"}, "source": "db"}})
        );
        // A missing source is no change, not an error.
        assert_eq!(run(spec, json!({})).unwrap().unwrap(), json!({}));
    }

    #[test]
    fn type_mismatches_are_clear_errors() {
        let spec = "[[users]]\nop = \"set\"\nfield = \"name.first\"\nvalue = \"x\"\n";
        let err = run(spec, json!({"name": "Ada"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rule at line 1: set name.first: name is a string, not an object"
        );
        assert!(
            run(spec, json!([1]))
                .unwrap_err()
                .message
                .contains("not an object")
        );
        // A rewrite everywhere reaches a record that is not an object (a settings list).
        let everywhere = "[[users]]\nop = \"rewrite\"\npattern = \"prod\"\nreplace = \"staging\"\n";
        assert_eq!(
            run(everywhere, json!(["prod-a", 1])).unwrap(),
            Some(json!(["staging-a", 1]))
        );
    }

    #[test]
    fn templates_maps_and_rewrites() {
        let spec = r#"
[[users]]
op = "set"
field = "app_metadata.legacy_id"
template = "legacy-{{user_id}}-{{app_metadata.n}}-{{missing}}"
[[users]]
op = "map"
field = "identities[0].connection"
table = { "Username-Password-Authentication" = "db-main" }
[[users]]
op = "map"
field = "app_metadata.plan"
table = { free = "starter" }
default = "other"
[[users]]
op = "rewrite"
fields = ["callbacks"]
pattern = "https://app\\.acme\\.com"
replace = "https://staging.acme.com"
"#;
        let out = run(spec, json!({"user_id": "u1", "app_metadata": {"n": 2, "plan": "pro"},
            "identities": [{"connection": "Username-Password-Authentication"}],
            "callbacks": ["https://app.acme.com/cb", "http://localhost"], "picture": "https://app.acme.com/p"})).unwrap().unwrap();
        assert_eq!(out["app_metadata"]["legacy_id"], "legacy-u1-2-");
        assert_eq!(out["identities"][0]["connection"], "db-main");
        assert_eq!(out["app_metadata"]["plan"], "other");
        assert_eq!(
            out["callbacks"],
            json!(["https://staging.acme.com/cb", "http://localhost"])
        );
        assert_eq!(
            out["picture"], "https://app.acme.com/p",
            "only the chosen fields"
        );
    }

    #[test]
    fn predicates_filter_records() {
        let spec = r#"
[[users]]
op = "filter"
keep = { any = [ { field = "email", matches = "@acme\\.com$" }, { all = [ { field = "app_metadata.plan", in = ["pro", "enterprise"] }, { not = { field = "blocked", equals = true } } ] } ] }
[[users]]
op = "filter"
drop = { field = "app_metadata.test", exists = true }
"#;
        assert!(run(spec, json!({"email": "a@acme.com"})).unwrap().is_some());
        assert!(
            run(
                spec,
                json!({"email": "a@x.io", "app_metadata": {"plan": "pro"}})
            )
            .unwrap()
            .is_some()
        );
        assert!(
            run(
                spec,
                json!({"email": "a@x.io", "app_metadata": {"plan": "pro"}, "blocked": true})
            )
            .unwrap()
            .is_none()
        );
        assert!(
            run(
                spec,
                json!({"email": "a@x.io", "app_metadata": {"plan": "free"}})
            )
            .unwrap()
            .is_none()
        );
        assert!(
            run(
                spec,
                json!({"email": "a@acme.com", "app_metadata": {"test": 1}})
            )
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn scrubbing_is_keyed_deterministic_and_keeps_emails_valid() {
        let spec = r#"
[[users]]
op = "scrub"
fields = ["email"]
as = "email"
[[users]]
op = "scrub"
fields = ["phone_number"]
as = "phone"
[[users]]
op = "scrub"
fields = ["name", "user_metadata.address"]
as = "name"
"#;
        let user = json!({"email": "ada@example.com", "phone_number": "+33612345678", "name": "Ada", "user_metadata": {"address": {"city": "Lyon"}}});
        let a = run(spec, user.clone()).unwrap().unwrap();
        let b = run(spec, user).unwrap().unwrap();
        assert_eq!(a, b, "the same input gives the same output");
        let email = a["email"].as_str().unwrap();
        assert!(
            email.starts_with("u-") && email.ends_with("@example.invalid"),
            "{email}"
        );
        assert_ne!(
            run(spec, json!({"email": "bob@example.com"}))
                .unwrap()
                .unwrap()["email"],
            a["email"]
        );
        assert!(a["phone_number"].as_str().unwrap().starts_with("+1555"));
        assert!(!a.to_string().contains("Lyon") && !a.to_string().contains("Ada"));
        let other_key = Mapping::parse(spec, "t.toml", &|_| Some("another".into())).unwrap();
        let mut c = json!({"email": "ada@example.com"});
        apply_all(other_key.rules_for("users"), &mut c).unwrap();
        assert_ne!(c["email"], a["email"], "the key changes the output");
    }
}
