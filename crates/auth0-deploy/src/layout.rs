//! Where auth0-deploy-cli's YAML format puts each asset: `tenant.yaml`, with code, HTML
//! and the JSON bodies of forms, flows and screen renderers in files beside it that the
//! YAML names by path (`./rules/add-country.js`), as its `export -f yaml` lays them out.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::DeployError;

/// A file to write: its path under the output folder, and its bytes.
pub type File = (PathBuf, Vec<u8>);

/// Folders a0deploy writes even when empty, because an empty folder and none load
/// differently (`guardian/providers`: an empty list, which an import makes the tenant
/// hold, against no list, which it leaves alone).
pub const EMPTY_FOLDERS: &[(&str, &str)] = &[("guardianFactorProviders", "guardian/providers")];

/// The name a0deploy gives a file for `name`: characters a file name cannot hold become
/// `-` (its `sanitize`).
pub fn sanitize(name: &str) -> String {
    let out: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | '?' | '<' | '>' | ':' | '*' | '|' | '"' => '-',
            c if c.is_control() => '-',
            c => c,
        })
        .collect();
    match out.as_str() {
        "" | "." | ".." => "undefined".into(),
        _ => out,
    }
}

/// For each list asset, the text fields a0deploy's YAML keeps in files: (asset, the
/// field naming the object, the field, the file's path from the naming field's value).
type InFile = (&'static str, &'static str, &'static str, fn(&str) -> String);

pub(crate) const IN_FILES: &[InFile] = &[
    ("rules", "name", "script", |n| format!("rules/{n}.js")),
    ("hooks", "name", "script", |n| format!("hooks/{n}.js")),
    ("pages", "name", "html", |n| format!("pages/{n}.html")),
    ("emailTemplates", "template", "body", |n| {
        format!("emailTemplates/{n}.html")
    }),
    ("actions", "name", "code", |n| {
        format!("actions/{n}/code.js")
    }),
    ("actionModules", "name", "code", |n| {
        format!("action-modules/{n}/code.js")
    }),
];

/// `assets` as `tenant.yaml` and the files it names.
pub fn yaml(assets: &Map<String, Value>) -> Result<Vec<File>, DeployError> {
    let mut assets = assets.clone();
    let mut files: Vec<File> = Vec::new();
    for (asset, naming, field, path) in IN_FILES {
        let Some(Value::Array(objects)) = assets.get_mut(*asset) else {
            continue;
        };
        for object in objects {
            let Some(name) = object.get(*naming).and_then(Value::as_str) else {
                continue;
            };
            let file = path(&sanitize(name));
            if let Some(text) = object.get(*field).and_then(Value::as_str) {
                files.push((file.clone().into(), text.as_bytes().to_vec()));
                object[*field] = Value::String(format!("./{file}"));
            }
        }
    }
    // A database connection's custom scripts, one file each.
    if let Some(Value::Array(dbs)) = assets.get_mut("databases") {
        for db in dbs {
            let name = sanitize(db["name"].as_str().unwrap_or_default());
            if let Some(Value::Object(scripts)) = db.pointer_mut("/options/customScripts") {
                for (script, code) in scripts.iter_mut() {
                    if let Some(text) = code.as_str() {
                        let file = format!("databases/{name}/{script}.js");
                        files.push((file.clone().into(), text.as_bytes().to_vec()));
                        *code = Value::String(format!("./{file}"));
                    }
                }
            }
        }
    }
    // A passwordless email connection's message, beside the connections.
    if let Some(Value::Array(connections)) = assets.get_mut("connections") {
        for c in connections {
            if c["strategy"] != "email" {
                continue;
            }
            let name = sanitize(c["name"].as_str().unwrap_or_default());
            // a0deploy writes the file even when the tenant has no message (empty).
            let text = c
                .pointer("/options/email/body")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            files.push((format!("connections/{name}.html").into(), text.into_bytes()));
            crate::assets::set_path(
                c,
                "options.email.body",
                Value::String(format!("./{name}.html")),
            );
        }
    }
    // The universal login template.
    if let Some(Value::Array(templates)) = assets
        .get_mut("branding")
        .and_then(|b| b.get_mut("templates"))
    {
        for t in templates {
            let name = sanitize(t["template"].as_str().unwrap_or_default());
            if let Some(text) = t.get("body").and_then(Value::as_str) {
                let file = format!("branding_templates/{name}.html");
                files.push((file.clone().into(), text.as_bytes().to_vec()));
                t["body"] = Value::String(format!("./{file}"));
            }
        }
    }
    // Forms and flows: all but the name in a JSON file.
    for (asset, folder) in [("forms", "forms"), ("flows", "flows")] {
        if let Some(Value::Array(objects)) = assets.get_mut(asset) {
            for object in objects {
                let Value::Object(map) = object else { continue };
                let name = map
                    .remove("name")
                    .and_then(|n| n.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let file = format!("{folder}/{}.json", sanitize(&name));
                files.push((file.clone().into(), json_text(&Value::Object(map.clone()))?));
                *object = serde_json::json!({"name": name, "body": format!("./{file}")});
            }
        }
    }
    // Screen renderers: each in a file, listed by prompt and screen.
    if let Some(Value::Array(renderers)) = assets
        .get_mut("prompts")
        .and_then(|p| p.get_mut("screenRenderers"))
    {
        let mut listed: Vec<(String, Map<String, Value>)> = Vec::new();
        for r in renderers.iter() {
            let (Some(prompt), Some(screen)) = (r["prompt"].as_str(), r["screen"].as_str()) else {
                continue;
            };
            let file = format!("prompts/screenRenderSettings/{prompt}_{screen}.json");
            files.push((file.clone().into(), json_text(r)?));
            match listed.iter_mut().find(|(p, _)| p == prompt) {
                Some((_, screens)) => {
                    screens.insert(screen.into(), Value::String(format!("./{file}")));
                }
                None => {
                    let mut screens = Map::new();
                    screens.insert(screen.into(), Value::String(format!("./{file}")));
                    listed.push((prompt.to_owned(), screens));
                }
            }
        }
        *renderers = listed
            .into_iter()
            .map(|(p, s)| {
                let mut m = Map::new();
                m.insert(p, Value::Object(s));
                Value::Object(m)
            })
            .collect();
    }
    let text = yaml_serde::to_string(&Value::Object(assets)).map_err(|e| DeployError::Yaml {
        message: e.to_string(),
    })?;
    files.push(("tenant.yaml".into(), text.into_bytes()));
    Ok(files)
}

fn json_text(v: &Value) -> Result<Vec<u8>, DeployError> {
    let mut text = serde_json::to_vec_pretty(v).map_err(|e| DeployError::Yaml {
        message: e.to_string(),
    })?;
    text.push(b'\n');
    Ok(text)
}

/// One file per object in a folder of its own (a0deploy's directory format): the asset,
/// its folder, the object's file name, and the text field kept in a file beside it.
pub(crate) struct PerObject {
    pub(crate) asset: &'static str,
    pub(crate) folder: &'static str,
    stem: fn(&Value) -> String,
    pub(crate) code: Option<Code>,
}

/// A text field in a file of its own: the field, the file's path from the folder of
/// the output (given the object's stem), and what the JSON says instead.
pub(crate) struct Code {
    pub(crate) field: &'static str,
    file: fn(&str) -> String,
    value: fn(&str) -> String,
}

fn by(field: &'static str) -> impl Fn(&Value) -> String {
    move |v| sanitize(v[field].as_str().unwrap_or_default())
}

fn name_of(v: &Value) -> String {
    by("name")(v)
}

/// A per-object asset named by its `name`, with no field in a file of its own.
const fn folder(asset: &'static str, folder: &'static str) -> PerObject {
    PerObject {
        asset,
        folder,
        stem: name_of,
        code: None,
    }
}

/// A text field kept in a file beside the object's JSON.
const fn beside(
    field: &'static str,
    file: fn(&str) -> String,
    value: fn(&str) -> String,
) -> Option<Code> {
    Some(Code { field, file, value })
}

pub(crate) const PER_OBJECT: &[PerObject] = &[
    PerObject {
        asset: "rules",
        folder: "rules",
        stem: name_of,
        code: beside(
            "script",
            |n| format!("rules/{n}.js"),
            |n| format!("./{n}.js"),
        ),
    },
    PerObject {
        asset: "hooks",
        folder: "hooks",
        stem: name_of,
        code: beside(
            "script",
            |n| format!("hooks/{n}.js"),
            |n| format!("./{n}.js"),
        ),
    },
    PerObject {
        asset: "pages",
        folder: "pages",
        stem: name_of,
        code: beside(
            "html",
            |n| format!("pages/{n}.html"),
            |n| format!("./{n}.html"),
        ),
    },
    PerObject {
        asset: "emailTemplates",
        folder: "emails",
        stem: |v| by("template")(v),
        code: beside(
            "body",
            |n| format!("emails/{n}.html"),
            |n| format!("./{n}.html"),
        ),
    },
    PerObject {
        asset: "actions",
        folder: "actions",
        stem: name_of,
        code: beside(
            "code",
            |n| format!("actions/{n}/code.js"),
            |n| format!("./actions/{n}/code.js"),
        ),
    },
    PerObject {
        asset: "actionModules",
        folder: "action-modules",
        stem: name_of,
        code: beside(
            "code",
            |n| format!("action-modules/{n}/code.js"),
            |n| format!("./action-modules/{n}/code.js"),
        ),
    },
    folder("clients", "clients"),
    folder("resourceServers", "resource-servers"),
    PerObject {
        asset: "clientGrants",
        folder: "grants",
        stem: |v| {
            sanitize(&format!(
                "{}-{}",
                v["client_id"].as_str().unwrap_or_default(),
                v["audience"].as_str().unwrap_or_default()
            ))
        },
        code: None,
    },
    folder("roles", "roles"),
    folder("organizations", "organizations"),
    folder("logStreams", "log-streams"),
    PerObject {
        asset: "themes",
        folder: "themes",
        stem: |v| by("displayName")(v),
        code: None,
    },
    folder("forms", "forms"),
    folder("flows", "flows"),
    folder("flowVaultConnections", "flow-vault-connections"),
    folder("selfServiceProfiles", "self-service-profiles"),
    folder("userAttributeProfiles", "user-attribute-profiles"),
    folder("connectionProfiles", "connection-profiles"),
    folder("tokenExchangeProfiles", "token-exchange-profiles"),
    folder("eventStreams", "event-streams"),
    PerObject {
        asset: "networkACLs",
        folder: "network-acls",
        stem: |v| {
            sanitize(&format!(
                "{}-p-{}",
                v["description"].as_str().unwrap_or_default(),
                v["priority"]
            ))
        },
        code: None,
    },
    folder("guardianFactors", "guardian/factors"),
    folder("guardianFactorTemplates", "guardian/templates"),
    PerObject {
        asset: "phoneTemplates",
        folder: "phone-templates",
        stem: |v| by("type")(v),
        code: None,
    },
];

/// Assets written whole in one file: (asset, file).
pub(crate) const WHOLE: &[(&str, &str)] = &[
    ("tenant", "tenant.json"),
    ("emailProvider", "emails/provider.json"),
    ("customDomains", "custom-domains/custom-domains.json"),
    ("phoneProviders", "phone-providers/provider.json"),
    ("guardianPolicies", "guardian/policies.json"),
    (
        "guardianPhoneFactorSelectedProvider",
        "guardian/phoneFactorSelectedProvider.json",
    ),
    (
        "guardianPhoneFactorMessageTypes",
        "guardian/phoneFactorMessageTypes.json",
    ),
    ("supplementalSignals", "supplemental-signals.json"),
    ("riskAssessment", "risk-assessment/settings.json"),
    ("triggers", "triggers/triggers.json"),
];

/// `attackProtection`'s parts, each in its file under `attack-protection/`.
pub(crate) const ATTACK_PROTECTION: &[(&str, &str)] = &[
    ("botDetection", "bot-detection"),
    ("breachedPasswordDetection", "breached-password-detection"),
    ("bruteForceProtection", "brute-force-protection"),
    ("captcha", "captcha"),
    ("suspiciousIpThrottling", "suspicious-ip-throttling"),
];

/// Fields a0deploy's directory format keeps as ids of the tenant it was exported from
/// (its YAML format names what they point at): (asset, field).
pub const DIRECTORY_KEEPS_IDS: &[(&str, &str)] = &[
    ("clients", "express_configuration.user_attribute_profile_id"),
    ("clients", "express_configuration.connection_profile_id"),
    ("clients", "express_configuration.okta_oin_client_id"),
];

/// Names, in what the export does not carry, the ids the directory format keeps.
pub fn note_directory_ids(assets: &mut crate::Assets) {
    let kept = assets
        .ids_named
        .iter()
        .filter(|(a, _, f, _)| DIRECTORY_KEEPS_IDS.contains(&(*a, *f)))
        .count();
    if kept > 0 {
        assets.left_out.push(crate::LeftOut {
            kind: "clients (express_configuration)".into(),
            records: kept,
            why: "a0deploy's directory format keeps these as ids of the snapshot's tenant (as its own export and import do; its YAML format names them): in another tenant they point at nothing",
        });
    }
}

/// `assets` as a0deploy's directory tree.
pub fn directory(all: &crate::Assets) -> Result<Vec<File>, DeployError> {
    // The ids a0deploy's directory format keeps, put back.
    let mut assets = all.assets.clone();
    for (asset, object, field, id) in &all.ids_named {
        if !DIRECTORY_KEEPS_IDS.contains(&(*asset, *field)) {
            continue;
        }
        for o in assets
            .get_mut(*asset)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if o.get("name").and_then(Value::as_str) == Some(object.as_str()) {
                crate::assets::set_path(o, field, Value::String(id.clone()));
            }
        }
    }
    let assets = &assets;
    let mut files: Vec<File> = Vec::new();
    let text = |path: String, s: &str| (PathBuf::from(path), s.as_bytes().to_vec());
    for row in PER_OBJECT {
        let Some(Value::Array(objects)) = assets.get(row.asset) else {
            continue;
        };
        for object in objects {
            let mut object = object.clone();
            let stem = (row.stem)(&object);
            if let Some(code) = &row.code
                && let Some(body) = object.get(code.field).and_then(Value::as_str)
            {
                files.push(text((code.file)(&stem), body));
                object[code.field] = Value::String((code.value)(&stem));
            }
            files.push((
                format!("{}/{stem}.json", row.folder).into(),
                json_text(&object)?,
            ));
        }
    }
    for (asset, file) in WHOLE {
        if let Some(v) = assets.get(*asset) {
            files.push(((*file).into(), json_text(v)?));
        }
    }
    if let Some(Value::Object(parts)) = assets.get("attackProtection") {
        for (field, file) in ATTACK_PROTECTION {
            if let Some(v) = parts.get(*field) {
                files.push((
                    format!("attack-protection/{file}.json").into(),
                    json_text(v)?,
                ));
            }
        }
    }
    // Connections: a passwordless email connection's message beside its JSON.
    if let Some(Value::Array(connections)) = assets.get("connections") {
        for c in connections {
            let mut c = c.clone();
            let name = name_of(&c);
            if c["strategy"] == "email" {
                let body = c
                    .pointer("/options/email/body")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                files.push(text(format!("connections/{name}.html"), &body));
                crate::assets::set_path(
                    &mut c,
                    "options.email.body",
                    Value::String(format!("./{name}.html")),
                );
            }
            files.push((format!("connections/{name}.json").into(), json_text(&c)?));
        }
    }
    // Database connections: a folder each, custom scripts beside `database.json`.
    if let Some(Value::Array(dbs)) = assets.get("databases") {
        for db in dbs {
            let mut db = db.clone();
            let name = name_of(&db);
            if let Some(Value::Object(scripts)) = db.pointer_mut("/options/customScripts") {
                for (script, code) in scripts.iter_mut() {
                    if let Some(body) = code.as_str() {
                        files.push(text(
                            format!("database-connections/{name}/{script}.js"),
                            body,
                        ));
                        *code = Value::String(format!("./{script}.js"));
                    }
                }
            }
            files.push((
                format!("database-connections/{name}/database.json").into(),
                json_text(&db)?,
            ));
        }
    }
    // Branding, and its universal login template beside its JSON.
    if let Some(Value::Object(branding)) = assets.get("branding") {
        let mut branding = branding.clone();
        if let Some(Value::Array(templates)) = branding.remove("templates") {
            for t in templates {
                let name = by("template")(&t);
                let body = t["body"].as_str().unwrap_or_default();
                files.push(text(format!("branding/templates/{name}.html"), body));
                files.push((
                    format!("branding/templates/{name}.json").into(),
                    json_text(&serde_json::json!({"template": t["template"], "body": format!("./{name}.html")}))?,
                ));
            }
        }
        files.push((
            "branding/branding.json".into(),
            json_text(&Value::Object(branding))?,
        ));
    }
    // Prompts: settings, custom text, partials (each in a liquid file), screen renderers.
    if let Some(Value::Object(prompts)) = assets.get("prompts") {
        let mut prompts = prompts.clone();
        if let Some(texts) = prompts.remove("customText") {
            files.push(("prompts/custom-text.json".into(), json_text(&texts)?));
        }
        if let Some(Value::Object(partials)) = prompts.remove("partials") {
            let mut listed = Map::new();
            for (prompt, screens) in &partials {
                let mut by_screen = Vec::new();
                for (screen, inserts) in screens.as_object().into_iter().flatten() {
                    let mut entries = Vec::new();
                    for (insert, body) in inserts.as_object().into_iter().flatten() {
                        let file = format!("partials/{prompt}/{screen}/{insert}.liquid");
                        files.push(text(
                            format!("prompts/{file}"),
                            body.as_str().unwrap_or_default(),
                        ));
                        entries.push(serde_json::json!({"name": insert, "template": file}));
                    }
                    by_screen.push(serde_json::json!({ screen.clone(): entries }));
                }
                listed.insert(prompt.clone(), Value::Array(by_screen));
            }
            files.push((
                "prompts/partials.json".into(),
                json_text(&Value::Object(listed))?,
            ));
        }
        if let Some(Value::Array(renderers)) = prompts.remove("screenRenderers") {
            for r in &renderers {
                let (prompt, screen) = (by("prompt")(r), by("screen")(r));
                files.push((
                    format!("prompts/screenRenderSettings/{prompt}_{screen}.json").into(),
                    json_text(r)?,
                ));
            }
        }
        files.push((
            "prompts/prompts.json".into(),
            json_text(&Value::Object(prompts))?,
        ));
    }
    for (asset, folder) in EMPTY_FOLDERS {
        if assets
            .get(*asset)
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            files.push((format!("{folder}/").into(), Vec::new()));
        }
    }
    Ok(files)
}
