//! Dumping an Auth0 tenant (one of Auth0's crates, driven by `idferry-platform-auth0`):
//! every catalog kind and its sub-resources through the client's paginated streams, and
//! all users through a users-exports job, written member by member into a [`MemberSink`]
//! (a snapshot archive). Records stream through: a million users never sit in memory.
//! Secret fields are left out unless asked for; those that held a value are then named in
//! a member of their own, so that a restore asks for them.
//!
//! Users are exported with every field they carry named (`USER_FIELDS`, whole objects):
//! a job without a field list gets a default set that leaves metadata out.
//!
//! Users' memberships come from the role and organization side (`role_users`,
//! `organization_members` with their roles inline), a few requests per role or
//! organization rather than several per user.

use std::collections::HashSet;

use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use idferry_auth0::record::member_path;
use idferry_auth0::record::{REDACTED_KIND, REDACTED_MEMBER, Redacted, write_line};
use idferry_auth0::{CATALOG, Kind, Shape, catalog};
use idferry_auth0::{Client, ExportRequest};
use idferry_model::{MemberSink, Progress};
use serde_json::Value;

pub use idferry_model::sink::{ExportOptions, ExportSummary, Unavailable};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The tenant answered with an error, or could not be reached.
    #[error(transparent)]
    Client(#[from] idferry_auth0::Error),
    /// The sink could not be written.
    #[error("writing {member}: {source}")]
    Sink {
        /// The member being written.
        member: String,
        /// What failed.
        source: std::io::Error,
    },
    /// A bad option.
    #[error("{0}")]
    Usage(String),
}

/// Kinds whose parents are too many to walk one by one (every user, every member): their
/// content is read from the other side of the relation.
const NOT_WALKED: &[&str] = &["users", "organization_members"];

/// Kinds of a user that no other side lists (a user's direct permissions): read with one
/// request per user after the users, so a tenant of 100,000 users costs 100,000 more
/// requests (about 1 h 45 min at an Enterprise tenant's sustained 16 requests/s);
/// `--exclude-kinds user_permissions` leaves them out.
pub const PER_USER: &[&str] = &["user_permissions"];

/// Users whose per-user kinds are read at once (the client's throttle keeps the pace).
const PER_USER_CONCURRENCY: usize = 8;

/// The kinds an export writes, in order, after checking the names given.
pub fn selected_kinds(options: &ExportOptions) -> Result<Vec<&'static Kind>, ExportError> {
    for name in options.kinds.iter().chain(&options.exclude) {
        if catalog::find(name).is_none() {
            let all: Vec<&str> = CATALOG.iter().map(|k| k.name).collect();
            return Err(ExportError::Usage(format!(
                "no kind {name:?}; the kinds are: {}",
                all.join(", ")
            )));
        }
    }
    let named = |kind: &Kind, list: &[String]| {
        let mut k = Some(kind);
        while let Some(kind) = k {
            if list.iter().any(|n| n == kind.name) {
                return true;
            }
            k = kind.parent.and_then(catalog::find);
        }
        false
    };
    let selected: Vec<&'static Kind> = CATALOG
        .iter()
        .filter(|k| writable(k) || PER_USER.contains(&k.name))
        .filter(|k| options.kinds.is_empty() || named(k, &options.kinds))
        .filter(|k| !named(k, &options.exclude))
        .collect();
    // Per-user kinds are read for the users exported: none without them.
    let users = selected.iter().any(|k| k.name == "users");
    Ok(selected
        .into_iter()
        .filter(|k| users || !PER_USER.contains(&k.name))
        .collect())
}

/// Kinds a backup holds: what can be written back, plus users' memberships.
fn writable(kind: &Kind) -> bool {
    let mut parent = kind.parent;
    while let Some(p) = parent {
        if NOT_WALKED.contains(&p) {
            return false;
        }
        parent = catalog::find(p).and_then(|k| k.parent);
    }
    kind.create.is_some() || kind.update.is_some()
}

struct Writer<'a> {
    sink: &'a mut dyn MemberSink,
    progress: &'a dyn Progress,
    include_secrets: bool,
    /// Secret fields left out, to be named in [`REDACTED_MEMBER`].
    redacted: Vec<Redacted>,
    summary: ExportSummary,
    buf: Vec<u8>,
    current: String,
    count: u64,
}

