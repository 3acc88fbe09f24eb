//! The jobs API: users-exports (ndjson or csv, gzipped, fetched from a `location` link
//! that is valid for 60 seconds; without `fields`, a reduced default set as Auth0's) and users-imports (a JSON array of users under 512000
//! bytes, at most 2 import jobs in flight per tenant, every user checked against the
//! import schema, upsert by email, per-user errors at `/jobs/{id}/errors`).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::api::Answer;
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::import_schema;
use crate::server::Tenant;
use crate::store::Store;
use crate::users;

/// The largest import file the API takes, in bytes.
pub const IMPORT_LIMIT: usize = 512_000;
/// Import jobs a tenant runs at once.
pub const IMPORT_SLOTS: usize = 2;
/// How long a download link stays valid, in seconds.
pub const LINK_TTL_SECS: i64 = 60;

/// A job and what the emulator keeps beside its public fields.
#[derive(Debug, Clone)]
pub struct Job {
    /// `job_` + 16.
    pub id: String,
    /// The fields `GET /jobs/{id}` shows.
    pub public: Map<String, Value>,
    /// The export file, once written.
    pub file: Option<PathBuf>,
    /// The secret part of download links.
    pub link_token: String,
    /// Per-user import errors.
    pub errors: Vec<Value>,
    /// Progress: users done of total, and when processing began.
    pub progress: (usize, usize, Option<Instant>),
}

impl Job {
    fn status(&self) -> &str {
        self.public
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("pending")
    }

    fn is_active_import(&self) -> bool {
        self.public.get("type").and_then(Value::as_str) == Some("users_import")
            && matches!(self.status(), "pending" | "processing")
    }
}

fn job_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "The job does not exist.").code("inexistent_job")
}

fn new_job(store: &mut Store, public: Map<String, Value>) -> Job {
    let id = format!("job_{}", ids::alnum(&mut store.rng, 16));
    let mut public = public;
    public.insert("id".into(), json!(id));
    public.insert("status".into(), json!("pending"));
    public.insert("created_at".into(), json!(clock::iso_now()));
    let link_token = ids::alnum(&mut store.rng, 32);
    Job {
        id,
        public,
        file: None,
        link_token,
        errors: Vec::new(),
        progress: (0, 0, None),
    }
}

fn set_status(store: &mut Store, id: &str, status: &str) {
    if let Some(job) = store.jobs.get_mut(id) {
        job.public.insert("status".into(), json!(status));
        if status == "processing" {
            job.progress.2 = Some(Instant::now());
        }
    }
}

/// `GET /jobs/{id}`: the job, with progress while it runs and a fresh download link
/// once an export is done.
pub fn get(store: &Store, base_url: &str, id: &str) -> ApiResult<Answer> {
    let job = store.jobs.get(id).ok_or_else(job_not_found)?;
    let mut body = job.public.clone();
    let (done, total, started) = job.progress;
    if job.status() == "processing" && total > 0 {
        let pct = (done * 100 / total).min(99);
        body.insert("percentage_done".into(), json!(pct));
        let elapsed = started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        let left = if done > 0 {
            elapsed / done as f64 * (total - done) as f64
        } else {
            0.0
        };
        body.insert("time_left_seconds".into(), json!(left.ceil() as u64));
    }
    if job.status() == "completed" && job.file.is_some() {
        let expires = clock::epoch_now() + LINK_TTL_SECS;
        body.insert(
            "location".into(),
            json!(format!(
                "{base_url}/__emulator/downloads/{}?expires={expires}&token={}",
                job.id, job.link_token
            )),
        );
    }
    Ok((StatusCode::OK, Some(Value::Object(body))))
}

/// `GET /jobs/{id}/errors`.
pub fn errors(store: &Store, id: &str) -> ApiResult<Answer> {
    let job = store.jobs.get(id).ok_or_else(job_not_found)?;
    if job.errors.is_empty() {
        return Ok((StatusCode::NO_CONTENT, None));
    }
    Ok((StatusCode::OK, Some(Value::Array(job.errors.clone()))))
}

