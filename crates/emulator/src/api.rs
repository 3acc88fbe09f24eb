//! The Management API for every catalog kind, from the catalog alone: requests are
//! matched against the kinds' endpoint templates, and each shape (collection, singleton,
//! keyed, links, replace, map) is served by one function here. Users have their own
//! module for their indexes and search; jobs too.

use std::collections::HashMap;

use axum::http::{Method as HttpMethod, StatusCode};
use idferry_auth0::{CATALOG, Endpoint, Kind, Method, Shape};
use idferry_auth0::{catalog, catalog::IdFormat};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::paginate::{Query, paginate};
use crate::store::Store;
use crate::users;

/// What an operation does to its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// List (or read a singleton).
    List,
    /// Read one.
    Get,
    /// Create (or add links).
    Create,
    /// Update.
    Update,
    /// Delete (or remove links).
    Delete,
    /// Make live (deploy an action, publish a module version).
    GoLive,
}

/// One route: a kind's endpoint and what it does.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The kind.
    pub kind: &'static Kind,
    /// The operation.
    pub op: Op,
    /// The endpoint.
    pub endpoint: Endpoint,
}

/// The routes of every catalog kind.
pub fn routes() -> Vec<Route> {
    let mut out = Vec::new();
    for kind in CATALOG {
        for (op, endpoint) in [
            (Op::List, kind.list),
            (Op::Get, kind.get),
            (Op::Create, kind.create),
            (Op::Update, kind.update),
            (Op::Delete, kind.delete),
            (Op::GoLive, kind.go_live.map(|g| g.endpoint)),
        ] {
            if let Some(endpoint) = endpoint {
                out.push(Route { kind, op, endpoint });
            }
        }
    }
    out
}

fn method_of(m: &HttpMethod) -> Option<Method> {
    Some(match *m {
        HttpMethod::GET => Method::Get,
        HttpMethod::POST => Method::Post,
        HttpMethod::PUT => Method::Put,
        HttpMethod::PATCH => Method::Patch,
        HttpMethod::DELETE => Method::Delete,
        _ => return None,
    })
}

/// Finds the route for `method path` (path without `/api/v2`), preferring templates with
/// more literal segments (`/branding/themes/default` over `/branding/themes/{themeId}`).
/// Returns the route and the placeholder values, decoded.
pub fn resolve<'r>(
    routes: &'r [Route],
    method: &HttpMethod,
    path: &str,
) -> Option<(&'r Route, Vec<String>)> {
    let method = method_of(method)?;
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let mut best: Option<(&Route, Vec<String>, usize)> = None;
    for route in routes.iter().filter(|r| r.endpoint.method == method) {
        if let Some((params, literals)) = match_template(route.endpoint.path, &segments)
            && best.as_ref().is_none_or(|b| literals > b.2)
        {
            best = Some((route, params.into_iter().map(decode).collect(), literals));
        }
    }
    best.map(|(r, p, _)| (r, p))
}

/// Whether the path `segments` fit `template` (`/clients/{id}`, leading slash): the
/// segments in its placeholders, and how many of its segments are literal (the more,
/// the better a match: `/branding/themes/default` over `/branding/themes/{themeId}`).
pub fn match_template<'s>(template: &str, segments: &[&'s str]) -> Option<(Vec<&'s str>, usize)> {
    let template: Vec<&str> = template.trim_matches('/').split('/').collect();
    if template.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    let mut literals = 0;
    for (t, s) in template.iter().zip(segments) {
        if t.starts_with('{') {
            if s.is_empty() {
                return None;
            }
            params.push(*s);
        } else if t == s {
            literals += 1;
        } else {
            return None;
        }
    }
    Some((params, literals))
}

