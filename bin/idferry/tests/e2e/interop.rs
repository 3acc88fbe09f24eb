//! auth0-deploy-cli (npm, pinned by the committed lockfile) judges our restores and the
//! emulator: it exports the source tenant and the tenant idferry restored it into, in
//! its directory format, and the two trees must be equal once what differs between any
//! two tenants by construction (timestamps and domain verification records the API
//! makes up, key order, and the ids a0deploy leaves in place, each read as what it
//! names in its own tenant) is set aside. An id of the source left in the target, a
//! reference that points at the wrong object, a secret dropped or an action not
//! deployed all show. It also imports a tenant file of every asset type it handles
//! into an empty tenant and exports it again: the same assets, as a0deploy itself loads
//! both. a0deploy runs unpatched: the tenants serve HTTPS with the emulator's
//! certificate (`idferry emulate --tls`), which node is told to trust.
//!
//! The official Node SDK (npm `auth0`, pinned by the same lockfile) reads every kind of
//! an emulated tenant the way a user's script does, through its own paging: each call
//! succeeds unless the spec lacks its operation, and each list counts what the tenant
//! holds. A second script creates, reads, lists, updates and deletes one object of
//! every catalog kind with it, and runs a users import and a users export job.

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

/// Lists whose order the API does not define, by file prefix, key and the field they
/// are put in order by: an organization's connections are listed in the order the
/// tenant added them, which a restore does not promise to keep (one run in several
/// added acme-okta first).
const ORDER_FREE: &[(&str, &str, &str)] = &[("organizations/", "connections", "name")];

