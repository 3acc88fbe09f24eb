//! Values a snapshot cannot hold (write-only secrets: provider credentials, hook and
//! action secrets, rules-config values), supplied for a restore by a TOML file:
//!
//! ```toml
//! [email_provider]                      # a singleton: its fields directly
//! credentials = { api_key = { env = "SENDGRID_API_KEY" } }
//!
//! [phone_providers.twilio]              # an object, by its name
//! credentials = { auth_token = { file = "/run/secrets/twilio" } }
//!
//! [hook_secrets."my-hook"]              # a hook's secrets, by the hook's name
//! API_KEY = { env = "HOOK_API_KEY" }
//!
//! [actions."add-roles-to-token"]        # an action's secrets, by secret name
//! secrets = { API_TOKEN = { env = "ACTION_TOKEN" } }
//! ```
//!
//! A table holding only `env` (or `file`) reads the value from that environment variable
//! (or file), so that the values file itself need hold no secret.

use std::path::Path;

use serde_json::Value;

/// A values file that cannot be used: which file, what is wrong and where.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ValuesError {
    /// The file.
    pub file: String,
    /// What is wrong, and where (line:column, or the key's dotted path).
    pub message: String,
}

/// Supplied values, resolved.
#[derive(Debug, Default, Clone)]
pub struct Values {
    root: serde_json::Map<String, Value>,
}

impl Values {
    /// No values.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads a values file, resolving `env` and `file` references now (a missing
    /// variable or file is an error naming it).
    pub fn load(path: &Path) -> Result<Self, ValuesError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ValuesError {
            file: file.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &file, &|v| std::env::var(v).ok())
    }

    /// Parses values text; `env` reads variables.
    pub fn parse(
        text: &str,
        file: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ValuesError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let (line, col) = crate::config::line_col(text, e.span().map_or(0, |s| s.start));
            ValuesError {
                file: file.to_owned(),
                message: format!("{line}:{col}: {}", e.message()),
            }
        })?;
        let value = serde_json::to_value(table).map_err(|e| ValuesError {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        let mut value = value;
        resolve(&mut value, "", file, env)?;
        let Value::Object(root) = value else {
            return Ok(Self::default());
        };
        Ok(Self { root })
    }

    /// The value for `field` of the object `name` of `kind` (`name` None for a
    /// singleton). `field` may be a dot path (`secrets.API_TOKEN`), written nested or
    /// as one quoted key.
    pub fn get(&self, kind: &str, name: Option<&str>, field: &str) -> Option<&Value> {
        let mut table = self.root.get(kind)?;
        if let Some(name) = name {
            table = table.get(name)?;
        }
        if let Some(v) = table.get(field) {
            return Some(v);
        }
        field.split('.').try_fold(table, |t, part| t.get(part))
    }

    /// The text of `field` of the object `name` of `kind`, if given.
    pub fn text(&self, kind: &str, name: &str, field: &str) -> Option<String> {
        self.get(kind, Some(name), field)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Values built in code: `{kind: {name: {field: value}}}` (`{kind: {field: value}}`
    /// for singletons), as a values file reads.
    pub fn from_json(root: serde_json::Map<String, Value>) -> Self {
        Self { root }
    }

    /// These values with `over`'s on top (object by object, field by field).
    pub fn merged(mut self, over: Values) -> Self {
        fn merge(into: &mut Value, from: Value) {
            match (into, from) {
                (Value::Object(a), Value::Object(b)) => {
                    for (k, v) in b {
                        match a.get_mut(&k) {
                            Some(slot) => merge(slot, v),
                            None => {
                                a.insert(k, v);
                            }
                        }
                    }
                }
                (slot, v) => *slot = v,
            }
        }
        let mut root = Value::Object(std::mem::take(&mut self.root));
        merge(&mut root, Value::Object(over.root));
        if let Value::Object(root) = root {
            self.root = root;
        }
        self
    }

    /// True when nothing was supplied.
    pub fn is_empty(&self) -> bool {
        self.root.is_empty()
    }
}

/// Replaces `{env = ..}` / `{file = ..}` tables by what they name.
fn resolve(
    value: &mut Value,
    at: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ValuesError> {
    let fail = |message: String| ValuesError {
        file: file.to_owned(),
        message,
    };
    let Value::Object(map) = value else {
        return Ok(());
    };
    if map.len() == 1 {
        if let Some(Value::String(var)) = map.get("env") {
            let v = env(var)
                .ok_or_else(|| fail(format!("{at}: the environment variable {var} is not set")))?;
            *value = Value::String(v);
            return Ok(());
        }
        if let Some(Value::String(path)) = map.get("file") {
            let v = std::fs::read_to_string(path)
                .map_err(|e| fail(format!("{at}: cannot read {path}: {e}")))?;
            *value = Value::String(v.trim_end_matches(['\r', '\n']).to_owned());
            return Ok(());
        }
    }
    for (k, v) in map.iter_mut() {
        let path = if at.is_empty() {
            k.clone()
        } else {
            format!("{at}.{k}")
        };
        resolve(v, &path, file, env)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(var: &str) -> Option<String> {
        (var == "KEY").then(|| "s3cr3t".to_owned())
    }

    #[test]
    fn values_resolve_env_and_nest() {
        let v = Values::parse(
            r#"
[email_provider]
credentials = { api_key = { env = "KEY" } }
[actions."my action"]
secrets = { TOKEN = "t" }
[hook_secrets.h]
"A.B" = "x"
"#,
            "v.toml",
            &env,
        )
        .unwrap();
        assert_eq!(
            v.get("email_provider", None, "credentials"),
            Some(&json!({"api_key": "s3cr3t"}))
        );
        assert_eq!(
            v.get("actions", Some("my action"), "secrets.TOKEN"),
            Some(&json!("t"))
        );
        assert_eq!(v.get("hook_secrets", Some("h"), "A.B"), Some(&json!("x")));
        assert_eq!(v.get("hook_secrets", Some("other"), "A.B"), None);
        let v = Values::parse(
            "[actions.\"add-roles\"]\n\"secrets.API_KEY\" = \"s\"\n",
            "v.toml",
            &env,
        )
        .unwrap();
        assert_eq!(
            v.get("actions", Some("add-roles"), "secrets.API_KEY"),
            Some(&json!("s"))
        );
    }

    #[test]
    fn a_missing_variable_is_named() {
        let e = Values::parse("[x]\na = { env = \"NOPE\" }\n", "v.toml", &env).unwrap_err();
        assert!(e.to_string().contains("NOPE"), "{e}");
        assert!(e.to_string().contains("x.a"), "{e}");
        let e = Values::parse("[x\n", "v.toml", &env).unwrap_err();
        assert!(e.to_string().starts_with("v.toml: 1:"), "{e}");
    }
}