impl Writer<'_> {
    fn start(&mut self, kind: &Kind) -> Result<(), ExportError> {
        let path = member_path(kind);
        self.sink
            .start_member(&path, kind.name)
            .map_err(|source| ExportError::Sink {
                member: path.clone(),
                source,
            })?;
        self.progress.start(kind.name, None);
        self.current = path;
        self.count = 0;
        Ok(())
    }

    fn record(
        &mut self,
        kind: &Kind,
        mut record: Value,
        parent: &[&str],
        key: Option<&str>,
    ) -> Result<(), ExportError> {
        if !self.include_secrets
            && let Some(r) = Redacted::strip(kind, &mut record, parent, key)
        {
            self.redacted.push(r);
        }
        self.buf.clear();
        write_line(&mut self.buf, kind, record, parent, key).map_err(|e| ExportError::Sink {
            member: self.current.clone(),
            source: e.into(),
        })?;
        self.raw()
    }

    fn raw(&mut self) -> Result<(), ExportError> {
        self.sink
            .write_record(&self.buf)
            .map_err(|source| ExportError::Sink {
                member: self.current.clone(),
                source,
            })?;
        self.count += 1;
        if self.count.is_multiple_of(1000) {
            self.progress.advance(&self.current, 1000);
        }
        Ok(())
    }

    /// The next record of `kind`; none when the tenant does not offer the kind (its first
    /// read refused as a feature it lacks), which is recorded rather than failed.
    async fn next(
        &mut self,
        kind: &Kind,
        records: &mut Records,
        first: bool,
    ) -> Result<Option<(Option<String>, Value)>, ExportError> {
        match records.try_next().await {
            Err(ExportError::Client(idferry_auth0::Error::Api(e)))
                if first && lacks_feature(kind, &e) =>
            {
                if !self.is_unavailable(kind) {
                    self.summary.unavailable.push(Unavailable {
                        kind: kind.name.to_owned(),
                        status: e.status,
                        message: match &e.error_code {
                            Some(code) => format!("{} ({code})", e.message),
                            None => e.message.clone(),
                        },
                    });
                }
                Ok(None)
            }
            other => other,
        }
    }

    fn is_unavailable(&self, kind: &Kind) -> bool {
        self.summary.unavailable.iter().any(|u| u.kind == kind.name)
    }

    /// Names the secrets left out, in a member of their own (written, empty when none
    /// were set, whenever secrets are left out: its presence says the names are known).
    fn write_redacted(&mut self) -> Result<(), ExportError> {
        if self.include_secrets {
            return Ok(());
        }
        let failed = |source: std::io::Error| ExportError::Sink {
            member: REDACTED_MEMBER.to_owned(),
            source,
        };
        self.sink
            .start_member(REDACTED_MEMBER, REDACTED_KIND)
            .map_err(failed)?;
        for r in std::mem::take(&mut self.redacted) {
            let line = serde_json::to_vec(&r).map_err(|e| failed(e.into()))?;
            self.sink.write_record(&line).map_err(failed)?;
        }
        self.sink.finish_member().map_err(failed)
    }

    fn finish(&mut self, kind: &Kind) -> Result<(), ExportError> {
        self.sink
            .finish_member()
            .map_err(|source| ExportError::Sink {
                member: self.current.clone(),
                source,
            })?;
        self.progress.finish(kind.name);
        self.summary.counts.push((kind.name.to_owned(), self.count));
        Ok(())
    }
}