/// Percent-decodes one path segment.
pub fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
            && let Ok(b) = u8::from_str_radix(&segment[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer: status and optional JSON body.
pub type Answer = (StatusCode, Option<Value>);

fn ok(body: Value) -> ApiResult<Answer> {
    Ok((StatusCode::OK, Some(body)))
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

/// Serves one catalog request.
pub fn handle(
    store: &mut Store,
    route: &Route,
    params: &[String],
    q: &Query,
    body: Option<Value>,
) -> ApiResult<Answer> {
    let kind = route.kind;
    let depth = kind.depth();
    let (parents, own) = params.split_at(depth.min(params.len()));
    let scope = parents.join("/");
    check_parents(store, kind, parents)?;
    if kind.name == "users" {
        return users::handle(store, route.op, own.first().map(String::as_str), q, body);
    }
    if route.op == Op::GoLive {
        return go_live(store, kind, &scope, &own.join("/"));
    }
    if kind.name == "default_custom_domain" {
        return default_domain(store, route.op, body);
    }
    match kind.shape {
        Shape::Collection => collection(store, kind, route.op, &scope, &own.join("/"), q, body),
        Shape::Singleton => singleton(store, kind, route.op, &scope, body),
        Shape::Keyed { .. } => keyed(store, kind, route.op, &scope, &own.join("/"), body),
        Shape::Links {
            body_key,
            target,
            relation,
            inverse,
        } => links(
            store, kind, route.op, &scope, q, body, body_key, target, relation, inverse,
        ),
        Shape::Replace { body_key } => replace(store, kind, route.op, &scope, q, body, body_key),
        Shape::Map => map(store, kind, route.op, &scope, body),
    }
}

/// 404 unless every parent in the path exists.
fn check_parents(store: &Store, kind: &Kind, parents: &[String]) -> ApiResult<()> {
    let mut chain = Vec::new();
    let mut parent = kind.parent;
    while let Some(name) = parent {
        let Some(p) = catalog::find(name) else { break };
        chain.push(p);
        parent = p.parent;
    }
    chain.reverse();
    for (i, (p, id)) in chain.iter().zip(parents).enumerate() {
        let scope = parents[..i].join("/");
        let exists = match p.name {
            "users" => store.users.get(id).is_some(),
            "action_triggers" => TRIGGERS.contains(&id.as_str()),
            "organization_members" => store
                .relations
                .get("organization_members")
                .is_some_and(|r| r.contains(&parents[0], id)),
            _ => store
                .table_ref(p.name, &scope)
                .is_some_and(|t| t.contains_key(id)),
        };
        if !exists {
            return Err(ApiError::not_found(&singular(p.name)));
        }
    }
    Ok(())
}

/// "organizations" -> "organization", for messages.
pub fn singular(kind: &str) -> String {
    kind.strip_suffix('s').unwrap_or(kind).replace('_', " ")
}

/// The action triggers Auth0 defines (the spec's `ActionTriggerTypeEnum`).
pub const TRIGGERS: &[&str] = &[
    "post-login",
    "credentials-exchange",
    "pre-user-registration",
    "post-user-registration",
    "post-change-password",
    "send-phone-message",
    "custom-phone-provider",
    "custom-email-provider",
    "password-reset-post-challenge",
    "custom-token-exchange",
    "event-stream",
    "password-hash-migration",
    "login-post-identifier",
    "signup-post-identifier",
];

fn body_object(body: Option<Value>) -> ApiResult<Map<String, Value>> {
    match body {
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(ApiError::invalid_body("the body must be a JSON object")),
        None => Err(ApiError::invalid_body("a JSON body is required")),
    }
}

/// Refuses bodies that lack required fields or carry fields the API owns.
fn check_write(kind: &Kind, body: &Map<String, Value>, creating: bool) -> ApiResult<()> {
    if creating {
        for field in kind.required {
            if !body.contains_key(*field) {
                return Err(ApiError::invalid_body(format!(
                    "Missing required property: {field}"
                )));
            }
        }
    }
    for field in kind.read_only {
        // Some fields are set once at creation (a connection's name), then read-only.
        let settable_at_creation = creating
            && (kind.required.contains(field) || SET_AT_CREATION.contains(&(kind.name, *field)));
        if body.contains_key(*field) && !settable_at_creation {
            return Err(ApiError::invalid_body(format!(
                "Additional properties not allowed: {field}"
            )));
        }
    }
    Ok(())
}

/// The flag a create takes to make the object live at once, by kind.
const LIVE_ON_CREATE: &[(&str, &str)] = &[("actions", "deploy"), ("action_modules", "publish")];

/// Read-only fields a create still takes: those the spec's create body declares (checked
/// by a test), and a rule's `stage`, which the spec leaves out but auth0-deploy-cli sends
/// (`login_success`, the only stage) and tenants take.
const SET_AT_CREATION: &[(&str, &str)] = &[
    ("client_credentials", "kid"),
    ("actions", "deploy"),
    ("users", "user_id"),
    ("rules", "stage"),
];

/// Removes what the API never returns.
pub fn redact(kind: &Kind, mut value: Value) -> Value {
    for field in kind.write_only {
        match *field {
            "*" => {
                if let Value::Object(map) = &mut value {
                    for v in map.values_mut() {
                        *v = json!("_VALUE_NOT_SHOWN_");
                    }
                }
            }
            path => idferry_model::record::remove_path(&mut value, path),
        }
    }
    value
}

fn now() -> String {
    crate::clock::iso_now()
}

fn natural_key(kind: &Kind, v: &Value) -> Option<String> {
    if kind.natural_key.is_empty() {
        return None;
    }
    let parts: Vec<String> = kind
        .natural_key
        .iter()
        .map(|f| v.get(*f).map(Value::to_string).unwrap_or_default())
        .collect();
    Some(parts.join("\u{1f}"))
}

#[allow(clippy::too_many_arguments)]
fn collection(
    store: &mut Store,
    kind: &'static Kind,
    op: Op,
    scope: &str,
    id: &str,
    q: &Query,
    body: Option<Value>,
) -> ApiResult<Answer> {
    let what = singular(kind.name);
    match op {
        Op::GoLive => answered_by_go_live(),
        Op::List => {
            if kind.name == "action_triggers" {
                let triggers: Vec<Value> = TRIGGERS
                    .iter()
                    .map(|t| json!({"id": t, "version": "v3", "status": "CURRENT", "runtimes": ["node18", "node22"], "default_runtime": "node22"}))
                    .collect();
                return ok(json!({ "triggers": triggers }));
            }
            let table = store.table(kind.name, scope);
            // The records the query's filters keep (`?strategy=`, `?name=`, `?is_global=`...).
            let rows: Vec<&Value> = table
                .values()
                .filter(|v| crate::filters::keeps(kind.name, q, v))
                .collect();
            if kind.pagination == idferry_auth0::Pagination::None {
                // A list endpoint answering one object (the default branding theme).
                return match rows.first() {
                    Some(v) => ok(redact(kind, (*v).clone())),
                    None => Err(ApiError::not_found(&what)),
                };
            }
            let body = paginate(kind, rows.len(), q, |r| {
                rows[r]
                    .iter()
                    .map(|v| crate::filters::project(q, redact(kind, (*v).clone())))
                    .collect()
            })?;
            ok(body)
        }
        Op::Get => match store.table(kind.name, scope).get(id) {
            Some(v) => ok(redact(kind, v.clone())),
            None => Err(ApiError::not_found(&what)),
        },
        Op::Create => {
            let mut body = body_object(body)?;
            check_write(kind, &body, true)?;
            let created = now();
            let id = match (kind.name, kind.id_format) {
                ("organization_client_grants", _) => {
                    return add_org_client_grant(store, kind, scope, &body);
                }
                (_, IdFormat::Named) => body
                    .get(kind.id_field.unwrap_or("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ApiError::invalid_body(format!(
                            "Missing required property: {}",
                            kind.id_field.unwrap_or("id")
                        ))
                    })?,
                (_, format) => ids::new_id(&mut store.rng, format).unwrap_or_default(),
            };
            // Made live at once when the create says so (an action's `deploy`, a
            // module's `publish`): an instruction, not a field the object keeps.
            let live_now = LIVE_ON_CREATE
                .iter()
                .filter(|(k, _)| *k == kind.name)
                .any(|(_, flag)| body.remove(*flag) == Some(Value::Bool(true)));
            let id_field = kind.id_field.unwrap_or("id");
            let mut object = Map::new();
            object.insert(id_field.to_owned(), json!(id));
            object.append(&mut body);
            defaults_on_create(store, kind, &mut object);
            for field in ["created_at", "updated_at"] {
                if kind.read_only.contains(&field) {
                    object.insert(field.to_owned(), json!(created));
                }
            }
            if let Some(get) = kind.get {
                crate::from_spec::complete(crate::judge::AUTH0.spec(), get.path, &mut object);
            }
            let object = Value::Object(object);
            if kind.unique_key
                && let Some(key) = natural_key(kind, &object)
                && store
                    .table(kind.name, scope)
                    .values()
                    .any(|v| natural_key(kind, v).as_ref() == Some(&key))
            {
                return Err(ApiError::conflict(format!(
                    "A {what} with the same {} already exists",
                    kind.natural_key.join(" and ")
                )));
            }
            if store.table(kind.name, scope).contains_key(&id) {
                return Err(ApiError::conflict(format!(
                    "The {what} {id} already exists"
                )));
            }
            store
                .table(kind.name, scope)
                .insert(id.clone(), object.clone());
            if live_now {
                go_live(store, kind, scope, &id)?;
            }
            let object = store
                .table(kind.name, scope)
                .get(&id)
                .cloned()
                .unwrap_or(object);
            Ok((status(kind.create_status), Some(redact(kind, object))))
        }
        Op::Update => {
            let patch = body_object(body)?;
            check_write(kind, &patch, false)?;
            let replace =
                matches!(route_method(kind, op), Some(Method::Put)) && kind.create.is_some();
            let upsert = kind.create.is_none();
            let modules = (kind.name == "actions").then(|| module_names(store));
            let table = store.table(kind.name, scope);
            let object = match table.get_mut(id) {
                Some(existing) => existing,
                None if upsert && kind.name != "guardian_factors" => {
                    let mut fresh = Map::new();
                    if let Some(f) = kind.id_field {
                        fresh.insert(f.to_owned(), json!(id));
                    } else {
                        for (f, v) in kind.natural_key.iter().zip(id.split('/')) {
                            fresh.insert((*f).to_owned(), json!(v));
                        }
                    }
                    table.insert(id.to_owned(), Value::Object(fresh));
                    table
                        .get_mut(id)
                        .ok_or_else(|| ApiError::not_found(&what))?
                }
                None => return Err(ApiError::not_found(&what)),
            };
            let Value::Object(map) = object else {
                return Err(ApiError::not_found(&what));
            };
            if replace {
                map.retain(|k, _| kind.read_only.contains(&k.as_str()));
            }
            for (k, v) in patch {
                map.insert(k, v);
            }
            if let Some(g) = kind.go_live {
                // Changed since its last deploy or publish.
                map.insert(g.live.to_owned(), json!(false));
            }
            if let Some(names) = &modules {
                name_modules(names, map);
            }
            if kind.read_only.contains(&"updated_at") {
                map.insert("updated_at".into(), json!(now()));
            }
            let answer = redact(kind, object.clone());
            ok(answer)
        }
        Op::Delete => {
            if store.table(kind.name, scope).shift_remove(id).is_none() {
                return Err(ApiError::not_found(&what));
            }
            forget_children(store, kind, scope, id);
            Ok((StatusCode::NO_CONTENT, None))
        }
    }
}

/// Deploys an action (202, the new version) or publishes a module's version (200): the
/// object's `go_live` field turns true and its version number grows.
fn go_live(store: &mut Store, kind: &'static Kind, scope: &str, id: &str) -> ApiResult<Answer> {
    let what = singular(kind.name);
    let Some(g) = kind.go_live else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found"));
    };
    let version_id = ids::uuid(&mut store.rng);
    let stamp = now();
    let object = store
        .table(kind.name, scope)
        .get_mut(id)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ApiError::not_found(&what))?;
    object.insert(g.live.to_owned(), json!(true));
    if kind.name == "action_modules" {
        let number = object
            .get("latest_version_number")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            + 1;
        let dependencies = object
            .get("dependencies")
            .cloned()
            .unwrap_or_else(|| json!([]));
        let version = json!({"id": version_id, "module_id": id, "version_number": number,
            "code": object.get("code"), "dependencies": dependencies, "created_at": stamp});
        // The module answers its latest version as a reference, without its module id.
        let mut reference = version.clone();
        if let Value::Object(r) = &mut reference {
            r.remove("module_id");
        }
        object.insert("latest_version_number".into(), json!(number));
        object.insert("latest_version".into(), reference);
        store
            .table(MODULE_VERSIONS, id)
            .insert(number.to_string(), version.clone());
        return ok(version);
    }
    let number = object
        .get("deployed_version")
        .and_then(|v| v.get("number"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
        + 1;
    let version = json!({"id": version_id, "action_id": id, "number": number, "deployed": true,
        "status": "built", "code": object.get("code"), "runtime": object.get("runtime"),
        "dependencies": object.get("dependencies").cloned().unwrap_or_else(|| json!([])),
        "created_at": stamp, "updated_at": stamp});
    object.insert("deployed_version".into(), version.clone());
    Ok((StatusCode::ACCEPTED, Some(version)))
}

/// The domain a tenant answers on before any custom domain: its own, made up from its
/// name the way Auth0 names tenants.
pub fn canonical_domain(tenant: &str) -> String {
    format!("{tenant}.emulated.auth0.com")
}

/// `GET|PATCH /custom-domains/default`: the custom domain marked default (held on the
/// custom domains themselves), or the tenant's canonical domain. Only a verified custom
/// domain or the canonical one can be made default, as on Auth0.
fn default_domain(store: &mut Store, op: Op, body: Option<Value>) -> ApiResult<Answer> {
    let canonical = canonical_domain(&store.tenant);
    let current = |store: &mut Store| -> Value {
        store
            .table("custom_domains", "")
            .values()
            .find(|d| d.get("is_default") == Some(&Value::Bool(true)))
            .cloned()
            .unwrap_or_else(|| json!({"domain": canonical}))
    };
    match op {
        Op::List | Op::Get => ok(current(store)),
        Op::Update => {
            let body = body.ok_or_else(|| ApiError::invalid_body("a JSON body is required"))?;
            let Some(map) = body.as_object() else {
                return Err(ApiError::invalid_body("the body must be an object"));
            };
            if let Some(extra) = map.keys().find(|k| *k != "domain") {
                return Err(ApiError::invalid_body(format!(
                    "Additional properties not allowed: {extra}"
                )));
            }
            let Some(domain) = map.get("domain").and_then(Value::as_str) else {
                return Err(ApiError::invalid_body("Missing required property: domain"));
            };
            let table = store.table("custom_domains", "");
            let chosen = if domain == canonical {
                None
            } else {
                let found = table
                    .iter()
                    .find(|(_, d)| d.get("domain").and_then(Value::as_str) == Some(domain));
                match found {
                    Some((id, d)) if d.get("status").and_then(Value::as_str) == Some("ready") => {
                        Some(id.clone())
                    }
                    _ => {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!(
                                "The domain {domain} must be a verified custom domain or the canonical domain"
                            ),
                        ));
                    }
                }
            };
            for (id, d) in table.iter_mut() {
                if let Value::Object(m) = d {
                    m.insert(
                        "is_default".into(),
                        json!(chosen.as_deref() == Some(id.as_str())),
                    );
                }
            }
            ok(current(store))
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// `POST /custom-domains/{id}/verify`: the emulator's DNS always answers, so a pending
/// domain becomes ready; one already verified is a 400, as on Auth0.
pub fn verify_custom_domain(store: &mut Store, id: &str) -> ApiResult<Answer> {
    let domain = store
        .table("custom_domains", "")
        .get_mut(id)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ApiError::not_found("custom domain"))?;
    if domain.get("status").and_then(Value::as_str) == Some("ready") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Custom domain already verified",
        ));
    }
    domain.insert("status".into(), json!("ready"));
    let mut answer = domain.clone();
    // The verify answer's schema has no `is_default`.
    answer.remove("is_default");
    ok(Value::Object(answer))
}

