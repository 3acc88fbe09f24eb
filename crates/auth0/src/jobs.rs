//! The jobs API: users-exports (created, polled, then streamed from their short-lived
//! `location` link through a gzip decoder, never whole in memory) and users-imports
//! (multipart upload, polling, per-user errors).

use std::time::Duration;

use async_compression::tokio::bufread::GzipDecoder;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use idferry_model::Progress;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio_util::io::StreamReader;

use crate::Result;
use crate::client::{Client, Payload};
use crate::error::Error;

/// A job as `GET /jobs/{id}` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job(pub Value);

impl Job {
    fn text(&self, key: &str) -> &str {
        self.0.get(key).and_then(Value::as_str).unwrap_or_default()
    }
    /// `job_...`.
    pub fn id(&self) -> &str {
        self.text("id")
    }
    /// `pending`, `processing`, `completed` or `failed`.
    pub fn status(&self) -> &str {
        self.text("status")
    }
    /// The download link of a completed export.
    pub fn location(&self) -> Option<&str> {
        self.0.get("location").and_then(Value::as_str)
    }
    /// An import's `summary` count (`inserted`, `updated`, `failed`, `total`).
    pub fn summary(&self, key: &str) -> u64 {
        self.0
            .pointer(&format!("/summary/{key}"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }
}

/// A field of an export, optionally renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportField {
    /// A path into the user (`email`, `identities[0].connection`).
    pub name: String,
    /// The name it is written under.
    pub export_as: Option<String>,
}

/// Every attribute of a user that a backup or a migration carries: the properties of
/// the Management API's user schema (`GetUserResponseContent`), exported as whole
/// objects. A users-exports job without `fields` exports only a predefined set that
/// leaves the metadata out (the spec's `CreateExportUsersResponseContent.fields`,
/// Auth0's bulk-export guide), so every export idferry starts names these; a test
/// checks the list against the spec, so a field the spec gains fails it.
pub const USER_FIELDS: &[&str] = &[
    "user_id",
    "email",
    "email_verified",
    "username",
    "phone_number",
    "phone_verified",
    "created_at",
    "updated_at",
    "identities",
    "app_metadata",
    "user_metadata",
    "picture",
    "name",
    "nickname",
    "multifactor",
    "last_ip",
    "last_login",
    "logins_count",
    "blocked",
    "given_name",
    "family_name",
];

/// The fields without which a snapshot's users are not what the tenant holds: a
/// snapshot whose users were exported without one of them is warned about.
pub const METADATA_FIELDS: &[&str] = &["app_metadata", "user_metadata"];

/// Of [`METADATA_FIELDS`], those a users export made with `fields` lacked (all of them
/// when the list is unknown, as in snapshots written before it was recorded).
pub fn missing_metadata(fields: Option<&[String]>) -> Vec<&'static str> {
    METADATA_FIELDS
        .iter()
        .filter(|m| fields.is_none_or(|f| !f.iter().any(|f| f == *m)))
        .copied()
        .collect()
}

/// What to export. [`ExportRequest::every_user_field`] is what a backup or a migration
/// needs; `default()` names no fields and so gets the platform's reduced default set.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// One connection's users only.
    pub connection_id: Option<String>,
    /// csv instead of json (ndjson).
    pub csv: bool,
    /// At most this many users.
    pub limit: Option<u64>,
    /// These fields only (empty: the platform's predefined default set, which leaves
    /// the metadata out; csv needs a list).
    pub fields: Vec<ExportField>,
}

impl ExportRequest {
    /// A JSON (ndjson) export of every user with every field of [`USER_FIELDS`], as
    /// whole objects.
    pub fn every_user_field() -> Self {
        Self {
            fields: USER_FIELDS.iter().map(|f| ExportField::named(f)).collect(),
            ..Self::default()
        }
    }

    /// The names of the fields asked for, in order.
    pub fn field_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }
}

impl ExportField {
    /// A field exported under its own name.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            export_as: None,
        }
    }
}

/// An import file and its options.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The file: a JSON array of users, at most 512000 bytes.
    pub users: Bytes,
    /// The database connection to import into (`con_...`).
    pub connection_id: String,
    /// Update users that exist (matched by email).
    pub upsert: bool,
    /// An id of ours, to recognise the job later.
    pub external_id: Option<String>,
    /// Whether Auth0 emails the tenant admins when the job ends.
    pub send_completion_email: bool,
}

