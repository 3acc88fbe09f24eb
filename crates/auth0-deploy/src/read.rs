//! auth0-deploy-cli's files read back into a tenant's configuration ([`State`]), the
//! way `a0deploy import` reads them: keyword markers replaced from the mappings
//! (`@@KEY@@` by the value as JSON, then `##KEY##` by the value), the files the YAML
//! names read in, then each asset type turned back into the catalog's kinds. Objects
//! are given ids of their own (`a0deploy:clients:Web`) and what names another object
//! points at that id, so that a restore's plan matches them by natural key and
//! rewrites them to the target's ids as it does for a snapshot. Write-only secrets go
//! into [`Read::values`], as a values file gives them.
//!
//! A file a0deploy would reject (an asset of the wrong shape, an object without its
//! name) is an error naming the file, the line and the key; a keyword with no value is
//! a secret the restore asks for (or, outside a secret, an error naming where it is).

use std::collections::HashMap;
use std::path::Path;

use idferry_auth0::record::Redacted;
use idferry_auth0::{Kind, catalog};
use idferry_auth0_import::State;
use idferry_auth0_import::state::Item;
use idferry_model::record::{map_values, remove_path};
use serde_json::{Map, Value, json};

use crate::DeployError;
use crate::assets::LISTS;

/// A configuration read from a0deploy's files.
#[derive(Debug, Default)]
pub struct Read {
    /// The configuration, by kind.
    pub state: State,
    /// Write-only secrets the files give, as a values file holds them
    /// (`{kind: {name: {field: value}}}`).
    pub values: Map<String, Value>,
    /// Keywords the files use that the mappings do not give, with where each stands.
    pub unresolved: Vec<String>,
    /// Parts of the files no kind of the catalog holds, each with why.
    pub not_carried: Vec<String>,
}

/// The id idferry gives the object `name` of `kind` read from a0deploy's files.
pub fn id_for(kind: &str, name: &str) -> String {
    format!("a0deploy:{kind}:{name}")
}

/// Replaces keyword markers in `text` as a0deploy does: `@@KEY@@` (quoted or not) by
/// the value as JSON, then `##KEY##` by the value.
pub fn replace_keywords(text: &str, keywords: &Map<String, Value>) -> String {
    let mut out = text.to_owned();
    for (key, value) in keywords {
        let json = value.to_string();
        for pattern in [
            format!("'@@{key}@@'"),
            format!("\"@@{key}@@\""),
            format!("@@{key}@@"),
        ] {
            out = out.replace(&pattern, &json);
        }
    }
    for (key, value) in keywords {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out = out.replace(&format!("##{key}##"), &text);
    }
    out
}

/// A keyword marker left in a value, if the value is one (`##KEY##`, `@@KEY@@`).
fn marker(s: &str) -> Option<&str> {
    for (open, close) in [("##", "##"), ("@@", "@@")] {
        if let Some(key) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close))
            && !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Some(key);
        }
    }
    None
}

/// Reads `path`: a tenant file (`tenant.yaml`) with the files it names beside it, or a
/// directory tree.
pub fn read(path: &Path, keywords: &Map<String, Value>) -> Result<Read, DeployError> {
    let assets = if path.is_dir() {
        load_directory(path, keywords)?
    } else {
        load_yaml(path, keywords)?
    };
    to_state(&assets, &path.display().to_string())
}