/// Each action module's name and version ids by number, by module id.
fn module_names(store: &Store) -> HashMap<String, (Value, Option<Value>)> {
    store
        .table_ref("action_modules", "")
        .map(|t| {
            t.iter()
                .map(|(id, m)| {
                    let version = m.get("latest_version").and_then(|v| v.get("id")).cloned();
                    (
                        id.clone(),
                        (m.get("name").cloned().unwrap_or(Value::Null), version),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An action's module references as the API answers them: with the module's name and
/// its version's id besides the module id and version number.
fn name_modules(names: &HashMap<String, (Value, Option<Value>)>, action: &mut Map<String, Value>) {
    let Some(Value::Array(modules)) = action.get_mut("modules") else {
        return;
    };
    for m in modules.iter_mut().filter_map(Value::as_object_mut) {
        let id = m
            .get("module_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some((name, version)) = names.get(id) {
            m.insert("module_name".into(), name.clone());
            if let Some(v) = version {
                m.entry("module_version_id").or_insert_with(|| v.clone());
            }
        }
    }
}

/// Where a module's published versions are kept, by module id (not a catalog kind: a
/// restore publishes a version rather than writing one).
const MODULE_VERSIONS: &str = "action_module_versions";

/// Tables the emulator keeps besides the catalog's kinds (saved and loaded with them).
pub const EXTRA_TABLES: &[&str] = &[MODULE_VERSIONS];

/// `GET /actions/modules/{id}/versions`: the module's published versions, oldest first,
/// a page (`page`, `per_page`) at a time.
pub fn module_versions(store: &Store, id: &str, q: &Query) -> ApiResult<Answer> {
    if !store
        .table_ref("action_modules", "")
        .is_some_and(|t| t.contains_key(id))
    {
        return Err(ApiError::not_found("action module"));
    }
    let versions: Vec<Value> = store
        .table_ref(MODULE_VERSIONS, id)
        .map(|t| t.values().cloned().collect())
        .unwrap_or_default();
    let total = versions.len();
    let number = |name: &str, default: usize| {
        q.get(name).map_or(Ok(default), |v| {
            v.parse::<usize>().map_err(|_| {
                ApiError::invalid_query(format!("Invalid value {v} for parameter {name}"))
            })
        })
    };
    let (page, per_page) = (number("page", 0)?, number("per_page", 50)?.clamp(1, 100));
    let start = page.saturating_mul(per_page).min(total);
    let items = &versions[start..(start + per_page).min(total)];
    Ok((
        StatusCode::OK,
        Some(json!({"versions": items, "total": total, "page": page, "per_page": per_page})),
    ))
}

/// `GET /connections-directory-provisionings`: every connection's directory
/// provisioning, in one page.
pub fn directory_provisionings(store: &Store) -> Answer {
    let all: Vec<Value> = store
        .singletons
        .iter()
        .filter(|((kind, _), _)| *kind == "connection_directory_provisioning")
        .map(|(_, v)| v.clone())
        .collect();
    (
        StatusCode::OK,
        Some(json!({ "directory_provisionings": all })),
    )
}

/// `Op::GoLive` in a shape's handler: [`handle`] sends it to [`go_live`] first.
fn answered_by_go_live() -> ApiResult<Answer> {
    Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found"))
}

fn route_method(kind: &Kind, op: Op) -> Option<Method> {
    match op {
        Op::Update => kind.update.map(|e| e.method),
        _ => None,
    }
}

/// Removes what hangs under a deleted object: child tables and relation pairs.
pub fn forget_children(store: &mut Store, kind: &Kind, scope: &str, id: &str) {
    let own_scope = if scope.is_empty() {
        id.to_owned()
    } else {
        format!("{scope}/{id}")
    };
    store
        .tables
        .retain(|(_, s), _| !(s == &own_scope || s.starts_with(&format!("{own_scope}/"))));
    store
        .singletons
        .retain(|(_, s), _| !(s == &own_scope || s.starts_with(&format!("{own_scope}/"))));
    for child in catalog::children(kind.name) {
        if let Shape::Links {
            relation, inverse, ..
        } = child.shape
        {
            store.relation(relation).forget(id, inverse);
        }
    }
}

/// The options a tenant gives a database connection (`strategy: auth0`) created without
/// them: multi-factor on with enrollment settings returned, the `good` password policy,
/// brute-force protection, strategy version 2, password login on and passkeys off.
const DATABASE_OPTION_DEFAULTS: &[(&str, &str)] = &[
    ("mfa", r#"{"active": true, "return_enroll_settings": true}"#),
    ("passwordPolicy", r#""good""#),
    ("brute_force_protection", "true"),
    ("strategy_version", "2"),
    (
        "authentication_methods",
        r#"{"password": {"enabled": true}, "passkey": {"enabled": false}}"#,
    ),
];

/// Fields the API fills in itself when an object is created.
fn defaults_on_create(store: &mut Store, kind: &Kind, object: &mut Map<String, Value>) {
    let tenant = store.tenant.clone();
    match kind.name {
        "clients" => {
            object
                .entry("client_secret")
                .or_insert_with(|| json!(ids::alnum(&mut store.rng, 64)));
            object.insert("tenant".into(), json!(tenant));
            object.insert("global".into(), json!(false));
            object.entry("callbacks").or_insert_with(|| json!([]));
        }
        "connections" => {
            let name = object.get("name").cloned().unwrap_or(Value::Null);
            object.entry("realms").or_insert_with(|| json!([name]));
            let database = object.get("strategy") == Some(&json!("auth0"));
            let options = object.entry("options").or_insert_with(|| json!({}));
            // What a tenant fills in on a database connection created without it (as
            // tenants answer and auth0-deploy-cli exports it); what the create gave stays.
            if database && let Value::Object(options) = options {
                for (key, value) in DATABASE_OPTION_DEFAULTS {
                    if !options.contains_key(*key) {
                        let value = serde_json::from_str(value).unwrap_or(Value::Null);
                        options.insert((*key).to_owned(), value);
                    }
                }
            }
        }
        "phone_providers" => {
            // What a real tenant answers (and the official SDK reads): the channel, the
            // tenant, and whether it is disabled.
            object.insert("tenant".into(), json!(tenant));
            object.insert("channel".into(), json!("phone"));
            object.entry("disabled").or_insert_with(|| json!(false));
        }
        "organization_discovery_domains" => {
            // A domain is verified through a DNS TXT record the platform makes up.
            object.insert("status".into(), json!("pending"));
            let token = ids::alnum(&mut store.rng, 32);
            let domain = object
                .get("domain")
                .and_then(Value::as_str)
                .unwrap_or_default();
            object.insert(
                "verification_host".into(),
                json!(format!("_auth0-challenge.{domain}")),
            );
            object.insert(
                "verification_txt".into(),
                json!(format!("auth0-domain-verification={token}")),
            );
        }
        "flows_vault_connections" => {
            object.entry("ready").or_insert_with(|| json!(true));
            object
                .entry("fingerprint")
                .or_insert_with(|| json!(ids::hex(&mut store.rng, 64)));
        }
        "custom_domains" => {
            // The TXT record that proves the domain is the tenant's, made up here.
            let domain = object
                .get("domain")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let token = ids::alnum(&mut store.rng, 32);
            object.insert(
                "verification".into(),
                json!({"methods": [{"name": "txt", "record": format!("auth0-domain-verification={token}"),
                                    "domain": format!("_cf-custom-hostname.{domain}")}]}),
            );
            object.insert("status".into(), json!("pending_verification"));
            object.insert("primary".into(), json!(false));
            object.insert("is_default".into(), json!(false));
        }
        "resource_servers" => {
            object.insert("is_system".into(), json!(false));
            object.entry("scopes").or_insert_with(|| json!([]));
        }
        "rules" => {
            // The only stage a rule runs in; a tenant answers it on every rule.
            object
                .entry("stage")
                .or_insert_with(|| json!("login_success"));
        }
        "action_modules" => {
            object.insert("all_changes_published".into(), json!(false));
            object.insert("latest_version_number".into(), json!(0));
        }
        "actions" => {
            name_modules(&module_names(store), object);
            object.insert("all_changes_deployed".into(), json!(false));
            object.insert("status".into(), json!("built"));
        }
        "organization_enabled_connections" => {
            let id = object
                .get("connection_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            if let Some(con) = store.table_ref("connections", "").and_then(|t| t.get(id)) {
                object.insert(
                    "connection".into(),
                    json!({"name": con.get("name"), "strategy": con.get("strategy")}),
                );
            }
        }
        _ => {}
    }
}

/// `POST /organizations/{id}/client-grants {grant_id}`: associates a client grant.
fn add_org_client_grant(
    store: &mut Store,
    kind: &Kind,
    scope: &str,
    body: &Map<String, Value>,
) -> ApiResult<Answer> {
    let grant_id = body
        .get("grant_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_body("Missing required property: grant_id"))?;
    let grant = store
        .table_ref("client_grants", "")
        .and_then(|t| t.get(grant_id))
        .cloned()
        .ok_or_else(|| ApiError::not_found("client grant"))?;
    let view = json!({
        "id": grant_id,
        "client_id": grant.get("client_id"),
        "audience": grant.get("audience"),
        "scope": grant.get("scope").cloned().unwrap_or(json!([])),
        "organization_usage": grant.get("organization_usage"),
        "allow_any_organization": grant.get("allow_any_organization"),
    });
    store
        .table(kind.name, scope)
        .insert(grant_id.to_owned(), view.clone());
    Ok((status(kind.create_status), Some(view)))
}

/// Whether an absent singleton answers 404 (it is created explicitly) or `{}`.
fn absent_is_404(kind: &Kind) -> bool {
    kind.create.is_some() || kind.delete.is_some() || kind.parent.is_some()
}

/// A write of a kind written in another form than it reads (the catalog's
/// `write_form`), stored as it will be read: `{template: t}` (or the bare string `t`)
/// becomes `{body: t}`.
fn read_form(kind: &Kind, body: Value) -> ApiResult<Value> {
    let plain: Vec<(&str, &str)> = kind
        .write_form
        .iter()
        .filter(|(_, from)| !from.starts_with('=') && !from.contains('.'))
        .copied()
        .collect();
    if plain.is_empty() || !kind.is_singleton() {
        return Ok(body);
    }
    let mut read = Map::new();
    match body {
        Value::String(s) if plain.len() == 1 => {
            read.insert(plain[0].1.to_owned(), Value::String(s));
        }
        Value::Object(mut map) => {
            for (to, from) in &plain {
                let v = map.remove(*to).ok_or_else(|| {
                    ApiError::invalid_body(format!("Missing required property: {to}"))
                })?;
                read.insert((*from).to_owned(), v);
            }
            if let Some(extra) = map.keys().next() {
                return Err(ApiError::invalid_body(format!(
                    "Additional properties not allowed: {extra}"
                )));
            }
        }
        _ => return Err(ApiError::invalid_body("expected an object")),
    }
    Ok(Value::Object(read))
}

fn singleton(
    store: &mut Store,
    kind: &'static Kind,
    op: Op,
    scope: &str,
    body: Option<Value>,
) -> ApiResult<Answer> {
    let key = (kind.name, scope.to_owned());
    let what = singular(kind.name);
    match op {
        Op::GoLive => answered_by_go_live(),
        Op::List | Op::Get => match store.singletons.get(&key) {
            Some(v) => ok(redact(kind, v.clone())),
            None if absent_is_404(kind) => Err(ApiError::not_found(&what)),
            None => ok(json!({})),
        },
        Op::Create => {
            if store.singletons.contains_key(&key) {
                return Err(ApiError::conflict(format!("The {what} already exists")));
            }
            let body = body.ok_or_else(|| ApiError::invalid_body("a JSON body is required"))?;
            let mut value = body;
            // What a connection's SCIM or directory provisioning answers of the
            // connection it belongs to, and when it was set up.
            if matches!(
                kind.name,
                "scim_configurations" | "connection_directory_provisioning"
            ) {
                let connection = store
                    .table_ref("connections", "")
                    .and_then(|t| t.get(scope))
                    .cloned()
                    .unwrap_or(Value::Null);
                value["connection_id"] = json!(scope);
                value["connection_name"] = connection.get("name").cloned().unwrap_or(json!(""));
                value["strategy"] = connection.get("strategy").cloned().unwrap_or(json!(""));
                value["created_at"] = json!(now());
                // Without a mapping, the platform's default one (email at least).
                if value
                    .get("mapping")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
                {
                    value["mapping"] = json!([{"auth0": "email", "idp": "mail"}]);
                }
                if kind.name == "scim_configurations" {
                    value["tenant_name"] = json!(store.tenant);
                    value["updated_on"] = json!(now());
                    if value.get("user_id_attribute").is_none() {
                        value["user_id_attribute"] = json!("externalId");
                    }
                } else {
                    value["updated_at"] = json!(now());
                    if value.get("synchronize_automatically").is_none() {
                        value["synchronize_automatically"] = json!(false);
                    }
                }
            }
            store.singletons.insert(key, value.clone());
            Ok((status(kind.create_status), Some(redact(kind, value))))
        }
        Op::Update => {
            let body = body.ok_or_else(|| ApiError::invalid_body("a JSON body is required"))?;
            if let Value::Object(map) = &body {
                check_write(kind, map, false)?;
            }
            let body = in_hours(read_form(kind, body)?);
            let put = kind.update.is_some_and(|e| e.method == Method::Put);
            let current = store.singletons.get(&key).cloned();
            let next = match current {
                None if absent_is_404(kind) && kind.create.is_some() => {
                    return Err(ApiError::not_found(&what));
                }
                Some(mut current) if !put => {
                    merge(&mut current, body);
                    current
                }
                // The first write of settings a tenant has had all along: over the
                // values the spec gives the fields its answer requires.
                None if !put => {
                    let mut settings = kind
                        .list
                        .or(kind.get)
                        .map(|read| {
                            crate::from_spec::settings(crate::judge::AUTH0.spec(), read.path)
                        })
                        .unwrap_or_else(|| json!({}));
                    merge(&mut settings, body);
                    settings
                }
                _ => body,
            };
            store.singletons.insert(key, next.clone());
            ok(redact(kind, next))
        }
        Op::Delete => {
            if store.singletons.remove(&key).is_none() {
                return Err(ApiError::not_found(&what));
            }
            Ok((StatusCode::NO_CONTENT, None))
        }
    }
}

/// `body` with each session lifetime given in minutes (`judge::SESSION_MINUTES`) put in
/// hours, as a tenant keeps and answers it (a whole number where it is one): a tenant's
/// read gives back `session_lifetime`, never the minutes (auth0-deploy-cli issue 1110).
fn in_hours(mut body: Value) -> Value {
    let Value::Object(map) = &mut body else {
        return body;
    };
    for minutes in crate::judge::SESSION_MINUTES {
        let (Some(hours), Some(m)) = (minutes.strip_suffix("_in_minutes"), map.remove(*minutes))
        else {
            continue;
        };
        let value = match m.as_f64() {
            Some(m) if m % 60.0 == 0.0 => json!((m / 60.0) as i64),
            Some(m) => json!(m / 60.0),
            None => m,
        };
        map.insert(hours.to_owned(), value);
    }
    body
}

/// Merges `patch` into `target`: objects field by field, recursively; `null` removes.
pub fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// Keyed kinds whose keys, never set, read as `{}` rather than 404 (email templates
/// never set are a 404).
const EMPTY_WHEN_UNSET: &[&str] = &[
    "prompt_custom_text",
    "prompt_partials",
    "self_service_profile_custom_text",
];

fn keyed(
    store: &mut Store,
    kind: &'static Kind,
    op: Op,
    scope: &str,
    id: &str,
    body: Option<Value>,
) -> ApiResult<Answer> {
    let what = singular(kind.name);
    match op {
        Op::GoLive => answered_by_go_live(),
        Op::List | Op::Get => match store.table(kind.name, scope).get(id) {
            Some(v) => ok(redact(kind, v.clone())),
            // Text and partials never set read as an empty object on a real tenant
            // (auth0-deploy-cli reads every prompt and stops at a 404).
            None if EMPTY_WHEN_UNSET.contains(&kind.name) => ok(json!({})),
            None => Err(ApiError::not_found(&what)),
        },
        Op::Create => {
            let body = body_object(body)?;
            check_write(kind, &body, true)?;
            let field = kind.id_field.unwrap_or("id");
            let name = body
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if !kind.knows_key(&name) {
                return Err(ApiError::invalid_body(format!(
                    "No enum match for: {name} ({field} must be one of {})",
                    kind.keys(&[]).join(", ")
                )));
            }
            let table = store.table(kind.name, scope);
            if table.contains_key(&name) {
                return Err(ApiError::conflict(format!(
                    "The {what} {name} already exists"
                )));
            }
            let value = Value::Object(body);
            table.insert(name, value.clone());
            Ok((status(kind.create_status), Some(value)))
        }
        Op::Update => {
            let body = body.ok_or_else(|| ApiError::invalid_body("a JSON body is required"))?;
            if !kind.knows_key(id) {
                return Err(ApiError::not_found(&what));
            }
            let put = kind.update.is_some_and(|e| e.method == Method::Put);
            let table = store.table(kind.name, scope);
            let next = match table.get(id).cloned() {
                Some(mut current) if !put => {
                    merge(&mut current, body);
                    current
                }
                None if !put => return Err(ApiError::not_found(&what)),
                _ => body,
            };
            table.insert(id.to_owned(), next.clone());
            ok(next)
        }
        Op::Delete => Err(ApiError::not_found(&what)),
    }
}

#[allow(clippy::too_many_arguments)]
fn links(
    store: &mut Store,
    kind: &'static Kind,
    op: Op,
    scope: &str,
    q: &Query,
    body: Option<Value>,
    body_key: &str,
    target: &str,
    relation: &'static str,
    inverse: bool,
) -> ApiResult<Answer> {
    match op {
        Op::GoLive => answered_by_go_live(),
        Op::List | Op::Get => {
            let empty = indexmap::IndexSet::new();
            let store_ref = &*store;
            // Only the page asked for is copied: members of a role can be a million.
            let ids = store_ref
                .relations
                .get(relation)
                .and_then(|r| r.set(scope, inverse))
                .unwrap_or(&empty);
            // Organization members may carry their roles (`fields=...,roles`).
            let with_roles = kind.name == "organization_members"
                && q.get("fields")
                    .is_some_and(|f| f.split(',').any(|f| f == "roles"));
            let body = paginate(kind, ids.len(), q, |range| {
                range
                    .filter_map(|i| ids.get_index(i))
                    .filter_map(|id| {
                        let mut view = link_view(store_ref, target, id)?;
                        if with_roles {
                            let roles: Vec<Value> = store_ref
                                .relations
                                .get("organization_member_roles")
                                .map(|r| r.of(&format!("{scope}/{id}"), false))
                                .unwrap_or_default()
                                .iter()
                                .filter_map(|role| link_view(store_ref, "roles", role))
                                .map(|r| json!({"id": r["id"], "name": r["name"]}))
                                .collect();
                            view["roles"] = Value::Array(roles);
                        }
                        Some(view)
                    })
                    .collect()
            })?;
            ok(body)
        }
        Op::Create | Op::Delete => {
            let body = body_object(body)?;
            let items = body
                .get(body_key)
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    ApiError::invalid_body(format!("Missing required property: {body_key}"))
                })?;
            if items.is_empty() {
                return Err(ApiError::invalid_body(format!(
                    "Array is too short (0), minimum 1: {body_key}"
                )));
            }
            let mut keys = Vec::with_capacity(items.len());
            for item in items {
                keys.push(link_key(store, target, item)?);
            }
            let rel = store.relation(relation);
            for key in &keys {
                match (op, inverse) {
                    (Op::Create, false) => {
                        rel.add(scope, key);
                    }
                    (Op::Create, true) => {
                        rel.add(key, scope);
                    }
                    (_, false) => rel.remove(scope, key),
                    (_, true) => rel.remove(key, scope),
                }
            }
            if op == Op::Delete && kind.name == "organization_members" {
                for key in &keys {
                    store
                        .relation("organization_member_roles")
                        .forget(&format!("{scope}/{key}"), false);
                }
            }
            let code = if op == Op::Create {
                kind.create_status
            } else {
                204
            };
            Ok((status(code), None))
        }
        Op::Update => Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// A string field a body must carry, or 400 naming it.
fn required_str<'v>(body: &'v Value, field: &str) -> ApiResult<&'v str> {
    body.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_body(format!("Missing required property: {field}")))
}

/// The stored key of one item of a links body, after checking that it exists.
fn link_key(store: &Store, target: &str, item: &Value) -> ApiResult<String> {
    match target {
        "resource_servers" => {
            let identifier = required_str(item, "resource_server_identifier")?;
            let name = required_str(item, "permission_name")?;
            let rs = store
                .table_ref("resource_servers", "")
                .and_then(|t| {
                    t.values()
                        .find(|v| v.get("identifier").and_then(Value::as_str) == Some(identifier))
                })
                .ok_or_else(|| ApiError::not_found("resource server"))?;
            let has_scope = rs.get("scopes").and_then(Value::as_array).is_some_and(|s| {
                s.iter()
                    .any(|s| s.get("value").and_then(Value::as_str) == Some(name))
            });
            if !has_scope {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("Permission {name} does not exist on resource server {identifier}"),
                ));
            }
            Ok(format!("{identifier}\u{1f}{name}"))
        }
        _ => {
            let id = item.as_str().ok_or_else(|| {
                ApiError::invalid_body(format!("Expected type string but found {item}"))
            })?;
            let exists = match target {
                "users" => store.users.get(id).is_some(),
                other => store
                    .table_ref(catalog_name(other), "")
                    .is_some_and(|t| t.contains_key(id)),
            };
            if !exists {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("The {} {id} does not exist.", singular(target)),
                )
                .code("inexistent_resource"));
            }
            Ok(id.to_owned())
        }
    }
}

fn catalog_name(name: &str) -> &'static str {
    catalog::find(name).map_or("", |k| k.name)
}

/// How one linked item is shown in a list.
fn link_view(store: &Store, target: &str, key: &str) -> Option<Value> {
    match target {
        "users" => {
            // Only the four fields shown: skipping the rest of the user is much faster
            // than building it whole, and member lists are long.
            #[derive(serde::Deserialize)]
            struct Brief<'a> {
                #[serde(borrow)]
                email: Option<std::borrow::Cow<'a, str>>,
                #[serde(borrow)]
                picture: Option<std::borrow::Cow<'a, str>>,
                #[serde(borrow)]
                name: Option<std::borrow::Cow<'a, str>>,
            }
            let row = store.users.get(key)?;
            let user: Brief<'_> = serde_json::from_str(&row.json).ok()?;
            Some(json!({
                "user_id": key,
                "email": user.email,
                "picture": user.picture,
                "name": user.name,
            }))
        }
        "roles" => {
            let role = store.table_ref("roles", "")?.get(key)?;
            Some(
                json!({"id": key, "name": role.get("name"), "description": role.get("description")}),
            )
        }
        "resource_servers" => {
            let (identifier, name) = key.split_once('\u{1f}')?;
            let rs = store
                .table_ref("resource_servers", "")?
                .values()
                .find(|v| v.get("identifier").and_then(Value::as_str) == Some(identifier))?;
            let description = rs
                .get("scopes")
                .and_then(Value::as_array)
                .and_then(|s| {
                    s.iter()
                        .find(|s| s.get("value").and_then(Value::as_str) == Some(name))
                })
                .and_then(|s| s.get("description").cloned());
            Some(json!({
                "resource_server_identifier": identifier,
                "permission_name": name,
                "resource_server_name": rs.get("name"),
                "description": description,
            }))
        }
        other => store.table_ref(catalog_name(other), "")?.get(key).cloned(),
    }
}

