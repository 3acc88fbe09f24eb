//! What the catalog says of a kind's fields, checked against the spec rather than
//! memory: which are secrets, which are written after a create, which are the
//! platform's own and never written.
//!
//! Secrets: every field that the Management API's own schemas (the request bodies a
//! kind is written with, the answer it is read from) mark `writeOnly` or name as a
//! credential (a name ending in secret, password, key, token, credentials...) must be
//! one of the catalog's secrets for that kind, or be listed below with the reason it is
//! not one. A field the spec adds later fails this test until it is placed, so that no
//! backup writes it in clear and no restore drops it unasked.
use std::collections::{BTreeSet, HashSet};

use idferry_auth0::{CATALOG, Endpoint, Kind, Method, Shape};
use serde_json::Value;

const SPEC: &str = include_str!("../testdata/auth0-management-api-v2.openapi.json");

/// Field names that name a credential (compared without case, `_` or `-`).
const SECRET_WORDS: &[&str] = &[
    "secret",
    "secrets",
    "secretkey",
    "password",
    "passphrase",
    "apikey",
    "authtoken",
    "accesstoken",
    "refreshtoken",
    "token",
    "privatekey",
    "credentials",
    "skey",
    "p12",
    "signingkey",
    "serverkey",
    "saskey",
    "accesskey",
    "authorization",
    "writekey",
];

/// Field names that contain a credential word and hold none, with the reason.
const NOT_SECRET_NAMES: &[(&str, &str)] = &[
    (
        "site_key",
        "a captcha's public site key, shown in every login page",
    ),
    ("public_key", "a public key"),
    (
        "credential_type",
        "the kind of a credential, not the credential",
    ),
    (
        "secret_encoded",
        "a flag: whether a client secret is base64",
    ),
    ("secret_base64_encoded", "a flag"),
    ("passwordPolicy", "a policy name"),
    ("password_complexity_options", "a policy"),
    ("password_dictionary", "a policy"),
    ("password_history", "a policy"),
    ("password_no_personal_info", "a policy"),
    ("password_options", "a policy"),
    ("disable_self_service_change_password", "a flag"),
    ("change_password", "the change-password page's settings"),
    ("challenge_password_policy", "a policy"),
    ("challenge_passwordless_policy", "a policy"),
    ("challenge_password_reset_policy", "a policy"),
    ("allow_refresh_token", "a flag"),
    ("can_create_session_transfer_token", "a flag"),
    (
        "enforce_client_authentication_on_passwordless_start",
        "a flag",
    ),
    ("header_key", "the name of a header"),
    (
        "refresh_token",
        "a client's refresh-token policy (rotation, lifetimes)",
    ),
    (
        "encryption_key",
        "a public certificate for token encryption",
    ),
    ("required_secrets", "names of secrets an integration needs"),
    (
        "private_key_jwt",
        "public keys that verify a client's assertions",
    ),
    (
        "pre-change-password",
        "a breached-password stage's settings",
    ),
    (
        "client_credentials",
        "a token quota for the client-credentials grant",
    ),
    (
        "subject_type_authorization",
        "an API's access policy per subject type",
    ),
];

/// Fields of a kind that carry a credential word and are no secret of that kind.
const NOT_SECRET_FIELDS: &[(&str, &str, &str)] = &[
    (
        "actions",
        "secrets",
        "names readable, values write-only: the catalog holds secrets[].value",
    ),
    (
        "actions",
        "deployed_version.secrets",
        "the deployed version's secret names (API-set, not written)",
    ),
    ("action_modules", "secrets", "as actions: secrets[].value"),
    (
        "action_modules",
        "latest_version.secrets",
        "the latest version's secret names (API-set)",
    ),
    (
        "trigger_bindings",
        "bindings[].secrets",
        "a binding's action as the API shows it: secret names only",
    ),
    (
        "trigger_bindings",
        "bindings[].action",
        "a binding's action as the API shows it: secret names only",
    ),
    (
        "clients",
        "client_authentication_methods",
        "credentials here are public keys and certificates, named by id",
    ),
    (
        "clients",
        "signed_request_object.credentials",
        "public keys, named by id",
    ),
    (
        "connections",
        "options.authentication_methods",
        "whether passwords and passkeys are on",
    ),
    ("connections", "options.passkey_options", "passkey settings"),
    (
        "connections",
        "options.signingCert",
        "a SAML identity provider's public certificate",
    ),
    (
        "connections",
        "options.metadataXml",
        "a SAML identity provider's public metadata",
    ),
    (
        "flows",
        "actions[].params.token",
        "the JWT a decode or verify action reads (an expression), not a credential",
    ),
];

