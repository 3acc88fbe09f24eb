//! How Auth0 records are written one per line (ndjson) in snapshots: bare, or in an
//! envelope that places a sub-resource or a keyed object, and the secrets a snapshot
//! without them names.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use idferry_model::record::{remove_path, values_at};

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

/// Writes `record` (of `kind`, placed by `parent` and `key`) into `out` as one line of
/// its snapshot member: in an [`Envelope`] when the kind takes one, else as it is.
pub fn write_line(
    out: &mut Vec<u8>,
    kind: &Kind,
    record: Value,
    parent: &[&str],
    key: Option<&str>,
) -> serde_json::Result<()> {
    if enveloped(kind) {
        let envelope = Envelope {
            parent: parent.iter().map(|p| (*p).to_owned()).collect(),
            key: key.map(str::to_owned),
            record,
        };
        serde_json::to_writer(out, &envelope)
    } else {
        serde_json::to_writer(out, &record)
    }
}

/// The path of a kind's member in a snapshot: configuration under `config/`, users and
/// their memberships under `users/`.
pub fn member_path(kind: &Kind) -> String {
    let dir = if kind.config { "config" } else { "users" };
    format!("{dir}/{}.ndjson", kind.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