fn replace(
    store: &mut Store,
    kind: &'static Kind,
    op: Op,
    scope: &str,
    q: &Query,
    body: Option<Value>,
    body_key: Option<&str>,
) -> ApiResult<Answer> {
    match op {
        Op::List | Op::Get => {
            let rows: Vec<Value> = store.table(kind.name, scope).values().cloned().collect();
            ok(paginate(kind, rows.len(), q, |r| rows[r].to_vec())?)
        }
        Op::Update => match body_key {
            // A connection's enabled clients: a list of {client_id, status} changes.
            None => {
                let changes = body
                    .as_ref()
                    .and_then(Value::as_array)
                    .ok_or_else(|| ApiError::invalid_body("the body must be an array"))?;
                let mut checked = Vec::new();
                for change in changes {
                    let id = required_str(change, "client_id")?;
                    let on = change
                        .get("status")
                        .and_then(Value::as_bool)
                        .ok_or_else(|| {
                            ApiError::invalid_body("Missing required property: status")
                        })?;
                    if !store
                        .table_ref("clients", "")
                        .is_some_and(|t| t.contains_key(id))
                    {
                        return Err(ApiError::not_found("client"));
                    }
                    checked.push((id.to_owned(), on));
                }
                let table = store.table(kind.name, scope);
                for (id, on) in checked {
                    if on {
                        table.insert(id.clone(), json!({ "client_id": id }));
                    } else {
                        table.shift_remove(&id);
                    }
                }
                Ok((StatusCode::NO_CONTENT, None))
            }
            // Trigger bindings: the whole list, each naming an action by id or name.
            Some(key) => {
                let body = body_object(body)?;
                let items = body.get(key).and_then(Value::as_array).ok_or_else(|| {
                    ApiError::invalid_body(format!("Missing required property: {key}"))
                })?;
                let mut bound = Vec::new();
                for item in items {
                    let reference = item
                        .get("ref")
                        .ok_or_else(|| ApiError::invalid_body("Missing required property: ref"))?;
                    let by = reference
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("action_id");
                    let value = reference.get("value").and_then(Value::as_str).unwrap_or("");
                    let action = store
                        .table_ref("actions", "")
                        .and_then(|t| {
                            t.values().find(|a| match by {
                                "action_name" => {
                                    a.get("name").and_then(Value::as_str) == Some(value)
                                }
                                _ => a.get("id").and_then(Value::as_str) == Some(value),
                            })
                        })
                        .cloned()
                        .ok_or_else(|| {
                            ApiError::new(
                                StatusCode::BAD_REQUEST,
                                format!("Action {value} (by {by}) does not exist"),
                            )
                        })?;
                    if action.get("deployed_version").is_none() {
                        // Only a deployed version can run.
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            format!(
                                "Action {value} (by {by}) has never been deployed; deploy it before binding it"
                            ),
                        ));
                    }
                    let id = ids::uuid(&mut store.rng);
                    let stamp = now();
                    bound.push((
                        id.clone(),
                        json!({
                            "id": id,
                            "trigger_id": scope,
                            "display_name": item.get("display_name").cloned().unwrap_or_else(|| action.get("name").cloned().unwrap_or(Value::Null)),
                            "action": redact(kind_actions(), action),
                            "created_at": stamp,
                            "updated_at": stamp,
                        }),
                    ));
                }
                let table = store.table(kind.name, scope);
                table.clear();
                let mut out = Vec::new();
                for (id, v) in bound {
                    out.push(v.clone());
                    table.insert(id, v);
                }
                ok(json!({ key: out }))
            }
        },
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found")),
    }
}

