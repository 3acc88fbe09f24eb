//! Comparing two Auth0 snapshots kind by kind: objects added, removed and changed (with the
//! fields that changed), matched by the catalog's natural key. With `ignore_ids` (two
//! tenants' snapshots), ids and fields the API sets are left out, and references by id
//! (listed in the catalog or found by the id itself, at any depth) are compared by the
//! natural key of what they point at.
//!
//! Configuration is small and compared whole in memory; users are compared by a
//! checksum per user, and only changed users are read again for their fields, so that a
//! million users cost a few tens of megabytes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;

use idferry_auth0::{Kind, Shape, catalog};
use idferry_auth0::{
    record::Envelope, record::REDACTED_KIND, record::Redacted, record::RedactedAt,
    record::enveloped, record::redacted_at,
};
use idferry_model::record::{MIN_MADE_UP_ID, map_strings, map_values, remove_path};
use serde_json::Value;

use idferry_archive::diff::{Changed, DiffOptions, KindDiff, changed_fields};
use idferry_archive::{ArchiveError, SnapshotReader};

/// One snapshot read for comparison.
#[derive(Default)]
struct Side {
    /// Per kind: key -> normalized record (configuration) or checksum (users).
    kinds: BTreeMap<String, BTreeMap<String, Entry>>,
}

enum Entry {
    Record(Value),
    Digest(blake3::Hash),
}

/// id -> natural key, per kind, for following references.
type Names = HashMap<&'static str, HashMap<String, String>>;

fn natural_key(kind: &Kind, record: &Value) -> String {
    let parts: Vec<String> = kind
        .natural_key
        .iter()
        .map(|f| match record.get(*f) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        })
        .collect();
    let key = parts.join("/");
    if key.chars().all(|c| c == '/') {
        // No natural key (a user without email): fall back to the id.
        kind.id_field
            .and_then(|f| record.get(f))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    } else {
        key
    }
}

fn key_of(
    kind: &'static Kind,
    line: &Value,
    names: &Names,
    options: DiffOptions,
) -> (String, Value) {
    // Between tenants, a key made of ids (a grant's client) is made of names instead.
    let keyed_by = |record: &Value| {
        if options.ignore_ids && !kind.references.is_empty() {
            let mut followed = record.clone();
            follow_references(kind, &mut followed, names);
            natural_key(kind, &followed)
        } else {
            natural_key(kind, record)
        }
    };
    if !enveloped(kind) {
        let key = if kind.is_singleton() {
            "(settings)".to_owned()
        } else {
            keyed_by(line)
        };
        return (key, line.clone());
    }
    let envelope: Envelope = serde_json::from_value(line.clone()).unwrap_or(Envelope {
        parent: Vec::new(),
        key: None,
        record: line.clone(),
    });
    // The parents' names: ids, or with ignore_ids their natural keys.
    let mut chain = Vec::new();
    let mut parent = kind.parent;
    while let Some(name) = parent {
        chain.push(name);
        parent = catalog::find(name).and_then(|k| k.parent);
    }
    chain.reverse();
    let parents: Vec<String> = envelope
        .parent
        .iter()
        .zip(chain.iter().chain(std::iter::repeat(&"")))
        .map(|(id, kind)| {
            if options.ignore_ids {
                names
                    .get(kind)
                    .and_then(|m| m.get(id))
                    .cloned()
                    .unwrap_or_else(|| id.clone())
            } else {
                id.clone()
            }
        })
        .collect();
    let own = match (&envelope.key, kind.shape) {
        (Some(k), _) => k.clone(),
        (None, Shape::Singleton | Shape::Map) => "(settings)".into(),
        (None, _) => keyed_by(&envelope.record),
    };
    let mut key = parents;
    key.push(own);
    (key.join(" > "), envelope.record)
}

/// References by id replaced by the natural key of what they point at.
fn follow_references(kind: &Kind, record: &mut Value, names: &Names) {
    for reference in kind.references {
        let Some(target) = catalog::find(reference.kind) else {
            continue;
        };
        if target.id_field != Some(reference.by) {
            continue; // by natural key already (an audience is an identifier)
        }
        let Some(map) = names.get(target.name) else {
            continue;
        };
        map_values(record, reference.field, &mut |v| {
            if let Some(name) = v.as_str().and_then(|id| map.get(id)) {
                *v = Value::String(name.clone());
            }
        });
    }
}

