//! Restores through the binary: a generated tenant backed up, restored into an empty
//! tenant, and backed up again.

use std::path::{Path, PathBuf};

use idferry_emulator::{Emulator, GenerateSpec, TenantOptions};
use serde_json::Value;

use crate::common::{run_idferry_env, start};

/// The environment of the commands that read [`Pair::sealed`] snapshots.
pub const PASSPHRASE: [(&str, &str); 1] = [("IDF_PASSPHRASE", "correct horse battery staple")];

pub struct Pair {
    pub emu: Emulator,
    pub dir: tempfile::TempDir,
    /// The certificate the tenants serve HTTPS with ([`Pair::tls`]), trusted by the
    /// commands run through the pair.
    pub certificate: Option<PathBuf>,
}

impl Pair {
    /// `acme-prod` generated, `acme-staging` empty.
    pub async fn new(users: usize) -> Self {
        Self::lacking(users, &[]).await
    }

    /// As [`Pair::new`], with acme-prod lacking the features at `unavailable` (paths).
    pub async fn lacking(users: usize, unavailable: &[&str]) -> Self {
        Self::with(users, unavailable, &[]).await
    }

    /// As [`Pair::lacking`], with more empty tenants named `empty`.
    pub async fn with(users: usize, unavailable: &[&str], empty: &[&str]) -> Self {
        Self::start(users, unavailable, empty, false).await
    }

    /// As [`Pair::with`] without unavailable features, every tenant serving HTTPS with
    /// the emulator's self-signed certificate (`idferry emulate --tls`).
    pub async fn tls(users: usize, empty: &[&str]) -> Self {
        Self::start(users, &[], empty, true).await
    }

