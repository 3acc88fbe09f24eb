//! A ZITADEL instance, for tenants started with `platform: Zitadel`: here the admin
//! API's SMS providers (Twilio and HTTP, with their activation state), organizations
//! (listed by the admin API, created and deleted by the management API), each
//! organization's projects and project roles (management API, organization from
//! `x-zitadel-orgid`), and the JWT-profile login at `/oauth/v2/token`; users, their
//! metadata, grants, organization members and the password check in [`users`];
//! policies, texts, identity providers, SMTP, actions, flows and applications in
//! [`config`]. ZITADEL's shapes throughout: a `details` block (`sequence`,
//! `creationDate`, `changeDate`, `resourceOwner`) on every object and write, errors as
//! `{code, message, details}` with gRPC codes, `_search` lists with `query.offset` (a
//! string) and `details.totalResult`, and write-only secrets (a Twilio token, an SMTP
//! password, a client secret) accepted, never returned.

pub mod config;
pub mod users;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::clock::iso_now;
use crate::server::Tenant;

/// What the instance holds.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Instance {
    /// The instance's resource owner id.
    pub id: String,
    /// The last event sequence.
    pub sequence: u64,
    /// SMS providers by id, in creation order.
    pub sms: IndexMap<String, SmsProvider>,
    /// Organizations by id, in creation order.
    pub orgs: IndexMap<String, Org>,
    /// Users by id, in creation order.
    pub users: IndexMap<String, users::User>,
    /// User grants by id.
    pub grants: IndexMap<String, users::Grant>,
    /// Default policies by path under `/admin/v1/policies/` (`login`, `label`, ...).
    pub settings: IndexMap<String, config::Settings>,
    /// SMTP providers by id.
    pub smtp: IndexMap<String, config::Smtp>,
    /// Identity providers by id.
    pub idps: IndexMap<String, config::Object>,
    /// Custom login texts by language.
    pub texts: IndexMap<String, Value>,
}

/// An organization.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Org {
    /// Its id.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// Its primary domain (derived from the name).
    pub primary_domain: String,
    /// When it was created.
    pub created: String,
    /// When it last changed.
    pub changed: String,
    /// Its last sequence.
    pub sequence: u64,
    /// Its projects by id.
    pub projects: IndexMap<String, Project>,
    /// Its members: user id -> member roles.
    pub members: IndexMap<String, Vec<String>>,
    /// Its actions by id.
    pub actions: IndexMap<String, config::Object>,
    /// Its flows by flow type.
    pub flows: IndexMap<String, config::Flow>,
}

/// A project of an organization, with its roles.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Project {
    /// Its id.
    pub id: String,
    /// Its name (unique in the organization).
    pub name: String,
    /// Its roles by key.
    pub roles: IndexMap<String, Role>,
    /// Its applications by id.
    pub apps: IndexMap<String, config::Object>,
    /// When it was created.
    pub created: String,
    /// When it last changed.
    pub changed: String,
    /// Its last sequence.
    pub sequence: u64,
}

/// A project role.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Role {
    /// Its key.
    pub key: String,
    /// Its display name.
    pub display_name: String,
    /// Its group.
    pub group: String,
    /// When it was created.
    pub created: String,
    /// Its last sequence.
    pub sequence: u64,
}

/// One SMS provider.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SmsProvider {
    /// Its id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// Whether it is the active one.
    pub active: bool,
    /// Twilio settings, or an HTTP endpoint.
    pub kind: SmsKind,
    /// When it was created (RFC 3339).
    pub created: String,
    /// When it last changed.
    pub changed: String,
    /// Its last sequence.
    pub sequence: u64,
    /// The requests that wrote its Twilio token, in order (for tests: the token is
    /// never returned).
    #[serde(default)]
    pub token_writes: Vec<String>,
}

/// The kind of an SMS provider.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum SmsKind {
    /// Twilio, with its write-only token.
    Twilio {
        /// Account SID.
        sid: String,
        /// Sender number.
        sender_number: String,
        /// Twilio Verify service SID.
        verify_service_sid: String,
        /// The token (never returned).
        token: String,
    },
    /// An HTTP endpoint ZITADEL posts messages to.
    Http {
        /// The endpoint.
        endpoint: String,
    },
}

