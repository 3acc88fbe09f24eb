//! Mapping specs: TOML files of ordered rules per kind.
//!
//! ```toml
//! [[all]]                       # rules for every kind, applied first
//! op = "rewrite"
//! pattern = "https://app\\.acme\\.com"
//! replace = "https://staging.acme.com"
//!
//! [[users]]                     # rules for one kind, in file order
//! op = "move"
//! from = "user_metadata.plan"
//! to = "app_metadata.plan"
//! ```
//!
//! A mistake is reported with the file, line and column, and what was expected.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use idferry_model::config::line_col;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::path::Path;
use crate::rules::{Predicate, Rule, ScrubAs};

/// A rule as written.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[allow(clippy::large_enum_variant)] // parsed once per rule, then compiled
enum RuleSpec {
    /// Moves a field (alias of `move`).
    Rename { from: String, to: String },
    /// Moves a field, also between `user_metadata` and `app_metadata`.
    Move { from: String, to: String },
    /// Copies a field.
    Copy { from: String, to: String },
    /// Removes fields.
    Drop { fields: Vec<String> },
    /// Keeps only these top-level fields, removing every other.
    Keep { fields: Vec<String> },
    /// Sets a field to a value or a template (`{{user_id}}` places other fields).
    Set {
        field: String,
        value: Option<toml::Value>,
        template: Option<String>,
    },
    /// Maps a field's value through a table.
    Map {
        field: String,
        table: BTreeMap<String, toml::Value>,
        default: Option<toml::Value>,
    },
    /// Rewrites strings by a regular expression, in chosen fields or everywhere.
    Rewrite {
        fields: Option<Vec<String>>,
        pattern: String,
        replace: String,
    },
    /// Keeps only records matching `keep`, or drops those matching `drop`.
    Filter {
        keep: Option<PredicateSpec>,
        drop: Option<PredicateSpec>,
    },
    /// Replaces personal data by keyed, deterministic hashes.
    Scrub {
        fields: Vec<String>,
        #[serde(rename = "as", default)]
        scrub_as: Option<String>,
        key_env: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PredicateSpec {
    field: Option<String>,
    equals: Option<toml::Value>,
    #[serde(rename = "in")]
    one_of: Option<Vec<toml::Value>>,
    exists: Option<bool>,
    matches: Option<String>,
    all: Option<Vec<PredicateSpec>>,
    any: Option<Vec<PredicateSpec>>,
    not: Option<Box<PredicateSpec>>,
}

/// A mapping: compiled rules per kind.
#[derive(Debug, Default)]
pub struct Mapping {
    /// Rules for every kind.
    pub all: Vec<Rule>,
    /// Rules per kind.
    pub kinds: BTreeMap<String, Vec<Rule>>,
    /// The line of each kind's first rule in the spec file (for errors naming a kind).
    pub lines: BTreeMap<String, usize>,
}

/// What is wrong with a spec.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct SpecError {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What was expected.
    pub message: String,
}

/// The environment variable holding the scrubbing key when a rule names none.
pub const DEFAULT_KEY_ENV: &str = "IDFERRY_SCRUB_KEY";

fn json(v: toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl Mapping {
    /// Reads a spec file.
    pub fn load(file: &FsPath, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(file).map_err(|e| SpecError {
            file: file.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read the spec: {e}"),
        })?;
        Self::parse(&text, &file.display().to_string(), env)
    }

    /// Parses spec text; `file` names it in errors; `env` reads scrubbing keys.
    pub fn parse(
        text: &str,
        file: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, SpecError> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
            SpecError {
                file: file.to_owned(),
                line,
                column,
                message,
            }
        };
        let raw: BTreeMap<String, Vec<Spanned<RuleSpec>>> = toml::from_str(text)
            .map_err(|e| at(e.span().unwrap_or(0..0), e.message().to_owned()))?;
        let mut mapping = Mapping::default();
        for (kind, rules) in raw {
            if let Some(first) = rules.first() {
                mapping
                    .lines
                    .insert(kind.clone(), line_col(text, first.span().start).0);
            }
            let mut compiled = Vec::with_capacity(rules.len());
            for rule in rules {
                let span = rule.span();
                let (line, _) = line_col(text, span.start);
                let rule =
                    compile(rule.into_inner(), line, env).map_err(|m| at(span.clone(), m))?;
                compiled.push(rule);
            }
            if kind == "all" {
                mapping.all = compiled;
            } else {
                mapping.kinds.insert(kind, compiled);
            }
        }
        Ok(mapping)
    }

    /// Adds a rule after the others of `kind` (for rules built in code, like the hash
    /// merge of a profile).
    pub fn push(&mut self, kind: &str, rule: Rule) {
        self.kinds.entry(kind.to_owned()).or_default().push(rule);
    }

    /// The rules applying to `kind`, in order.
    pub fn rules_for<'m>(&'m self, kind: &str) -> impl Iterator<Item = &'m Rule> {
        self.all
            .iter()
            .chain(self.kinds.get(kind).into_iter().flatten())
    }

    /// True when no rule applies to `kind`.
    pub fn is_identity_for(&self, kind: &str) -> bool {
        self.rules_for(kind).next().is_none()
    }
}