/// `v`, of the file `name`, with the lists of [`ORDER_FREE`] put in order.
fn in_any_order(name: &str, v: &mut Value) {
    for (prefix, key, by) in ORDER_FREE {
        if let (true, Some(Value::Array(items))) = (name.starts_with(prefix), v.get_mut(*key)) {
            items.sort_by_cached_key(|i| i.get(*by).map(Value::to_string).unwrap_or_default());
        }
    }
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
                in_any_order(&name, &mut v);
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

/// The tenant file a team keeps in Git: auth0-deploy-cli's YAML with its code and HTML
/// beside it, every asset type a0deploy 8.44 handles but one (below), each secret a
/// `##KEYWORD##` its keyword mappings fill in.
const TENANT_FILE: &str = "bin/idferry/tests/e2e/a0deploy-tenant/tenant.yaml";

/// Asset types of [`TENANT_FILE`] a0deploy's export cannot give back, each with why; the
/// test reads them from the tenant instead. (The file leaves out `rateLimitPolicies`:
/// the Management API spec the emulator serves has no `/rate-limit-policies`, so the
/// emulator answers it 404 as any path outside the spec.)
const NOT_EXPORTED: &[(&str, &str)] = &[
    (
        "rulesConfigs",
        "values are write-only: a0deploy exports none",
    ),
    (
        "guardianFactorProviders",
        "a0deploy 8.44 exports none whatever the tenant holds: it reads `.data` of an answer the SDK no longer wraps",
    ),
];

/// A request to `tenant` of `p` over HTTPS, trusting the emulator's certificate; the
/// answer's body, after checking it succeeded.
async fn api(
    p: &Pair,
    tenant: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    idferry_pacing::install_tls_provider();
    let t = p.emu.tenant(tenant).unwrap();
    let pem = std::fs::read(p.certificate.as_ref().unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let mut request = http
        .request(method.clone(), format!("{}/api/v2{path}", t.base_url))
        .bearer_auth(&t.static_token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status();
    let bytes = answer.bytes().await.unwrap();
    assert!(
        status.is_success(),
        "{method} {path} on {tenant}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// Adds `domain` to `tenant` of `p` as a custom domain and verifies it, as a team does
/// once its DNS records are set.
async fn verified_domain(p: &Pair, tenant: &str, domain: &str) {
    let created = api(
        p,
        tenant,
        reqwest::Method::POST,
        "/custom-domains",
        Some(serde_json::json!({"domain": domain, "type": "auth0_managed_certs"})),
    )
    .await;
    let id = created["custom_domain_id"].as_str().unwrap();
    let verify = format!("/custom-domains/{id}/verify");
    api(p, tenant, reqwest::Method::POST, &verify, None).await;
}

/// The assets of an a0deploy tenant file as a0deploy itself loads them (its YAML
/// context: code files read in, keyword markers left as they are).
async fn assets(file: &Path) -> serde_json::Map<String, Value> {
    let tools = tokio::task::spawn_blocking(crate::tools::npm_tools)
        .await
        .unwrap();
    let output = tokio::process::Command::new("node")
        .arg(crate::common::repo().join("bin/idferry/tests/e2e/npm/a0deploy-assets.cjs"))
        .arg(file)
        .env("NODE_PATH", tools.join("node_modules"))
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "a0deploy loads {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    // a0deploy's directory context logs on stdout: the assets are the last line.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("a0deploy's assets: {e}: {stdout}"))
}

/// Whether `s` stands for a secret in a0deploy's files: a `##KEYWORD##` marker, or what
/// its export writes for a hook secret.
fn is_secret_marker(s: &str) -> bool {
    (s.len() > 4 && s.starts_with("##") && s.ends_with("##")) || s == "_VALUE_NOT_SHOWN_"
}

/// `v` as an export can show it: without secrets (a marker, or a client credential's
/// `pem`, which no read answers), without what each tenant makes up
/// ([`MADE_UP_PER_TENANT`]), and with lists in a canonical order (an export lists in
/// the tenant's order, a file in its author's).
fn comparable(v: &mut Value) {
    without_made_up(v);
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.retain(|k, v| !(k == "pem" || v.as_str().is_some_and(is_secret_marker)));
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => {
                items.iter_mut().for_each(walk);
                items.sort_by_cached_key(|i| i.to_string());
            }
            _ => {}
        }
    }
    walk(v);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_file_of_every_kind_a0deploy_handles_goes_in_comes_out_and_is_restored() {
    // a0deploy imports the file into the empty acme-staging and exports it again: the
    // same assets, as a0deploy loads both. idferry then backs acme-staging up and
    // restores it into the empty acme-qa, which a0deploy finds equal.
    let (p, file, text, config) = tenant_file_pair().await;
    let config = config.to_str().unwrap();
    a0(
        &p,
        "acme-staging",
        &["import", "--config_file", config, "--input_file"],
        &file,
    )
    .await;
    the_tenant_holds_the_file(&p, "acme-staging", &file, &text).await;

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

/// Emulated tenants for the team's tenant file ([`TENANT_FILE`]): the empty acme-qa
/// beside acme-staging, the team's custom domain verified in both (Auth0 makes a custom
/// domain the default only once its DNS is verified); the file, its text, and a0deploy's
/// config file giving every keyword of it a value.
async fn tenant_file_pair() -> (Pair, PathBuf, String, PathBuf) {
    let p = Pair::tls(0, &["acme-qa"]).await;
    let file = crate::common::repo().join(TENANT_FILE);
    for tenant in ["acme-staging", "acme-qa"] {
        verified_domain(&p, tenant, "login.acme-prod.example.com").await;
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let config = keyword_config(&p, &text);
    (p, file, text, config)
}

/// a0deploy's config file giving every keyword of the tenant file `text` a value
/// (`value-of-KEY`, in lower case): its path in `p`.
fn keyword_config(p: &Pair, text: &str) -> PathBuf {
    let mappings: serde_json::Map<String, Value> = text
        .split("'##")
        .skip(1)
        .filter_map(|rest| rest.split_once("##'"))
        .map(|(key, _)| {
            (
                key.to_owned(),
                Value::String(format!("value-of-{}", key.to_lowercase())),
            )
        })
        .collect();
    assert!(mappings.len() >= 10, "the file's secrets: {mappings:?}");
    let config = p.path().join("a0deploy-config.json");
    std::fs::write(
        &config,
        serde_json::json!({"AUTH0_KEYWORD_REPLACE_MAPPINGS": mappings}).to_string(),
    )
    .unwrap();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_file_restored_by_idferry_is_what_a0deploy_exports_of_the_tenant() {
    // idferry reads the team's tenant file (keywords from a0deploy's own config file)
    // and restores it into the empty acme-staging, and a pipeline with the file as its
    // source into the empty acme-qa; a0deploy exports each and finds the file, as it
    // does after its own import.
    let (p, file, text, config) = tenant_file_pair().await;
    let (file_arg, config_arg) = (file.to_str().unwrap(), config.to_str().unwrap());
    let restore = |extra: &[&'static str]| {
        let mut args = vec![
            "restore",
            file_arg,
            "--to",
            "acme-staging",
            "--keywords",
            config_arg,
        ];
        args.extend(extra);
        args
    };
    let (code, out, err) = p.idferry(&restore(&["--plan", "--json"])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    // What a0deploy's file cannot hold is asked for: a vault connection's setup.
    let needed: Vec<&str> = plan["plan"]["needed_values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(needed, ["setup"], "{}", plan["plan"]["needed_values"]);
    // The file holds every asset type a0deploy handles, and the reader reads each one.
    let unread: Vec<&str> = plan["plan"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|n| n.contains("an asset type idferry does not read"))
        .collect();
    assert!(unread.is_empty(), "{unread:?}");
    std::fs::write(p.path().join("values.toml"), values_for(&plan["plan"])).unwrap();
    let started = std::time::Instant::now();
    let (code, out, err) = p
        .idferry(&restore(&["--values", "values.toml", "--yes"]))
        .await;
    eprintln!(
        "idferry restore tenant.yaml into the empty acme-staging: {:.2?}",
        started.elapsed()
    );
    assert_eq!(code, 0, "{out}\n{err}");
    the_tenant_holds_the_file(&p, "acme-staging", &file, &text).await;
    // Restored again: nothing left to do.
    let (code, out, err) = p.idferry(&restore(&["--plan", "--json"])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let again: Value = serde_json::from_str(&out).unwrap();
    let changed: Vec<String> = again["plan"]["tally"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, t)| t["create"].as_u64().unwrap_or(0) + t["update"].as_u64().unwrap_or(0) > 0)
        .map(|(k, t)| format!("{k}: {t}"))
        .collect();
    assert!(changed.is_empty(), "a second restore changes: {changed:?}");

    let spec = p.path().join("from-git.toml");
    std::fs::write(
        &spec,
        format!(
            "name = \"from-git\"\n[source]\nfiles = {file:?}\nkeywords = {config:?}\n[[sink]]\ntype = \"restore\"\nto = \"acme-qa\"\nvalues = \"values.toml\"\n",
            file = file_arg,
            config = config_arg
        ),
    )
    .unwrap();
    let (code, out, err) = p
        .idferry(&["run", spec.to_str().unwrap(), "--run-dir", "run-from-git"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    the_tenant_holds_the_file(&p, "acme-qa", &file, &text).await;
}

/// a0deploy's export of `tenant` of `p` against the tenant file `file` (`text`) that
/// was written into it: the same assets, as a0deploy loads both, and what an export
/// cannot show read from the tenant (the rules config, the guardian provider, the
/// client's key, the email provider's secret).
async fn the_tenant_holds_the_file(p: &Pair, tenant: &str, file: &Path, text: &str) {
    let out = p.path().join(format!("a0-export-{tenant}"));
    a0(
        p,
        tenant,
        &["export", "--format", "yaml", "--output_folder"],
        &out,
    )
    .await;
    let (mut wrote, mut read) = (assets(file).await, assets(&out.join("tenant.yaml")).await);
    // a0deploy 8.44 knows 44 asset types; the file holds all but two: its client
    // credentials are written inside their client (`client_authentication_methods`
    // with a pem, where a0deploy's own handler takes them from), and rate-limit
    // policies are outside the spec (above).
    assert_eq!(
        wrote.len(),
        44,
        "a0deploy's asset types: {:?}",
        wrote.keys()
    );
    let mut absent: Vec<&str> = wrote
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k.as_str())
        .collect();
    absent.sort_unstable();
    assert_eq!(absent, ["clientAuthCredentials", "rateLimitPolicies"]);
    assert!(text.contains("client_authentication_methods:") && text.contains("pem: |"));
    for (kind, _why) in NOT_EXPORTED {
        assert!(
            wrote
                .remove(*kind)
                .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        );
        read.remove(*kind);
    }
    let differ: Vec<String> = wrote
        .iter_mut()
        .filter_map(|(kind, w)| {
            let mut r = read.get(kind.as_str()).cloned().unwrap_or(Value::Null);
            comparable(w);
            comparable(&mut r);
            (*w != r).then(|| format!("{kind}:\n  file:   {w}\n  export: {r}"))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "a0deploy exports other than it imported:\n{}",
        differ.join("\n")
    );
    // What the export cannot show, read from the tenant: the rules config, the
    // guardian provider, the client's key and the secrets' values.
    let configs = api(p, tenant, reqwest::Method::GET, "/rules-configs", None).await;
    assert_eq!(configs, serde_json::json!([{"key": "SLACK_URL"}]));
    let twilio = api(
        p,
        tenant,
        reqwest::Method::GET,
        "/guardian/factors/sms/providers/twilio",
        None,
    )
    .await;
    assert_eq!(twilio["sid"], "AC1111111111111111111111111111111");
    let clients = api(p, tenant, reqwest::Method::GET, "/clients", None).await;
    let sync = clients
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Orders Sync")
        .unwrap();
    let credentials = format!(
        "/clients/{}/credentials",
        sync["client_id"].as_str().unwrap()
    );
    let credentials = api(p, tenant, reqwest::Method::GET, &credentials, None).await;
    assert_eq!(credentials[0]["name"], "orders-sync-key", "{credentials}");
    let staging = p.emu.tenant(tenant).unwrap();
    let sendgrid = staging.with(|s| {
        s.singletons
            .get(&("email_provider", String::new()))
            .cloned()
    });
    assert_eq!(
        sendgrid.unwrap()["credentials"]["api_key"],
        "value-of-sendgrid_api_key"
    );
}

/// Runs the SDK script `script` (in `tests/e2e/npm`) against `tenant` of `p` over HTTPS;
/// its report.
async fn sdk_script(p: &Pair, tenant: &str, script: &str) -> Value {
    let tools = tokio::task::spawn_blocking(crate::tools::npm_tools)
        .await
        .unwrap();
    let t = p.emu.tenant(tenant).unwrap();
    let output = tokio::process::Command::new("node")
        .arg(
            crate::common::repo()
                .join("bin/idferry/tests/e2e/npm")
                .join(script),
        )
        .env("AUTH0_DOMAIN", t.base_url.strip_prefix("https://").unwrap())
        .env("AUTH0_TOKEN", &t.static_token)
        .env("NODE_EXTRA_CA_CERTS", p.certificate.as_ref().unwrap())
        .env("NODE_PATH", tools.join("node_modules"))
        .output()
        .await
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script}: {stderr}");
    // a0deploy's directory context logs on stdout: the assets are the last line.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("a0deploy's assets: {e}: {stdout}"))
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
    // Fewer than the 1000 users offset paging reaches (the SDK pages users by offset;
    // past 1000 Auth0, and the emulator, refuse: an export job is the way).
    let p = Pair::tls(300, &[]).await;
    let t = p.emu.tenant("acme-prod").unwrap();
    let report = sdk_script(&p, "acme-prod", "sdk-reads.cjs").await;
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

/// Catalog kinds the official SDK has no call for, each with why.
const SDK_LACKS: &[(&str, &str)] = &[(
    "guardian_duo_settings",
    "auth0 7.1 has no call for Duo's settings (/guardian/factors/duo/settings)",
)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdk_creates_reads_lists_updates_and_deletes_every_kind_and_runs_jobs() {
    let p = Pair::tls(0, &[]).await;
    let report = sdk_script(&p, "acme-staging", "sdk-every-kind.cjs").await;
    let kinds = report["kinds"].as_object().unwrap();
    let mut failed = Vec::new();
    let mut operations = 0;
    for kind in idferry_auth0::CATALOG {
        let Some(ops) = kinds.get(kind.name).and_then(Value::as_object) else {
            failed.push(format!("{}: the script does not work it", kind.name));
            continue;
        };
        if SDK_LACKS.iter().any(|(k, _)| *k == kind.name) {
            continue;
        }
        for (op, outcome) in ops {
            operations += 1;
            if outcome != "ok" {
                failed.push(format!("{} {op}: {outcome}", kind.name));
            }
        }
    }
    for (job, outcome) in report["jobs"].as_object().unwrap() {
        if outcome != "ok" {
            failed.push(format!("{job} job: {outcome}"));
        }
    }
    assert!(
        failed.is_empty(),
        "the SDK against the emulator:\n{}",
        failed.join("\n")
    );
    eprintln!(
        "sdk: {} kinds, {operations} operations, import and export jobs done; without an SDK call: {SDK_LACKS:?}",
        idferry_auth0::CATALOG.len() - SDK_LACKS.len()
    );
}

/// Secrets a0deploy's export writes in clear and idferry as a keyword marker: (asset,
/// field). A SAML connection's signing key.
const IN_CLEAR_IN_A0DEPLOY: &[(&str, &str)] = &[("connections", "options.signing_key")];

/// `assets` (of one tenant file) as a0deploy's export and idferry's can be compared:
/// the secrets a0deploy writes in clear set aside, every keyword marker (`##KEY##`, and
/// `@@KEY@@` standing for an object) left out with the object it emptied, then as
/// [`comparable`].
fn exported(mut assets: serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    for (asset, field) in IN_CLEAR_IN_A0DEPLOY {
        if let Some(Value::Array(objects)) = assets.get_mut(*asset) {
            for o in objects {
                idferry_model::record::remove_path(o, field);
            }
        }
    }
    fn unmarked(v: &mut Value) {
        if let Value::Object(map) = v {
            map.retain(|_, v| {
                !v.as_str()
                    .is_some_and(|s| s.len() > 4 && s.starts_with("@@") && s.ends_with("@@"))
            });
            for v in map.values_mut() {
                let before = v.as_object().is_some_and(|m| !m.is_empty());
                unmarked(v);
                comparable(v);
                if before && v.as_object().is_some_and(serde_json::Map::is_empty) {
                    *v = Value::Null;
                }
            }
            map.retain(|_, v| !v.is_null());
        } else if let Value::Array(items) = v {
            items.iter_mut().for_each(unmarked);
        }
    }
    // Keys in one order, so that lists sort the same whoever wrote them.
    fn sorted(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.sort_keys();
                map.values_mut().for_each(sorted);
            }
            Value::Array(items) => items.iter_mut().for_each(sorted),
            _ => {}
        }
    }
    let mut v = Value::Object(assets);
    unmarked(&mut v);
    sorted(&mut v);
    comparable(&mut v);
    match v {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_exported_in_a0deploy_formats_is_what_a0deploy_exports_of_its_tenant() {
    let p = Pair::tls(200, &[]).await;
    // The same moment: nothing writes to acme-prod between the backup and a0deploy's
    // exports. An encrypted snapshot holds every secret the tenant gives back.
    let snapshot = p.sealed(&[]).await;
    for (theirs, ours) in [("yaml", "a0deploy-yaml"), ("directory", "a0deploy-dir")] {
        let written = same_as_a0deploy_export(&p, &snapshot, theirs, ours).await;
        // What the format does not carry is named, with why: users, their memberships.
        let left_out = written["left_out"].as_array().unwrap();
        for kind in [
            "users",
            "role_users",
            "organization_members",
            "rules_configs",
        ] {
            assert!(
                left_out
                    .iter()
                    .any(|l| l["kind"] == kind && !l["why"].as_str().unwrap().is_empty()),
                "{ours}: {kind} is named as left out: {left_out:?}"
            );
        }
        let keywords = written["keywords"].as_array().unwrap();
        assert!(
            keywords
                .iter()
                .any(|k| k["word"].as_str().unwrap().contains("SIGNING_KEY")),
            "{keywords:?}"
        );
    }
}

/// Exports `snapshot` (of acme-prod in `p`) in `ours`, acme-prod with a0deploy in
/// `theirs`, and checks that a0deploy loads the same assets from both (after
/// [`exported`]) and that no secret of the snapshot is in idferry's files. What
/// `snapshots export --json` said.
async fn same_as_a0deploy_export(p: &Pair, snapshot: &str, theirs: &str, ours: &str) -> Value {
    let a0_out = p.path().join(format!("a0deploy-{theirs}"));
    let started = std::time::Instant::now();
    a0(
        p,
        "acme-prod",
        &["export", "--format", theirs, "--output_folder"],
        &a0_out,
    )
    .await;
    let a0_took = started.elapsed();
    let our_out = p.path().join(format!("idferry-{ours}"));
    let started = std::time::Instant::now();
    let (code, out, err) = p
        .idferry_env(
            &[
                "snapshots",
                "export",
                snapshot,
                "--format",
                ours,
                "--out",
                our_out.to_str().unwrap(),
                "--passphrase-env",
                "IDF_PASSPHRASE",
                "--json",
            ],
            &PASSPHRASE,
        )
        .await;
    let took = started.elapsed();
    assert_eq!(code, 0, "{out}\n{err}");
    eprintln!(
        "acme-prod in {ours}: idferry snapshots export {took:.2?}, a0deploy export -f {theirs} {a0_took:.2?}"
    );
    let load = |dir: &Path| {
        if theirs == "yaml" {
            dir.join("tenant.yaml")
        } else {
            dir.to_owned()
        }
    };
    let a = assets(&load(&a0_out)).await;
    let (a, b) = (exported(a), exported(assets(&load(&our_out)).await));
    // a0deploy 8.44 lists two asset types it never fills (rate-limit policies, client
    // credentials) as null.
    let a: serde_json::Map<String, Value> = a.into_iter().filter(|(_, v)| !v.is_null()).collect();
    let keys = |m: &serde_json::Map<String, Value>| {
        m.keys().cloned().collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(keys(&a), keys(&b), "{ours}: the same asset types");
    let differ: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}:\n  a0deploy: {v}\n  idferry:  {}", b[k]))
        .collect();
    assert!(
        differ.is_empty(),
        "{ours}: the exports differ:\n{}",
        differ.join("\n")
    );
    assert!(a.len() >= 40, "{} asset types", a.len());

    // No secret is written in clear: not the one a0deploy shows, nor any the snapshot
    // holds (each is a keyword marker the command lists).
    let (code, cat, err) = p
        .idferry_env(
            &[
                "snapshots",
                "cat",
                snapshot,
                "connections",
                "--passphrase-env",
                "IDF_PASSPHRASE",
            ],
            &PASSPHRASE,
        )
        .await;
    assert_eq!(code, 0, "{err}");
    let kind = idferry_auth0::catalog::find("connections").unwrap();
    let mut secrets: Vec<String> = Vec::new();
    for line in cat.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        for path in kind.secrets {
            for v in idferry_model::record::values_at(&record, path) {
                idferry_model::record::map_strings(&mut v.clone(), &mut |s| {
                    if s.len() > 8 {
                        secrets.push(s.to_owned());
                    }
                    None
                });
            }
        }
    }
    assert!(
        secrets.iter().any(|s| s.contains("PRIVATE KEY")),
        "the snapshot holds the SAML key: {secrets:?}"
    );
    for file in walk(&our_out) {
        let text = std::fs::read_to_string(&file).unwrap();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{} holds a secret in clear",
                file.display()
            );
        }
    }
    serde_json::from_str(&out).unwrap()
}

/// Every file under `root`.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_file_a0deploy_rejects_is_rejected_naming_its_file_line_and_key() {
    // The team's file with one client's name taken out: a0deploy's import refuses it,
    // and so does idferry's restore, before anything is written.
    let p = Pair::tls(0, &[]).await;
    let source = crate::common::repo().join("bin/idferry/tests/e2e/a0deploy-tenant");
    let dir = p.path().join("broken");
    copy_tree(&source, &dir);
    let file = dir.join("tenant.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let broken = text.replacen(
        "clients:\n  - name: Acme Android\n    allowed_logout_urls:",
        "clients:\n  - allowed_logout_urls:",
        1,
    );
    assert_ne!(broken, text);
    std::fs::write(&file, &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l == "  - allowed_logout_urls:")
        .unwrap()
        + 1;
    let config = keyword_config(&p, &broken);

    let t = p.emu.tenant("acme-staging").unwrap();
    let domain = t.base_url.strip_prefix("https://").unwrap().to_owned();
    let output = tokio::process::Command::new(a0deploy())
        .args([
            "import",
            "--config_file",
            config.to_str().unwrap(),
            "--input_file",
        ])
        .arg(&file)
        .env("AUTH0_DOMAIN", domain)
        .env("AUTH0_ACCESS_TOKEN", &t.static_token)
        .env("NODE_EXTRA_CA_CERTS", p.certificate.as_ref().unwrap())
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "a0deploy took it:\n{said}");
    assert!(
        said.contains(".clients[0]") && said.contains("required property 'name'"),
        "a0deploy: {said}"
    );

    let before = api(&p, "acme-staging", reqwest::Method::GET, "/clients", None).await;
    let (code, out, err) = p
        .idferry(&[
            "restore",
            file.to_str().unwrap(),
            "--to",
            "acme-staging",
            "--keywords",
            config.to_str().unwrap(),
            "--yes",
        ])
        .await;
    assert_ne!(code, 0, "{out}\n{err}");
    let expected = format!(
        "{}:{line}:5: clients[0]: missing field `name`",
        file.display()
    );
    assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
    let after = api(&p, "acme-staging", reqwest::Method::GET, "/clients", None).await;
    assert_eq!(before, after, "nothing was written");
}

/// Copies the folder `from` to `to`, files and folders.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_through_a0deploy_files_restores_its_configuration_and_compares_with_them() {
    // acme-prod's configuration written as a0deploy's directory tree, restored from
    // the tree into the empty acme-staging by idferry and into the empty acme-qa by
    // a0deploy's own import; a backup of either differs from acme-prod's snapshot only
    // in what the export named as not carried.
    let p = Pair::tls(0, &["acme-qa"]).await;
    let snapshot = p.backup("acme-prod").await;
    let snapshot = snapshot.to_str().unwrap();
    let (code, out, err) = p
        .idferry(&[
            "snapshots",
            "export",
            snapshot,
            "--format",
            "a0deploy-dir",
            "--out",
            "tree",
            "--json",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let written: Value = serde_json::from_str(&out).unwrap();
    let left_out: Vec<&str> = written["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();

    // The live tenant, read now, compares with its snapshot: the same configuration.
    let (code, out, err) = p
        .idferry(&["snapshots", "diff", snapshot, "acme-prod", "--json"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.trim(), "[]", "{err}");

    // The files compare with the snapshot they came from: only what they do not carry.
    let (code, out, err) = p
        .idferry(&[
            "snapshots",
            "diff",
            snapshot,
            "tree",
            "--ignore-ids",
            "--json",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let same_as_files: Vec<Value> = serde_json::from_str(&out).unwrap();

    let restore = |extra: &[&'static str]| {
        let mut args = vec!["restore", "tree", "--to", "acme-staging"];
        args.extend(extra);
        args
    };
    let (code, out, err) = p.idferry(&restore(&["--plan", "--json"])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    // Every secret is a keyword without a value here: each is asked for.
    assert!(
        plan["plan"]["needed_values"].as_array().unwrap().len() >= 5,
        "{}",
        plan["plan"]["needed_values"]
    );
    std::fs::write(p.path().join("values.toml"), values_for(&plan["plan"])).unwrap();
    let (code, out, err) = p
        .idferry(&restore(&["--values", "values.toml", "--yes"]))
        .await;
    assert_eq!(code, 0, "{out}\n{err}");

    let staging = p.backup("acme-staging").await;
    let (code, out, err) = p
        .idferry(&[
            "snapshots",
            "diff",
            snapshot,
            staging.to_str().unwrap(),
            "--ignore-ids",
            "--json",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let diffs: Vec<Value> = serde_json::from_str(&out).unwrap();
    let unexpected: Vec<&Value> = diffs
        .iter()
        .filter(|d| {
            let k = d["kind"].as_str().unwrap();
            !left_out
                .iter()
                .any(|l| *l == k || l.starts_with(&format!("{k} (")))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "differences the export did not name as not carried: {unexpected:#?}\n(named: {left_out:?})"
    );
    // a0deploy imports the same tree into acme-qa, every keyword given a value (of the
    // shape the sample values file has for its field).
    let samples: toml::Table =
        std::fs::read_to_string(crate::common::repo().join("samples/pipelines/values.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let mut mappings = serde_json::Map::new();
    for k in written["keywords"].as_array().unwrap() {
        let table = samples.get(k["kind"].as_str().unwrap());
        let table = match k["object"].as_str() {
            Some(o) => table.and_then(|t| t.get(o)),
            None => table,
        };
        let sample = table.and_then(|t| t.get(k["field"].as_str().unwrap()));
        let value = match sample {
            Some(v) if k["json"] == true => serde_json::to_value(v).unwrap(),
            _ => Value::String(format!("value-of-{}", k["word"].as_str().unwrap())),
        };
        assert!(k["json"] != true || value.is_object(), "a sample for {k}");
        mappings.insert(k["word"].as_str().unwrap().to_owned(), value);
    }
    let config = p.path().join("qa-keywords.json");
    std::fs::write(
        &config,
        serde_json::json!({ "AUTH0_KEYWORD_REPLACE_MAPPINGS": mappings }).to_string(),
    )
    .unwrap();
    a0(
        &p,
        "acme-qa",
        &[
            "import",
            "--config_file",
            config.to_str().unwrap(),
            "--input_file",
        ],
        &p.path().join("tree"),
    )
    .await;
    let qa = p.backup("acme-qa").await;
    let (code, out, err) = p
        .idferry(&[
            "snapshots",
            "diff",
            snapshot,
            qa.to_str().unwrap(),
            "--ignore-ids",
            "--json",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let qa_diffs: Vec<Value> = serde_json::from_str(&out).unwrap();
    // What a0deploy's import itself sets: the schema's default of a database
    // connection's `disable_self_service_change_password`, and an empty message of a
    // passwordless email connection that has none.
    const A0DEPLOY_IMPORT_SETS: &[&str] = &[
        "options.disable_self_service_change_password",
        "options.email.body",
    ];
    let named = |k: &str| {
        left_out
            .iter()
            .any(|l| *l == k || l.starts_with(&format!("{k} (")))
    };
    let unexpected: Vec<&Value> = qa_diffs
        .iter()
        .filter(|d| !named(d["kind"].as_str().unwrap()))
        .filter(|d| {
            d["kind"] != "connections"
                || !d["added"].as_array().unwrap().is_empty()
                || !d["removed"].as_array().unwrap().is_empty()
                || d["changed"].as_array().unwrap().iter().any(|c| {
                    c["fields"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|f| !A0DEPLOY_IMPORT_SETS.contains(&f.as_str().unwrap()))
                })
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "after a0deploy's import, differences the export did not name: {unexpected:#?}\n(named: {left_out:?})"
    );

    // Compared with the files, the restored tenant differs in no more kinds than the
    // snapshot it came from did, and each of those is one the files do not carry.
    let kinds = |d: &[Value]| {
        d.iter()
            .map(|k| k["kind"].as_str().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (code, out, err) = p
        .idferry(&[
            "snapshots",
            "diff",
            staging.to_str().unwrap(),
            "tree",
            "--ignore-ids",
            "--json",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let staging_vs_files: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(
        kinds(&staging_vs_files).is_subset(&kinds(&same_as_files)),
        "staging against the files: {staging_vs_files:#?}"
    );
    // Each named alone, or for a field (`clients (client_secret)`).
    let explained = |k: &String| {
        left_out
            .iter()
            .any(|l| *l == k || l.starts_with(&format!("{k} (")))
    };
    assert!(
        kinds(&same_as_files).iter().all(explained),
        "the snapshot against its files: {same_as_files:#?}"
    );
}