/// Secrets the catalog holds that the spec names otherwise, with the reason.
const CATALOG_ONLY: &[(&str, &str, &str)] = &[
    (
        "rules_configs",
        "value",
        "a rules config is a secret rules read; the API never returns its value",
    ),
    (
        "connections",
        "options.configuration",
        "a custom database's configuration: the secrets its scripts read",
    ),
];

/// Objects typed per variant in the spec's components rather than from the kind's
/// endpoints (a connection's options, per strategy): walked whole, under `path`.
const VARIANTS: &[(&str, &str, &str)] = &[("connections", "options", "ConnectionOptions")];

fn spec() -> Value {
    serde_json::from_str(SPEC).expect("the spec is JSON")
}

fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(spec, |at, k| &at[k]))
            .unwrap_or(node),
        None => node,
    }
}

fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a field's name ends in a credential word (`client_secret`, `datadogApiKey`,
/// `aws_secret_access_key`; not `token_lifetime` nor `sasKeyName`).
fn names_a_secret(name: &str) -> bool {
    let n = squash(name);
    SECRET_WORDS.iter().any(|w| n.ends_with(w))
        && !NOT_SECRET_NAMES.iter().any(|(not, _)| squash(not) == n)
}

/// Paths (`a.b`, `a[].b`) of the fields under `node` that are `writeOnly` or name a
/// credential; a secret's own fields are not walked (the secret covers them).
fn secret_fields(
    spec: &Value,
    node: &Value,
    path: &str,
    seen: &mut Vec<String>,
    out: &mut BTreeSet<String>,
) {
    fields_where(spec, node, path, seen, out, &|name, write_only| {
        write_only || names_a_secret(name)
    });
}

/// Paths (`a.b`, `a[].b`) of the fields under `node` that `hit` picks, by name and
/// whether the spec marks them `writeOnly`; a field picked is not walked further.
fn fields_where(
    spec: &Value,
    node: &Value,
    path: &str,
    seen: &mut Vec<String>,
    out: &mut BTreeSet<String>,
    hit: &dyn Fn(&str, bool) -> bool,
) {
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        if seen.iter().any(|s| s == r) || seen.len() > 12 {
            return;
        }
        seen.push(r.to_owned());
        fields_where(spec, resolve(spec, node), path, seen, out, hit);
        seen.pop();
        return;
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for alt in node
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            fields_where(spec, alt, path, seen, out, hit);
        }
    }
    if let Some(items) = node.get("items") {
        fields_where(spec, items, &format!("{path}[]"), seen, out, hit);
    }
    for (name, field) in node
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let at = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let write_only = resolve(spec, field).get("writeOnly") == Some(&Value::Bool(true));
        if hit(name, write_only) {
            out.insert(at);
        } else {
            fields_where(spec, field, &at, seen, out, hit);
        }
    }
}

/// The request-body and answer schemas of `endpoint`.
fn schemas(spec: &Value, endpoint: Endpoint) -> Vec<&Value> {
    let method = match endpoint.method {
        Method::Get => "get",
        Method::Post => "post",
        Method::Put => "put",
        Method::Patch => "patch",
        Method::Delete => "delete",
    };
    let op = &spec["paths"][endpoint.path][method];
    let mut out = Vec::new();
    if let Some(s) = op.pointer("/requestBody/content/application~1json/schema") {
        out.push(s);
    }
    for (status, answer) in op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if status.starts_with('2')
            && let Some(s) = resolve(spec, answer).pointer("/content/application~1json/schema")
        {
            out.push(s);
        }
    }
    out
}

/// Whether the catalog's secret `s` covers `field` (it, or a field inside it).
fn covers(s: &str, field: &str) -> bool {
    s == "*"
        || s == field
        || field.starts_with(&format!("{s}."))
        || field.starts_with(&format!("{s}[]"))
}

/// The spec's secret fields of `kind`, from the bodies it is written with and read from.
fn spec_secrets(spec: &Value, kind: &Kind) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for endpoint in [kind.create, kind.update, kind.get].into_iter().flatten() {
        for schema in schemas(spec, endpoint) {
            secret_fields(spec, schema, "", &mut Vec::new(), &mut out);
        }
    }
    for (_, path, prefix) in VARIANTS.iter().filter(|(k, ..)| *k == kind.name) {
        for (name, schema) in spec["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if name.starts_with(prefix) {
                secret_fields(spec, schema, path, &mut Vec::new(), &mut out);
            }
        }
    }
    out
}