/// A provider of which one at a time is active (SMS, SMTP).
trait Provider {
    fn id(&self) -> &str;
    fn active(&mut self) -> &mut bool;
    fn stamp(&mut self, sequence: u64, now: &str);
}

impl Provider for SmsProvider {
    fn id(&self) -> &str {
        &self.id
    }
    fn active(&mut self) -> &mut bool {
        &mut self.active
    }
    fn stamp(&mut self, sequence: u64, now: &str) {
        self.sequence = sequence;
        self.changed = now.to_owned();
    }
}

impl Provider for config::Smtp {
    fn id(&self) -> &str {
        &self.id
    }
    fn active(&mut self) -> &mut bool {
        &mut self.active
    }
    fn stamp(&mut self, sequence: u64, now: &str) {
        self.sequence = sequence;
        self.changed = now.to_owned();
    }
}

/// Activates (deactivating the one active) or deactivates provider `id`; false when
/// there is no such provider.
fn set_active<P: Provider>(
    providers: &mut IndexMap<String, P>,
    id: &str,
    activate: bool,
    sequence: u64,
    now: &str,
) -> bool {
    if !providers.contains_key(id) {
        return false;
    }
    for p in providers.values_mut() {
        let target = p.id() == id;
        if target || (activate && *p.active()) {
            *p.active() = activate && target;
            p.stamp(sequence, now);
        }
    }
    true
}

/// A ZITADEL error answer: gRPC `code`, `message`, `details`.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "message": message, "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "message": message}]})),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, 5, &format!("{what} not found"))
}

fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, 3, message)
}

/// Whether a path belongs to ZITADEL's APIs.
pub fn serves(path: &str) -> bool {
    ["/admin/v1/", "/management/v1/", "/v2/", "/oauth/v2/"]
        .iter()
        .any(|p| path.starts_with(p))
}

impl Instance {
    fn touch(&mut self) -> (u64, String) {
        self.sequence += 1;
        (self.sequence, iso_now())
    }

    fn details(&self, sequence: u64, created: &str, changed: &str) -> Value {
        json!({
            "sequence": sequence.to_string(),
            "creationDate": created,
            "changeDate": changed,
            "resourceOwner": self.id,
        })
    }

    fn org_json(&self, o: &Org) -> Value {
        json!({
            "id": o.id,
            "details": self.details(o.sequence, &o.created, &o.changed),
            "state": "ORG_STATE_ACTIVE",
            "name": o.name,
            "primaryDomain": o.primary_domain,
        })
    }

    /// An organization as the v2 organization service lists it.
    fn org_v2_json(&self, o: &Org) -> Value {
        json!({
            "id": o.id,
            "details": self.details(o.sequence, &o.created, &o.changed),
            "state": "ORGANIZATION_STATE_ACTIVE",
            "name": o.name,
            "primaryDomain": o.primary_domain,
        })
    }

    /// Creates organization `name` (unique), answering its id.
    fn add_org(&mut self, name: String) -> Result<(String, Value), Box<Response>> {
        if name.trim().is_empty() {
            return Err(Box::new(invalid("name is required (ORG-mruNY)")));
        }
        if self.orgs.values().any(|o| o.name == name) {
            return Err(Box::new(error(
                StatusCode::CONFLICT,
                6,
                "Errors.Org.AlreadyExists (ORG-lapo2m)",
            )));
        }
        let (sequence, now) = self.touch();
        let id = format!("{}", 290_000_000_000_000_000u64 + sequence);
        let slug: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let org = Org {
            id: id.clone(),
            name,
            primary_domain: format!("{slug}.zitadel.localhost"),
            created: now.clone(),
            changed: now.clone(),
            sequence,
            projects: IndexMap::new(),
            members: IndexMap::new(),
            actions: IndexMap::new(),
            flows: IndexMap::new(),
        };
        let details = self.details(sequence, &now, &now);
        self.orgs.insert(id.clone(), org);
        Ok((id, details))
    }

