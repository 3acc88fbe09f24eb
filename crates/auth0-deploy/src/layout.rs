//! Where auth0-deploy-cli's YAML format puts each asset: `tenant.yaml`, with code, HTML
//! and the JSON bodies of forms, flows and screen renderers in files beside it that the
//! YAML names by path (`./rules/add-country.js`), as its `export -f yaml` lays them out.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::DeployError;

/// A file to write: its path under the output folder, and its bytes.
pub type File = (PathBuf, Vec<u8>);

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

const IN_FILES: &[InFile] = &[
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