/// Where an export link leads, if it is valid now.
pub fn download_path(
    store: &Store,
    id: &str,
    token: &str,
    expires: i64,
) -> Result<PathBuf, &'static str> {
    let job = store.jobs.get(id).ok_or("no such export")?;
    if job.link_token != token {
        return Err("bad signature");
    }
    if expires < clock::epoch_now() || expires > clock::epoch_now() + LINK_TTL_SECS {
        return Err("the link has expired; fetch the job again for a new one");
    }
    job.file.clone().ok_or("the export is not ready")
}

/// One exported field: a path into the user (`identities[0].connection`) and the name
/// it is written under.
#[derive(Debug, Clone)]
struct Field {
    path: String,
    name: String,
}

fn lookup<'v>(user: &'v Value, path: &str) -> Option<&'v Value> {
    let mut at = user;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        at = at.get(name)?;
        if let Some(i) = index {
            at = at.get(i)?;
        }
    }
    Some(at)
}

/// What a users export without `fields` carries. Auth0 exports "a predefined set of
/// fields" then (the spec's `CreateExportUsersResponseContent.fields`) and documents
/// that metadata is exported only when named; which others it leaves out it does not
/// say. The emulator's set is the profile's plain attributes: without metadata,
/// identities, the blocked flag, multifactor enrolments, the phone's verified flag and
/// the last IP, so that a backup or a migration leaning on the default loses exactly
/// what it would lose on a real tenant, and our tests see it.
pub const DEFAULT_EXPORT_FIELDS: &[&str] = &[
    "user_id",
    "email",
    "email_verified",
    "username",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "picture",
    "created_at",
    "updated_at",
    "last_login",
    "logins_count",
];

/// `POST /jobs/users-exports`: validates, records the job, writes the file in the
/// background.
pub fn create_export(tenant: &Arc<Tenant>, body: Option<Value>) -> ApiResult<Answer> {
    let body = match body {
        Some(Value::Object(b)) => b,
        None => Map::new(),
        Some(_) => return Err(ApiError::invalid_body("the body must be a JSON object")),
    };
    let format = body.get("format").and_then(Value::as_str).unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(ApiError::invalid_body(format!(
            "No enum match for: \"{format}\" (format)"
        )));
    }
    let limit = body
        .get("limit")
        .and_then(Value::as_u64)
        .map(|l| l as usize);
    let mut fields = Vec::new();
    if let Some(list) = body.get("fields") {
        let list = list
            .as_array()
            .ok_or_else(|| ApiError::invalid_body("fields must be an array"))?;
        for f in list {
            let path = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::invalid_body("Missing required property: fields.name"))?;
            let name = f.get("export_as").and_then(Value::as_str).unwrap_or(path);
            fields.push(Field {
                path: path.to_owned(),
                name: name.to_owned(),
            });
        }
    }
    let named = !fields.is_empty();
    if format == "csv" {
        if fields.is_empty() {
            return Err(ApiError::invalid_body("csv exports need a fields list"));
        }
        if fields.len() > 30 {
            return Err(ApiError::invalid_body("csv exports take at most 30 fields"));
        }
        if let Some(f) = fields.iter().find(|f| {
            matches!(
                f.path.as_str(),
                "user_metadata" | "app_metadata" | "identities"
            )
        }) {
            return Err(ApiError::invalid_body(format!(
                "{} is an object; csv exports take its fields one by one",
                f.path
            )));
        }
    }
    if !named {
        fields = DEFAULT_EXPORT_FIELDS
            .iter()
            .map(|f| Field {
                path: (*f).to_owned(),
                name: (*f).to_owned(),
            })
            .collect();
    }
    let mut store = tenant.lock();
    let connection = match body.get("connection_id").and_then(Value::as_str) {
        Some(id) => Some(
            store
                .table_ref("connections", "")
                .and_then(|t| t.get(id))
                .and_then(|c| c.get("name").and_then(Value::as_str))
                .map(str::to_owned)
                .ok_or_else(|| {
                    ApiError::new(StatusCode::BAD_REQUEST, "The connection does not exist.")
                        .code("inexistent_connection")
                })?,
        ),
        None => None,
    };
    let mut public = Map::new();
    public.insert("type".into(), json!("users_export"));
    public.insert("format".into(), json!(format));
    if let Some(c) = body.get("connection_id") {
        public.insert("connection_id".into(), c.clone());
        public.insert("connection".into(), json!(connection));
    }
    if let Some(l) = limit {
        public.insert("limit".into(), json!(l));
    }
    if let Some(f) = body.get("fields") {
        public.insert("fields".into(), f.clone());
    }
    let job = new_job(&mut store, public);
    let id = job.id.clone();
    let answer = Value::Object(job.public.clone());
    store.jobs.insert(id.clone(), job);
    let texts: Vec<Arc<str>> = store
        .users
        .iter()
        .filter(|u| connection.as_ref().is_none_or(|c| &u.connection == c))
        .take(limit.unwrap_or(usize::MAX))
        .map(|u| u.json.clone())
        .collect();
    drop(store);

    let tenant = tenant.clone();
    let csv = format == "csv";
    tokio::spawn(async move {
        tenant.with(|s| set_status(s, &id, "processing"));
        let path = tenant
            .workdir
            .join(format!("{id}.{}.gz", if csv { "csv" } else { "json" }));
        let written = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || write_export(&path, &texts, &fields, csv)).await
        };
        tenant.with(|s| {
            if let Some(job) = s.jobs.get_mut(&id) {
                match written {
                    Ok(Ok(())) => {
                        job.file = Some(path);
                        job.public.insert("status".into(), json!("completed"));
                    }
                    Ok(Err(e)) => {
                        tracing::error!(job = %id, "export failed: {e}");
                        job.public.insert("status".into(), json!("failed"));
                    }
                    Err(e) => {
                        tracing::error!(job = %id, "export task failed: {e}");
                        job.public.insert("status".into(), json!("failed"));
                    }
                }
            }
        });
    });
    Ok((StatusCode::CREATED, Some(answer)))
}