#[test]
fn every_secret_the_spec_names_is_a_catalog_secret() {
    let spec = spec();
    let mut missing = Vec::new();
    let mut found = 0;
    for kind in CATALOG.iter().filter(|k| k.config) {
        for field in spec_secrets(&spec, kind) {
            found += 1;
            let placed = kind.secrets.iter().any(|s| covers(s, &field))
                || NOT_SECRET_FIELDS
                    .iter()
                    .any(|(k, f, _)| *k == kind.name && covers(f, &field));
            if !placed {
                missing.push(format!("{}: {field}", kind.name));
            }
        }
    }
    assert!(found > 30, "the spec's secrets were found: {found}");
    none_of(
        &missing,
        "fields the spec marks write-only or names as credentials, neither a catalog secret \
         nor listed as no secret (with why) in this test:",
    );
}

#[test]
fn every_catalog_secret_is_one_the_spec_has() {
    // The other way round: a secret the catalog names that the spec's schemas do not
    // have is a typo that would leave the real field in clear.
    let spec = spec();
    let mut stray = Vec::new();
    for kind in CATALOG.iter().filter(|k| k.config) {
        let fields: HashSet<String> = spec_secrets(&spec, kind).into_iter().collect();
        for s in kind.secrets.iter().filter(|s| **s != "*") {
            let listed = CATALOG_ONLY
                .iter()
                .any(|(k, f, _)| *k == kind.name && f == s);
            if !listed && !fields.iter().any(|f| covers(s, f) || covers(f, s)) {
                stray.push(format!("{}: {s}", kind.name));
            }
        }
    }
    assert!(stray.is_empty(), "not in the spec:\n{}", stray.join("\n"));
}

/// The properties of `endpoint`'s request body (its `$ref` resolved).
fn body_fields(spec: &Value, endpoint: Endpoint) -> Vec<String> {
    let method = format!("{:?}", endpoint.method).to_lowercase();
    spec["paths"][endpoint.path][method.as_str()]
        .pointer("/requestBody/content/application~1json/schema")
        .map(|s| resolve(spec, s))
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn fields_written_after_a_create_are_those_its_body_lacks_and_an_update_takes() {
    let spec = spec();
    for kind in CATALOG {
        let (Some(create), Some(update)) = (kind.create, kind.update) else {
            continue;
        };
        let (created, updated) = (body_fields(&spec, create), body_fields(&spec, update));
        for field in kind.after_create {
            assert!(
                !created.iter().any(|f| f == field) && updated.iter().any(|f| f == field),
                "{} {field}: the create takes it or the update does not",
                kind.name
            );
        }
        // Secrets the platform makes up, which a restore gives from a snapshot: those a
        // create does not take must be written after it.
        for field in kind.generated {
            if !created.iter().any(|f| f == field) {
                assert!(
                    kind.after_create.contains(field),
                    "{} {field}: not in the create body, so it goes in after_create",
                    kind.name
                );
            }
        }
    }
}

/// The top-level properties of `schema` (its `$ref` and `allOf` parts followed).
fn properties(spec: &Value, schema: &Value) -> BTreeSet<String> {
    let schema = resolve(spec, schema);
    let mut out: BTreeSet<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .flatten()
    {
        out.extend(properties(spec, part));
    }
    out
}

/// The objects an answer of `schema` holds: itself, or a list's items (a bare array, or
/// the array of a page among its paging fields), for each of its alternatives.
fn objects_read<'a>(spec: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    let schema = resolve(spec, schema);
    if let Some(alternatives) = schema
        .get("oneOf")
        .or(schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        return alternatives
            .iter()
            .flat_map(|a| objects_read(spec, a))
            .collect();
    }
    if let Some(items) = schema.get("items") {
        return vec![resolve(spec, items)];
    }
    let props = schema.get("properties").and_then(Value::as_object);
    let paging = [
        "start", "limit", "total", "next", "length", "page", "per_page",
    ];
    // A page: one array among paging fields, or alone (`{providers: [...]}`).
    if let Some(props) = props
        && props
            .keys()
            .filter(|k| !paging.contains(&k.as_str()))
            .count()
            == 1
        && let Some(items) = props
            .iter()
            .filter(|(k, _)| !paging.contains(&k.as_str()))
            .find_map(|(_, p)| resolve(spec, p).get("items"))
    {
        return vec![resolve(spec, items)];
    }
    vec![schema]
}