/// A text file of the tree, keywords replaced.
fn text_of(path: &Path, keywords: &Map<String, Value>) -> Result<String, DeployError> {
    let text = std::fs::read_to_string(path).map_err(|source| DeployError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(replace_keywords(&text, keywords))
}

/// A JSON file of the tree, keywords replaced.
fn json_of(path: &Path, keywords: &Map<String, Value>) -> Result<Value, DeployError> {
    serde_json::from_str(&text_of(path, keywords)?).map_err(|e| DeployError::Invalid {
        path: path.to_owned(),
        at: format!(":{}:{}", e.line(), e.column()),
        message: e.to_string(),
    })
}

/// The `*.json` files of `folder`, in name order (none if it is absent).
fn json_files(folder: &Path) -> Result<Vec<std::path::PathBuf>, DeployError> {
    if !folder.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .map_err(|source| DeployError::Io {
            path: folder.to_owned(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads the text a JSON object names by `./path`: beside it, else from the tree's root
/// (a0deploy's directory format writes both).
fn named_file(
    root: &Path,
    beside: &Path,
    file: &str,
    keywords: &Map<String, Value>,
) -> Result<String, DeployError> {
    let file = file.trim_start_matches("./");
    let near = beside.join(file);
    let path = if near.is_file() {
        near
    } else {
        root.join(file)
    };
    text_of(&path, keywords)
}

/// The assets of a0deploy's directory tree at `root`, the files they name read in.
pub fn load_directory(
    root: &Path,
    keywords: &Map<String, Value>,
) -> Result<Map<String, Value>, DeployError> {
    use crate::layout::{ATTACK_PROTECTION, EMPTY_FOLDERS, PER_OBJECT, WHOLE};
    let mut assets = Map::new();
    for row in PER_OBJECT {
        let folder = root.join(row.folder);
        let mut objects = Vec::new();
        // A folder may hold a whole asset's file too (`emails/provider.json`).
        let whole: Vec<_> = WHOLE.iter().map(|(_, f)| root.join(f)).collect();
        for file in json_files(&folder)?
            .into_iter()
            .filter(|f| !whole.contains(f))
        {
            let mut object = json_of(&file, keywords)?;
            if object
                .get(naming(row.asset))
                .and_then(Value::as_str)
                .is_none()
                && row.asset != "clientGrants"
            {
                return Err(DeployError::Invalid {
                    path: file,
                    at: String::new(),
                    message: format!("{}: missing field `{}`", row.asset, naming(row.asset)),
                });
            }
            if let Some(code) = &row.code
                && let Some(name) = object.get(code.field).and_then(Value::as_str)
            {
                object[code.field] = Value::String(named_file(root, &folder, name, keywords)?);
            }
            objects.push(object);
        }
        if folder.is_dir() {
            assets.insert(row.asset.into(), Value::Array(objects));
        }
    }
    for (asset, file) in WHOLE {
        let path = root.join(file);
        if path.is_file() {
            assets.insert((*asset).into(), json_of(&path, keywords)?);
        }
    }
    let mut attack = Map::new();
    for (field, file) in ATTACK_PROTECTION {
        let path = root.join(format!("attack-protection/{file}.json"));
        if path.is_file() {
            attack.insert((*field).into(), json_of(&path, keywords)?);
        }
    }
    if !attack.is_empty() {
        assets.insert("attackProtection".into(), Value::Object(attack));
    }
    let folder = root.join("connections");
    let mut connections = Vec::new();
    for file in json_files(&folder)? {
        let mut c = json_of(&file, keywords)?;
        if c["strategy"] == "email"
            && let Some(body) = c
                .pointer("/options/email/body")
                .and_then(Value::as_str)
                .map(str::to_owned)
        {
            c["options"]["email"]["body"] =
                Value::String(named_file(root, &folder, &body, keywords)?);
            empty_message(&mut c);
        }
        connections.push(c);
    }
    if folder.is_dir() {
        assets.insert("connections".into(), Value::Array(connections));
    }
    let folder = root.join("database-connections");
    if folder.is_dir() {
        let mut dbs = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(&folder)
            .map_err(|source| DeployError::Io {
                path: folder.clone(),
                source,
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("database.json").is_file())
            .collect();
        names.sort();
        for dir in names {
            let mut db = json_of(&dir.join("database.json"), keywords)?;
            if let Some(Value::Object(scripts)) = db.pointer_mut("/options/customScripts") {
                for code in scripts.values_mut() {
                    if let Some(file) = code.as_str().map(str::to_owned) {
                        *code = Value::String(named_file(root, &dir, &file, keywords)?);
                    }
                }
            }
            dbs.push(db);
        }
        assets.insert("databases".into(), Value::Array(dbs));
    }
    let path = root.join("branding/branding.json");
    if path.is_file() {
        let mut branding = json_of(&path, keywords)?;
        let folder = root.join("branding/templates");
        let mut templates = Vec::new();
        for file in json_files(&folder)? {
            let mut t = json_of(&file, keywords)?;
            if let Some(body) = t.get("body").and_then(Value::as_str).map(str::to_owned) {
                t["body"] = Value::String(named_file(root, &folder, &body, keywords)?);
            }
            templates.push(t);
        }
        if !templates.is_empty() {
            branding["templates"] = Value::Array(templates);
        }
        assets.insert("branding".into(), branding);
    }
    let folder = root.join("prompts");
    let path = folder.join("prompts.json");
    if path.is_file() {
        let mut prompts = json_of(&path, keywords)?;
        let texts = folder.join("custom-text.json");
        prompts["customText"] = if texts.is_file() {
            json_of(&texts, keywords)?
        } else {
            json!({})
        };
        let mut partials = Map::new();
        let listed = folder.join("partials.json");
        if listed.is_file() {
            for (prompt, screens) in json_of(&listed, keywords)?
                .as_object()
                .into_iter()
                .flatten()
            {
                let mut by_screen = Map::new();
                for entry in screens.as_array().into_iter().flatten() {
                    for (screen, inserts) in entry.as_object().into_iter().flatten() {
                        let mut m = Map::new();
                        for insert in inserts.as_array().into_iter().flatten() {
                            if let (Some(n), Some(t)) =
                                (insert["name"].as_str(), insert["template"].as_str())
                            {
                                m.insert(
                                    n.to_owned(),
                                    Value::String(named_file(root, &folder, t, keywords)?),
                                );
                            }
                        }
                        by_screen.insert(screen.clone(), Value::Object(m));
                    }
                }
                partials.insert(prompt.clone(), Value::Object(by_screen));
            }
        }
        prompts["partials"] = Value::Object(partials);
        let mut renderers = Vec::new();
        for file in json_files(&folder.join("screenRenderSettings"))? {
            renderers.push(json_of(&file, keywords)?);
        }
        prompts["screenRenderers"] = Value::Array(renderers);
        assets.insert("prompts".into(), prompts);
    }
    for (asset, folder) in EMPTY_FOLDERS {
        let folder = root.join(folder);
        if folder.is_dir() {
            let mut objects = Vec::new();
            for file in json_files(&folder)? {
                objects.push(json_of(&file, keywords)?);
            }
            assets.insert((*asset).into(), Value::Array(objects));
        }
    }
    Ok(assets)
}

/// The assets of a tenant file, files it names read in.
pub fn load_yaml(
    path: &Path,
    keywords: &Map<String, Value>,
) -> Result<Map<String, Value>, DeployError> {
    let text = std::fs::read_to_string(path).map_err(|source| DeployError::Io {
        path: path.to_owned(),
        source,
    })?;
    let text = replace_keywords(&text, keywords);
    let invalid = |e: yaml_serde::Error| {
        let at = e
            .location()
            .map_or(String::new(), |l| format!(":{}:{}", l.line(), l.column()));
        // The place is said first (file:line:column), not again at the end.
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        DeployError::Invalid {
            path: path.to_owned(),
            at,
            message,
        }
    };
    // a0deploy's own checks of each asset's shape, with the line of what fails.
    let _: Shape = yaml_serde::from_str(&text).map_err(invalid)?;
    let value: Value = yaml_serde::from_str(&text).map_err(invalid)?;
    let Value::Object(mut assets) = value else {
        return Err(DeployError::Invalid {
            path: path.to_owned(),
            at: String::new(),
            message: "not a mapping of asset types (rules:, clients:, ...)".into(),
        });
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let load = |file: &str, folder: &str| -> Result<String, DeployError> {
        let full = base.join(folder).join(file.trim_start_matches("./"));
        let text = std::fs::read_to_string(&full)
            .map_err(|source| DeployError::Io { path: full, source })?;
        Ok(replace_keywords(&text, keywords))
    };
    let json = |file: &str| -> Result<Value, DeployError> {
        let text = load(file, "")?;
        serde_json::from_str(&text).map_err(|e| DeployError::Invalid {
            path: base.join(file),
            at: format!(":{}:{}", e.line(), e.column()),
            message: e.to_string(),
        })
    };
    for (asset, _, field, _) in crate::layout::IN_FILES {
        for object in list_mut(&mut assets, asset) {
            if let Some(file) = object.get(*field).and_then(Value::as_str) {
                let text = load(file, "")?;
                object[*field] = Value::String(text);
            }
        }
    }
    for db in list_mut(&mut assets, "databases") {
        if let Some(Value::Object(scripts)) = db.pointer_mut("/options/customScripts") {
            for code in scripts.values_mut() {
                if let Some(file) = code.as_str() {
                    *code = Value::String(load(file, "")?);
                }
            }
        }
    }
    for c in list_mut(&mut assets, "connections") {
        if c["strategy"] == "email"
            && let Some(body) = c.pointer_mut("/options/email/body")
            && let Some(file) = body.as_str()
        {
            *body = Value::String(load(file, "connections")?);
            empty_message(c);
        }
    }
    if let Some(Value::Array(templates)) = assets
        .get_mut("branding")
        .and_then(|b| b.get_mut("templates"))
    {
        for t in templates {
            if let Some(file) = t.get("body").and_then(Value::as_str) {
                t["body"] = Value::String(load(file, "")?);
            }
        }
    }
    for asset in ["forms", "flows"] {
        for object in list_mut(&mut assets, asset) {
            if let Some(file) = object
                .get("body")
                .and_then(Value::as_str)
                .map(str::to_owned)
            {
                let Value::Object(mut body) = json(&file)? else {
                    continue;
                };
                body.remove("body");
                let name = object.get("name").cloned().unwrap_or(Value::Null);
                let mut out = Map::new();
                out.insert("name".into(), name);
                out.extend(body);
                *object = Value::Object(out);
            }
        }
    }
    if let Some(prompts) = assets.get_mut("prompts")
        && let Some(Value::Array(listed)) = prompts.get_mut("screenRenderers")
    {
        let mut renderers = Vec::new();
        for entry in listed.iter() {
            for screens in entry.as_object().into_iter().flat_map(|m| m.values()) {
                for file in screens.as_object().into_iter().flat_map(|m| m.values()) {
                    if let Some(file) = file.as_str() {
                        renderers.push(json(file)?);
                    }
                }
            }
        }
        *listed = renderers;
    }
    Ok(assets)
}

/// An empty message file of a passwordless email connection stands for no message
/// (a0deploy writes one when the tenant has none).
fn empty_message(connection: &mut Value) {
    if connection.pointer("/options/email/body") == Some(&Value::String(String::new()))
        && let Some(Value::Object(email)) = connection.pointer_mut("/options/email")
    {
        email.remove("body");
    }
}

fn list_mut<'a>(
    assets: &'a mut Map<String, Value>,
    asset: &str,
) -> impl Iterator<Item = &'a mut Value> {
    assets
        .get_mut(asset)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// What a0deploy checks of a tenant file before anything else, as types: each list
/// asset a list, each object with the field that names it.
#[derive(serde::Deserialize)]
#[allow(dead_code, non_snake_case)]
struct Shape {
    rules: Option<Vec<Named>>,
    hooks: Option<Vec<Named>>,
    pages: Option<Vec<Named>>,
    resourceServers: Option<Vec<Identified>>,
    clients: Option<Vec<Named>>,
    databases: Option<Vec<Named>>,
    connections: Option<Vec<Named>>,
    emailTemplates: Option<Vec<Templated>>,
    clientGrants: Option<Vec<Granted>>,
    guardianFactors: Option<Vec<Named>>,
    roles: Option<Vec<Named>>,
    actions: Option<Vec<Named>>,
    actionModules: Option<Vec<Named>>,
    organizations: Option<Vec<Named>>,
    logStreams: Option<Vec<Named>>,
    phoneProviders: Option<Vec<Named>>,
    forms: Option<Vec<Named>>,
    flows: Option<Vec<Named>>,
    flowVaultConnections: Option<Vec<Named>>,
    selfServiceProfiles: Option<Vec<Named>>,
    userAttributeProfiles: Option<Vec<Named>>,
    connectionProfiles: Option<Vec<Named>>,
    tokenExchangeProfiles: Option<Vec<Named>>,
    eventStreams: Option<Vec<Named>>,
    customDomains: Option<Vec<Domained>>,
    rulesConfigs: Option<Vec<Keyed>>,
    tenant: Option<Map<String, Value>>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Named {
    name: String,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Identified {
    identifier: String,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Templated {
    template: String,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Granted {
    client_id: String,
    audience: String,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Domained {
    domain: String,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Keyed {
    key: String,
}

/// Turns the assets back into kinds.
struct Builder<'a> {
    read: Read,
    source: &'a str,
    /// Names to ids, per kind, of the objects the files hold.
    ids: HashMap<&'static str, HashMap<String, String>>,
}

fn kind(name: &str) -> &'static Kind {
    catalog::find(name).unwrap_or_else(|| panic!("the catalog has no kind {name}"))
}

impl Builder<'_> {
    /// The id of the object `name` of `kind` in the files, else `name` as it is.
    fn id(&self, kind: &str, name: &str) -> String {
        self.ids
            .get(kind)
            .and_then(|m| m.get(name))
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }

    /// Adds `record` of `kind` under `parent`, with its keyword markers dealt with.
    fn push(
        &mut self,
        kind_name: &str,
        parent: &[String],
        key: Option<String>,
        mut record: Value,
        object: &str,
    ) -> Result<(), DeployError> {
        let k = kind(kind_name);
        self.unmarked(k, parent, key.as_deref(), &mut record, object)?;
        self.read.state.push(
            k,
            Item {
                parent: parent.to_vec(),
                key,
                record,
            },
        );
        Ok(())
    }

    /// Keyword markers the mappings did not fill: in a secret field, the secret is
    /// left out (the restore asks for it); anywhere else, an error naming where.
    fn unmarked(
        &mut self,
        k: &'static Kind,
        parent: &[String],
        key: Option<&str>,
        record: &mut Value,
        object: &str,
    ) -> Result<(), DeployError> {
        let mut found: Vec<(String, String)> = Vec::new();
        walk_strings(record, String::new(), &mut |path, s| {
            if let Some(word) = marker(s) {
                found.push((path.to_owned(), word.to_owned()));
            }
        });
        let mut left_out = Vec::new();
        for (path, word) in found {
            let generic = path
                .split('.')
                .map(|p| if p.parse::<usize>().is_ok() { "[]" } else { p })
                .collect::<Vec<_>>()
                .join(".")
                .replace(".[]", "[]");
            let secret = k.secrets.iter().chain(k.write_only).find(|s| {
                **s == "*"
                    || generic == **s
                    || generic.starts_with(&format!("{s}."))
                    || generic.starts_with(&format!("{s}[]"))
            });
            let Some(secret) = secret else {
                return Err(DeployError::Keyword {
                    source_name: self.source.to_owned(),
                    at: format!("{} {object}: {path}", k.name),
                    keyword: word,
                });
            };
            self.read
                .unresolved
                .push(format!("{word} ({} {object}: {path})", k.name));
            set_path_null(record, &path);
            if !k.write_only.contains(secret) && !left_out.contains(&secret.to_string()) {
                left_out.push(secret.to_string());
            }
        }
        if !left_out.is_empty() {
            let id = k
                .id_field
                .and_then(|f| record.get(f))
                .and_then(Value::as_str)
                .map(str::to_owned);
            self.read.state.push_redacted(Redacted {
                kind: k.name.to_owned(),
                parent: parent.to_vec(),
                key: key.map(str::to_owned),
                id,
                fields: left_out,
            });
        }
        Ok(())
    }

    /// Moves `k`'s write-only fields out of `record` into the values, under `name`.
    fn values_of(&mut self, k: &Kind, name: Option<&str>, record: &mut Value) {
        for path in k.write_only {
            if *path == "*" {
                continue;
            }
            let mut found: Vec<(String, Value)> = Vec::new();
            match path.split_once("[].") {
                Some((array, leaf)) => {
                    if let Some(Value::Array(items)) = record.get_mut(array) {
                        for item in items {
                            if let (Some(n), Some(v)) = (
                                item.get("name").and_then(Value::as_str).map(str::to_owned),
                                item.get(leaf).cloned(),
                            ) && !v.is_null()
                            {
                                found.push((format!("{array}.{n}"), v));
                            }
                            remove_path(item, leaf);
                        }
                    }
                }
                None => {
                    if let Some(v) = idferry_model::record::values_at(record, path).first()
                        && !v.is_null()
                    {
                        found.push(((*path).to_owned(), (*v).clone()));
                    }
                    remove_path(record, path);
                }
            }
            for (field, v) in found {
                if let Some(word) = v.as_str().and_then(marker) {
                    // No value for it: the restore asks for it.
                    let at = name.map_or(String::new(), |n| format!(" {n}"));
                    self.read
                        .unresolved
                        .push(format!("{word} ({}{at}: {field})", k.name));
                    continue;
                }
                let mut table = self
                    .read
                    .values
                    .entry(k.name)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(n) = name {
                    if !table.get(n).is_some_and(Value::is_object) {
                        table[n] = Value::Object(Map::new());
                    }
                    table = &mut table[n];
                }
                if let Value::Object(t) = table {
                    t.insert(field, v);
                }
            }
        }
    }
}

/// Calls `f` with the dot path (indices as numbers) of every string of `v`.
fn walk_strings(v: &Value, at: String, f: &mut dyn FnMut(&str, &str)) {
    let join = |k: &str| {
        if at.is_empty() {
            k.to_owned()
        } else {
            format!("{at}.{k}")
        }
    };
    match v {
        Value::String(s) => f(&at, s),
        Value::Object(m) => {
            for (k, v) in m {
                walk_strings(v, join(k), f);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk_strings(v, join(&i.to_string()), f);
            }
        }
        _ => {}
    }
}

/// Removes the field at the dot path `path` (indices as numbers).
fn set_path_null(v: &mut Value, path: &str) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut at = v;
    for p in parts {
        at = match at {
            Value::Object(m) => match m.get_mut(p) {
                Some(x) => x,
                None => return,
            },
            Value::Array(items) => match p.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    if let Value::Object(m) = at {
        m.remove(last);
    }
}

/// The name of an object of a list asset: its naming field (a grant's client and
/// audience).
fn name_in(asset: &str, object: &Value) -> Option<String> {
    if asset == "clientGrants" {
        return Some(format!(
            "{}/{}",
            object.get("client_id")?.as_str()?,
            object.get("audience")?.as_str()?
        ));
    }
    object.get(naming(asset))?.as_str().map(str::to_owned)
}

/// The naming field of the objects of a list asset.
fn naming(asset: &str) -> &'static str {
    match asset {
        "emailTemplates" => "template",
        "resourceServers" => "identifier",
        "customDomains" => "domain",
        "themes" => "displayName",
        "networkACLs" => "description",
        "phoneTemplates" => "type",
        _ => "name",
    }
}

/// The assets as kinds.
pub fn to_state(assets: &Map<String, Value>, source: &str) -> Result<Read, DeployError> {
    let mut b = Builder {
        read: Read::default(),
        source,
        ids: HashMap::new(),
    };
    // Every object's id first, so that references resolve whatever the order.
    for row in LISTS {
        let k = kind(row.kind);
        let Some(id_field) = k.id_field else { continue };
        for object in assets
            .get(row.asset)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name_in(row.asset, object) {
                let id = object
                    .get(id_field)
                    .and_then(Value::as_str)
                    .map_or_else(|| id_for(k.name, &name), str::to_owned);
                b.ids.entry(k.name).or_default().insert(name, id);
            }
        }
    }
    for row in LISTS {
        let Some(objects) = assets.get(row.asset).and_then(Value::as_array) else {
            continue;
        };
        let k = kind(row.kind);
        for object in objects {
            let name = name_in(row.asset, object).unwrap_or_default();
            let mut record = object.clone();
            let mut parts = Map::new();
            if let Value::Object(m) = &mut record {
                for field in unfolded(row.asset) {
                    if let Some(v) = m.remove(*field) {
                        parts.insert((*field).to_owned(), v);
                    }
                }
            }
            // Its id: the one the file gives (a0deploy keeps some: a factor's name, an
            // email template's), else one of its own.
            let own = k
                .id_field
                .map(|f| match record.get(f).and_then(Value::as_str) {
                    Some(id) => id.to_owned(),
                    None => {
                        let id = id_for(k.name, &name);
                        record[f] = Value::String(id.clone());
                        id
                    }
                });
            for (field, named) in row.names {
                let named = kind(named).name;
                let ids = b.ids.get(named).cloned().unwrap_or_default();
                map_values(&mut record, field, &mut |v| {
                    if let Some(n) = v.as_str()
                        && let Some(id) = ids.get(n)
                    {
                        *v = Value::String(id.clone());
                    }
                });
            }
            b.values_of(k, Some(&name), &mut record);
            b.unfold(row.asset, &name, own.as_deref(), &mut record, parts)?;
            b.push(row.kind, &[], None, record, &name)?;
        }
    }
    b.singles(assets)?;
    // Asset types read by none of the above are named, not dropped.
    for (asset, value) in assets {
        let read = COMPOSED.contains(&asset.as_str())
            || LISTS.iter().any(|r| r.asset == asset)
            || crate::assets::SINGLES.iter().any(|s| s.asset == asset)
            || crate::assets::GATHERED.iter().any(|(a, _)| a == asset);
        if !value.is_null() && !read {
            b.read
                .not_carried
                .push(format!("{asset}: an asset type idferry does not read"));
        }
    }
    // Files hold secrets (their keywords' values) and say which they lack.
    b.read.state.secrets_included = true;
    b.read.state.redactions_known = true;
    Ok(b.read)
}

/// Asset types read besides the tables' ([`LISTS`], `SINGLES`, `GATHERED`): those
/// composed of several kinds.
const COMPOSED: &[&str] = &[
    "tenant",
    "pages",
    "branding",
    "prompts",
    "guardianFactorTemplates",
    "guardianFactorProviders",
    "triggers",
    "rulesConfigs",
];

/// Fields of a list asset that hold other kinds (folded in by the export).
fn unfolded(asset: &str) -> &'static [&'static str] {
    match asset {
        "hooks" => &["secrets"],
        "databases" => &["enabled_clients"],
        "connections" => &["enabled_clients", "scim_configuration"],
        "roles" => &["permissions"],
        "actions" => &["deployed"],
        "organizations" => &["connections", "client_grants", "discovery_domains"],
        "selfServiceProfiles" => &["customText"],
        "tokenExchangeProfiles" => &["action"],
        _ => &[],
    }
}

impl Builder<'_> {
    /// The other kinds an object of `asset` holds, as their own records.
    fn unfold(
        &mut self,
        asset: &str,
        name: &str,
        id: Option<&str>,
        record: &mut Value,
        parts: Map<String, Value>,
    ) -> Result<(), DeployError> {
        let parent: Vec<String> = id.map(str::to_owned).into_iter().collect();
        match asset {
            "hooks" => {
                if let Some(Value::Object(secrets)) = parts.get("secrets") {
                    // The record holds the values given (as an encrypted snapshot does);
                    // a hook with keywords left without one has its secrets asked for.
                    let mut names: Map<String, Value> =
                        secrets.keys().map(|k| (k.clone(), Value::Null)).collect();
                    let mut unset = false;
                    let table = self
                        .read
                        .values
                        .entry("hook_secrets")
                        .or_insert_with(|| json!({}));
                    let mut given = Map::new();
                    for (key, v) in secrets {
                        if v.as_str()
                            .is_some_and(|s| marker(s).is_some() || s == "_VALUE_NOT_SHOWN_")
                        {
                            self.read.unresolved.push(format!(
                                "{} (hook {name}: secrets.{key})",
                                v.as_str().unwrap_or_default()
                            ));
                            unset = true;
                        } else {
                            given.insert(key.clone(), v.clone());
                            names.insert(key.clone(), v.clone());
                        }
                    }
                    table[name] = Value::Object(given);
                    if unset {
                        self.read.state.push_redacted(Redacted {
                            kind: "hook_secrets".into(),
                            parent: parent.clone(),
                            key: None,
                            id: None,
                            fields: vec!["*".into()],
                        });
                    }
                    self.read.state.push(
                        kind("hook_secrets"),
                        Item {
                            parent: parent.clone(),
                            key: None,
                            record: Value::Object(names),
                        },
                    );
                }
            }
            "databases" | "connections" => {
                for client in parts
                    .get("enabled_clients")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = client.as_str() {
                        let client_id = self.id("clients", n);
                        self.push(
                            "connection_clients",
                            &parent,
                            None,
                            json!({"client_id": client_id}),
                            name,
                        )?;
                    }
                }
                if let Some(scim) = parts.get("scim_configuration") {
                    self.push("scim_configurations", &parent, None, scim.clone(), name)?;
                }
            }
            "roles" => {
                for p in parts
                    .get("permissions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    self.push("role_permissions", &parent, None, p.clone(), name)?;
                }
            }
            "actions" => {
                let deployed = parts.get("deployed") == Some(&Value::Bool(true));
                record["all_changes_deployed"] = Value::Bool(deployed);
                // Modules by name, as the API takes them by id.
                if let Some(Value::Array(modules)) = record.get_mut("modules") {
                    for m in modules {
                        if let Some(n) = m.get("module_name").and_then(Value::as_str) {
                            m["module_id"] = Value::String(self.id("action_modules", n));
                        }
                    }
                }
            }
            "organizations" => {
                for c in parts
                    .get("connections")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let mut c = c.clone();
                    if let Value::Object(m) = &mut c
                        && let Some(n) =
                            m.remove("name").and_then(|v| v.as_str().map(str::to_owned))
                    {
                        m.insert(
                            "connection_id".into(),
                            Value::String(self.id("connections", &n)),
                        );
                    }
                    self.push("organization_enabled_connections", &parent, None, c, name)?;
                }
                for g in parts
                    .get("client_grants")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let client = g["client_id"].as_str().unwrap_or_default().to_owned();
                    // a0deploy names the grant by its client only: the client's grant.
                    let grant = self
                        .read
                        .state
                        .items("client_grants")
                        .iter()
                        .find(|i| {
                            i.record["client_id"] == Value::String(self.id("clients", &client))
                        })
                        .map(|i| i.record.clone());
                    match grant {
                        Some(grant) => self.push("organization_client_grants", &parent, None, grant, name)?,
                        None => self.read.not_carried.push(format!(
                            "organization {name}: client grant of {client}: the file has no grant of that client"
                        )),
                    }
                }
                for d in parts
                    .get("discovery_domains")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let mut d = d.clone();
                    if let Some(domain) = d.get("domain").and_then(Value::as_str).map(str::to_owned)
                    {
                        d["id"] = Value::String(id_for("organization_discovery_domains", &domain));
                    }
                    self.push("organization_discovery_domains", &parent, None, d, name)?;
                }
            }
            "selfServiceProfiles" => {
                for (language, pages) in parts
                    .get("customText")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    for (page, text) in pages.as_object().into_iter().flatten() {
                        self.push(
                            "self_service_profile_custom_text",
                            &parent,
                            Some(format!("{language}/{page}")),
                            text.clone(),
                            name,
                        )?;
                    }
                }
            }
            "clients" => {
                // Credentials written inside their client (a0deploy's form): each its
                // own object, the client pointing at it by id.
                let path = "/client_authentication_methods/private_key_jwt/credentials";
                if let Some(Value::Array(credentials)) = record.pointer_mut(path) {
                    let mut refs = Vec::new();
                    let mut children = Vec::new();
                    for c in credentials.iter() {
                        let mut c = c.clone();
                        let cred_name = c["name"].as_str().unwrap_or_default().to_owned();
                        let cid = id_for("client_credentials", &format!("{name}/{cred_name}"));
                        c["id"] = Value::String(cid.clone());
                        refs.push(json!({"id": cid}));
                        children.push((c, cred_name));
                    }
                    *credentials = refs;
                    for (c, cred_name) in children {
                        self.push(
                            "client_credentials",
                            &parent,
                            None,
                            c,
                            &format!("{name} {cred_name}"),
                        )?;
                    }
                }
            }
            "tokenExchangeProfiles" => {
                if let Some(action) = parts.get("action").and_then(Value::as_str) {
                    record["action_id"] = Value::String(self.id("actions", action));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The single-object and composed asset types.
    fn singles(&mut self, assets: &Map<String, Value>) -> Result<(), DeployError> {
        for single in crate::assets::SINGLES {
            if let Some(v) = assets.get(single.asset) {
                let mut v = match single.under {
                    Some(field) => v.get(field).cloned().unwrap_or(Value::Null),
                    None => v.clone(),
                };
                self.values_of(kind(single.kind), None, &mut v);
                self.push(single.kind, &[], None, v, single.asset)?;
            }
        }
        for (asset, parts) in crate::assets::GATHERED {
            if let Some(Value::Object(m)) = assets.get(*asset) {
                for (field, k) in *parts {
                    if let Some(v) = m.get(*field) {
                        let mut v = v.clone();
                        self.values_of(kind(k), None, &mut v);
                        self.push(k, &[], None, v, asset)?;
                    }
                }
            }
        }
        // The tenant's settings, and the pages: the login page is the global client's.
        let mut settings = assets.get("tenant").cloned().unwrap_or(Value::Null);
        for page in assets
            .get("pages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = page["name"].as_str().unwrap_or_default();
            if name == "login" {
                let global = json!({
                    "client_id": id_for("clients", "All Applications"),
                    "name": "All Applications",
                    "global": true,
                    "custom_login_page_on": page.get("enabled").cloned().unwrap_or(Value::Bool(false)),
                    "custom_login_page": page.get("html").cloned().unwrap_or(Value::Null),
                });
                self.push("clients", &[], None, global, "All Applications")?;
            } else if let Some((field, _)) = crate::assets::SETTINGS_PAGES
                .iter()
                .find(|(_, p)| *p == name)
            {
                let mut p = page.clone();
                remove_path(&mut p, "name");
                if settings.is_null() {
                    settings = json!({});
                }
                settings[*field] = p;
            } else {
                self.read
                    .not_carried
                    .push(format!("pages {name}: not a page Auth0 has"));
            }
        }
        if !settings.is_null() {
            self.push("tenant_settings", &[], None, settings, "tenant")?;
        }
        if let Some(Value::Object(branding)) = assets.get("branding") {
            let mut branding = branding.clone();
            if let Some(Value::Array(templates)) = branding.remove("templates") {
                for t in templates {
                    if t["template"] == "universal_login" {
                        self.push(
                            "universal_login_template",
                            &[],
                            None,
                            json!({"body": t["body"]}),
                            "branding",
                        )?;
                    }
                }
            }
            self.push("branding", &[], None, Value::Object(branding), "branding")?;
        }
        if let Some(Value::Object(prompts)) = assets.get("prompts") {
            let mut prompts = prompts.clone();
            for (language, by_prompt) in prompts
                .remove("customText")
                .as_ref()
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for (prompt, text) in by_prompt.as_object().into_iter().flatten() {
                    self.push(
                        "prompt_custom_text",
                        &[],
                        Some(format!("{prompt}/{language}")),
                        text.clone(),
                        "prompts",
                    )?;
                }
            }
            for (prompt, partial) in prompts
                .remove("partials")
                .as_ref()
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                self.push(
                    "prompt_partials",
                    &[],
                    Some(prompt.clone()),
                    partial.clone(),
                    "prompts",
                )?;
            }
            for r in prompts
                .remove("screenRenderers")
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.push("prompt_screen_renderings", &[], None, r.clone(), "prompts")?;
            }
            self.push("prompts", &[], None, Value::Object(prompts), "prompts")?;
        }
        for t in assets
            .get("guardianFactorTemplates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut t = t.clone();
            let factor = t["name"].as_str().unwrap_or_default().to_owned();
            remove_path(&mut t, "name");
            match factor.as_str() {
                "sms" => self.push(
                    "guardian_sms_templates",
                    &[],
                    None,
                    t,
                    "guardianFactorTemplates",
                )?,
                "phone" => self.push(
                    "guardian_phone_templates",
                    &[],
                    None,
                    t,
                    "guardianFactorTemplates",
                )?,
                other => self.read.not_carried.push(format!(
                    "guardianFactorTemplates {other}: no such factor's templates"
                )),
            }
        }
        for p in assets
            .get("guardianFactorProviders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut p = p.clone();
            let at = (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["provider"].as_str().unwrap_or_default().to_owned(),
            );
            remove_path(&mut p, "name");
            remove_path(&mut p, "provider");
            let k = match (at.0.as_str(), at.1.as_str()) {
                ("sms", "twilio") => "guardian_sms_twilio",
                ("phone", "twilio") => "guardian_phone_twilio",
                ("push-notification", "sns") => "guardian_push_sns",
                ("push-notification", "apns") => "guardian_push_apns",
                (f, pr) => {
                    self.read.not_carried.push(format!(
                        "guardianFactorProviders {f}/{pr}: no such provider"
                    ));
                    continue;
                }
            };
            self.values_of(kind(k), None, &mut p);
            self.push(k, &[], None, p, "guardianFactorProviders")?;
        }
        if let Some(Value::Object(triggers)) = assets.get("triggers") {
            for (trigger, bindings) in triggers {
                for binding in bindings.as_array().into_iter().flatten() {
                    let action = binding["action_name"].as_str().unwrap_or_default();
                    // The action as the API embeds it in a binding.
                    let mut embedded = json!({"id": self.id("actions", action), "name": action});
                    if let Some(a) = self
                        .read
                        .state
                        .items("actions")
                        .iter()
                        .find(|a| a.record["name"] == action)
                    {
                        for field in [
                            "supported_triggers",
                            "runtime",
                            "code",
                            "dependencies",
                            "secrets",
                            "modules",
                        ] {
                            if let Some(v) = a.record.get(field) {
                                embedded[field] = v.clone();
                            }
                        }
                    }
                    let record = json!({
                        "display_name": binding.get("display_name").cloned().unwrap_or_else(|| json!(action)),
                        "action": embedded,
                    });
                    self.push(
                        "trigger_bindings",
                        std::slice::from_ref(trigger),
                        None,
                        record,
                        "triggers",
                    )?;
                }
            }
        }
        for c in assets
            .get("rulesConfigs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut c = c.clone();
            let key = c["key"].as_str().unwrap_or_default().to_owned();
            self.values_of(kind("rules_configs"), Some(&key), &mut c);
            self.push("rules_configs", &[], None, c, &key)?;
        }
        for d in assets
            .get("customDomains")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if d.get("is_default") == Some(&Value::Bool(true)) {
                let domain = d["domain"].as_str().unwrap_or_default();
                let record = json!({"custom_domain_id": self.id("custom_domains", domain), "domain": domain});
                self.push("default_custom_domain", &[], None, record, "customDomains")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_replaced_as_a0deploy_replaces_them() {
        // a0deploy's keywordReplace: `@@KEY@@`, quoted or not, becomes the value as
        // JSON; then `##KEY##` becomes the value itself.
        let keywords: Map<String, Value> = serde_json::from_value(json!({
            "ORIGINS": ["https://a.example", "https://b.example"],
            "CREDENTIALS": {"api_key": "k"},
            "DOMAIN": "acme.example",
        }))
        .unwrap();
        let text = "a: '@@ORIGINS@@'\nb: \"@@CREDENTIALS@@\"\nc: @@ORIGINS@@\nd: https://##DOMAIN##/x\ne: '##MISSING##'\n";
        assert_eq!(
            replace_keywords(text, &keywords),
            "a: [\"https://a.example\",\"https://b.example\"]\nb: {\"api_key\":\"k\"}\nc: [\"https://a.example\",\"https://b.example\"]\nd: https://acme.example/x\ne: '##MISSING##'\n"
        );
    }

    #[test]
    fn an_asset_type_idferry_does_not_read_is_named() {
        let assets: Map<String, Value> = serde_json::from_value(json!({
            "rules": [],
            "rateLimitPolicies": [{"consumer_selector": "x"}],
        }))
        .unwrap();
        let read = to_state(&assets, "tenant.yaml").unwrap();
        assert_eq!(
            read.not_carried,
            ["rateLimitPolicies: an asset type idferry does not read"]
        );
    }

    #[test]
    fn a_marker_is_a_whole_value_naming_a_keyword() {
        assert_eq!(marker("##SENDGRID_API_KEY##"), Some("SENDGRID_API_KEY"));
        assert_eq!(marker("@@CREDENTIALS@@"), Some("CREDENTIALS"));
        assert_eq!(marker("https://##DOMAIN##/x"), None);
        assert_eq!(marker("####"), None);
        assert_eq!(marker("##not a keyword##"), None);
    }

    #[test]
    fn a_file_without_an_objects_name_is_refused_with_its_line_and_key() {
        let dir = std::env::temp_dir().join(format!("idferry-a0-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tenant.yaml");
        std::fs::write(
            &file,
            "rules: []\nclients:\n  - name: Web\n  - app_type: spa\n",
        )
        .unwrap();
        let Err(e) = read(&file, &Map::new()) else {
            panic!("a client without a name was taken");
        };
        assert_eq!(
            e.to_string(),
            format!("{}:4:5: clients[1]: missing field `name`", file.display())
        );
        std::fs::write(&file, "clients: {}\n").unwrap();
        let Err(e) = read(&file, &Map::new()) else {
            panic!("clients as a mapping was taken");
        };
        assert!(e.to_string().contains(":1:"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_keyword_without_a_value_outside_a_secret_is_refused_naming_where() {
        let assets: Map<String, Value> = serde_json::from_value(json!({
            "clients": [{"name": "Web", "callbacks": ["https://##DOMAIN##/cb", "##CALLBACK##"]}],
        }))
        .unwrap();
        let Err(e) = to_state(&assets, "tenant.yaml") else {
            panic!("a keyword without a value was taken");
        };
        assert_eq!(
            e.to_string(),
            "tenant.yaml: clients Web: callbacks.1: the keyword CALLBACK has no value: give it in the keywords file or AUTH0_KEYWORD_REPLACE_MAPPINGS"
        );
    }

    #[test]
    fn a_secret_keyword_without_a_value_is_left_out_and_asked_for() {
        let assets: Map<String, Value> = serde_json::from_value(json!({
            "connections": [{"name": "google", "strategy": "google-oauth2",
                "options": {"client_id": "x", "client_secret": "##GOOGLE_SECRET##"}}],
        }))
        .unwrap();
        let read = to_state(&assets, "tenant.yaml").unwrap();
        let item = &read.state.items("connections")[0];
        assert!(item.record["options"].get("client_secret").is_none());
        let kind = catalog::find("connections").unwrap();
        assert_eq!(read.state.redacted(kind, item), ["options.client_secret"]);
        assert_eq!(
            read.unresolved,
            ["GOOGLE_SECRET (connections google: options.client_secret)"]
        );
    }
}
