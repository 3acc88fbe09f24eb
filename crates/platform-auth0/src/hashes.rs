//! Password hashes from an Auth0 password-hash export (the ndjson Auth0 support delivers,
//! see PLATFORMS.md): loaded by user id and email, merged into import records as
//! `password_hash` (bcrypt `$2a$`/`$2b$`) or `custom_password_hash` (other formats the
//! import takes); the rest is counted as not carried.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use idferry_platform::error::PipelineError;
use idferry_transform::codec::open_input;
use idferry_transform::record::Record;
use idferry_transform::rules::Merge;

/// A loaded hash file.
#[derive(Debug, Default)]
pub struct HashFile {
    by_id: HashMap<String, String>,
    by_email: HashMap<String, String>,
    /// Users given a hash.
    pub merged: AtomicU64,
    /// Users whose hash is in a format the import does not take.
    pub unsupported: AtomicU64,
}

/// The id of a hash-export line: `alt_id`, else `_id.$oid`.
fn line_id(v: &Value) -> Option<String> {
    v.get("alt_id")
        .and_then(Value::as_str)
        .or_else(|| v.pointer("/_id/$oid").and_then(Value::as_str))
        .map(str::to_owned)
}

fn line_email(v: &Value) -> Option<String> {
    v.get("email")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            v.get("identifiers")?
                .as_array()?
                .iter()
                .find(|i| i.get("type").and_then(Value::as_str) == Some("email"))?
                .get("value")?
                .as_str()
                .map(str::to_owned)
        })
}

impl HashFile {
    /// Reads `path` (ndjson, plain, .gz or .zst); an unreadable line is an error naming it.
    pub fn load(path: &Path) -> Result<Self, String> {
        let input = open_input(Some(path)).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut file = Self::default();
        for (n, line) in std::io::BufRead::lines(input).enumerate() {
            let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let at = || format!("{}:{}", path.display(), n + 1);
            let v: Value =
                serde_json::from_str(&line).map_err(|e| format!("{}: not JSON: {e}", at()))?;
            let hash = v
                .get("passwordHash")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{}: no passwordHash", at()))?
                .to_owned();
            if let Some(id) = line_id(&v) {
                file.by_id.insert(id, hash.clone());
            }
            if let Some(email) = line_email(&v) {
                file.by_email.insert(email.to_lowercase(), hash);
            }
        }
        Ok(file)
    }

    /// [`HashFile::load`], its error naming the file as a pipeline's errors do.
    pub fn open(path: &Path) -> Result<Self, PipelineError> {
        Self::load(path).map_err(|message| PipelineError::Hashes {
            path: path.to_owned(),
            message,
        })
    }

    /// Hashes loaded.
    pub fn len(&self) -> usize {
        self.by_id.len().max(self.by_email.len())
    }

    /// True when the file held none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash of an Auth0 user record (by its id without the provider prefix, else
    /// by email), if the file has one.
    pub fn find(&self, record: &Value) -> Option<&str> {
        let text = |key| record.get(key).and_then(Value::as_str);
        self.find_by(text("user_id"), text("email"))
    }

    fn find_by(&self, user_id: Option<&str>, email: Option<&str>) -> Option<&str> {
        let id = user_id.map(|id| id.rsplit('|').next().unwrap_or(id));
        id.and_then(|id| self.by_id.get(id))
            .or_else(|| self.by_email.get(&email?.to_lowercase()))
            .map(String::as_str)
    }

    /// Sets the record's hash, if the file has one for it.
    pub fn merge_into(&self, record: &mut Value) {
        let text = |key| record.get(key).and_then(Value::as_str);
        let Some(hash) = self
            .find_by(text("user_id"), text("email"))
            .map(str::to_owned)
        else {
            return;
        };
        if let Value::Object(map) = record {
            self.set_hash(hash, |key, value| {
                map.insert(key.to_owned(), value);
            });
        }
    }

    /// [`HashFile::merge_into`], for a record the engine reads.
    fn merge_into_record(&self, record: &mut Record<'_>) {
        let user_id = record
            .get("user_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let email = record
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let Some(hash) = self
            .find_by(user_id.as_deref(), email.as_deref())
            .map(str::to_owned)
        else {
            return;
        };
        self.set_hash(hash, |key, value| record.insert(key, value));
    }

    /// Sets `hash` where Auth0's import reads it (bcrypt `$2a$`/`$2b$` as
    /// `password_hash`, others as `custom_password_hash`), counting what was merged and
    /// what is of an unsupported scheme.
    fn set_hash(&self, hash: String, mut set: impl FnMut(&str, Value)) {
        let custom = |algorithm: &str| json!({"algorithm": algorithm, "hash": {"value": hash}});
        if hash.starts_with("$2a$") || hash.starts_with("$2b$") {
            set("password_hash", json!(hash));
        } else if hash.starts_with("$2y$") {
            set("custom_password_hash", custom("bcrypt"));
        } else if hash.starts_with("$argon2") {
            set("custom_password_hash", custom("argon2"));
        } else if hash.starts_with("$pbkdf2-") {
            set("custom_password_hash", custom("pbkdf2"));
        } else {
            self.unsupported.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.merged.fetch_add(1, Ordering::Relaxed);
    }
}

/// The merge rule a users mapping ends with (`idferry transform --hashes`, a users
/// sink's `hashes`).
impl Merge for HashFile {
    fn merge(&self, record: &mut Record<'_>) {
        self.merge_into_record(record);
    }

    fn summary(&self) -> String {
        format!(
            "hashes: {} users given their hash; {} with a hash format the import does not take (not carried)",
            self.merged.load(Ordering::Relaxed),
            self.unsupported.load(Ordering::Relaxed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_found_by_alt_id_oid_or_email() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hashes.ndjson");
        std::fs::write(
            &path,
            concat!(
                r#"{"_id":{"$oid":"5dea9f9c82dd7c0e76e4ec93"},"email":"a@example.com","passwordHash":"$2b$10$abc","alt_id":"euclid"}"#, "\n",
                r#"{"_id":{"$oid":"000000000000000000000002"},"identifiers":[{"type":"email","value":"B@example.com","verified":true}],"passwordHash":"$2y$10$def"}"#, "\n",
                r#"{"_id":{"$oid":"000000000000000000000003"},"email":"c@example.com","passwordHash":"{SSHA}xyz"}"#, "\n",
            ),
        )
        .unwrap();
        let file = HashFile::load(&path).unwrap();
        let merged = |mut v: Value| {
            file.merge_into(&mut v);
            v
        };
        let a = merged(json!({"user_id": "euclid", "email": "other@example.com"}));
        assert_eq!(a["password_hash"], "$2b$10$abc");
        let b = merged(json!({"user_id": "zzz", "email": "b@example.com"}));
        assert_eq!(
            b["custom_password_hash"],
            json!({"algorithm": "bcrypt", "hash": {"value": "$2y$10$def"}})
        );
        let c = merged(json!({"user_id": "auth0|000000000000000000000003"}));
        assert!(c.get("password_hash").is_none() && c.get("custom_password_hash").is_none());
        assert_eq!(file.unsupported.load(Ordering::Relaxed), 1);
        assert_eq!(file.merged.load(Ordering::Relaxed), 2);
        std::fs::write(&path, "{\"email\":\"x\"}\n").unwrap();
        assert!(
            HashFile::load(&path)
                .unwrap_err()
                .contains(":1: no passwordHash")
        );
    }
}