/// How long to keep asking for a free import slot before giving up.
const SLOT_WAIT: Duration = Duration::from_secs(2 * 60 * 60);

impl Client {
    /// Starts a users-exports job.
    pub async fn create_export(&self, request: &ExportRequest) -> Result<Job> {
        let mut body = json!({ "format": if request.csv { "csv" } else { "json" } });
        if let Some(c) = &request.connection_id {
            body["connection_id"] = json!(c);
        }
        if let Some(l) = request.limit {
            body["limit"] = json!(l);
        }
        if !request.fields.is_empty() {
            body["fields"] = request
                .fields
                .iter()
                .map(|f| match &f.export_as {
                    Some(a) => json!({"name": f.name, "export_as": a}),
                    None => json!({"name": f.name}),
                })
                .collect();
        }
        let r = self.post("/jobs/users-exports", body).await?;
        Ok(Job(r.body.unwrap_or(Value::Null)))
    }

    /// `GET /jobs/{id}`.
    pub async fn job(&self, id: &str) -> Result<Job> {
        Ok(Job(self.get(&format!("/jobs/{id}"), &[]).await?))
    }

    /// Polls a job until it completes; a failed job is an error.
    pub async fn wait_job(&self, id: &str, progress: &dyn Progress) -> Result<Job> {
        let mut delay = Duration::from_millis(100);
        loop {
            let job = self.job(id).await?;
            match job.status() {
                "completed" => return Ok(job),
                "failed" => {
                    return Err(Error::Job {
                        tenant: self.tenant().to_owned(),
                        job: id.to_owned(),
                        message: format!("the job failed: {}", job.0),
                    });
                }
                status => {
                    let pct = job.0.get("percentage_done").and_then(Value::as_u64);
                    progress.message(&match pct {
                        Some(p) => format!("job {id}: {status}, {p}% done"),
                        None => format!("job {id}: {status}"),
                    });
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 3 / 2).min(Duration::from_secs(5));
        }
    }

    /// Opens a completed export's file, decompressed, as a buffered reader. The link in
    /// the job expires within a minute, so a fresh one is fetched first, and again if the
    /// store refuses it.
    pub async fn open_export(
        &self,
        job_id: &str,
    ) -> Result<impl AsyncBufRead + Send + Unpin + use<>> {
        let fail = |message: String| Error::Job {
            tenant: self.tenant().to_owned(),
            job: job_id.to_owned(),
            message,
        };
        let mut last = String::new();
        for attempt in 0..4u32 {
            let job = self.job(job_id).await?;
            let Some(url) = job.location() else {
                return Err(fail(format!(
                    "the job has no download location (status {})",
                    job.status()
                )));
            };
            // The link is signed: it must not carry our token, which is for the API only.
            let response = self
                .inner
                .transport
                .http()
                .request(Method::GET, url)
                .send()
                .await;
            match response {
                Ok(r) if r.status().is_success() => {
                    let bytes = r.bytes_stream().map_err(std::io::Error::other);
                    let gz = GzipDecoder::new(StreamReader::new(bytes));
                    return Ok(BufReader::with_capacity(1 << 16, gz));
                }
                Ok(r) => last = format!("the download answered {}", r.status()),
                Err(e) => last = format!("the download failed: {e}"),
            }
            tokio::time::sleep(self.inner.transport.retry().backoff(attempt)).await;
        }
        Err(fail(last))
    }

    /// The lines (JSON texts) of a completed json export, unparsed: for copying.
    pub async fn export_lines(&self, job_id: &str) -> Result<BoxStream<'static, Result<String>>> {
        let reader = self.open_export(job_id).await?;
        let tenant = self.tenant().to_owned();
        let job = job_id.to_owned();
        Ok(tokio_stream_lines(reader)
            .try_filter(|l| std::future::ready(!l.trim().is_empty()))
            .map_err(move |e| Error::Job {
                tenant: tenant.clone(),
                job: job.clone(),
                message: format!("reading the export: {e}"),
            })
            .boxed())
    }