fn kind_actions() -> &'static Kind {
    // The catalog always has actions; fall back to the first row to stay total.
    catalog::find("actions").unwrap_or(&CATALOG[0])
}

fn map(
    store: &mut Store,
    kind: &'static Kind,
    op: Op,
    scope: &str,
    body: Option<Value>,
) -> ApiResult<Answer> {
    match op {
        Op::GoLive => answered_by_go_live(),
        Op::List | Op::Get => {
            let table = store.table(kind.name, scope);
            let object: Map<String, Value> =
                table.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            ok(redact(kind, Value::Object(object)))
        }
        Op::Create | Op::Update => {
            let body = body_object(body)?;
            let table = store.table(kind.name, scope);
            for k in body.keys() {
                let exists = table.contains_key(k);
                if op == Op::Create && exists {
                    return Err(ApiError::conflict(format!("Secret {k} already exists")));
                }
                if op == Op::Update && !exists {
                    return Err(ApiError::not_found(&format!("secret {k}")));
                }
            }
            for (k, v) in body {
                table.insert(k, v);
            }
            Ok((status(201), None))
        }
        Op::Delete => {
            let names = body
                .as_ref()
                .and_then(Value::as_array)
                .ok_or_else(|| ApiError::invalid_body("the body must be an array of names"))?;
            let table = store.table(kind.name, scope);
            for name in names.iter().filter_map(Value::as_str) {
                table.shift_remove(name);
            }
            Ok((StatusCode::NO_CONTENT, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(
        store: &mut Store,
        method: HttpMethod,
        path: &str,
        body: Option<Value>,
    ) -> ApiResult<Answer> {
        let routes = routes();
        let (route, params) = resolve(&routes, &method, path).expect("route");
        handle(store, route, &params, &Query::new(), body)
    }

    #[test]
    fn literal_segments_win_over_placeholders() {
        let routes = routes();
        let (route, params) =
            resolve(&routes, &HttpMethod::GET, "/branding/themes/default").unwrap();
        assert_eq!(route.kind.name, "branding_themes");
        assert_eq!(route.op, Op::List);
        assert!(params.is_empty());
        let (route, params) = resolve(&routes, &HttpMethod::GET, "/roles/rol_1/users").unwrap();
        assert_eq!(route.kind.name, "role_users");
        assert_eq!(params, vec!["rol_1"]);
    }

    #[test]
    fn a_database_connection_gets_the_options_a_tenant_fills_in() {
        let mut store = Store::new("t", 1);
        let post = |store: &mut Store, body: Value| {
            call(store, HttpMethod::POST, "/connections", Some(body))
                .unwrap()
                .1
                .unwrap()
        };
        let bare = post(&mut store, json!({"name": "db", "strategy": "auth0"}));
        let options = &bare["options"];
        assert_eq!(options["passwordPolicy"], "good", "{bare}");
        assert_eq!(options["mfa"]["active"], true, "{bare}");
        assert_eq!(options["brute_force_protection"], true, "{bare}");
        // The defaults are options the spec's database schema takes (jsonschema judges).
        let spec: Value = serde_json::from_str(crate::judge::AUTH0_SPEC).unwrap();
        let schema = json!({"components": spec["components"], "$ref": "#/components/schemas/ConnectionOptionsAuth0"});
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(options)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        // What the create gives stays; other strategies get nothing.
        let given = post(
            &mut store,
            json!({"name": "db2", "strategy": "auth0", "options": {"passwordPolicy": "excellent"}}),
        );
        assert_eq!(given["options"]["passwordPolicy"], "excellent");
        assert_eq!(given["options"]["strategy_version"], 2);
        let social = post(
            &mut store,
            json!({"name": "google-oauth2", "strategy": "google-oauth2"}),
        );
        assert_eq!(social["options"], json!({}));
    }

    #[test]
    fn create_get_conflict_update_delete_a_role() {
        let mut store = Store::new("t", 1);
        let (code, body) = call(
            &mut store,
            HttpMethod::POST,
            "/roles",
            Some(json!({"name": "admin"})),
        )
        .unwrap();
        assert_eq!(code.as_u16(), 200);
        let id = body.unwrap()["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("rol_") && id.len() == 20);
        let err = call(
            &mut store,
            HttpMethod::POST,
            "/roles",
            Some(json!({"name": "admin"})),
        )
        .unwrap_err();
        assert_eq!(err.status.as_u16(), 409);
        let err = call(
            &mut store,
            HttpMethod::PATCH,
            &format!("/roles/{id}"),
            Some(json!({"id": "x"})),
        )
        .unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        assert!(err.message.contains("id"), "{}", err.message);
        let (_, body) = call(
            &mut store,
            HttpMethod::PATCH,
            &format!("/roles/{id}"),
            Some(json!({"description": "d"})),
        )
        .unwrap();
        assert_eq!(body.unwrap()["description"], "d");
        let (code, _) = call(
            &mut store,
            HttpMethod::DELETE,
            &format!("/roles/{id}"),
            None,
        )
        .unwrap();
        assert_eq!(code.as_u16(), 204);
        let err = call(&mut store, HttpMethod::GET, &format!("/roles/{id}"), None).unwrap_err();
        assert_eq!(err.status.as_u16(), 404);
    }

    #[test]
    fn a_list_honours_its_filters_and_fields() {
        let mut store = Store::new("t", 1);
        for (name, strategy) in [
            ("db", "auth0"),
            ("google-oauth2", "google-oauth2"),
            ("corp", "samlp"),
        ] {
            call(
                &mut store,
                HttpMethod::POST,
                "/connections",
                Some(json!({"name": name, "strategy": strategy})),
            )
            .unwrap();
        }
        let routes = routes();
        let (route, params) = resolve(&routes, &HttpMethod::GET, "/connections").unwrap();
        let list = |store: &mut Store, query: &[(&str, &str)]| -> Vec<Value> {
            let q: Query = query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let (_, body) = handle(store, route, &params, &q, None).unwrap();
            body.unwrap().as_array().unwrap().clone()
        };
        // auth0-deploy-cli finds a database connection by strategy, a connection by name:
        // a filter ignored would hand it the wrong one.
        let dbs = list(&mut store, &[("strategy", "auth0")]);
        assert_eq!(dbs.len(), 1);
        assert_eq!(dbs[0]["name"], "db");
        let named = list(&mut store, &[("name", "corp")]);
        assert_eq!(named.len(), 1);
        assert_eq!(named[0]["strategy"], "samlp");
        assert!(list(&mut store, &[("name", "nope")]).is_empty());
        let slim = list(
            &mut store,
            &[("fields", "name"), ("include_fields", "true")],
        );
        assert_eq!(slim.len(), 3);
        assert!(
            slim.iter().all(|c| c.as_object().unwrap().len() == 1),
            "{slim:?}"
        );
    }

    #[test]
    fn prompt_text_never_set_reads_as_an_empty_object_and_a_template_as_404() {
        let mut store = Store::new("t", 1);
        let (code, body) = call(
            &mut store,
            HttpMethod::GET,
            "/prompts/login/custom-text/en",
            None,
        )
        .unwrap();
        assert_eq!(code.as_u16(), 200);
        assert_eq!(body.unwrap(), json!({}));
        let (code, body) =
            call(&mut store, HttpMethod::GET, "/prompts/login/partials", None).unwrap();
        assert_eq!((code.as_u16(), body.unwrap()), (200, json!({})));
        let err = call(
            &mut store,
            HttpMethod::GET,
            "/email-templates/verify_email",
            None,
        )
        .unwrap_err();
        assert_eq!(err.status.as_u16(), 404);
    }

    #[test]
    fn the_login_page_template_is_written_as_template_and_read_as_body() {
        let mut store = Store::new("t", 1);
        let path = "/branding/templates/universal-login";
        call(
            &mut store,
            HttpMethod::PUT,
            path,
            Some(json!({"template": "<html>{%- auth0:widget -%}</html>"})),
        )
        .unwrap();
        let (_, body) = call(&mut store, HttpMethod::GET, path, None).unwrap();
        assert_eq!(
            body.unwrap(),
            json!({"body": "<html>{%- auth0:widget -%}</html>"})
        );
        // What a read answers is not what a write takes.
        let err = call(
            &mut store,
            HttpMethod::PUT,
            path,
            Some(json!({"body": "x"})),
        )
        .unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
    }

    #[test]
    fn a_phone_provider_reads_back_with_its_channel_tenant_and_disabled_flag() {
        let mut store = Store::new("t", 1);
        let (_, body) = call(
            &mut store,
            HttpMethod::POST,
            "/branding/phone/providers",
            Some(json!({"name": "twilio", "credentials": {"auth_token": "s"}, "configuration": {"sid": "AC1", "delivery_methods": ["text"]}})),
        )
        .unwrap();
        let created = body.unwrap();
        assert_eq!(created["channel"], "phone");
        assert_eq!(created["tenant"], "t");
        assert_eq!(created["disabled"], false);
        assert!(
            created.get("credentials").is_none(),
            "write-only: {created}"
        );
    }

    #[test]
    fn write_only_fields_are_never_returned() {
        let mut store = Store::new("t", 1);
        call(
            &mut store,
            HttpMethod::PUT,
            "/rules-configs/API_KEY",
            Some(json!({"value": "s3cr3t"})),
        )
        .unwrap();
        let (_, body) = call(&mut store, HttpMethod::GET, "/rules-configs", None).unwrap();
        assert_eq!(body.unwrap(), json!([{"key": "API_KEY"}]));
    }

    #[test]
    fn decode_reverses_percent_encoding() {
        assert_eq!(decode("auth0%7Cabc"), "auth0|abc");
        assert_eq!(decode("plain"), "plain");
        assert_eq!(decode("bad%zz"), "bad%zz");
    }

    #[test]
    fn read_only_fields_a_create_takes_are_the_specs() {
        let spec: Value = serde_json::from_str(crate::judge::AUTH0_SPEC).expect("JSON");
        let schemas = &spec["components"]["schemas"];
        let resolve = |v: &Value| -> Value {
            let mut v = v.clone();
            while let Some(r) = v.get("$ref").and_then(Value::as_str).map(str::to_owned) {
                v = schemas[r.rsplit('/').next().unwrap_or_default()].clone();
            }
            v
        };
        let mut want = Vec::new();
        for kind in CATALOG {
            let Some(create) = kind.create else { continue };
            let body = &spec["paths"][create.path]["post"]["requestBody"]["content"]["application/json"]
                ["schema"];
            let body = resolve(body);
            for field in kind.read_only {
                if body["properties"].get(*field).is_some() && !kind.required.contains(field) {
                    want.push((kind.name, *field));
                }
            }
        }
        let have: Vec<(&str, &str)> = SET_AT_CREATION
            .iter()
            .copied()
            .filter(|p| *p != ("rules", "stage"))
            .collect();
        want.sort_unstable();
        let mut have_sorted = have.clone();
        have_sorted.sort_unstable();
        assert_eq!(have_sorted, want);
    }
}