    fn sms_json(&self, p: &SmsProvider) -> Value {
        let mut v = json!({
            "id": p.id,
            "details": self.details(p.sequence, &p.created, &p.changed),
            "state": if p.active { "SMS_PROVIDER_CONFIG_ACTIVE" } else { "SMS_PROVIDER_CONFIG_INACTIVE" },
            "description": p.description,
        });
        match &p.kind {
            SmsKind::Twilio {
                sid,
                sender_number,
                verify_service_sid,
                ..
            } => {
                v["twilio"] = json!({"sid": sid, "senderNumber": sender_number, "verifyServiceSid": verify_service_sid});
            }
            SmsKind::Http { endpoint } => v["http"] = json!({ "endpoint": endpoint }),
        }
        v
    }
}

/// A v1 `_search` answer: the page of `items` the request's `query` asks for, each as
/// `show` gives it, with the total and the sequence the view is at.
fn listed<T>(
    items: impl ExactSizeIterator<Item = T>,
    sequence: u64,
    body: &Value,
    show: impl FnMut(T) -> Value,
) -> Response {
    let total = items.len();
    let (offset, limit) = page(body);
    let result: Vec<Value> = items.skip(offset).take(limit).map(show).collect();
    (
        StatusCode::OK,
        axum::Json(json!({
            "details": {"totalResult": total.to_string(), "processedSequence": sequence.to_string(), "viewTimestamp": iso_now()},
            "result": result,
        })),
    )
        .into_response()
}

/// `query.offset` (a string in v1, a number tolerated) and `query.limit` (at most 1000).
fn page(body: &Value) -> (usize, usize) {
    let query = body.get("query").cloned().unwrap_or(Value::Null);
    let offset = match query.get("offset") {
        Some(Value::String(s)) => s.parse::<usize>().unwrap_or(0),
        Some(v) => v.as_u64().unwrap_or(0) as usize,
        None => 0,
    };
    let limit = query
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(100)
        .clamp(1, 1000) as usize;
    (offset, limit)
}

fn text(body: &Value, key: &str) -> String {
    body.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The id of the instance's service user (its key is [`SERVICE_KEY_PEM`]).
pub const SERVICE_USER_ID: &str = "250000000000000001";

/// The id of the service user's key.
pub const SERVICE_KEY_ID: &str = "260000000000000001";

/// The service user's private key: a fixed test key, public by design (every emulated
/// instance has the same), so that configs the emulator writes can log in.
pub const SERVICE_KEY_PEM: &str = include_str!("service-user-key.pem");

const SERVICE_PUBLIC_KEY_PEM: &str = include_str!("service-user-key.pub.pem");

/// The service user's key file, as ZITADEL's console downloads it.
pub fn service_key_json() -> String {
    json!({"type": "serviceaccount", "keyId": SERVICE_KEY_ID, "key": SERVICE_KEY_PEM, "userId": SERVICE_USER_ID})
        .to_string()
}

fn oauth_error(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_grant", "error_description": description})),
    )
        .into_response()
}

/// `POST /oauth/v2/token` with the JWT profile: the assertion must be signed by the
/// service user's key, for this instance, and current.
async fn token(tenant: &Tenant, req: Request) -> Response {
    use axum::extract::FromRequest;
    let Ok(axum::Form(form)) =
        axum::Form::<std::collections::HashMap<String, String>>::from_request(req, &()).await
    else {
        return oauth_error("the request must be a form");
    };
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return oauth_error("unsupported grant_type; this instance takes the JWT profile");
    }
    if !form.get("scope").is_some_and(|s| {
        s.split(' ')
            .any(|s| s == "urn:zitadel:iam:org:project:id:zitadel:aud")
    }) {
        return oauth_error("scope must include urn:zitadel:iam:org:project:id:zitadel:aud");
    }
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    let kid = jsonwebtoken::decode_header(&assertion)
        .ok()
        .and_then(|h| h.kid);
    if kid.as_deref() != Some(SERVICE_KEY_ID) {
        return oauth_error("Errors.AuthNKey.NotFound (no such key)");
    }
    let Ok(key) = jsonwebtoken::DecodingKey::from_rsa_pem(SERVICE_PUBLIC_KEY_PEM.as_bytes()) else {
        return oauth_error("the emulator's public key does not load");
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&tenant.base_url]);
    validation.set_issuer(&[SERVICE_USER_ID]);
    validation.sub = Some(SERVICE_USER_ID.to_owned());
    if let Err(e) = jsonwebtoken::decode::<Value>(&assertion, &key, &validation) {
        return oauth_error(&format!("assertion invalid: {e}"));
    }
    let (token, ttl) = tenant.issue_token();
    (
        StatusCode::OK,
        axum::Json(
            json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl.as_secs()}),
        ),
    )
        .into_response()
}