/// Writes every selected kind of the tenant into `sink`.
pub async fn export(
    client: &Client,
    options: &ExportOptions,
    sink: &mut dyn MemberSink,
    progress: &dyn Progress,
) -> Result<ExportSummary, ExportError> {
    let selected = selected_kinds(options)?;
    let wanted: HashSet<&str> = selected.iter().map(|k| k.name).collect();
    // The users job runs on the tenant while the configuration is read.
    // Every field named: without a list Auth0 exports a default set without metadata.
    let request = ExportRequest::every_user_field();
    let users_job = if wanted.contains("users") {
        Some(client.create_export(&request).await?)
    } else {
        None
    };
    let mut w = Writer {
        sink,
        progress,
        include_secrets: options.include_secrets,
        redacted: Vec::new(),
        summary: ExportSummary::default(),
        buf: Vec::with_capacity(4096),
        current: String::new(),
        count: 0,
    };
    for kind in CATALOG
        .iter()
        .filter(|k| k.parent.is_none() && k.name != "users")
    {
        let children: Vec<&'static Kind> = catalog::children(kind.name)
            .filter(|c| wanted.contains(c.name))
            .collect();
        let write = wanted.contains(kind.name);
        if !write && children.is_empty() {
            continue;
        }
        // Records stream to the sink; only the ids that children need are kept.
        let id_field = kind.id_field.unwrap_or("id");
        let mut parent_ids = Vec::new();
        if write {
            w.start(kind)?;
        }
        let mut records = read_kind(client, kind, &[]);
        let mut first = true;
        while let Some((key, record)) = w.next(kind, &mut records, first).await? {
            first = false;
            if !children.is_empty()
                && let Some(id) = record.get(id_field).and_then(Value::as_str)
            {
                parent_ids.push(id.to_owned());
            }
            if write {
                w.record(kind, record, &[], key.as_deref())?;
            }
        }
        if write {
            w.finish(kind)?;
        }
        for child in children {
            w.start(child)?;
            for (n, id) in parent_ids.iter().enumerate() {
                let mut records = read_kind(client, child, &[id]);
                // Only the kind's very first read tells a feature the tenant lacks; a
                // later parent's refusal (one deleted meanwhile) fails as before.
                let mut first = n == 0;
                while let Some((key, record)) = w.next(child, &mut records, first).await? {
                    first = false;
                    w.record(child, record, &[id], key.as_deref())?;
                }
                if w.is_unavailable(child) {
                    break;
                }
            }
            w.finish(child)?;
        }
    }
    w.write_redacted()?;
    if let Some(job) = users_job {
        let kind = catalog::find("users")
            .ok_or_else(|| ExportError::Usage("the catalog lacks users".into()))?;
        client.wait_job(job.id(), progress).await?;
        w.start(kind)?;
        let per_user: Vec<&'static Kind> = PER_USER
            .iter()
            .filter(|k| wanted.contains(*k))
            .filter_map(|k| catalog::find(k))
            .collect();
        let mut user_ids = Vec::new();
        let mut lines = client.export_records(job.id()).await?;
        while let Some(user) = lines.try_next().await? {
            if !per_user.is_empty()
                && let Some(id) = user.get("user_id").and_then(Value::as_str)
            {
                user_ids.push(id.to_owned());
            }
            w.buf.clear();
            serde_json::to_writer(&mut w.buf, &user).map_err(|e| ExportError::Sink {
                member: w.current.clone(),
                source: e.into(),
            })?;
            w.raw()?;
        }
        w.finish(kind)?;
        w.summary.user_fields = Some(request.field_names());
        for kind in per_user {
            w.start(kind)?;
            progress.start(kind.name, Some(user_ids.len() as u64));
            let mut reads = stream::iter(user_ids.iter())
                .map(|id| async move {
                    let records: Vec<(Option<String>, Value)> =
                        read_kind(client, kind, &[id]).try_collect().await?;
                    Ok::<_, ExportError>((id, records))
                })
                .buffered(PER_USER_CONCURRENCY);
            while let Some((id, records)) = reads.try_next().await? {
                for (key, record) in records {
                    w.record(kind, record, &[id], key.as_deref())?;
                }
                progress.advance(kind.name, 1);
            }
            w.finish(kind)?;
        }
    }
    Ok(w.summary)
}

/// Records of a kind as they are read.
type Records = BoxStream<'static, Result<(Option<String>, Value), ExportError>>;

/// Whether an error answer to the first read of `kind` says the tenant lacks the feature
/// (a plan without it, rules and hooks past their end of life, log streams without a
/// verified card): 403 other than a token without the scope (that is the caller's to
/// fix), 501, or 404 on a list. auth0-deploy-cli skips the same answers.
fn lacks_feature(kind: &Kind, e: &idferry_auth0::ApiError) -> bool {
    match e.status {
        403 => !e.message.contains("Insufficient scope"),
        501 => true,
        404 => matches!(
            kind.shape,
            Shape::Collection | Shape::Links { .. } | Shape::Replace { .. }
        ),
        _ => false,
    }
}