fn write_export(
    path: &PathBuf,
    texts: &[Arc<str>],
    fields: &[Field],
    csv: bool,
) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut gz = GzEncoder::new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        Compression::fast(),
    );
    if csv {
        let header: Vec<String> = fields.iter().map(|f| csv_cell(&f.name)).collect();
        writeln!(gz, "{}", header.join(","))?;
    }
    // Top-level fields are copied as the stored text, without building the user.
    let flat = !csv && fields.iter().all(|f| !f.path.contains(['.', '[']));
    let names: Vec<String> = fields
        .iter()
        .map(|f| Value::String(f.name.clone()).to_string())
        .collect();
    for text in texts {
        if flat {
            let user: HashMap<String, &RawValue> = serde_json::from_str(text)?;
            let mut first = true;
            gz.write_all(b"{")?;
            for (f, name) in fields.iter().zip(&names) {
                if let Some(v) = user.get(f.path.as_str()) {
                    if !first {
                        gz.write_all(b",")?;
                    }
                    first = false;
                    gz.write_all(name.as_bytes())?;
                    gz.write_all(b":")?;
                    gz.write_all(v.get().as_bytes())?;
                }
            }
            gz.write_all(b"}\n")?;
            continue;
        }
        let user: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        if csv {
            let row: Vec<String> = fields
                .iter()
                .map(|f| match lookup(&user, &f.path) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => csv_cell(s),
                    Some(other) => csv_cell(&other.to_string()),
                })
                .collect();
            writeln!(gz, "{}", row.join(","))?;
        } else {
            let mut out = Map::new();
            for f in fields {
                if let Some(v) = lookup(&user, &f.path) {
                    out.insert(f.name.clone(), v.clone());
                }
            }
            serde_json::to_writer(&mut gz, &Value::Object(out))?;
            gz.write_all(b"\n")?;
        }
    }
    gz.finish()?.flush()
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// What `POST /jobs/users-imports` carried.
#[derive(Debug, Default)]
pub struct ImportRequest {
    /// The `users` file.
    pub users: Option<Vec<u8>>,
    /// `connection_id`.
    pub connection_id: Option<String>,
    /// `upsert`.
    pub upsert: bool,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `send_completion_email`.
    pub send_completion_email: bool,
}