/// Answers one request (already counted, paced and past fault injection).
pub async fn request(tenant: &Tenant, req: Request) -> Response {
    if req.uri().path() == "/oauth/v2/token" && req.method() == Method::POST {
        return token(tenant, req).await;
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let authorized = bearer.is_some_and(|t| tenant.token_valid(t));
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            16,
            "Errors.Token.Invalid (AUTH-7fs1e)",
        );
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let org_header = req
        .headers()
        .get("x-zitadel-orgid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = match to_bytes(Body::new(req.into_body()), 2 << 20).await {
        Ok(b) => b,
        Err(_) => return invalid("request body too large"),
    };
    let body: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return invalid(&format!("invalid JSON: {e}")),
        }
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let Some(r) = crate::judge::ZITADEL.refusal(&method, &segments, &body) {
        // As ZITADEL's gateway says it (gRPC code 3).
        return invalid(&if r.at.is_empty() {
            format!("invalid request: {}", r.message)
        } else {
            format!("invalid request: {}: {}", r.at, r.message)
        });
    }
    tenant.with_zitadel(|instance| {
        if config::serves(&segments) {
            let org = org_header
                .clone()
                .or_else(|| instance.orgs.keys().next().cloned());
            return config::route(instance, org.as_deref(), &method, &segments, &body);
        }
        if users::serves(&segments) {
            return users::route(instance, org_header.as_deref(), &method, &segments, &body);
        }
        if segments.starts_with(&["management", "v1", "projects"]) {
            // The management API works in the organization of the header, else in the
            // first one (the caller's own, on a real instance).
            let org = org_header.or_else(|| instance.orgs.keys().next().cloned());
            return projects(instance, org.as_deref(), &method, &segments[3..], &body);
        }
        route(instance, org_header.as_deref(), &method, &segments, &body)
    })
}

fn projects(
    instance: &mut Instance,
    org: Option<&str>,
    method: &Method,
    rest: &[&str],
    body: &Value,
) -> Response {
    let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
    let (sequence, now) = instance.touch();
    let resource_owner = org.unwrap_or_default().to_owned();
    let details = |sequence: u64, created: &str, changed: &str| json!({"sequence": sequence.to_string(), "creationDate": created, "changeDate": changed, "resourceOwner": resource_owner});
    let Some(org) = org.and_then(|id| instance.orgs.get_mut(id)) else {
        return not_found("organization");
    };
    match (method.as_str(), rest) {
        ("POST", []) => {
            let name = text(body, "name");
            if name.trim().is_empty() {
                return invalid("name is required (PROJECT-fd2rs)");
            }
            if org.projects.values().any(|p| p.name == name) {
                return error(
                    StatusCode::CONFLICT,
                    6,
                    "Errors.Project.AlreadyExists (PROJECT-3ofn3)",
                );
            }
            let id = format!("{}", 300_000_000_000_000_000u64 + sequence);
            org.projects.insert(
                id.clone(),
                Project {
                    id: id.clone(),
                    name,
                    roles: IndexMap::new(),
                    apps: IndexMap::new(),
                    created: now.clone(),
                    changed: now.clone(),
                    sequence,
                },
            );
            ok(json!({"id": id, "details": details(sequence, &now, &now)}))
        }
        ("POST", ["_search"]) => listed(
            org.projects.values(),
            sequence,
            body,
            |p| json!({"id": p.id, "details": details(p.sequence, &p.created, &p.changed), "name": p.name, "state": "PROJECT_STATE_ACTIVE"}),
        ),
        ("POST", [id, "roles"]) => {
            let Some(project) = org.projects.get_mut(*id) else {
                return not_found("project");
            };
            let key = text(body, "roleKey");
            if key.trim().is_empty() {
                return invalid("roleKey is required (PROJECT-4m9vS)");
            }
            if project.roles.contains_key(&key) {
                return error(
                    StatusCode::CONFLICT,
                    6,
                    "Errors.Project.Role.AlreadyExists (PROJECT-wdg3s)",
                );
            }
            project.roles.insert(
                key.clone(),
                Role {
                    key,
                    display_name: text(body, "displayName"),
                    group: text(body, "group"),
                    created: now.clone(),
                    sequence,
                },
            );
            project.changed = now.clone();
            ok(json!({"details": details(sequence, &now, &now)}))
        }
        ("DELETE", [id]) => match org.projects.shift_remove(*id) {
            Some(p) => ok(json!({"details": details(sequence, &p.created, &now)})),
            None => not_found("project"),
        },
        ("DELETE", [id, "roles", key]) => {
            let Some(project) = org.projects.get_mut(*id) else {
                return not_found("project");
            };
            match project.roles.shift_remove(*key) {
                Some(r) => ok(json!({"details": details(sequence, &r.created, &now)})),
                None => not_found("project role"),
            }
        }
        ("PUT", [id, "roles", key]) => {
            let Some(role) = org
                .projects
                .get_mut(*id)
                .and_then(|p| p.roles.get_mut(*key))
            else {
                return not_found("project role");
            };
            role.display_name = text(body, "displayName");
            role.group = text(body, "group");
            role.sequence = sequence;
            let created = role.created.clone();
            ok(json!({"details": details(sequence, &created, &now)}))
        }
        ("POST", [id, "roles", "_search"]) => {
            let Some(project) = org.projects.get(*id) else {
                return not_found("project");
            };
            listed(
                project.roles.values(),
                sequence,
                body,
                |r| json!({"key": r.key, "details": details(r.sequence, &r.created, &r.created), "displayName": r.display_name, "group": r.group}),
            )
        }
        _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
    }
}