/// Fields a kind's read answers that neither its create nor its update takes are the
/// platform's own (a resource server's `client_id`, a tenant's available sandbox
/// versions): the catalog must list them as read-only (or as the id, the system flag, a
/// write-only value) so that no restore writes them, which Auth0 refuses with 400. Kinds
/// written in a form of their own (`write_form`) are checked by that form; links are
/// written as ids.
#[test]
fn fields_a_read_answers_and_no_write_takes_are_never_written() {
    let spec = spec();
    let mut missing = Vec::new();
    for kind in CATALOG {
        let Some(read) = kind.get.or(kind.list) else {
            continue;
        };
        // Links are written as a list of ids under a key of their own.
        if !kind.write_form.is_empty() || matches!(kind.shape, Shape::Links { .. }) {
            continue;
        }
        let writes: Vec<Endpoint> = [kind.create, kind.update].into_iter().flatten().collect();
        if writes.is_empty() {
            continue;
        }
        let mut taken = BTreeSet::new();
        for w in &writes {
            let method = format!("{:?}", w.method).to_lowercase();
            if let Some(body) = spec["paths"][w.path][method.as_str()]
                .pointer("/requestBody/content/application~1json/schema")
            {
                taken.extend(properties(&spec, body));
            }
        }
        if taken.is_empty() {
            continue;
        }
        let mut answered = BTreeSet::new();
        let answers = schemas(&spec, read);
        // The read's answer, not its request body (a read has none).
        for s in answers {
            for item in objects_read(&spec, s) {
                answered.extend(properties(&spec, item));
            }
        }
        for field in answered.difference(&taken) {
            let dropped = kind.id_field == Some(field.as_str())
                || kind.system == Some(field.as_str())
                || kind.read_only.iter().any(|r| r == field)
                || kind.write_only.iter().any(|r| r == field);
            if !dropped {
                missing.push(format!("{} {field}", kind.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} fields:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// What a restore makes live again (an action's deployed version, a module's latest) is
/// read from the source: when the kind's list does not answer that field, the export
/// reads each object by id (`read_each`), whose answer must have it.
#[test]
fn the_version_a_restore_makes_live_is_in_what_a_backup_reads() {
    let spec = spec();
    let mut checked = 0;
    for kind in CATALOG {
        let (Some(go_live), Some(list)) = (kind.go_live, kind.list) else {
            continue;
        };
        let listed = schemas(&spec, list)
            .into_iter()
            .flat_map(|s| objects_read(&spec, s))
            .any(|item| properties(&spec, item).contains(go_live.version));
        let read = if kind.read_each {
            let get = kind.get.expect("read_each needs a get endpoint");
            schemas(&spec, get)
                .into_iter()
                .flat_map(|s| objects_read(&spec, s))
                .any(|item| properties(&spec, item).contains(go_live.version))
        } else {
            listed
        };
        assert!(
            read,
            "{}: {} is not in what its backup reads (list: {listed}, read_each: {})",
            kind.name, go_live.version, kind.read_each
        );
        assert!(
            !(listed && kind.read_each),
            "{}: its list answers {}; reading each again is needless",
            kind.name,
            go_live.version
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "actions and action modules");
}

/// The converse: a field the catalog keeps out of every update (read-only) must be one
/// the spec's update body does not take, or a restore leaves it as the target had it
/// and a tool that does send it (auth0-deploy-cli updates a database's `realms`) is
/// refused by an emulator that follows the catalog.
#[test]
fn fields_an_update_takes_are_not_read_only() {
    let spec = spec();
    let mut wrong = Vec::new();
    for kind in CATALOG {
        let Some(update) = kind.update else { continue };
        if !kind.write_form.is_empty() {
            continue;
        }
        let method = format!("{:?}", update.method).to_lowercase();
        let Some(body) = spec["paths"][update.path][method.as_str()]
            .pointer("/requestBody/content/application~1json/schema")
        else {
            continue;
        };
        let taken = properties(&spec, body);
        for field in kind.read_only {
            if taken.contains(*field) {
                wrong.push(format!("{} {field}", kind.name));
            }
        }
    }
    none_of(
        &wrong,
        "read-only in the catalog, taken by the spec's update:",
    );
}

/// What a backup reads of a kind is all its read by id answers: where the spec's list
/// item lacks fields the object read by id has (a flow's list item has no `actions`),
/// the catalog reads each (`read_each`), and only there.
#[test]
fn a_backup_reads_every_field_the_object_has() {
    let spec = spec();
    let mut short = Vec::new();
    let mut needless = Vec::new();
    for kind in CATALOG {
        let (Some(list), Some(get)) = (kind.list, kind.get) else {
            continue;
        };
        let fields = |e| -> BTreeSet<String> {
            schemas(&spec, e)
                .into_iter()
                .flat_map(|s| objects_read(&spec, s))
                .flat_map(|item| properties(&spec, item))
                .collect()
        };
        let (listed, read) = (fields(list), fields(get));
        if listed.is_empty() || read.is_empty() {
            continue;
        }
        // What the target makes up (read-only) a restore does not write, but for the
        // version it makes live; a
        // connection's enabled clients are their own kind, read from its clients.
        let missing: Vec<&String> = read
            .difference(&listed)
            .filter(|f| {
                !kind.read_only.contains(&f.as_str())
                    || kind.go_live.is_some_and(|g| g.version == f.as_str())
            })
            .filter(|f| !(kind.name == "connections" && *f == "enabled_clients"))
            .collect();
        if !missing.is_empty() && !kind.read_each {
            short.push(format!("{}: its list lacks {missing:?}", kind.name));
        }
        if missing.is_empty() && kind.read_each {
            needless.push(kind.name);
        }
    }
    none_of(
        &short,
        "a backup would miss what these lists leave out (set read_each):",
    );
    assert!(needless.is_empty(), "read each needlessly: {needless:?}");
}

/// A secret the spec's read answer does not list is write-only: a backup cannot read
/// it (APNs' `p12`), so a restore asks for it by name instead of finding it.
#[test]
fn secrets_no_read_answers_are_write_only() {
    let spec = spec();
    let mut wrong = Vec::new();
    // Users are carried by export and import jobs, hashes and all, not by reads.
    for kind in CATALOG.iter().filter(|k| k.config) {
        let Some(read) = kind.get.or(kind.list) else {
            continue;
        };
        let answered: BTreeSet<String> = schemas(&spec, read)
            .into_iter()
            .flat_map(|s| objects_read(&spec, s))
            .flat_map(|item| properties(&spec, item))
            .collect();
        if answered.is_empty() {
            continue;
        }
        for secret in kind.secrets {
            let top = secret.split(['.', '[']).next().unwrap_or_default();
            let write_only = kind
                .write_only
                .iter()
                .any(|w| covers(w, secret) || *w == "*");
            if !answered.contains(top) && !write_only {
                wrong.push(format!("{} {secret}", kind.name));
            }
        }
    }
    none_of(
        &wrong,
        "secrets no read answers, not write-only in the catalog:",
    );
}

/// What the spec marks write-only in a kind's write bodies is write-only in the
/// catalog: no read answers it (an event stream's bearer token), so a backup cannot
/// hold it and a restore asks for it by name.
#[test]
fn fields_the_spec_marks_write_only_are_write_only() {
    let spec = spec();
    let mut missing = Vec::new();
    for kind in CATALOG.iter().filter(|k| k.config) {
        let mut marked = BTreeSet::new();
        for w in [kind.create, kind.update].into_iter().flatten() {
            let method = format!("{:?}", w.method).to_lowercase();
            if let Some(body) = spec["paths"][w.path][method.as_str()]
                .pointer("/requestBody/content/application~1json/schema")
            {
                fields_where(&spec, body, "", &mut Vec::new(), &mut marked, &|_, w| w);
            }
        }
        for (field, ..) in kind.write_only_when {
            if !kind.write_only.contains(field) {
                missing.push(format!(
                    "{} {field} (write_only_when, not write_only)",
                    kind.name
                ));
            }
        }
        for path in marked {
            if !kind.write_only.iter().any(|w| covers(w, &path)) {
                missing.push(format!("{} {path}", kind.name));
            }
        }
    }
    none_of(&missing, "write-only in the spec, not in the catalog:");
}

/// Fails naming every entry of `found`, under `what`, unless there is none.
fn none_of(found: &[String], what: &str) {
    assert!(found.is_empty(), "{what}\n{}", found.join("\n"));
}
