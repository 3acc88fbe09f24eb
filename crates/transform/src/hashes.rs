//! Password hashes from an Auth0 password-hash export (the ndjson Auth0 support delivers,
//! see PLATFORMS.md): loaded by user id and email, merged into import records as
//! `password_hash` (bcrypt `$2a$`/`$2b$`) or `custom_password_hash` (other formats the
//! import takes); the rest is counted as not carried.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::codec::open_input;

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
        let id = record
            .get("user_id")
            .and_then(Value::as_str)
            .map(|id| id.rsplit('|').next().unwrap_or(id).to_owned());
        id.and_then(|id| self.by_id.get(&id))
            .or_else(|| {
                let email = record.get("email").and_then(Value::as_str)?.to_lowercase();
                self.by_email.get(&email)
            })
            .map(String::as_str)
    }

    /// Sets the record's hash, if the file has one for it.
    pub fn merge_into(&self, record: &mut Value) {
        let Some(hash) = self.find(record).map(str::to_owned) else {
            return;
        };
        let Value::Object(map) = record else { return };
        let custom = |algorithm: &str| json!({"algorithm": algorithm, "hash": {"value": hash}});
        if hash.starts_with("$2a$") || hash.starts_with("$2b$") {
            map.insert("password_hash".into(), json!(hash));
        } else if hash.starts_with("$2y$") {
            map.insert("custom_password_hash".into(), custom("bcrypt"));
        } else if hash.starts_with("$argon2") {
            map.insert("custom_password_hash".into(), custom("argon2"));
        } else if hash.starts_with("$pbkdf2-") {
            map.insert("custom_password_hash".into(), custom("pbkdf2"));
        } else {
            self.unsupported.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.merged.fetch_add(1, Ordering::Relaxed);
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
        let mut a = json!({"user_id": "euclid", "email": "other@example.com"});
        file.merge_into(&mut a);
        assert_eq!(a["password_hash"], "$2b$10$abc");
        let mut b = json!({"user_id": "zzz", "email": "b@example.com"});
        file.merge_into(&mut b);
        assert_eq!(
            b["custom_password_hash"],
            json!({"algorithm": "bcrypt", "hash": {"value": "$2y$10$def"}})
        );
        let mut c = json!({"user_id": "auth0|000000000000000000000003"});
        file.merge_into(&mut c);
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