/// Every record of `kind` under `parents` (per-language keyed kinds in each language the
/// tenant enables), with its key for keyed kinds, as a stream. Absent singletons (a
/// connection without SCIM) are no records.
fn read_kind(client: &Client, kind: &'static Kind, parents: &[&str]) -> Records {
    if let Shape::Keyed { .. } = kind.shape {
        let parents: Vec<String> = parents.iter().map(|p| (*p).to_owned()).collect();
        return client
            .keyed(kind, &parents)
            .map_ok(|(key, v)| (Some(key), v))
            .map_err(ExportError::from)
            .boxed();
    }
    // Members come with their organization roles inline: one request per page of
    // members instead of one per member.
    let extra: &[(&str, &str)] = if kind.name == "organization_members" {
        &[
            ("fields", "user_id,email,name,picture,roles"),
            ("include_fields", "true"),
        ]
    } else {
        &[]
    };
    let listed = client.list_with(kind, parents, extra);
    let (Some(get), true) = (kind.get, kind.read_each) else {
        return listed
            .map_ok(|record| (None, record))
            .map_err(ExportError::from)
            .boxed();
    };
    // Each object read again by id, for what its list leaves out.
    let client = client.clone();
    let parents: Vec<String> = parents.iter().map(|p| (*p).to_owned()).collect();
    let id_field = kind.id_field.unwrap_or("id");
    listed
        .and_then(move |record| {
            let client = client.clone();
            let mut ids: Vec<String> = parents.clone();
            ids.push(
                record
                    .get(id_field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            );
            async move {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                client.get(&get.fill(&ids), &[]).await
            }
        })
        .map_ok(|record| (None, record))
        .map_err(ExportError::from)
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_the_tenant_lacks_is_told_from_a_token_without_the_scope() {
        let answer = |status: u16, message: &str| idferry_auth0::ApiError {
            tenant: "t".into(),
            method: "GET".into(),
            path: "/rules".into(),
            status,
            error: "Forbidden".into(),
            message: message.into(),
            error_code: None,
        };
        let rules = catalog::find("rules").unwrap();
        let captcha = catalog::find("captcha").unwrap();
        assert!(lacks_feature(
            rules,
            &answer(403, "This is a deprecated feature")
        ));
        assert!(lacks_feature(rules, &answer(501, "Not Implemented")));
        assert!(lacks_feature(rules, &answer(404, "Not Found")));
        // A token without the scope is the caller's to fix: the backup fails.
        assert!(!lacks_feature(
            rules,
            &answer(403, "Insufficient scope, expected any of: read:rules")
        ));
        // A singleton never set answers 404 and is read as absent elsewhere.
        assert!(!lacks_feature(captcha, &answer(404, "Not Found")));
        assert!(!lacks_feature(rules, &answer(500, "oops")));
    }

    #[test]
    fn selection_follows_parents_and_checks_names() {
        let all = selected_kinds(&ExportOptions::default()).unwrap();
        let names: Vec<&str> = all.iter().map(|k| k.name).collect();
        assert!(
            names.contains(&"clients") && names.contains(&"role_users") && names.contains(&"users")
        );
        assert!(!names.contains(&"user_roles"), "read from the roles' side");
        assert!(
            !names.contains(&"action_triggers"),
            "platform-defined, not restorable"
        );
        let roles = selected_kinds(&ExportOptions {
            kinds: vec!["roles".into()],
            ..Default::default()
        })
        .unwrap();
        let names: Vec<&str> = roles.iter().map(|k| k.name).collect();
        assert_eq!(names, ["roles", "role_permissions", "role_users"]);
        let no_users = selected_kinds(&ExportOptions {
            exclude: vec!["users".into(), "role_users".into()],
            ..Default::default()
        })
        .unwrap();
        assert!(
            no_users
                .iter()
                .all(|k| k.config || k.name == "organization_members")
        );
        assert!(
            selected_kinds(&ExportOptions {
                kinds: vec!["clientz".into()],
                ..Default::default()
            })
            .is_err()
        );
    }
}
