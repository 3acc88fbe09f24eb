//! A tenant's configuration held in memory, kind by kind: what a restore reads from a
//! snapshot or a live tenant, and what it compares against in the target. Configuration
//! is small (thousands of objects), so it is held whole; users never are.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use idferry_archive::SnapshotReader;
use idferry_auth0::Client;
use idferry_auth0::{CATALOG, Kind, catalog};
use idferry_auth0::{
    record::Envelope, record::REDACTED_KIND, record::Redacted, record::RedactedAt,
    record::enveloped, record::redacted_at,
};
use idferry_auth0_export::ExportOptions;
use idferry_model::{MemberSink, Progress};
use idferry_transform::Mapping;
use idferry_transform::rules::apply_all;
use serde_json::Value;

use crate::error::ImportError;

/// One object, with what places it (as written in a snapshot's envelope).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Ids of its parents, outermost first.
    pub parent: Vec<String>,
    /// Its key, for keyed kinds (`login/en`).
    pub key: Option<String>,
    /// The record.
    pub record: Value,
}

/// Configuration records per kind.
#[derive(Debug, Default, Clone)]
pub struct State {
    kinds: BTreeMap<&'static str, Vec<Item>>,
    /// Whether secret fields were kept (an encrypted snapshot, or a live tenant).
    pub secrets_included: bool,
    /// Secret fields the source had set and a snapshot without secrets left out, by
    /// (kind, parents, key, id).
    redacted: HashMap<RedactedAt, Vec<String>>,
    /// Whether the source says which secrets it left out (snapshots written before it did
    /// not).
    pub redactions_known: bool,
    /// Kinds the source tenant did not offer when it was backed up (its snapshot's
    /// manifest says so): not compared, never deleted from a target.
    pub unavailable: Vec<idferry_model::sink::Unavailable>,
    /// Kinds whose members were read (with records or without).
    read: std::collections::BTreeSet<&'static str>,
}

/// Which records a [`State`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Configuration, for a restore.
    Config,
    /// Roles and organizations with their users, for a users migration.
    Memberships,
}

/// Kinds read for [`Selection::Memberships`].
const MEMBERSHIP_KINDS: &[&str] = &[
    "roles",
    "organizations",
    "role_users",
    "organization_members",
    "user_permissions",
];

impl Selection {
    fn holds(self, kind: &Kind) -> bool {
        match self {
            Self::Config => kind.config,
            Self::Memberships => MEMBERSHIP_KINDS.contains(&kind.name),
        }
    }

    /// What to read of a live tenant.
    fn export_options(self) -> ExportOptions {
        match self {
            Self::Config => ExportOptions {
                kinds: Vec::new(),
                // Users and memberships are not configuration (action triggers are
                // still walked for their bindings).
                exclude: CATALOG
                    .iter()
                    .filter(|k| !k.config && k.name != "action_triggers")
                    .filter(|k| k.parent.and_then(catalog::find).is_none_or(|p| p.config))
                    .map(|k| k.name.to_owned())
                    .collect(),
                include_secrets: true,
            },
            Self::Memberships => ExportOptions {
                kinds: vec!["roles".into(), "organizations".into()],
                exclude: CATALOG
                    .iter()
                    .filter(|k| k.parent.is_some() && !MEMBERSHIP_KINDS.contains(&k.name))
                    .map(|k| k.name.to_owned())
                    .collect(),
                include_secrets: false,
            },
        }
    }
}

impl State {
    /// The records of `kind` (empty when it has none).
    pub fn items(&self, kind: &str) -> &[Item] {
        self.kinds.get(kind).map_or(&[], Vec::as_slice)
    }

    /// Kinds holding records, with their counts.
    pub fn counts(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        self.kinds.iter().map(|(k, v)| (*k, v.len()))
    }

    /// Adds one record, as a snapshot line of `kind` writes it.
    pub fn push_line(&mut self, kind: &'static Kind, line: &[u8]) -> Result<(), String> {
        let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
        let item = if enveloped(kind) {
            let e: Envelope =
                serde_json::from_value(value).map_err(|e| format!("not an envelope: {e}"))?;
            Item {
                parent: e.parent,
                key: e.key,
                record: e.record,
            }
        } else {
            Item {
                parent: Vec::new(),
                key: None,
                record: value,
            }
        };
        self.kinds.entry(kind.name).or_default().push(item);
        Ok(())
    }

    /// The secret fields `item` (of `kind`) had set in its tenant and its snapshot left
    /// out.
    pub fn redacted(&self, kind: &Kind, item: &Item) -> &[String] {
        let key = redacted_at(kind, &item.parent, item.key.as_deref(), &item.record);
        self.redacted.get(&key).map_or(&[], Vec::as_slice)
    }

    /// Whether the source's `kind` was read (a snapshot without the member, or a live
    /// tenant not asked for it, did not).
    pub fn read_kind(&self, kind: &str) -> bool {
        self.read.contains(kind) || self.kinds.contains_key(kind)
    }