/// Leaves out what differs between tenants by construction. References the catalog
/// lists become the natural key of what they point at; any other string equal to the
/// made-up id of an object of the same snapshot becomes `kind name` (a flow's vault
/// connection, a form's flow), so that a reference is compared by what it points at in
/// its own tenant, and one that points outside it stays an id and shows.
fn normalize(kind: &Kind, mut record: Value, names: &Names) -> Value {
    follow_references(kind, &mut record, names);
    if let (Value::Object(map), Some(id)) = (&mut record, kind.id_field) {
        map.remove(id);
    }
    map_strings(&mut record, &mut |s| {
        if s.len() < MIN_MADE_UP_ID {
            return None;
        }
        names.iter().find_map(|(k, ids)| {
            let name = ids.get(s)?;
            catalog::find(k)?
                .ids_are_made_up()
                .then(|| format!("{k} {name}"))
        })
    });
    for field in kind.read_only {
        // Whether an object is live (an action deployed) is set by the API and still
        // what a user sees: compared.
        if kind.go_live.is_none_or(|g| g.live != *field) {
            remove_path(&mut record, field);
        }
    }
    record
}

/// The field a record is given, in a comparison, naming the secret fields its tenant had
/// set and its snapshot left out: a secret set on one side only is a difference.
pub const SECRETS_SET: &str = "(secrets set)";

/// Secret fields each object had set, from a snapshot's redaction member, by (kind,
/// parents, key, id).
type Redactions = HashMap<RedactedAt, Vec<String>>;

/// Read before the records they annotate; the member comes after the configuration and
/// memberships and before the users, so the read stops there rather than going through
/// every user.
fn redactions_of(reader: &SnapshotReader) -> Result<Redactions, ArchiveError> {
    let mut out = Redactions::new();
    reader.for_each_member(|manifest, name, input| {
        let Some(member) = manifest.members.iter().find(|m| m.path == name) else {
            return Ok(true);
        };
        if member.kind != REDACTED_KIND {
            // At the users, the member was not written (a snapshot with secrets).
            return Ok(member.kind != "users");
        }
        for (n, line) in std::io::BufReader::new(input).lines().enumerate() {
            let corrupt = |message: String| ArchiveError::Corrupt {
                path: reader.path().to_owned(),
                message: format!("member {name}, record {}: {message}", n + 1),
            };
            let line = line.map_err(|e| corrupt(e.to_string()))?;
            if line.is_empty() {
                continue;
            }
            let r: Redacted = serde_json::from_str(&line).map_err(|e| corrupt(e.to_string()))?;
            out.insert(r.at(), r.fields);
        }
        Ok(false)
    })?;
    Ok(out)
}

/// The kind of the member called `name`.
fn member_kind(manifest: &idferry_archive::Manifest, name: &str) -> Option<&'static Kind> {
    manifest
        .members
        .iter()
        .find(|m| m.path == name)
        .and_then(|m| catalog::find(&m.kind))
}

/// Every configuration object's natural key by id, for following references between
/// tenants. Kinds are named in dependency order, so that a key made of references (a
/// grant's client) is itself made of names.
fn names_of(reader: &SnapshotReader, options: DiffOptions) -> Result<Names, ArchiveError> {
    let mut names: Names = HashMap::new();
    if !options.ignore_ids {
        return Ok(names);
    }
    let mut raw: HashMap<&'static str, Vec<Value>> = HashMap::new();
    reader.for_each_member(|manifest, name, input| {
        let Some(kind) = member_kind(manifest, name).filter(|k| k.config && k.id_field.is_some())
        else {
            return Ok(true);
        };
        let lines = raw.entry(kind.name).or_default();
        for line in std::io::BufReader::new(input).lines() {
            let line = line.map_err(|e| ArchiveError::Corrupt {
                path: reader.path().to_owned(),
                message: format!("member {name}: {e}"),
            })?;
            if let Ok(v) = serde_json::from_str(&line) {
                lines.push(v);
            }
        }
        Ok(true)
    })?;
    for kind in catalog::dependency_order() {
        let (Some(lines), Some(id_field)) = (raw.get(kind.name), kind.id_field) else {
            continue;
        };
        for line in lines {
            let (key, record) = key_of(kind, line, &names, options);
            if let Some(id) = record.get(id_field).and_then(Value::as_str) {
                names
                    .entry(kind.name)
                    .or_default()
                    .insert(id.to_owned(), key);
            }
        }
    }
    Ok(names)
}