    async fn start(users: usize, unavailable: &[&str], empty: &[&str], tls: bool) -> Self {
        let mut prod = TenantOptions::new("acme-prod");
        prod.generate = Some(GenerateSpec {
            users,
            organizations: 4,
        });
        prod.unavailable = unavailable.iter().map(|p| (*p).to_owned()).collect();
        let mut tenants = vec![prod, TenantOptions::new("acme-staging")];
        tenants.extend(empty.iter().map(|n| TenantOptions::new(n)));
        for t in &mut tenants {
            t.tls = tls;
        }
        let emu = start(tenants).await;
        let dir = tempfile::tempdir().unwrap();
        emu.write_config(&dir.path().join("idferry.toml")).unwrap();
        let certificate = tls.then(|| dir.path().join(idferry_emulator::server::CERTIFICATE_FILE));
        Self {
            emu,
            dir,
            certificate,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs idferry in the pair's directory (with a scrubbing key for staging maps).
    pub async fn idferry(&self, args: &[&str]) -> (i32, String, String) {
        self.idferry_env(args, &[]).await
    }

    /// As [`Pair::idferry`], with more environment (`env`); the pair's certificate is
    /// trusted through `SSL_CERT_FILE` when its tenants serve HTTPS.
    pub async fn idferry_env(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let certificate = self
            .certificate
            .as_ref()
            .map(|c| c.to_string_lossy().into_owned());
        let mut all: Vec<(&str, &str)> = vec![("IDFERRY_SCRUB_KEY", "test-key")];
        if let Some(c) = &certificate {
            all.push(("SSL_CERT_FILE", c));
        }
        all.extend(env);
        run_idferry_env(args, self.path(), &all).await
    }

    /// A snapshot of acme-prod encrypted with [`PASSPHRASE`] (from `IDF_PASSPHRASE`), so
    /// that it keeps secrets; `extra` adds to the backup's arguments. Its path.
    pub async fn sealed(&self, extra: &[&str]) -> String {
        self.sealed_of("acme-prod", extra).await
    }

    /// As [`Pair::sealed`], of `tenant`.
    pub async fn sealed_of(&self, tenant: &str, extra: &[&str]) -> String {
        let dir = format!("sealed-{tenant}");
        let mut args = vec![
            "backup",
            tenant,
            "--out",
            &dir,
            "--passphrase-env",
            "IDF_PASSPHRASE",
        ];
        args.extend(extra);
        let (code, out, err) = self.idferry_env(&args, &PASSPHRASE).await;
        assert_eq!(code, 0, "{out}\n{err}");
        std::fs::read_dir(self.path().join(&dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|f| f.to_string_lossy().ends_with(".tar.zst.age"))
            .expect("an encrypted snapshot")
            .to_string_lossy()
            .into_owned()
    }

    /// A configuration-only snapshot (users come over with `migrate users`).
    pub async fn backup(&self, tenant: &str) -> PathBuf {
        self.backup_excluding(tenant, "users,role_users,organization_members")
            .await
    }

    /// A snapshot of `tenant` without the kinds `exclude` names (comma-separated).
    pub async fn backup_excluding(&self, tenant: &str, exclude: &str) -> PathBuf {
        let out = format!("snapshots-{tenant}");
        let mut args = vec!["backup", tenant, "--out", &out];
        if !exclude.is_empty() {
            args.extend(["--exclude-kinds", exclude]);
        }
        let (code, stdout, err) = self.idferry(&args).await;
        assert_eq!(code, 0, "backup {tenant}:\n{stdout}\n{err}");
        let dir = self.path().join(out);
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".tar.zst"))
            .collect();
        files.sort();
        files.pop().unwrap()
    }

    /// The plan of restoring `snapshot` into staging, as JSON.
    pub async fn plan(&self, snapshot: &Path, extra: &[&str]) -> Value {
        let mut args = vec![
            "restore",
            snapshot.to_str().unwrap(),
            "--to",
            "acme-staging",
            "--plan",
            "--json",
        ];
        args.extend(extra);
        let (code, out, err) = self.idferry(&args).await;
        assert_eq!(code, 0, "plan:\n{out}\n{err}");
        serde_json::from_str::<Value>(&out).unwrap()["plan"].clone()
    }
}

impl Pair {
    /// Restores prod's configuration into staging (with every value it asks for).
    pub async fn restore_config(&self, extra: &[&str]) {
        let a = self.backup("acme-prod").await;
        let plan = self.plan(&a, extra).await;
        std::fs::write(self.path().join("values.toml"), values_for(&plan)).unwrap();
        let mut args = vec![
            "restore",
            a.to_str().unwrap(),
            "--to",
            "acme-staging",
            "--values",
            "values.toml",
            "--yes",
        ];
        args.extend(extra);
        let (code, out, err) = self.idferry(&args).await;
        assert_eq!(code, 0, "restore:\n{out}\n{err}");
    }
}

/// The ids of a tenant's configuration objects that the platform made up (in the
/// emulator's tables: every object's `id`, `client_id`).
pub fn made_up_ids(p: &Pair, tenant: &str) -> std::collections::HashSet<String> {
    p.emu.tenant(tenant).unwrap().with(|s| {
        s.tables
            .iter()
            .filter(|((kind, _), _)| *kind != "users")
            .flat_map(|(_, t)| t.values())
            .filter_map(|r| r.get("client_id").or_else(|| r.get("id"))?.as_str())
            .filter(|id| id.len() >= 8)
            .map(str::to_owned)
            .collect()
    })
}

/// How many secrets acme-prod has set (read live, secrets included), and `kind name
/// field` of each that acme-staging's object of the same name lacks.
pub async fn unset_secrets(p: &Pair) -> (usize, Vec<String>) {
    use idferry_auth0_import::plan::display_name;
    use idferry_auth0_import::state::{Selection, State};
    let read = |name: &str| {
        let t = p.emu.tenant(name).unwrap().clone();
        async move {
            let client = crate::common::token_client(&t);
            State::from_tenant(&client, Selection::Config, &idferry_model::Silent)
                .await
                .unwrap()
        }
    };
    let (source, target) = (read("acme-prod").await, read("acme-staging").await);
    let set = |v: &Value| !(v.is_null() || v.as_str() == Some(""));
    let (mut checked, mut unset) = (0, Vec::new());
    for kind in idferry_auth0::CATALOG.iter().filter(|k| k.config) {
        for item in source.items(kind.name) {
            let name = display_name(kind.name, item);
            let there = target
                .items(kind.name)
                .iter()
                .find(|t| display_name(kind.name, t) == name);
            for field in kind.secrets.iter().filter(|f| !f.contains(['[', '*'])) {
                let had = idferry_model::record::values_at(&item.record, field)
                    .into_iter()
                    .any(set);
                let has = there.is_some_and(|t| {
                    idferry_model::record::values_at(&t.record, field)
                        .into_iter()
                        .any(set)
                });
                checked += usize::from(had);
                if had && !has {
                    unset.push(format!("{} {name} {field}", kind.name));
                }
            }
        }
    }
    (checked, unset)
}

/// A values file supplying every value the plan asks for.
pub fn values_for(plan: &Value) -> String {
    // Values of the shapes the spec asks for (an event stream's authorization is an
    // object, a vault connection's setup too): the sample values file's, where it has the
    // line; a plain string elsewhere.
    let samples: toml::Table =
        std::fs::read_to_string(crate::common::repo().join("samples/pipelines/values.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let mut text = String::new();
    let mut sections: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for v in plan["needed_values"].as_array().unwrap() {
        let kind = v["kind"].as_str().unwrap();
        let section = match v["name"].as_str() {
            Some(name) => format!("[{kind}.{name:?}]"),
            None => format!("[{kind}]"),
        };
        let field = v["field"].as_str().unwrap();
        let sample = samples.get(kind).and_then(|t| match v["name"].as_str() {
            Some(name) => t.get(name)?.get(field),
            None => t.get(field),
        });
        let value = match sample {
            Some(toml::Value::String(_)) | None => "\"restored-secret\"".to_owned(),
            Some(shaped) => shaped.to_string(),
        };
        sections
            .entry(section)
            .or_default()
            .push(format!("{field:?} = {value}"));
    }
    for (section, lines) in sections {
        text.push_str(&section);
        text.push('\n');
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_into_an_empty_tenant_matches_the_source_and_a_rerun_plans_nothing() {
    let p = Pair::new(200).await;
    let a = p.backup("acme-prod").await;

    let plan = p.plan(&a, &[]).await;
    assert!(
        !plan["needed_values"].as_array().unwrap().is_empty(),
        "write-only values are asked for"
    );
    // Without values, the objects that need them are not written and are named.
    let (code, out, _) = p
        .idferry(&[
            "restore",
            a.to_str().unwrap(),
            "--to",
            "acme-staging",
            "--plan",
        ])
        .await;
    assert_eq!(code, 0);
    assert!(out.contains("Values needed"), "{out}");
    assert!(
        out.contains("[email_provider] \"credentials\" = ..."),
        "{out}"
    );

    let values = values_for(&plan);
    std::fs::write(p.path().join("values.toml"), &values).unwrap();
    let (code, out, err) = p
        .idferry(&[
            "restore",
            a.to_str().unwrap(),
            "--to",
            "acme-staging",
            "--values",
            "values.toml",
            "--yes",
        ])
        .await;
    assert_eq!(code, 0, "restore:\n{out}\n{err}\nvalues:\n{values}");
    assert!(out.contains("Restored into acme-staging"), "{out}");

    // Every secret the source had set is set in the target (the plan asked for each one
    // the snapshot could not hold, and the values file gave it), or made up by the target.
    let (checked, unset) = unset_secrets(&p).await;
    assert!(
        checked >= 12,
        "the demo tenant sets a dozen secrets: {checked}"
    );
    assert!(
        unset.is_empty(),
        "secrets set in the source and not in the target: {unset:?}"
    );
    // What ran in prod runs in staging: actions deployed (their bindings were accepted)
    // and the module published, with the same code live; an action with changes not
    // deployed in prod runs prod's deployed code under the same draft (emulator tables).
    let live = |tenant: &str| -> Vec<(String, Value, Value, Value)> {
        p.emu.tenant(tenant).unwrap().with(|s| {
            let mut out: Vec<(String, Value, Value, Value)> = s
                .table("actions", "")
                .values()
                .map(|a| {
                    (
                        a["name"].to_string(),
                        a["all_changes_deployed"].clone(),
                        a["code"].clone(),
                        a["deployed_version"]["code"].clone(),
                    )
                })
                .collect();
            out.extend(s.table("action_modules", "").values().map(|m| {
                (
                    m["name"].to_string(),
                    m["all_changes_published"].clone(),
                    m["code"].clone(),
                    m["latest_version"]["code"].clone(),
                )
            }));
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        })
    };
    let staging_live = live("acme-staging");
    assert_eq!(staging_live.len(), 6, "{staging_live:?}");
    assert_eq!(staging_live, live("acme-prod"));
    assert!(
        staging_live
            .iter()
            .any(|(_, l, draft, deployed)| *l == Value::Bool(false)
                && deployed.is_string()
                && draft != deployed),
        "the demo tenant has an action with changes not deployed: {staging_live:?}"
    );
    // References the catalog does not list were found by their ids and rewritten.
    assert!(
        out.contains("forms nodes[].config.flow_id -> flows: 1")
            && out.contains("clients express_configuration.okta_oin_client_id -> clients: 1"),
        "{out}"
    );
    // No id of the source tenant is anywhere in what the target now holds (read from the
    // emulator's own tables, not through idferry).
    let source_ids = made_up_ids(&p, "acme-prod");
    let leaked: Vec<String> = p.emu.tenant("acme-staging").unwrap().with(|s| {
        let mut leaked = Vec::new();
        let mut tables: Vec<&Value> = s.tables.values().flat_map(|t| t.values()).collect();
        tables.extend(s.singletons.values());
        for record in tables {
            idferry_model::record::for_each_string(record, &mut |path, text| {
                if source_ids.contains(text) {
                    leaked.push(format!("{path} = {text}"));
                }
            });
        }
        leaked
    });
    assert!(leaked.is_empty(), "source ids in the target: {leaked:?}");

    let b = p.backup("acme-staging").await;
    let (code, out, err) = p
        .idferry(&[
            "snapshots",
            "diff",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--ignore-ids",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "no differences", "{out}");

    let again = p.plan(&a, &["--values", "values.toml"]).await;
    assert_eq!(again["steps"], serde_json::json!([]), "{again:#}");

    // What a user sees and an id comparison cannot: an action changed and not deployed,
    // a secret unset. Both differences, and the plan deploys the action again.
    let staging = p.emu.tenant("acme-staging").unwrap();
    let token = staging.static_token.clone();
    let action = staging.with(|s| {
        s.table("actions", "")
            .values()
            .find(|a| a["name"] == "notify-crm")
            .and_then(|a| a["id"].as_str().map(str::to_owned))
            .unwrap()
    });
    let patch = |path: String, body: Value| {
        let token = token.clone();
        async move {
            let (status, _, body) = crate::common::raw(
                staging,
                reqwest::Method::PATCH,
                &path,
                Some(&token),
                Some(body),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    patch(
        format!("/actions/actions/{action}"),
        serde_json::json!({"runtime": "node22"}),
    )
    .await;
    patch(
        "/attack-protection/captcha".into(),
        serde_json::json!({"recaptcha_v2": {"site_key": "site", "secret": ""}}),
    )
    .await;
    let c = p.backup("acme-staging").await;
    let (code, out, err) = p
        .idferry(&[
            "snapshots",
            "diff",
            a.to_str().unwrap(),
            c.to_str().unwrap(),
            "--ignore-ids",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("~ notify-crm (all_changes_deployed)") && out.contains("(secrets set)"),
        "{out}"
    );
    let again = p.plan(&a, &["--values", "values.toml"]).await;
    let deploys: Vec<&Value> = again["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "go_live")
        .collect();
    assert_eq!(deploys.len(), 1, "{again:#}");
    assert_eq!(deploys[0]["name"], "actions notify-crm", "{again:#}");
    let _ = &p.emu;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_without_what_a_record_refers_to_names_the_dangling_field() {
    let p = Pair::new(0).await;
    let a = p.backup("acme-prod").await;
    // Forms and clients without the flows, profiles they name by id in fields no catalog
    // lists.
    let plan = p.plan(&a, &["--kinds", "forms,clients"]).await;
    let blocked: Vec<(String, String)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "blocked")
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let reason = |name: &str| {
        blocked
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{name} not blocked: {blocked:?}"))
    };
    assert!(
        reason("forms Progressive profile")
            .contains("flows Welcome flow (nodes[1].config.flow_id)"),
        "{blocked:?}"
    );
    let portal = reason("clients Partner Portal");
    assert!(
        portal.contains(
            "connection_profiles Enterprise OIDC defaults (express_configuration.connection_profile_id)"
        ) && portal.contains("user_attribute_profiles Workforce attributes"),
        "{portal}"
    );
    // Nothing else is blocked: the other clients are written.
    assert_eq!(blocked.len(), 2, "{blocked:?}");
    assert_eq!(plan["tally"]["clients"]["create"], 7, "{:#}", plan["tally"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinds_a_tenant_does_not_offer_are_recorded_not_failed_and_never_deleted() {
    // Rules past their end of life, log streams off the plan. (The generator's rules and
    // log streams are refused too, as the tenant cannot have made them.)
    let p = Pair::lacking(0, &["/rules", "/log-streams"]).await;
    let out = "snapshots-acme-prod";
    let (code, stdout, err) = p
        .idferry(&[
            "backup",
            "acme-prod",
            "--out",
            out,
            "--exclude-kinds",
            "users",
        ])
        .await;
    assert_eq!(
        code, 0,
        "a feature the tenant lacks fails nothing:\n{stdout}\n{err}"
    );
    assert!(
        stdout.contains("acme-prod: rules not available (the tenant answered 403: This is a deprecated feature")
            && stdout.contains("acme-prod: log_streams not available (the tenant answered 403: This feature is not enabled for this tenant (feature_not_enabled))"),
        "{stdout}"
    );
    let snapshot = p.backup("acme-prod").await;
    let manifest = idferry_archive::SnapshotReader::new(&snapshot, None)
        .manifest()
        .unwrap();
    let kinds: Vec<&str> = manifest
        .unavailable
        .iter()
        .map(|u| u.kind.as_str())
        .collect();
    assert_eq!(kinds, ["rules", "log_streams"]);
    assert!(manifest.unavailable.iter().all(|u| u.status == 403));

    // The target has a rule: a restore that may delete leaves it, and says why.
    let staging = p.emu.tenant("acme-staging").unwrap();
    let (status, _, _) = crate::common::raw(
        staging,
        reqwest::Method::POST,
        "/rules",
        Some(&staging.static_token),
        Some(serde_json::json!({"name": "keep-me", "script": "function (u, c, cb) { cb(null, u, c); }"})),
    )
    .await;
    assert_eq!(status, 201);
    let plan = p
        .plan(
            &snapshot,
            &["--allow-delete", "--kinds", "rules,log_streams,roles"],
        )
        .await;
    let deletes: Vec<&Value> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "delete")
        .collect();
    assert!(deletes.is_empty(), "{deletes:?}");
    let notes = plan["notes"].to_string();
    assert!(
        notes.contains("rules: not in the source, whose tenant did not offer it when backed up (it answered 403"),
        "{notes}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staging_restore_rewrites_urls_and_scrubs_people() {
    let p = Pair::new(500).await;
    let map = crate::common::repo().join("samples/mappings/staging.toml");
    let map = map.to_str().unwrap();
    p.restore_config(&["--map", map]).await;
    let (code, out, err) = p
        .idferry(&[
            "migrate",
            "users",
            "--from",
            "acme-prod",
            "--to",
            "acme-staging",
            "--map",
            map,
            "--json",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert!(
        summary["filtered"].as_u64().unwrap() > 0,
        "blocked users stay behind"
    );

    let (prod, staging) = (&p.emu.tenants()[0], &p.emu.tenants()[1]);
    let prod_emails: std::collections::HashSet<String> = prod.with(|s| {
        s.users
            .iter()
            .filter_map(|u| u.email.clone().map(|e| e.to_string()))
            .collect()
    });
    staging.with(|s| {
        let clients: Vec<Value> = s.table("clients", "").values().cloned().collect();
        let callbacks: Vec<&str> = clients
            .iter()
            .flat_map(|c| c["callbacks"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        assert!(!callbacks.is_empty());
        for url in &callbacks {
            assert!(!url.contains("acme-prod"), "{url}");
        }
        assert!(
            callbacks.iter().any(|u| u.contains("acme-staging")),
            "{callbacks:?}"
        );
        assert!(!s.users.is_empty() && s.users.len() < prod_emails.len());
        for u in s.users.iter() {
            let v = u.value();
            let email = v["email"].as_str().unwrap();
            assert!(email.ends_with("@example.invalid"), "{email}");
            assert!(!prod_emails.contains(email));
            assert_eq!(v["app_metadata"]["environment"], "staging", "{v}");
            assert_ne!(v["blocked"], true, "{v}");
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_asks_before_it_overwrites_and_users_come_from_a_snapshot() {
    let p = Pair::new(300).await;
    let full = p.backup_excluding("acme-prod", "").await;
    p.restore_config(&[]).await;
    let staging = &p.emu.tenants()[1];
    let client_id = staging.with(|s| {
        s.table("clients", "")
            .values()
            .find(|c| c["name"] == "Acme SPA")
            .unwrap()["client_id"]
            .as_str()
            .unwrap()
            .to_owned()
    });
    crate::common::token_client(staging)
        .patch(
            &format!("/clients/{client_id}"),
            serde_json::json!({"description": "changed in staging"}),
        )
        .await
        .unwrap();
    let description =
        || staging.with(|s| s.table("clients", "")[&client_id]["description"].clone());
    let source = full.to_str().unwrap();
    let restore = [
        "restore",
        source,
        "--to",
        "acme-staging",
        "--values",
        "values.toml",
        "--kinds",
        "clients",
    ];

    // Not a terminal and no --yes: refused, nothing written.
    let (code, out, err) = p.idferry(&restore).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(out.contains("~ clients Acme SPA (description)"), "{out}");
    assert_eq!(description(), "changed in staging");

    let mut yes = restore.to_vec();
    yes.push("--yes");
    let (code, out, err) = p.idferry(&yes).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_ne!(description(), "changed in staging");

    // Users from the snapshot's users member.
    let (code, out, err) = p
        .idferry(&[
            "migrate",
            "users",
            "--from",
            source,
            "--to",
            "acme-staging",
            "--json",
            "--carry-social-users",
            "--report",
            "carried.ndjson",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["users"]["inserted"], 300, "{summary:#}");
    assert_eq!(staging.with(|s| s.users.len()), 300);
    // Asked for, social logins came as database users, and the report names each.
    let social: Vec<String> = p.emu.tenants()[0].with(|s| {
        s.users
            .iter()
            .filter(|u| !u.id.starts_with("auth0|"))
            .map(|u| u.id.to_string())
            .collect()
    });
    assert!(!social.is_empty());
    let report = std::fs::read_to_string(p.path().join("carried.ndjson")).unwrap();
    for id in &social {
        let line = report
            .lines()
            .find(|l| l.contains(&format!("\"{id}\"")))
            .unwrap_or_else(|| panic!("{id} not in the report: {report}"));
        let connection = if id.starts_with("samlp|") {
            "acme-okta"
        } else {
            "google-oauth2"
        };
        assert!(
            line.contains("carried_as_database_user") && line.contains(connection),
            "{line}"
        );
        let local = id.split_once('|').unwrap().1;
        assert!(
            staging.with(|s| s.users.get(&format!("auth0|{local}")).is_some()),
            "{id}"
        );
    }
    assert!(
        summary["memberships"]["role_users"].as_u64().unwrap() > 0,
        "{summary:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_custom_domain_is_carried_once_the_target_has_verified_it() {
    let p = Pair::new(0).await;
    let call =
        |tenant: &'static str, method: reqwest::Method, path: String, body: Option<Value>| {
            let t = p.emu.tenant(tenant).unwrap();
            async move {
                let (status, _, body) =
                    crate::common::raw(t, method, &path, Some(&t.static_token), body).await;
                (status, body)
            }
        };
    let domain_of = |tenant: &str| {
        p.emu.tenant(tenant).unwrap().with(|s| {
            s.table("custom_domains", "")
                .iter()
                .next()
                .map(|(id, d)| (id.clone(), d["domain"].as_str().unwrap().to_owned()))
        })
    };
    // Prod verified its custom domain and made it the default.
    let (id, domain) = domain_of("acme-prod").unwrap();
    let (status, body) = call(
        "acme-prod",
        reqwest::Method::POST,
        format!("/custom-domains/{id}/verify"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        "acme-prod",
        reqwest::Method::PATCH,
        "/custom-domains/default".into(),
        Some(serde_json::json!({ "domain": domain })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let a = p.backup("acme-prod").await;
    let kinds = ["--kinds", "custom_domains,default_custom_domain"];
    let plan = p.plan(&a, &kinds).await;
    let steps: Vec<(String, String)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].to_string(), s["action"].to_string()))
        .collect();
    assert_eq!(
        steps,
        [
            (r#""custom_domains""#.into(), r#""create""#.into()),
            (r#""default_custom_domain""#.into(), r#""blocked""#.into())
        ],
        "{plan:#}"
    );
    assert!(
        plan["steps"][1]["reason"].as_str().unwrap().contains(&format!(
            "custom_domains {domain} (custom_domain_id), which is created by this restore, and status ready only once you verify it in the target"
        )),
        "{plan:#}"
    );
    let restore = || async {
        let mut args = vec![
            "restore",
            a.to_str().unwrap(),
            "--to",
            "acme-staging",
            "--yes",
        ];
        args.extend(kinds);
        p.idferry(&args).await
    };
    // The domain is created in staging but not verified there (its DNS is staging's to
    // set up): the platform would refuse it as the default, so it is not sent, and the
    // restore fails saying so.
    let (code, out, err) = restore().await;
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("default_custom_domain") && out.contains("verify it in the target"),
        "{out}\n{err}"
    );
    // Verified in staging, the next restore makes it the default, then plans nothing.
    let (staging_id, staging_domain) = domain_of("acme-staging").unwrap();
    assert_eq!(staging_domain, domain);
    let (status, body) = call(
        "acme-staging",
        reqwest::Method::POST,
        format!("/custom-domains/{staging_id}/verify"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (code, out, err) = restore().await;
    assert_eq!(code, 0, "{out}\n{err}");
    let (status, body) = call(
        "acme-staging",
        reqwest::Method::GET,
        "/custom-domains/default".into(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["domain"], domain.as_str(), "{body}");
    assert_eq!(body["custom_domain_id"], staging_id.as_str(), "{body}");
    let again = p.plan(&a, &kinds).await;
    assert_eq!(again["steps"], serde_json::json!([]), "{again:#}");
}