    /// Whether the source did not offer `kind` (or the kind it hangs from).
    pub fn is_unavailable(&self, kind: &Kind) -> bool {
        let mut at = Some(kind);
        while let Some(k) = at {
            if self.unavailable.iter().any(|u| u.kind == k.name) {
                return true;
            }
            at = k.parent.and_then(catalog::find);
        }
        false
    }

    /// Records that a snapshot left out these secrets of an object.
    pub fn push_redacted(&mut self, r: Redacted) {
        self.redacted.insert(r.at(), r.fields);
    }

    /// Adds one item of `kind` (tests and in-memory sources).
    pub fn push(&mut self, kind: &'static Kind, item: Item) {
        self.kinds.entry(kind.name).or_default().push(item);
    }

    /// The records of `selection` in a snapshot.
    pub fn from_snapshot(
        reader: &SnapshotReader,
        selection: Selection,
    ) -> Result<Self, ImportError> {
        let mut state = State::default();
        // A bad record is a corrupt snapshot: the archive's error names file, member, record.
        let manifest = reader.for_each_member(|manifest, name, input| {
            let corrupt = |n: usize, message: String| idferry_archive::ArchiveError::Corrupt {
                path: reader.path().to_owned(),
                message: format!("member {name}, record {n}: {message}"),
            };
            if selection == Selection::Config
                && manifest
                    .members
                    .iter()
                    .any(|m| m.path == name && m.kind == REDACTED_KIND)
            {
                state.redactions_known = true;
                for (n, line) in std::io::BufReader::new(input).split(b'\n').enumerate() {
                    let line = line.map_err(|e| corrupt(n + 1, e.to_string()))?;
                    if line.is_empty() {
                        continue;
                    }
                    let r: Redacted = serde_json::from_slice(&line)
                        .map_err(|e| corrupt(n + 1, format!("not a redaction: {e}")))?;
                    state.push_redacted(r);
                }
                return Ok(true);
            }
            let Some(kind) = manifest
                .members
                .iter()
                .find(|m| m.path == name)
                .and_then(|m| catalog::find(&m.kind))
                .filter(|k| selection.holds(k))
            else {
                return Ok(true);
            };
            state.read.insert(kind.name);
            let lines = std::io::BufReader::new(input);
            for (n, line) in lines.split(b'\n').enumerate() {
                let line = line.map_err(|e| idferry_archive::ArchiveError::Corrupt {
                    path: reader.path().to_owned(),
                    message: format!("member {name}: {e}"),
                })?;
                if line.is_empty() {
                    continue;
                }
                state
                    .push_line(kind, &line)
                    .map_err(|message| corrupt(n + 1, message))?;
            }
            Ok(true)
        })?;
        state.secrets_included = manifest.secrets_included;
        state.unavailable = manifest.unavailable;
        Ok(state)
    }

    /// The records of `selection` in a live tenant; configuration with its secrets (held
    /// in memory only: a restore keeps the target's secrets that a snapshot lacks).
    pub async fn from_tenant(
        client: &Client,
        selection: Selection,
        progress: &dyn Progress,
    ) -> Result<Self, ImportError> {
        let options = selection.export_options();
        let mut sink = Collect {
            state: State {
                secrets_included: options.include_secrets,
                ..State::default()
            },
            selection,
            kind: None,
            error: None,
        };
        idferry_auth0_export::export(client, &options, &mut sink, progress).await?;
        if let Some(message) = sink.error {
            return Err(ImportError::Record {
                source_name: client.tenant().to_owned(),
                kind: sink.kind.map_or("", |k| k.name).to_owned(),
                line: 0,
                message,
            });
        }
        Ok(sink.state)
    }

    /// Runs a mapping over every record (rules of each kind, then the `all` rules are
    /// included by the mapping itself); records a filter drops are removed.
    pub fn apply_mapping(&mut self, mapping: &Mapping) -> Result<(), ImportError> {
        for (kind, items) in &mut self.kinds {
            if mapping.is_identity_for(kind) {
                continue;
            }
            let mut kept = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                let keep = apply_all(mapping.rules_for(kind), &mut item.record).map_err(|e| {
                    ImportError::Mapping {
                        kind: (*kind).to_owned(),
                        name: crate::plan::display_name(kind, &item),
                        message: e.to_string(),
                    }
                })?;
                if keep {
                    kept.push(item);
                }
            }
            *items = kept;
        }
        Ok(())
    }
}

/// A sink that keeps configuration members in a [`State`].
struct Collect {
    state: State,
    selection: Selection,
    kind: Option<&'static Kind>,
    error: Option<String>,
}

impl MemberSink for Collect {
    fn start_member(&mut self, _path: &str, kind: &str) -> std::io::Result<()> {
        self.kind = catalog::find(kind).filter(|k| self.selection.holds(k));
        if let Some(k) = self.kind {
            self.state.read.insert(k.name);
        }
        Ok(())
    }

    fn write_record(&mut self, json: &[u8]) -> std::io::Result<()> {
        if let Some(kind) = self.kind
            && let Err(e) = self.state.push_line(kind, json)
        {
            self.error.get_or_insert(e);
        }
        Ok(())
    }

    fn finish_member(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