fn read_side(reader: &SnapshotReader, options: DiffOptions) -> Result<Side, ArchiveError> {
    let mut side = Side::default();
    let mut names = names_of(reader, options)?;
    let redactions = redactions_of(reader)?;
    // One pass over the archive; members come in catalog order, parents before children.
    reader.for_each_member(|manifest, name, input| {
        let Some(kind) = member_kind(manifest, name) else {
            return Ok(true);
        };
        let corrupt = |message: String| ArchiveError::Corrupt {
            path: reader.path().to_owned(),
            message: format!("member {name}: {message}"),
        };
        let mut entries = BTreeMap::new();
        for line in std::io::BufReader::new(input).lines() {
            let line = line.map_err(|e| corrupt(e.to_string()))?;
            if line.is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(&line)
                .map_err(|e| corrupt(format!("a record is not JSON: {e}")))?;
            let (key, mut record) = key_of(kind, &value, &names, options);
            if options.ignore_ids && !kind.carries(&record) {
                // The tenant's own (its canonical domain): no other tenant has the same.
                continue;
            }
            if !redactions.is_empty() {
                let envelope = enveloped(kind)
                    .then(|| serde_json::from_value::<Envelope>(value.clone()).ok())
                    .flatten();
                let at = redacted_at(
                    kind,
                    envelope.as_ref().map_or(&[][..], |e| &e.parent),
                    envelope.as_ref().and_then(|e| e.key.as_deref()),
                    &record,
                );
                if let (Some(fields), Value::Object(map)) = (redactions.get(&at), &mut record) {
                    map.insert(SECRETS_SET.to_owned(), serde_json::json!(fields));
                }
            }
            if let (Some(id_field), true) = (kind.id_field, kind.config)
                && let Some(id) = record.get(id_field).and_then(Value::as_str)
            {
                names
                    .entry(kind.name)
                    .or_default()
                    .insert(id.to_owned(), key.clone());
            }
            let record = if options.ignore_ids {
                normalize(kind, record, &names)
            } else {
                record
            };
            let entry = if kind.config {
                Entry::Record(record)
            } else {
                Entry::Digest(blake3::hash(
                    &serde_json::to_vec(&record).unwrap_or_default(),
                ))
            };
            entries.insert(key, entry);
        }
        side.kinds.insert(kind.name.to_owned(), entries);
        Ok(true)
    })?;
    Ok(side)
}

/// Compares snapshot `a` (older) with `b` (newer).
pub fn diff(
    a: &SnapshotReader,
    b: &SnapshotReader,
    options: DiffOptions,
) -> Result<Vec<KindDiff>, ArchiveError> {
    let left = read_side(a, options)?;
    let right = read_side(b, options)?;
    let kinds: BTreeSet<&String> = left.kinds.keys().chain(right.kinds.keys()).collect();
    let empty = BTreeMap::new();
    let mut out = Vec::new();
    let mut detail_needed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for kind in kinds {
        let l = left.kinds.get(kind).unwrap_or(&empty);
        let r = right.kinds.get(kind).unwrap_or(&empty);
        let mut d = KindDiff {
            kind: kind.clone(),
            ..KindDiff::default()
        };
        for (key, entry) in l {
            match (entry, r.get(key)) {
                (_, None) => d.removed.push(key.clone()),
                (Entry::Record(x), Some(Entry::Record(y))) if x != y => {
                    let mut fields = Vec::new();
                    changed_fields(x, y, "", &mut fields);
                    d.changed.push(Changed {
                        key: key.clone(),
                        fields,
                    });
                }
                (Entry::Digest(x), Some(Entry::Digest(y))) if x != y => {
                    detail_needed
                        .entry(kind.clone())
                        .or_default()
                        .insert(key.clone());
                }
                _ => {}
            }
        }
        d.added = r.keys().filter(|k| !l.contains_key(*k)).cloned().collect();
        out.push(d);
    }
    // Users that changed: read them again, only them, for their fields.
    for (kind_name, keys) in detail_needed {
        let Some(kind) = catalog::find(&kind_name) else {
            continue;
        };
        let pick = |reader: &SnapshotReader| -> Result<HashMap<String, Value>, ArchiveError> {
            let mut found = HashMap::new();
            let names = Names::new();
            reader.records(kind.name, |line| {
                // Read whole by the first pass; a line that no longer reads is damage.
                let value: Value =
                    serde_json::from_slice(line).map_err(|e| ArchiveError::Corrupt {
                        path: reader.path().to_owned(),
                        message: format!("member {}: a record is not JSON: {e}", kind.name),
                    })?;
                let (key, record) = key_of(kind, &value, &names, options);
                if keys.contains(&key) {
                    let record = if options.ignore_ids {
                        normalize(kind, record, &names)
                    } else {
                        record
                    };
                    found.insert(key, record);
                }
                Ok(())
            })?;
            Ok(found)
        };
        let (x, y) = (pick(a)?, pick(b)?);
        if let Some(d) = out.iter_mut().find(|d| d.kind == kind_name) {
            for key in keys {
                let mut fields = Vec::new();
                if let (Some(p), Some(q)) = (x.get(&key), y.get(&key)) {
                    changed_fields(p, q, "", &mut fields);
                }
                d.changed.push(Changed { key, fields });
            }
        }
    }
    Ok(out)
}

