//! auth0-deploy-cli (npm, pinned by the committed lockfile) judges our restores: it
//! exports the source tenant and the tenant idferry restored it into, in its directory
//! format, and the two trees must be equal once what differs between any two tenants by
//! construction (timestamps and domain verification records the API makes up, key
//! order, and the ids a0deploy leaves in place, each read as what it names in its own
//! tenant) is set aside. An id of the source left in
//! the target, a reference that points at the wrong object, a secret dropped or an action
//! not deployed all show. a0deploy runs unpatched: the tenants serve HTTPS with the
//! emulator's certificate (`idferry emulate --tls`), which node is told to trust.
//!
//! The official Node SDK (npm `auth0`, pinned by the same lockfile) reads every kind of
//! an emulated tenant the way a user's script does, through its own paging: each call
//! succeeds unless the spec lacks its operation, and each list counts what the tenant
//! holds.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::restore::{PASSPHRASE, Pair, values_for};
use crate::tools::a0deploy;

/// Exports `tenant` of `p` with a0deploy into `out` (directory format).
async fn export(p: &Pair, tenant: &str, out: &Path) {
    a0(
        p,
        tenant,
        &["export", "--format", "directory", "--output_folder"],
        out,
    )
    .await;
}

/// Runs a0deploy `args` then `path` against `tenant` of `p`; panics with its output
/// when it fails.
async fn a0(p: &Pair, tenant: &str, args: &[&str], path: &Path) {
    let t = p.emu.tenant(tenant).unwrap();
    let domain = t
        .base_url
        .strip_prefix("https://")
        .expect("a0deploy speaks HTTPS only: start the pair with Pair::tls")
        .to_owned();
    let certificate = p.certificate.as_ref().expect("the pair's certificate");
    let output = tokio::process::Command::new(a0deploy())
        .args(args)
        .arg(path)
        .env("AUTH0_DOMAIN", domain)
        .env("AUTH0_ACCESS_TOKEN", &t.static_token)
        .env("NODE_EXTRA_CA_CERTS", certificate)
        .output()
        .await
        .expect("a0deploy runs");
    assert!(
        output.status.success(),
        "a0deploy {args:?} with {tenant}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Restores the encrypted `snapshot` into `target` with a values file giving every
/// write-only value its plan asks for.
async fn restore_with_values(p: &Pair, snapshot: &str, target: &str) {
    let env = PASSPHRASE;
    let restore = |extra: &[&'static str]| {
        let mut args = vec![
            "restore",
            snapshot,
            "--to",
            target,
            "--passphrase-env",
            "IDF_PASSPHRASE",
        ];
        args.extend(extra);
        args
    };
    let (code, out, err) = p.idferry_env(&restore(&["--plan", "--json"]), &env).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    std::fs::write(p.path().join("values.toml"), values_for(&plan["plan"])).unwrap();
    let (code, out, err) = p
        .idferry_env(&restore(&["--values", "values.toml", "--yes"]), &env)
        .await;
    assert_eq!(code, 0, "restore:\n{out}\n{err}");
}

/// Fields the platform makes up per tenant when an object is written: its timestamps,
/// and the DNS records that prove a domain is the tenant's (a custom domain's
/// `verification`, a discovery domain's `verification_txt`), which no restore carries.
const MADE_UP_PER_TENANT: &[&str] = &[
    "created_at",
    "updated_at",
    "verification",
    "verification_txt",
];

/// Drops the fields [`MADE_UP_PER_TENANT`], at any depth.
fn without_made_up(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !MADE_UP_PER_TENANT.contains(&k.as_str()));
            map.values_mut().for_each(without_made_up);
        }
        Value::Array(items) => items.iter_mut().for_each(without_made_up),
        _ => {}
    }
}

/// `kind name` by id for every object of `tenant`, from the emulator's own tables.
fn names_by_id(p: &Pair, tenant: &str) -> HashMap<String, String> {
    p.emu.tenant(tenant).unwrap().with(|s| {
        let mut out = HashMap::new();
        for ((kind, _), table) in &s.tables {
            for record in table.values() {
                let id = record.get("client_id").or_else(|| record.get("id"));
                let name = ["name", "identifier", "description"]
                    .iter()
                    .find_map(|f| record.get(*f)?.as_str());
                if let (Some(Value::String(id)), Some(name)) = (id, name) {
                    out.insert(id.clone(), format!("{kind} {name}"));
                }
            }
        }
        out
    })
}