fn path(text: &str) -> Result<Path, String> {
    Path::parse(text)
}

fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| format!("bad regular expression {pattern:?}: {e}"))
}

/// True when `pattern` has no anchor or word boundary (no look-around of any kind), so
/// that whatever it finds in a string it finds in any text holding that string.
fn is_plain(pattern: &str) -> bool {
    regex_syntax::Parser::new()
        .parse(pattern)
        .is_ok_and(|hir| hir.properties().look_set().is_empty())
}

fn compile(
    spec: RuleSpec,
    line: usize,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Rule, String> {
    Ok(match spec {
        RuleSpec::Rename { from, to } | RuleSpec::Move { from, to } => Rule::Move {
            line,
            from: path(&from)?,
            to: path(&to)?,
        },
        RuleSpec::Copy { from, to } => Rule::Copy {
            line,
            from: path(&from)?,
            to: path(&to)?,
        },
        RuleSpec::Drop { fields } => Rule::Drop {
            line,
            fields: fields.iter().map(|f| path(f)).collect::<Result<_, _>>()?,
        },
        RuleSpec::Keep { fields } => {
            if let Some(f) = fields.iter().find(|f| f.contains(['.', '['])) {
                return Err(format!("keep takes top-level field names; {f:?} is a path"));
            }
            Rule::Keep { line, fields }
        }
        RuleSpec::Set {
            field,
            value,
            template,
        } => match (value, template) {
            (Some(v), None) => Rule::SetValue {
                line,
                field: path(&field)?,
                value: json(v),
            },
            (None, Some(t)) => Rule::SetTemplate {
                line,
                field: path(&field)?,
                parts: crate::rules::parse_template(&t)?,
            },
            _ => return Err("set takes either value or template".into()),
        },
        RuleSpec::Map {
            field,
            table,
            default,
        } => Rule::Map {
            line,
            field: path(&field)?,
            table: table.into_iter().map(|(k, v)| (k, json(v))).collect(),
            default: default.map(json),
        },
        RuleSpec::Rewrite {
            fields,
            pattern,
            replace,
        } => Rule::Rewrite {
            line,
            fields: fields
                .map(|f| f.iter().map(|p| path(p)).collect::<Result<_, _>>())
                .transpose()?,
            plain: is_plain(&pattern),
            pattern: regex(&pattern)?,
            replace,
        },
        RuleSpec::Filter { keep, drop } => match (keep, drop) {
            (Some(p), None) => Rule::Filter {
                line,
                keep: true,
                predicate: predicate(p)?,
            },
            (None, Some(p)) => Rule::Filter {
                line,
                keep: false,
                predicate: predicate(p)?,
            },
            _ => return Err("filter takes either keep or drop".into()),
        },
        RuleSpec::Scrub {
            fields,
            scrub_as,
            key_env,
        } => {
            let var = key_env.unwrap_or_else(|| DEFAULT_KEY_ENV.to_owned());
            let secret = env(&var).filter(|k| !k.is_empty()).ok_or_else(|| {
                format!("scrub needs a key: set the environment variable {var} (any secret; the same key gives the same output)")
            })?;
            let how = match scrub_as.as_deref().unwrap_or("text") {
                "email" => ScrubAs::Email,
                "phone" => ScrubAs::Phone,
                "name" => ScrubAs::Name,
                "text" => ScrubAs::Text,
                "drop" => ScrubAs::Drop,
                other => {
                    return Err(format!(
                        "scrub as {other:?}: expected one of email, phone, name, text, drop"
                    ));
                }
            };
            Rule::Scrub {
                line,
                fields: fields.iter().map(|f| path(f)).collect::<Result<_, _>>()?,
                how,
                key: blake3::derive_key("idferry scrub v2", secret.as_bytes()),
            }
        }
    })
}

fn predicate(p: PredicateSpec) -> Result<Predicate, String> {
    let field = p.field.as_deref().map(path).transpose()?;
    let need_field = |what: &str| field.clone().ok_or_else(|| format!("{what} needs a field"));
    let mut parts = Vec::new();
    if let Some(v) = p.equals {
        parts.push(Predicate::Equals(need_field("equals")?, json(v)));
    }
    if let Some(list) = p.one_of {
        parts.push(Predicate::In(
            need_field("in")?,
            list.into_iter().map(json).collect(),
        ));
    }
    if let Some(e) = p.exists {
        parts.push(Predicate::Exists(need_field("exists")?, e));
    }
    if let Some(re) = p.matches {
        parts.push(Predicate::Matches(need_field("matches")?, regex(&re)?));
    }
    if let Some(all) = p.all {
        parts.push(Predicate::All(
            all.into_iter().map(predicate).collect::<Result<_, _>>()?,
        ));
    }
    if let Some(any) = p.any {
        parts.push(Predicate::Any(
            any.into_iter().map(predicate).collect::<Result<_, _>>()?,
        ));
    }
    if let Some(not) = p.not {
        parts.push(Predicate::Not(Box::new(predicate(*not)?)));
    }
    match parts.len() {
        0 => Err("a predicate needs one of equals, in, exists, matches, all, any, not".into()),
        1 => Ok(parts.remove(0)),
        _ => Ok(Predicate::All(parts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let err = Mapping::parse(
            "[[users]]\nop = \"mvoe\"\nfrom = \"a\"\n",
            "m.toml",
            &no_env,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("m.toml:"), "{err}");
        assert!(
            err.message.contains("mvoe") && err.message.contains("move"),
            "{err}"
        );

        let err = Mapping::parse(
            "# x\n[[users]]\nop = \"move\"\nfrom = \"a..b\"\nto = \"c\"\n",
            "m.toml",
            &no_env,
        )
        .unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.message.contains("empty key"), "{err}");

        let err = Mapping::parse(
            "[[all]]\nop = \"rewrite\"\npattern = \"(\"\nreplace = \"\"\n",
            "m.toml",
            &no_env,
        )
        .unwrap_err();
        assert!(err.message.contains("bad regular expression"), "{err}");

        let err = Mapping::parse(
            "[[users]]\nop = \"drop\"\nfield = \"x\"\n",
            "m.toml",
            &no_env,
        )
        .unwrap_err();
        assert!(err.message.contains("field"), "{err}");

        let err = Mapping::parse(
            "[[users]]\nop = \"scrub\"\nfields = [\"email\"]\n",
            "m.toml",
            &no_env,
        )
        .unwrap_err();
        assert!(err.message.contains("IDFERRY_SCRUB_KEY"), "{err}");
    }
}