/// auth0-deploy-cli's files at `path` written as a snapshot in `dir`, without secrets
/// (each one the files set is named, as a backup without a key names it), so that
/// they compare with a snapshot kind by kind. Keyword markers stay as they are: a
/// secret's marker counts as the secret set. Its path.
pub fn files_as_snapshot(
    path: &std::path::Path,
    keywords: &serde_json::Map<String, Value>,
    dir: &std::path::Path,
) -> Result<std::path::PathBuf, idferry_platform::PipelineError> {
    use idferry_archive::{SnapshotWriter, WriteOptions};
    use idferry_auth0::record::{REDACTED_MEMBER, member_path};
    use idferry_model::MemberSink;
    use idferry_platform::error::OrPlatform;

    let read = idferry_auth0_deploy::read::read(path, keywords).or_platform()?;
    let source = path.display().to_string();
    let mut writer = SnapshotWriter::create(dir, "files", idferry_auth0::PLATFORM, &source, false)?;
    let io = |e: std::io::Error| ArchiveError::Io {
        path: dir.to_owned(),
        source: e,
    };
    let mut redacted = Vec::new();
    for kind in idferry_auth0::CATALOG.iter().filter(|k| k.config) {
        let items = read.state.items(kind.name);
        if items.is_empty() {
            continue;
        }
        writer
            .start_member(&member_path(kind), kind.name)
            .map_err(io)?;
        for item in items {
            let mut record = item.record.clone();
            let parent: Vec<&str> = item.parent.iter().map(String::as_str).collect();
            let mut set: Vec<String> = read.state.redacted(kind, item).to_vec();
            if let Some(r) = Redacted::strip(kind, &mut record, &parent, item.key.as_deref()) {
                set.extend(r.fields);
            }
            if !set.is_empty() {
                set.sort();
                set.dedup();
                let (kind, parent, key, id) =
                    redacted_at(kind, &item.parent, item.key.as_deref(), &record);
                redacted.push(Redacted {
                    kind,
                    parent,
                    key,
                    id,
                    fields: set,
                });
            }
            let mut line = Vec::new();
            idferry_auth0::record::write_line(
                &mut line,
                kind,
                record,
                &parent,
                item.key.as_deref(),
            )
            .map_err(|e| io(e.into()))?;
            writer.write_record(&line).map_err(io)?;
        }
        writer.finish_member().map_err(io)?;
    }
    writer
        .start_member(REDACTED_MEMBER, REDACTED_KIND)
        .map_err(io)?;
    for r in &redacted {
        writer
            .write_record(&serde_json::to_vec(r).map_err(|e| io(e.into()))?)
            .map_err(io)?;
    }
    writer.finish_member().map_err(io)?;
    let options = WriteOptions {
        level: 1,
        threads: 0,
        encryption: None,
    };
    Ok(writer.finish(&options)?.path)
}
