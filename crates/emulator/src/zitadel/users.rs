//! Users of a ZITADEL instance: the v2 user service (create with a hashed password and
//! metadata, list, get, deactivate), the v2 session service's password check (the
//! login-like endpoint that proves a migrated hash verifies its password), user
//! metadata and user grants (management API), and organization members.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use indexmap::IndexMap;
use serde_json::{Value, json};

use super::{Instance, error, invalid, listed, not_found, page, text};
use crate::clock::iso_now;

/// A human user.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// Its id.
    pub id: String,
    /// The organization it belongs to.
    pub org: String,
    /// Its username (unique in the instance here).
    pub username: String,
    /// `human.profile` as sent (givenName, familyName, nickName, displayName, ...).
    pub profile: Value,
    /// Its email.
    pub email: String,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Its phone, if any.
    pub phone: Option<(String, bool)>,
    /// Metadata: key -> base64 value.
    pub metadata: IndexMap<String, String>,
    /// Its password hash (MCF), if it has one.
    pub hash: Option<String>,
    /// A machine user's `{name, description}` (then the human fields are empty).
    pub machine: Option<Value>,
    /// False once deactivated.
    pub active: bool,
    /// When it was created.
    pub created: String,
    /// When it last changed.
    pub changed: String,
    /// Its last sequence.
    pub sequence: u64,
}

impl User {
    /// Marks a change at `sequence` and answers its `details`.
    fn changed_at(&mut self, sequence: u64, now: String) -> Response {
        self.sequence = sequence;
        self.changed = now.clone();
        ok(
            json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": self.org}}),
        )
    }
}

/// A user grant: roles of a project given to a user.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    /// Its id.
    pub id: String,
    /// The user.
    pub user: String,
    /// The project.
    pub project: String,
    /// The organization that owns the grant (the header's).
    pub org: String,
    /// Role keys.
    pub roles: Vec<String>,
    /// When it was created.
    pub created: String,
    /// Its last sequence.
    pub sequence: u64,
}

/// The member roles an organization knows (ZITADEL's defaults).
const ORG_MEMBER_ROLES: &[&str] = &[
    "ORG_OWNER",
    "ORG_OWNER_VIEWER",
    "ORG_USER_MANAGER",
    "ORG_USER_PERMISSION_EDITOR",
    "ORG_PROJECT_PERMISSION_EDITOR",
    "ORG_PROJECT_CREATOR",
    "ORG_USER_SELF_MANAGER",
];

/// Hash schemes this instance verifies (bcrypt is on by default; an administrator
/// enables the others). Others are refused.
const HASH_SCHEMES: &[&str] = &["$2a$", "$2b$", "$2y$", "$argon2id$", "$argon2i$"];

/// Whether a path is served here.
pub fn serves(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["v2", "users", ..]
            | ["v2", "sessions"]
            | ["management", "v1", "users", ..]
            | ["management", "v1", "orgs", "me", "members", ..]
    )
}

/// Why the instance refuses a password hash, if it does.
fn hash_problem(hash: &str) -> Option<&'static str> {
    if !HASH_SCHEMES.iter().any(|s| hash.starts_with(s)) {
        return Some("Errors.User.Password.NotSupported: hash scheme not enabled");
    }
    if hash.starts_with("$2") && hash.parse::<bcrypt::HashParts>().is_err() {
        return Some("Errors.User.Password.Invalid: not a bcrypt hash");
    }
    None
}

fn ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

fn conflict(message: &str) -> Response {
    error(StatusCode::CONFLICT, 6, message)
}

fn flag(v: &Value, pointer: &str) -> bool {
    v.pointer(pointer).and_then(Value::as_bool).unwrap_or(false)
}