    /// The users of a completed json export, one record at a time.
    pub async fn export_records(&self, job_id: &str) -> Result<BoxStream<'static, Result<Value>>> {
        let tenant = self.tenant().to_owned();
        let job = job_id.to_owned();
        Ok(self
            .export_lines(job_id)
            .await?
            .enumerate()
            .map(move |(n, line)| {
                let line = line?;
                serde_json::from_str(&line).map_err(|e| Error::Job {
                    tenant: tenant.clone(),
                    job: job.clone(),
                    message: format!("record {}: not JSON: {e}", n + 1),
                })
            })
            .boxed())
    }

    /// Starts a users-imports job. When the tenant's import slots are all busy (a 429
    /// that names active jobs), waits for one with growing pauses.
    pub async fn create_import(&self, request: &ImportRequest) -> Result<Job> {
        let mut fields = vec![
            ("connection_id".to_owned(), request.connection_id.clone()),
            ("upsert".to_owned(), request.upsert.to_string()),
            (
                "send_completion_email".to_owned(),
                request.send_completion_email.to_string(),
            ),
        ];
        if let Some(e) = &request.external_id {
            fields.push(("external_id".to_owned(), e.clone()));
        }
        let payload = Payload::Multipart {
            fields,
            file: ("users".into(), "users.json".into(), request.users.clone()),
        };
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            match self
                .send(Method::POST, "/jobs/users-imports", &[], payload.clone())
                .await
            {
                Ok(r) => return Ok(Job(r.body.unwrap_or(Value::Null))),
                Err(e) if e.is_import_slot_refusal() && started.elapsed() < SLOT_WAIT => {
                    tracing::debug!(tenant = %self.tenant(), "import slots busy; waiting {pause:?}");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The per-user errors of an import job (empty when there are none).
    pub async fn job_errors(&self, id: &str) -> Result<Vec<Value>> {
        let r = self
            .send(
                Method::GET,
                &format!("/jobs/{id}/errors"),
                &[],
                Payload::None,
            )
            .await?;
        match r.body {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.decode_error(
                &Method::GET,
                "/jobs/{id}/errors",
                format!("expected an array, got {other}"),
            )),
        }
    }
}

fn tokio_stream_lines<R: AsyncBufRead + Send + Unpin + 'static>(
    reader: R,
) -> BoxStream<'static, std::io::Result<String>> {
    futures_util::stream::try_unfold(reader.lines(), |mut lines| async move {
        Ok(lines.next_line().await?.map(|l| (l, lines)))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    /// The Management API spec, rebuilt (see `crates/auth0/testdata`).
    fn spec() -> Value {
        let text = include_str!("../testdata/auth0-management-api-v2.openapi.json");
        serde_json::from_str(text).expect("the spec is JSON")
    }

    fn properties(spec: &Value, schema: &str) -> BTreeSet<String> {
        spec["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("the spec has no schema {schema} with properties"))
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn user_fields_are_the_spec_user_schema_properties() {
        let spec = spec();
        let ours: BTreeSet<String> = USER_FIELDS.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(ours.len(), USER_FIELDS.len(), "a field is named twice");
        // A user as `GET /users/{id}` and `GET /users` answer it: whatever the spec lists
        // there and our list lacks would be lost by every backup.
        for schema in ["GetUserResponseContent", "UserResponseSchema"] {
            let theirs = properties(&spec, schema);
            let missing: Vec<_> = theirs.difference(&ours).collect();
            let unknown: Vec<_> = ours.difference(&theirs).collect();
            assert!(
                missing.is_empty() && unknown.is_empty(),
                "{schema}: not exported {missing:?}; not in the spec {unknown:?}"
            );
        }
        // GET /users/{id} answers that schema.
        let answer = &spec["paths"]["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"];
        assert_eq!(answer, "#/components/schemas/GetUserResponseContent");
        // The export takes them by name: the request's field items are `{name, export_as}`.
        let field = properties(&spec, "CreateExportUsersFields");
        assert!(field.contains("name") && field.contains("export_as"));
    }

    #[test]
    fn every_user_field_names_them_all_as_whole_objects() {
        let r = ExportRequest::every_user_field();
        assert!(!r.csv, "whole metadata objects need a JSON export");
        assert_eq!(r.field_names(), USER_FIELDS);
        assert!(r.fields.iter().all(|f| f.export_as.is_none()));
        for m in METADATA_FIELDS {
            assert!(USER_FIELDS.contains(m));
        }
    }

    #[test]
    fn missing_metadata_names_what_a_field_list_lacks() {
        assert_eq!(missing_metadata(None), METADATA_FIELDS);
        let all: Vec<String> = USER_FIELDS.iter().map(|f| (*f).to_owned()).collect();
        assert!(missing_metadata(Some(&all)).is_empty());
        let some = vec!["user_id".to_owned(), "app_metadata".to_owned()];
        assert_eq!(missing_metadata(Some(&some)), ["user_metadata"]);
    }
}