/// Ids a0deploy leaves as they are (an express configuration's profiles) put as what
/// they name in their own tenant, so that two tenants compare by meaning.
fn named(v: &mut Value, names: &HashMap<String, String>) {
    idferry_model::record::map_strings(v, &mut |s| names.get(s).cloned());
}

/// Every file of an a0deploy directory export, by path: JSON parsed (so that key order
/// does not count) without timestamps and with ids named, other files (code, HTML) as
/// text.
fn tree(root: &Path, names: &HashMap<String, String>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<PathBuf> = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let value = if name.ends_with(".json") {
                let mut v: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
                without_made_up(&mut v);
                named(&mut v, names);
                v
            } else {
                Value::String(text)
            };
            out.insert(name, value);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_deploy_cli_finds_the_restored_tenant_equal_to_its_source() {
    let p = Pair::tls(0, &[]).await;
    // An encrypted snapshot keeps the secrets a0deploy shows (a SAML signing key); the
    // write-only ones, which neither tool can read, come from a values file.
    let snapshot = p
        .sealed(&["--exclude-kinds", "users,role_users,organization_members"])
        .await;
    let snapshot = snapshot.as_str();
    restore_with_values(&p, snapshot, "acme-staging").await;

    same_to_a0deploy(&p, "acme-prod", "acme-staging").await;
}

/// a0deploy's exports of `source` and `target` in `p`: the same files, equal once
/// timestamps and domain verification records, key order and ids (each as what it names
/// in its tenant) are set aside.
async fn same_to_a0deploy(p: &Pair, source: &str, target: &str) {
    let (a, b) = (
        p.path().join(format!("a0-{source}")),
        p.path().join(format!("a0-{target}")),
    );
    export(p, source, &a).await;
    export(p, target, &b).await;
    let (a, b) = (
        tree(&a, &names_by_id(p, source)),
        tree(&b, &names_by_id(p, target)),
    );
    assert!(a.len() > 30, "a0deploy exported {} files", a.len());
    let names = |t: &BTreeMap<String, Value>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same files");
    let differ: Vec<String> = a
        .iter()
        .filter(|(name, v)| b.get(*name) != Some(v))
        .map(|(name, v)| format!("{name}:\n  source: {v}\n  target: {}", b[name]))
        .collect();
    assert!(
        differ.is_empty(),
        "a0deploy sees differences:\n{}",
        differ.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_auth0_deploy_cli_filled_is_restored_as_it_sees_it() {
    // acme-staging is filled by a0deploy itself from a tenant file (acme-prod's, as it
    // exports it); idferry backs it up and restores it into the empty acme-qa.
    let p = Pair::tls(0, &["acme-qa"]).await;
    let file = p.path().join("a0-file");
    a0(
        &p,
        "acme-prod",
        &["export", "--format", "yaml", "--output_folder"],
        &file,
    )
    .await;
    // An export holds no secret values; a user puts theirs back, as a0deploy's keyword
    // mappings would (the platform refuses a log stream, a provider, an action's secret
    // without its value, as the spec says).
    let tenant = file.join("tenant.yaml");
    let text = std::fs::read_to_string(&tenant).unwrap();
    std::fs::write(&tenant, with_secret_values(&text)).unwrap();
    a0(&p, "acme-staging", &["import", "--input_file"], &tenant).await;
    let snapshot = p
        .sealed_of(
            "acme-staging",
            &["--exclude-kinds", "users,role_users,organization_members"],
        )
        .await;
    let snapshot = snapshot.as_str();
    restore_with_values(&p, snapshot, "acme-qa").await;
    same_to_a0deploy(&p, "acme-staging", "acme-qa").await;
}

/// `text` (a0deploy's YAML) with every `'##KEYWORD##'` placeholder replaced, and a value
/// under every named secret of a `secrets:` list that has none.
fn with_secret_values(text: &str) -> String {
    let mut replaced = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("'##") {
        let Some(end) = rest[at + 3..].find("##'") else {
            break;
        };
        replaced.push_str(&rest[..at]);
        replaced.push_str("restored-secret");
        rest = &rest[at + 3 + end + 3..];
    }
    replaced.push_str(rest);
    let text = replaced.as_str();
    let mut out = String::new();
    let mut in_secrets: Option<usize> = None;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if trimmed == "secrets:" {
            in_secrets = Some(indent);
            continue;
        }
        let Some(at) = in_secrets else { continue };
        if !trimmed.is_empty() && indent <= at && !trimmed.starts_with("- ") {
            in_secrets = None;
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("- name: ") {
            let field_indent = indent + 2;
            let has_value = lines[i + 1..]
                .iter()
                .take_while(|l| {
                    let n = l.len() - l.trim_start().len();
                    n >= field_indent && !l.trim_start().starts_with("- ")
                })
                .any(|l| l.trim_start().starts_with("value:"));
            if !has_value && !rest.is_empty() {
                out.push_str(&" ".repeat(field_indent));
                out.push_str("value: restored-secret\n");
            }
        }
    }
    out
}

/// SDK list calls and the catalog kind each reads.
const SDK_LISTS: &[(&str, &str)] = &[
    ("actions.list", "actions"),
    ("actions.modules.list", "action_modules"),
    ("clientGrants.list", "client_grants"),
    ("clients.list", "clients"),
    ("connectionProfiles.list", "connection_profiles"),
    ("connections.list", "connections"),
    ("customDomains.list", "custom_domains"),
    ("eventStreams.list", "event_streams"),
    ("flows.list", "flows"),
    ("flows.vault.connections.list", "flows_vault_connections"),
    ("forms.list", "forms"),
    ("guardian.factors.list", "guardian_factors"),
    ("hooks.list", "hooks"),
    ("logStreams.list", "log_streams"),
    ("networkAcls.list", "network_acls"),
    ("organizations.list", "organizations"),
    ("resourceServers.list", "resource_servers"),
    ("roles.list", "roles"),
    ("rules.list", "rules"),
    ("rulesConfigs.list", "rules_configs"),
    ("selfServiceProfiles.list", "self_service_profiles"),
    ("tokenExchangeProfiles.list", "token_exchange_profiles"),
    ("userAttributeProfiles.list", "user_attribute_profiles"),
    ("users.list", "users"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdk_reads_every_kind_through_its_own_paging() {
    let tools = tokio::task::spawn_blocking(crate::tools::npm_tools)
        .await
        .unwrap();
    // Fewer than the 1000 users offset paging reaches (the SDK pages users by offset;
    // past 1000 Auth0, and the emulator, refuse: an export job is the way).
    let p = Pair::tls(300, &[]).await;
    let t = p.emu.tenant("acme-prod").unwrap();
    let output = tokio::process::Command::new("node")
        .arg(crate::common::repo().join("bin/idferry/tests/e2e/npm/sdk-reads.cjs"))
        .env("AUTH0_DOMAIN", t.base_url.strip_prefix("https://").unwrap())
        .env("AUTH0_TOKEN", &t.static_token)
        .env("NODE_EXTRA_CA_CERTS", p.certificate.as_ref().unwrap())
        .env("NODE_PATH", tools.join("node_modules"))
        .output()
        .await
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the SDK script: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let calls = report["calls"].as_array().unwrap();
    let mut outside_the_spec = Vec::new();
    let mut failed = Vec::new();
    for call in calls.iter().filter(|c| c.get("error").is_some()) {
        let name = call["call"].as_str().unwrap();
        let Some(url) = call["url"].as_str() else {
            // Refused by the SDK before sending (a parameter it requires).
            eprintln!("sdk: {name} not sent: {}", call["error"]);
            continue;
        };
        let path = url
            .split("/api/v2/")
            .nth(1)
            .unwrap_or_default()
            .split('?')
            .next()
            .unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let in_spec = idferry_emulator::judge::AUTH0
            .operation(&reqwest::Method::GET, &segments)
            .is_some();
        if call["status"] == 404 && !in_spec {
            outside_the_spec.push(format!("{name} (/{path})"));
        } else {
            failed.push(call.clone());
        }
    }
    assert!(
        failed.is_empty(),
        "SDK calls the emulator failed: {failed:#?}"
    );
    let held = t.with(|s| s.counts());
    let mut compared = 0;
    for (call, kind) in SDK_LISTS {
        let Some(read) = calls.iter().find(|c| c["call"] == *call) else {
            continue;
        };
        let Some(held) = held.get(*kind) else {
            continue;
        };
        assert_eq!(
            read["items"], *held,
            "{call}: the SDK read {read}, the tenant holds {held}"
        );
        compared += 1;
    }
    eprintln!(
        "sdk: {} calls, {} lists counted against the tenant, {} outside the spec: {outside_the_spec:?}",
        calls.len(),
        compared,
        outside_the_spec.len()
    );
    assert!(compared >= 15, "only {compared} lists compared: {calls:#?}");
    assert!(
        calls
            .iter()
            .any(|c| c["call"] == "users.list" && c["items"] == 300),
        "the SDK paged through every user: {calls:#?}"
    );
}