fn at(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Instance {
    /// Fills the instance with `spec.users` human users with two metadata entries each,
    /// spread over `spec.organizations` organizations (at least one), without going
    /// through the API (a bench needs 100,000 users at once).
    pub fn generate(&mut self, spec: &crate::GenerateSpec) {
        let orgs: Vec<String> = (0..spec.organizations.max(1))
            .filter_map(|i| {
                self.add_org(format!("Generated {i}"))
                    .ok()
                    .map(|(id, _)| id)
            })
            .collect();
        let (_, now) = self.touch();
        for i in 0..spec.users {
            let (sequence, _) = self.touch();
            let id = format!("{}", 300_000_000_000_000_000u64 + sequence);
            let username = format!("user{i}@generated.example.com");
            let mut metadata = IndexMap::new();
            metadata.insert(
                "plan".to_owned(),
                BASE64.encode(["free", "pro", "enterprise"][i % 3]),
            );
            metadata.insert(
                "customer_id".to_owned(),
                BASE64.encode(format!("cus_{i:08}")),
            );
            let user = User {
                id: id.clone(),
                org: orgs[i % orgs.len()].clone(),
                username: username.clone(),
                profile: json!({"givenName": format!("Given{i}"), "familyName": format!("Family{i}"), "displayName": format!("Given{i} Family{i}"), "preferredLanguage": "en"}),
                email: username,
                email_verified: i % 5 != 0,
                phone: None,
                metadata,
                hash: None,
                machine: None,
                active: true,
                created: now.clone(),
                changed: now.clone(),
                sequence,
            };
            self.users.insert(id, user);
        }
    }

    fn user_json(&self, u: &User) -> Value {
        let kind = match &u.machine {
            Some(m) => ("machine", m.clone()),
            None => ("human", self.human_json(u)),
        };
        json!({
            "userId": u.id,
            "details": {"sequence": u.sequence.to_string(), "creationDate": u.created, "changeDate": u.changed, "resourceOwner": u.org},
            "state": if u.active { "USER_STATE_ACTIVE" } else { "USER_STATE_INACTIVE" },
            "username": u.username,
            "loginNames": [u.username],
            "preferredLoginName": u.username,
            kind.0: kind.1,
        })
    }

    fn human_json(&self, u: &User) -> Value {
        let mut human = json!({
            "profile": u.profile,
            "email": {"email": u.email, "isVerified": u.email_verified},
            "passwordChangeRequired": false,
        });
        if let Some((phone, verified)) = &u.phone {
            human["phone"] = json!({"phone": phone, "isVerified": verified});
        }
        human
    }

    /// A machine user (`{"machine": {name, description}}`, a username required).
    fn create_machine(&mut self, org: String, body: &Value, machine: &Value) -> Response {
        let username = text(body, "username");
        if username.is_empty() || text(machine, "name").is_empty() {
            return invalid("username and machine.name are required (USER-0nw2f)");
        }
        if self.users.values().any(|u| u.username == username) {
            return conflict("Errors.User.AlreadyExists (V2-ei3dn)");
        }
        let (sequence, now) = self.touch();
        let id = format!("{}", 310_000_000_000_000_000u64 + sequence);
        let machine = json!({"name": text(machine, "name"), "description": text(machine, "description"), "accessTokenType": "ACCESS_TOKEN_TYPE_BEARER"});
        self.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                org,
                username,
                profile: Value::Null,
                email: String::new(),
                email_verified: false,
                phone: None,
                metadata: IndexMap::new(),
                hash: None,
                machine: Some(machine),
                active: true,
                created: now.clone(),
                changed: now.clone(),
                sequence,
            },
        );
        ok(json!({"id": id, "creationDate": now}))
    }

    /// `PUT /v2/users/human/{id}`: profile, email, phone, and a password (here a hashed
    /// one: `password.hashedPassword.hash`).
    fn update_human(&mut self, id: &str, body: &Value) -> Response {
        let hash = body
            .pointer("/password/hashedPassword/hash")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(problem) = hash.as_deref().and_then(hash_problem) {
            return invalid(problem);
        }
        let (sequence, now) = self.touch();
        let Some(u) = self.users.get_mut(id).filter(|u| u.machine.is_none()) else {
            return not_found("Errors.User.NotFound");
        };
        if let Some(profile) = body.get("profile") {
            u.profile = profile.clone();
        }
        if let Some(email) = body.get("email") {
            u.email = at(email, "/email");
            u.email_verified = flag(email, "/isVerified");
        }
        if let Some(phone) = body.get("phone") {
            u.phone = Some((at(phone, "/phone"), flag(phone, "/isVerified")));
        }
        if hash.is_some() {
            u.hash = hash;
        }
        u.changed_at(sequence, now)
    }

    /// `POST /v2/users/new` (CreateUser, newer than v4.0): `organizationId`, and a
    /// `human` or a `machine` object; answers `{id, creationDate}`.
    fn create_user(&mut self, body: &Value) -> Response {
        let org = text(body, "organizationId");
        if !self.orgs.contains_key(&org) {
            return not_found("Errors.Org.NotFound (organizationId)");
        }
        if let Some(machine) = body.get("machine") {
            return self.create_machine(org, body, machine);
        }
        let Some(human) = body.get("human") else {
            return invalid("human or machine is required (USER-7nj3f)");
        };
        match self.add_human(org, &text(body, "userId"), &text(body, "username"), human) {
            Ok((id, now, _)) => ok(json!({"id": id, "creationDate": now})),
            Err(refused) => *refused,
        }
    }

    /// `POST /v2/users/human` (AddHumanUser, the stable create): `organization.orgId`,
    /// the human's fields at the top; answers `{userId, details}`.
    fn add_human_user(&mut self, body: &Value) -> Response {
        let org = body
            .pointer("/organization/orgId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !self.orgs.contains_key(&org) {
            return not_found("Errors.Org.NotFound (organization.orgId)");
        }
        if body.get("password").is_some() && body.get("hashedPassword").is_some() {
            return invalid("password and hashedPassword exclude each other (USER-3n9fs)");
        }
        let owner = org.clone();
        match self.add_human(org, &text(body, "userId"), &text(body, "username"), body) {
            Ok((id, now, sequence)) => ok(json!({"userId": id, "details": {
                "sequence": sequence.to_string(), "creationDate": now, "changeDate": now,
                "resourceOwner": owner}})),
            Err(refused) => *refused,
        }
    }

    /// Creates a human user of `org` from `human` (profile, email, phone, metadata,
    /// hashedPassword): its id, creation time and sequence, or the refusal.
    fn add_human(
        &mut self,
        org: String,
        user_id: &str,
        username: &str,
        human: &Value,
    ) -> Result<(String, String, u64), Box<Response>> {
        let email = at(human, "/email/email");
        if !email.contains('@') {
            return Err(Box::new(invalid("Errors.User.Email.Invalid (email.email)")));
        }
        let profile = human.get("profile").cloned().unwrap_or(json!({}));
        for field in ["givenName", "familyName"] {
            if text(&profile, field).trim().is_empty() {
                return Err(Box::new(invalid(&format!(
                    "profile.{field} must not be empty (USER-4hP8s)"
                ))));
            }
        }
        let mut metadata = IndexMap::new();
        for entry in human
            .get("metadata")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (key, value) = (text(entry, "key"), text(entry, "value"));
            if key.is_empty() || BASE64.decode(&value).is_err() {
                return Err(Box::new(invalid(
                    "metadata needs a key and a base64 value (META-2n9Fs)",
                )));
            }
            metadata.insert(key, value);
        }
        let hash = human
            .pointer("/hashedPassword/hash")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(problem) = hash.as_deref().and_then(hash_problem) {
            return Err(Box::new(invalid(problem)));
        }
        let username = match username {
            "" => email.clone(),
            u => u.to_owned(),
        };
        if self.users.values().any(|u| u.username == username) {
            return Err(Box::new(conflict("Errors.User.AlreadyExists (V2-ei3dn)")));
        }
        let (sequence, now) = self.touch();
        let id = match user_id {
            "" => format!("{}", 310_000_000_000_000_000u64 + sequence),
            id if self.users.contains_key(id) => {
                return Err(Box::new(conflict("Errors.User.AlreadyExists (userId)")));
            }
            id => id.to_owned(),
        };
        let phone = human
            .pointer("/phone/phone")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(|p| (p.to_owned(), flag(human, "/phone/isVerified")));
        self.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                org,
                username,
                profile,
                email,
                email_verified: flag(human, "/email/isVerified"),
                phone,
                metadata,
                hash,
                machine: None,
                active: true,
                created: now.clone(),
                changed: now.clone(),
                sequence,
            },
        );
        Ok((id, now, sequence))
    }

    /// `POST /v2/users`: `queries` of `userNameQuery` (exact) and `organizationIdQuery`.
    fn list_users(&self, body: &Value) -> Response {
        let (offset, limit) = page(body);
        let queries = body
            .get("queries")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let matches = |u: &User| {
            queries.iter().all(|q| {
                if let Some(name) = q.pointer("/userNameQuery/userName").and_then(Value::as_str) {
                    return u.username == name;
                }
                if let Some(org) = q
                    .pointer("/organizationIdQuery/organizationId")
                    .and_then(Value::as_str)
                {
                    return u.org == org;
                }
                true
            })
        };
        let found: Vec<&User> = self.users.values().filter(|u| matches(u)).collect();
        let result: Vec<Value> = found
            .iter()
            .skip(offset)
            .take(limit)
            .map(|u| self.user_json(u))
            .collect();
        ok(json!({
            "details": {"totalResult": found.len().to_string(), "timestamp": iso_now()},
            "result": result,
        }))
    }

    /// `POST /v2/sessions` with a user and a password check: 201 with a session when
    /// the password verifies the stored hash.
    fn check_password(&mut self, body: &Value) -> Response {
        let login = at(body, "/checks/user/loginName");
        let password = at(body, "/checks/password/password");
        let Some(user) = self.users.values().find(|u| u.username == login) else {
            return not_found("Errors.User.NotFound (SESSION-0lp2s)");
        };
        if !user.active {
            return error(StatusCode::PRECONDITION_FAILED, 9, "Errors.User.NotActive");
        }
        let verified = match &user.hash {
            Some(hash) if hash.starts_with("$2") => {
                bcrypt::verify(&password, hash).unwrap_or(false)
            }
            // Other schemes are stored but not checked by the emulator.
            _ => false,
        };
        if !verified {
            return invalid("Errors.User.Password.Invalid (COMMAND-3M0fs)");
        }
        let org = user.org.clone();
        let (sequence, now) = self.touch();
        (
            StatusCode::CREATED,
            axum::Json(json!({
                "details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": org},
                "sessionId": format!("{}", 320_000_000_000_000_000u64 + sequence),
                "sessionToken": "emulated",
            })),
        )
            .into_response()
    }

    fn grant_json(&self, g: &Grant) -> Value {
        let user = self.users.get(&g.user);
        json!({
            "id": g.id,
            "details": {"sequence": g.sequence.to_string(), "creationDate": g.created, "changeDate": g.created, "resourceOwner": g.org},
            "roleKeys": g.roles,
            "state": "USER_GRANT_STATE_ACTIVE",
            "userId": g.user,
            "userName": user.map(|u| u.username.clone()),
            "email": user.map(|u| u.email.clone()),
            "projectId": g.project,
            "projectName": self.orgs.values().find_map(|o| o.projects.get(&g.project)).map(|p| p.name.clone()),
            "orgId": g.org,
        })
    }

    /// Role keys of `roles` that project `project` (of any organization) lacks.
    fn unknown_roles(&self, project: &str, roles: &[String]) -> Option<Vec<String>> {
        let project = self.orgs.values().find_map(|o| o.projects.get(project))?;
        Some(
            roles
                .iter()
                .filter(|r| !project.roles.contains_key(*r))
                .cloned()
                .collect(),
        )
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Answers a users, sessions, grants or members request; `org` is the organization of
/// the `x-zitadel-orgid` header (management API).
pub fn route(
    instance: &mut Instance,
    org: Option<&str>,
    method: &Method,
    segments: &[&str],
    body: &Value,
) -> Response {
    match (method.as_str(), segments) {
        ("POST", ["v2", "users", "new"]) => instance.create_user(body),
        ("POST", ["v2", "users", "human"]) => instance.add_human_user(body),
        ("POST", ["management", "v1", "users", "machine"]) => {
            // AddMachineUser: the organization of the header (else the first one).
            let Some(org) = org
                .map(str::to_owned)
                .or_else(|| instance.orgs.keys().next().cloned())
                .filter(|o| instance.orgs.contains_key(o))
            else {
                return not_found("Errors.Org.NotFound");
            };
            let machine =
                json!({"name": text(body, "name"), "description": text(body, "description")});
            let body = json!({"username": text(body, "userName")});
            let answer = instance.create_machine(org.clone(), &body, &machine);
            if answer.status() != StatusCode::OK {
                return answer;
            }
            let Some(user) = instance.users.values().last() else {
                return not_found("Errors.User.NotFound");
            };
            ok(
                json!({"userId": user.id, "details": {"sequence": user.sequence.to_string(),
                "creationDate": user.created, "changeDate": user.changed, "resourceOwner": org}}),
            )
        }
        ("POST", ["v2", "users"]) => instance.list_users(body),
        ("POST", ["v2", "sessions"]) => instance.check_password(body),
        ("GET", ["v2", "users", id]) => match instance.users.get(*id) {
            Some(u) => ok(json!({"user": instance.user_json(u)})),
            None => not_found("Errors.User.NotFound"),
        },
        ("PUT", ["v2", "users", "human", id]) => instance.update_human(id, body),
        ("DELETE", ["v2", "users", id]) => {
            let (sequence, now) = instance.touch();
            let Some(u) = instance.users.shift_remove(*id) else {
                return not_found("Errors.User.NotFound");
            };
            instance.grants.retain(|_, g| g.user != u.id);
            for o in instance.orgs.values_mut() {
                o.members.shift_remove(&u.id);
            }
            ok(
                json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": u.org}}),
            )
        }
        ("DELETE", ["management", "v1", "users", user, "grants", id]) => {
            let (sequence, now) = instance.touch();
            match instance
                .grants
                .get(*id)
                .filter(|g| g.user == *user)
                .map(|g| g.org.clone())
            {
                Some(owner) => {
                    instance.grants.shift_remove(*id);
                    ok(
                        json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": owner}}),
                    )
                }
                None => not_found("Errors.UserGrant.NotFound"),
            }
        }
        ("DELETE", ["management", "v1", "orgs", "me", "members", user]) => {
            let (sequence, now) = instance.touch();
            match org
                .and_then(|o| instance.orgs.get_mut(o))
                .and_then(|o| o.members.shift_remove(*user))
            {
                Some(_) => ok(
                    json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": org}}),
                ),
                None => not_found("Errors.Org.Member.NotFound"),
            }
        }
        ("POST", ["management", "v1", "users", id, "metadata", "_bulk"]) => {
            let (sequence, now) = instance.touch();
            let Some(u) = instance.users.get_mut(*id) else {
                return not_found("Errors.User.NotFound");
            };
            for entry in body
                .get("metadata")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (key, value) = (text(entry, "key"), text(entry, "value"));
                if key.is_empty() || BASE64.decode(&value).is_err() {
                    return invalid("metadata needs a key and a base64 value (META-2n9Fs)");
                }
                u.metadata.insert(key, value);
            }
            u.changed_at(sequence, now)
        }
        ("POST", ["v2", "users", id, verb @ ("deactivate" | "reactivate")]) => {
            let (sequence, now) = instance.touch();
            let Some(u) = instance.users.get_mut(*id) else {
                return not_found("Errors.User.NotFound");
            };
            let activate = *verb == "reactivate";
            if u.active == activate {
                let message = if activate {
                    "Errors.User.NotInactive"
                } else {
                    "Errors.User.AlreadyInactive"
                };
                return error(StatusCode::PRECONDITION_FAILED, 9, message);
            }
            u.active = activate;
            u.changed_at(sequence, now)
        }
        ("POST", ["management", "v1", "users", id, "metadata", "_search"]) => {
            let Some(u) = instance.users.get(*id) else {
                return not_found("Errors.User.NotFound");
            };
            listed(
                u.metadata.iter(),
                u.sequence,
                body,
                |(k, v)| json!({"key": k, "value": v, "details": {"sequence": u.sequence.to_string(), "creationDate": u.created, "changeDate": u.changed, "resourceOwner": u.org}}),
            )
        }
        ("POST", ["management", "v1", "users", "grants", "_search"]) => {
            let queries = body
                .get("queries")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let found: Vec<&Grant> = instance
                .grants
                .values()
                .filter(|g| org.is_none_or(|o| g.org == o))
                .filter(|g| {
                    queries.iter().all(|q| {
                        if let Some(user) = q.pointer("/userIdQuery/userId").and_then(Value::as_str)
                        {
                            return g.user == user;
                        }
                        if let Some(p) = q
                            .pointer("/projectIdQuery/projectId")
                            .and_then(Value::as_str)
                        {
                            return g.project == p;
                        }
                        true
                    })
                })
                .collect();
            listed(found.into_iter(), instance.sequence, body, |g| {
                instance.grant_json(g)
            })
        }
        ("POST", ["management", "v1", "users", user, "grants"]) => {
            let Some(org) = org.filter(|o| instance.orgs.contains_key(*o)) else {
                return not_found("organization");
            };
            if !instance.users.contains_key(*user) {
                return not_found("Errors.User.NotFound");
            }
            let project = text(body, "projectId");
            let roles = strings(body, "roleKeys");
            match instance.unknown_roles(&project, &roles) {
                None => return not_found("Errors.Project.NotFound"),
                Some(missing) if !missing.is_empty() => {
                    return invalid(&format!(
                        "Errors.Project.Role.NotFound: {}",
                        missing.join(", ")
                    ));
                }
                Some(_) => {}
            }
            if instance
                .grants
                .values()
                .any(|g| g.user == *user && g.project == project)
            {
                return conflict("Errors.UserGrant.AlreadyExists (COMMAND-2b8fs)");
            }
            let (sequence, now) = instance.touch();
            let id = format!("{}", 330_000_000_000_000_000u64 + sequence);
            instance.grants.insert(
                id.clone(),
                Grant {
                    id: id.clone(),
                    user: (*user).to_owned(),
                    project,
                    org: org.to_owned(),
                    roles,
                    created: now.clone(),
                    sequence,
                },
            );
            ok(
                json!({"userGrantId": id, "details": {"sequence": sequence.to_string(), "creationDate": now, "changeDate": now, "resourceOwner": org}}),
            )
        }
        ("PUT", ["management", "v1", "users", user, "grants", id]) => {
            let roles = strings(body, "roleKeys");
            let Some(project) = instance
                .grants
                .get(*id)
                .filter(|g| g.user == *user)
                .map(|g| g.project.clone())
            else {
                return not_found("Errors.UserGrant.NotFound");
            };
            if let Some(missing) = instance
                .unknown_roles(&project, &roles)
                .filter(|m| !m.is_empty())
            {
                return invalid(&format!(
                    "Errors.Project.Role.NotFound: {}",
                    missing.join(", ")
                ));
            }
            let (sequence, now) = instance.touch();
            let Some(grant) = instance.grants.get_mut(*id) else {
                return not_found("Errors.UserGrant.NotFound");
            };
            grant.roles = roles;
            grant.sequence = sequence;
            ok(
                json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": grant.org}}),
            )
        }
        ("PUT", ["management", "v1", "orgs", "me", "members", user]) => {
            let roles = strings(body, "roles");
            if let Some(bad) = roles
                .iter()
                .find(|r| !ORG_MEMBER_ROLES.contains(&r.as_str()))
            {
                return invalid(&format!("Errors.Org.MemberRole.Invalid: {bad}"));
            }
            let (sequence, now) = instance.touch();
            let Some(member) = org
                .and_then(|o| instance.orgs.get_mut(o))
                .and_then(|o| o.members.get_mut(*user))
            else {
                return not_found("Errors.Org.Member.NotFound");
            };
            *member = roles;
            ok(
                json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": org}}),
            )
        }
        ("POST", ["management", "v1", "orgs", "me", "members", rest @ ..]) => {
            let Some(org_id) = org.map(str::to_owned) else {
                return not_found("organization");
            };
            let (sequence, now) = instance.touch();
            let Some(target) = instance.orgs.get_mut(&org_id) else {
                return not_found("organization");
            };
            match rest {
                [] => {
                    let user = text(body, "userId");
                    let roles = strings(body, "roles");
                    if let Some(bad) = roles
                        .iter()
                        .find(|r| !ORG_MEMBER_ROLES.contains(&r.as_str()))
                    {
                        return invalid(&format!("Errors.Org.MemberRole.Invalid: {bad}"));
                    }
                    if roles.is_empty() {
                        return invalid("roles must not be empty (ORG-4Mlfs)");
                    }
                    if !instance.users.contains_key(&user) {
                        return not_found("Errors.User.NotFound");
                    }
                    let Some(target) = instance.orgs.get_mut(&org_id) else {
                        return not_found("organization");
                    };
                    if target.members.contains_key(&user) {
                        return conflict("Errors.Org.Member.AlreadyExists (Org-PtXi1)");
                    }
                    target.members.insert(user, roles);
                    ok(
                        json!({"details": {"sequence": sequence.to_string(), "creationDate": now, "changeDate": now, "resourceOwner": org_id}}),
                    )
                }
                ["_search"] => {
                    let users = &instance.users;
                    listed(target.members.iter(), sequence, body, |(user, roles)| {
                        let u = users.get(user);
                        json!({
                            "userId": user,
                            "roles": roles,
                            "preferredLoginName": u.map(|u| u.username.clone()),
                            "email": u.map(|u| u.email.clone()),
                            "userType": "TYPE_HUMAN",
                        })
                    })
                }
                _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
            }
        }
        _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
    }
}