fn route(
    instance: &mut Instance,
    org: Option<&str>,
    method: &Method,
    segments: &[&str],
    body: &Value,
) -> Response {
    let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
    match (method.as_str(), segments) {
        ("POST", ["admin", "v1", "sms", "_search"]) => {
            listed(instance.sms.values(), instance.sequence, body, |p| {
                instance.sms_json(p)
            })
        }
        ("POST", ["admin", "v1", "orgs", "_search"]) => {
            listed(instance.orgs.values(), instance.sequence, body, |o| {
                instance.org_json(o)
            })
        }
        ("DELETE", ["management", "v1", "orgs", "me"]) => {
            let Some(id) = org else {
                return not_found("organization");
            };
            let (sequence, now) = instance.touch();
            match instance.orgs.shift_remove(id) {
                Some(o) => {
                    // Its users and their grants go with it.
                    instance.users.retain(|_, u| u.org != o.id);
                    let users = &instance.users;
                    instance
                        .grants
                        .retain(|_, g| g.org != o.id && users.contains_key(&g.user));
                    ok(json!({"details": instance.details(sequence, &o.created, &now)}))
                }
                None => not_found("organization"),
            }
        }
        ("POST", ["management", "v1", "orgs"]) => match instance.add_org(text(body, "name")) {
            Ok((id, details)) => ok(json!({"id": id, "details": details})),
            Err(refused) => *refused,
        },
        // The v2 organization service (the v1 calls above are deprecated in v4).
        ("POST", ["v2", "organizations", "_search"]) => {
            let name = body
                .pointer("/queries/0/nameQuery/name")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let matching: Vec<&Org> = instance
                .orgs
                .values()
                .filter(|o| name.as_ref().is_none_or(|n| &o.name == n))
                .collect();
            let total = matching.len();
            let (offset, limit) = page(body);
            let result: Vec<Value> = matching
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|o| instance.org_v2_json(o))
                .collect();
            ok(json!({
                "details": {"totalResult": total.to_string(), "processedSequence": instance.sequence.to_string(), "timestamp": iso_now()},
                "sortingColumn": "ORGANIZATION_FIELD_NAME_UNSPECIFIED",
                "result": result,
            }))
        }
        ("POST", ["v2", "organizations"]) => {
            if body
                .get("admins")
                .is_some_and(|a| a.as_array().is_some_and(|a| !a.is_empty()))
            {
                return invalid("admins are not supported by the emulator");
            }
            match instance.add_org(text(body, "name")) {
                Ok((id, details)) => {
                    ok(json!({"organizationId": id, "details": details, "createdAdmins": []}))
                }
                Err(refused) => *refused,
            }
        }
        ("POST", ["admin", "v1", "sms", kind @ ("twilio" | "http")]) => {
            let kind = if *kind == "twilio" {
                let (sid, token, sender) = (
                    text(body, "sid"),
                    text(body, "token"),
                    text(body, "senderNumber"),
                );
                if sid.is_empty() || token.is_empty() {
                    return invalid("sid and token are required (SMS-twilio)");
                }
                SmsKind::Twilio {
                    sid,
                    sender_number: sender,
                    verify_service_sid: text(body, "verifyServiceSid"),
                    token,
                }
            } else {
                let endpoint = text(body, "endpoint");
                if !endpoint.starts_with("http") {
                    return invalid("endpoint must be a URL (SMS-http)");
                }
                SmsKind::Http { endpoint }
            };
            let (sequence, now) = instance.touch();
            let id = format!("{}", 280_000_000_000_000_000u64 + sequence);
            let token_writes = match kind {
                SmsKind::Twilio { .. } => vec!["POST /admin/v1/sms/twilio".to_owned()],
                SmsKind::Http { .. } => Vec::new(),
            };
            let provider = SmsProvider {
                id: id.clone(),
                description: text(body, "description"),
                active: false,
                kind,
                created: now.clone(),
                changed: now.clone(),
                sequence,
                token_writes,
            };
            let details = instance.details(sequence, &now, &now);
            instance.sms.insert(id.clone(), provider);
            ok(json!({"id": id, "details": details}))
        }
        ("PUT", ["admin", "v1", "sms", kind @ ("twilio" | "http"), id]) => {
            let (sequence, now) = instance.touch();
            let Some(p) = instance.sms.get_mut(*id) else {
                return not_found("SMS provider");
            };
            match (&mut p.kind, *kind) {
                (
                    SmsKind::Twilio {
                        sid,
                        sender_number,
                        verify_service_sid,
                        ..
                    },
                    "twilio",
                ) => {
                    *sid = text(body, "sid");
                    *sender_number = text(body, "senderNumber");
                    *verify_service_sid = text(body, "verifyServiceSid");
                }
                (SmsKind::Http { endpoint }, "http") => *endpoint = text(body, "endpoint"),
                _ => return not_found("SMS provider of that type"),
            }
            p.description = text(body, "description");
            p.changed = now;
            p.sequence = sequence;
            let p = p.clone();
            ok(json!({"details": instance.details(sequence, &p.created, &p.changed)}))
        }
        ("PUT", ["admin", "v1", "sms", "twilio", id, "token"]) => {
            let token = text(body, "token");
            if token.is_empty() {
                return invalid("token is required");
            }
            let (sequence, now) = instance.touch();
            let Some(p) = instance.sms.get_mut(*id) else {
                return not_found("SMS provider");
            };
            let SmsKind::Twilio { token: old, .. } = &mut p.kind else {
                return not_found("Twilio SMS provider");
            };
            *old = token;
            p.token_writes
                .push("PUT /admin/v1/sms/twilio/{id}/token".to_owned());
            p.changed = now;
            p.sequence = sequence;
            let p = p.clone();
            ok(json!({"details": instance.details(sequence, &p.created, &p.changed)}))
        }
        (
            "POST",
            [
                "admin",
                "v1",
                "sms",
                id,
                action @ ("_activate" | "_deactivate"),
            ],
        ) => {
            let (sequence, now) = instance.touch();
            let activate = *action == "_activate";
            if !set_active(&mut instance.sms, id, activate, sequence, &now) {
                return not_found("SMS provider");
            }
            let p = instance.sms[*id].clone();
            ok(json!({"details": instance.details(sequence, &p.created, &p.changed)}))
        }
        ("GET", ["admin", "v1", "sms", id]) => match instance.sms.get(*id) {
            Some(p) => ok(json!({ "config": instance.sms_json(p) })),
            None => not_found("SMS provider"),
        },
        ("DELETE", ["admin", "v1", "sms", id]) => {
            let (sequence, now) = instance.touch();
            match instance.sms.shift_remove(*id) {
                Some(p) => ok(json!({"details": instance.details(sequence, &p.created, &now)})),
                None => not_found("SMS provider"),
            }
        }
        _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
    }
}