/// `POST /jobs/users-imports`.
pub fn create_import(tenant: &Arc<Tenant>, req: ImportRequest) -> ApiResult<Answer> {
    let file = req
        .users
        .ok_or_else(|| ApiError::invalid_body("Missing required property: users"))?;
    if file.len() > IMPORT_LIMIT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload content length greater than maximum allowed: {IMPORT_LIMIT}"),
        ));
    }
    let connection_id = req
        .connection_id
        .ok_or_else(|| ApiError::invalid_body("Missing required property: connection_id"))?;
    let users: Vec<Value> = match serde_json::from_slice(&file) {
        Ok(Value::Array(users)) => users,
        Ok(_) => {
            return Err(
                ApiError::new(StatusCode::BAD_REQUEST, "Users file must be an array")
                    .code("invalid_users_file"),
            );
        }
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("Users file is not valid JSON: {e}"),
            )
            .code("invalid_users_file"));
        }
    };
    let mut store = tenant.lock();
    let connection = store
        .table_ref("connections", "")
        .and_then(|t| t.get(&connection_id))
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("connection not found: {connection_id}"),
            )
            .code("inexistent_connection")
        })?;
    if connection.get("strategy").and_then(Value::as_str) != Some("auth0") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Users can only be imported into database connections",
        ));
    }
    let active = store.jobs.values().filter(|j| j.is_active_import()).count();
    if active >= IMPORT_SLOTS {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("There are {active} active import users jobs, please wait until those have finished and try again."),
        )
        .code("too_many_requests"));
    }
    let mut public = Map::new();
    public.insert("type".into(), json!("users_import"));
    public.insert("connection_id".into(), json!(connection_id));
    public.insert(
        "connection".into(),
        connection.get("name").cloned().unwrap_or(Value::Null),
    );
    public.insert("upsert".into(), json!(req.upsert));
    public.insert(
        "send_completion_email".into(),
        json!(req.send_completion_email),
    );
    if let Some(e) = &req.external_id {
        public.insert("external_id".into(), json!(e));
    }
    let mut job = new_job(&mut store, public);
    job.progress.1 = users.len();
    let id = job.id.clone();
    let answer = Value::Object(job.public.clone());
    store.jobs.insert(id.clone(), job);
    drop(store);

    let tenant = tenant.clone();
    let upsert = req.upsert;
    tokio::spawn(async move { run_import(tenant, id, connection, users, upsert).await });
    Ok((StatusCode::ACCEPTED, Some(answer)))
}

/// Users an import processes under one hold of the tenant's lock.
const CHUNK: usize = 250;

async fn run_import(
    tenant: Arc<Tenant>,
    id: String,
    connection: Value,
    users: Vec<Value>,
    upsert: bool,
) {
    tokio::time::sleep(Duration::from_millis(20)).await;
    tenant.with(|s| set_status(s, &id, "processing"));
    let conn_name = connection
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut seen_emails = HashSet::new();
    let mut seen_ids = HashSet::new();
    let (mut inserted, mut updated, mut failed) = (0usize, 0usize, 0usize);
    let rate = tenant.import_rate();
    for (n, chunk) in users.chunks(CHUNK).enumerate() {
        let started = Instant::now();
        tenant.with(|store| {
            for user in chunk {
                match import_one(
                    store,
                    &connection,
                    &conn_name,
                    user,
                    upsert,
                    &mut seen_emails,
                    &mut seen_ids,
                ) {
                    Ok(true) => inserted += 1,
                    Ok(false) => updated += 1,
                    Err(errors) => {
                        failed += 1;
                        if let Some(job) = store.jobs.get_mut(&id) {
                            job.errors.push(json!({
                                "user": import_schema::redact(user),
                                "errors": errors,
                            }));
                        }
                    }
                }
            }
            if let Some(job) = store.jobs.get_mut(&id) {
                job.progress.0 = ((n + 1) * CHUNK).min(users.len());
            }
        });
        if rate > 0.0 {
            let budget = Duration::from_secs_f64(chunk.len() as f64 / rate);
            if let Some(rest) = budget.checked_sub(started.elapsed()) {
                tokio::time::sleep(rest).await;
            }
        }
    }
    tenant.with(|store| {
        if let Some(job) = store.jobs.get_mut(&id) {
            job.public.insert("status".into(), json!("completed"));
            job.public.insert(
                "summary".into(),
                json!({"failed": failed, "updated": updated, "inserted": inserted, "total": users.len()}),
            );
        }
    });
}

/// Fields an upsert may change on an existing user (PLATFORMS.md).
const UPSERT_FIELDS: &[&str] = &[
    "app_metadata",
    "user_metadata",
    "email_verified",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
];

/// Imports one user; Ok(true) inserted, Ok(false) updated, Err(errors).
fn import_one(
    store: &mut Store,
    connection: &Value,
    conn_name: &str,
    user: &Value,
    upsert: bool,
    seen_emails: &mut HashSet<String>,
    seen_ids: &mut HashSet<String>,
) -> Result<bool, Vec<Value>> {
    let violations = import_schema::validate(user);
    if !violations.is_empty() {
        return Err(violations
            .iter()
            .map(import_schema::Violation::to_json)
            .collect());
    }
    let error = |code: &str, message: String, path: &str| {
        vec![json!({"code": code, "message": message, "path": path})]
    };
    let email = user
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase();
    let local_id = user
        .get("user_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if !seen_emails.insert(email.clone())
        || local_id
            .as_ref()
            .is_some_and(|i| !seen_ids.insert(i.clone()))
    {
        return Err(error(
            "DUPLICATED_USER",
            "The user appears more than once in the file".into(),
            "",
        ));
    }
    let provider = users::provider_of(connection);
    let existing = store
        .users
        .by_email_in(&email, conn_name)
        .map(|r| r.id.clone());
    if let Some(existing_id) = existing {
        if !upsert {
            return Err(error(
                "CONFLICT_EMAIL",
                format!("The user already exists: {email}"),
                "email",
            ));
        }
        let mut current = store
            .users
            .get(&existing_id)
            .map(|r| r.value())
            .unwrap_or(Value::Null);
        for field in UPSERT_FIELDS {
            if let Some(v) = user.get(*field) {
                // Metadata is replaced whole by an import, not merged.
                current[*field] = v.clone();
            }
        }
        current["updated_at"] = json!(clock::iso_now());
        if let Some(hash) = user.get("custom_password_hash") {
            store
                .credentials
                .insert(existing_id.clone(), json!({ "custom_password_hash": hash }));
        }
        if let Some(row) = crate::store::UserRow::from_value(&current) {
            store.users.put(row);
        }
        return Ok(false);
    }
    if let Some(local) = &local_id {
        let local = local.strip_prefix(&format!("{provider}|")).unwrap_or(local);
        if store.users.get(&format!("{provider}|{local}")).is_some() {
            return Err(error(
                "CONFLICT",
                format!("A user with user_id {local} already exists"),
                "user_id",
            ));
        }
    }
    if let Some(name) = user.get("username").and_then(Value::as_str)
        && store.users.username_taken(conn_name, name)
    {
        return Err(error(
            "CONFLICT_USERNAME",
            format!("The username {name} is taken"),
            "username",
        ));
    }
    let mut fields = user.as_object().cloned().unwrap_or_default();
    let mut secret = Map::new();
    for key in ["password_hash", "custom_password_hash", "mfa_factors"] {
        if let Some(v) = fields.remove(key) {
            secret.insert(key.to_owned(), v);
        }
    }
    fields.entry("email_verified").or_insert(json!(false));
    let created = users::insert(store, connection, fields)
        .map_err(|e| error("CONFLICT", e.message, "user_id"))?;
    if !secret.is_empty()
        && let Some(id) = created.get("user_id").and_then(Value::as_str)
    {
        store
            .credentials
            .insert(id.to_owned(), Value::Object(secret));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_fields_follow_paths_and_indexes() {
        let user = json!({"identities": [{"connection": "db"}], "user_metadata": {"a": {"b": 1}}});
        assert_eq!(
            lookup(&user, "identities[0].connection"),
            Some(&json!("db"))
        );
        assert_eq!(lookup(&user, "user_metadata.a.b"), Some(&json!(1)));
        assert_eq!(lookup(&user, "nope"), None);
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
    }
}
