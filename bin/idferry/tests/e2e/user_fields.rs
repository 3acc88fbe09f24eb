//! Users exports name every field: a backup holds each user as the tenant's own
//! `GET /users/{id}` shows it (metadata, identities of several connections, the blocked
//! flag), the manifest records the field list (judged against the spec's user schema),
//! an export without `fields` gets the emulator's reduced default set (so the first test
//! would catch a regression), and a snapshot that does not record its field list is
//! warned about by `snapshots inspect`, `restore` and `migrate users`.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use idferry_archive::SnapshotReader;
use idferry_auth0::ExportRequest;
use idferry_emulator::store::UserRow;
use idferry_emulator::{Emulator, GenerateSpec, Tenant, TenantOptions};
use serde_json::{Value, json};

use crate::common::{raw, run_idferry, start, token_client};

/// The properties of the spec's user (`GET /users/{id}`), read from the spec itself.
fn spec_user_properties() -> BTreeSet<String> {
    let text = std::fs::read_to_string(
        crate::common::repo().join("crates/auth0/testdata/auth0-management-api-v2.openapi.json"),
    )
    .unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    spec["components"]["schemas"]["GetUserResponseContent"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// Users no generator makes: accounts linked across a database, a social and an
/// enterprise connection, blocked, with a username, phone, MFA and deep metadata.
fn unusual_users() -> Vec<Value> {
    vec![
        json!({
            "user_id": "auth0|5f1a00000000000000000001",
            "email": "linked.blocked@example.org", "email_verified": true,
            "username": "linkedblocked", "phone_number": "+14155550100", "phone_verified": true,
            "name": "Linked Blocked", "given_name": "Linked", "family_name": "Blocked",
            "nickname": "lb", "picture": "https://example.org/lb.png",
            "created_at": "2021-01-02T03:04:05.000Z", "updated_at": "2022-01-02T03:04:05.000Z",
            "last_login": "2022-01-03T03:04:05.000Z", "last_ip": "198.51.100.7", "logins_count": 42,
            "blocked": true, "multifactor": ["guardian"],
            "identities": [
                {"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "5f1a00000000000000000001", "isSocial": false},
                {"connection": "google-oauth2", "provider": "google-oauth2", "user_id": "108000000000000000001", "isSocial": true,
                 "profileData": {"email": "linked@gmail.example", "email_verified": true}},
                {"connection": "acme-okta", "provider": "samlp", "user_id": "linked@acme.example", "isSocial": false}
            ],
            "user_metadata": {"theme": "dark", "address": {"city": "Oslo", "lines": ["a", "b"]}, "consents": [{"v": 2, "at": "2021"}]},
            "app_metadata": {"plan": "enterprise", "roles_legacy": ["admin"], "limits": {"seats": 250}}
        }),
        json!({
            "user_id": "samlp|acme-okta|ent.user@acme.example",
            "email": "ent.user@acme.example", "email_verified": true,
            "name": "Ent User", "nickname": "ent", "picture": "https://example.org/e.png",
            "created_at": "2021-05-02T03:04:05.000Z", "updated_at": "2021-05-02T03:04:05.000Z",
            "logins_count": 3, "blocked": true,
            "identities": [{"connection": "acme-okta", "provider": "samlp", "user_id": "ent.user@acme.example", "isSocial": false}],
            "user_metadata": {}, "app_metadata": {"department": "finance"}
        }),
    ]
}

struct Setup {
    emu: Emulator,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Self {
        let mut prod = TenantOptions::new("acme-prod");
        prod.generate = Some(GenerateSpec {
            users: 200,
            organizations: 2,
        });
        let emu = start(vec![prod, TenantOptions::new("acme-staging")]).await;
        emu.tenants()[0].with(|s| {
            for user in unusual_users() {
                s.users.put(UserRow::from_value(&user).unwrap());
            }
        });
        let dir = tempfile::tempdir().unwrap();
        emu.write_config(&dir.path().join("idferry.toml")).unwrap();
        Self { emu, dir }
    }

    fn prod(&self) -> &Tenant {
        &self.emu.tenants()[0]
    }

    async fn backup(&self) -> PathBuf {
        let (code, out, err) = run_idferry(
            &["backup", "acme-prod", "--out", "snapshots"],
            self.dir.path(),
        )
        .await;
        assert_eq!(code, 0, "backup failed:\n{out}\n{err}");
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("snapshots"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with("_acme-prod.tar.zst"))
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files.remove(0)
    }

    /// Every user as the tenant's own API answers `GET /users/{id}`.
    async fn users_as_the_api_shows_them(&self) -> HashMap<String, Value> {
        let t = self.prod();
        let ids: Vec<String> = t.with(|s| s.users.iter().map(|u| u.id.clone()).collect());
        let mut out = HashMap::new();
        for id in ids {
            let path = format!("/users/{}", urlencode(&id));
            let (status, _, body) =
                raw(t, reqwest::Method::GET, &path, Some(&t.static_token), None).await;
            assert_eq!(status, 200, "GET {path}: {body}");
            out.insert(id, body);
        }
        out
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The fields of the spec's user schema where `exported` differs from the API's user.
fn differences(api: &Value, exported: &Value, fields: &BTreeSet<String>) -> Vec<String> {
    fields
        .iter()
        .filter(|f| api.get(f.as_str()) != exported.get(f.as_str()))
        .cloned()
        .collect()
}

fn snapshot_users(file: &Path) -> HashMap<String, Value> {
    let mut users = HashMap::new();
    SnapshotReader::new(file, None)
        .records("users", |line| {
            let user: Value = serde_json::from_slice(line).unwrap();
            users.insert(user["user_id"].as_str().unwrap().to_owned(), user);
            Ok(())
        })
        .unwrap();
    users
}

#[tokio::test]
async fn a_backup_holds_every_user_as_get_user_answers_it() {
    let s = Setup::new().await;
    let file = s.backup().await;
    let api = s.users_as_the_api_shows_them().await;
    let held = snapshot_users(&file);
    let fields = spec_user_properties();
    assert_eq!(held.len(), api.len());

    // What this test must cover is there: metadata, several connections, blocked users.
    let with = |f: &dyn Fn(&Value) -> bool| api.values().filter(|u| f(u)).count();
    assert!(
        with(&|u| u["user_metadata"]
            .as_object()
            .is_some_and(|m| !m.is_empty()))
            > 100
    );
    assert!(with(&|u| u["app_metadata"].as_object().is_some_and(|m| !m.is_empty())) > 100);
    assert!(with(&|u| u["blocked"] == true) >= 2);
    assert!(with(&|u| u["identities"].as_array().is_some_and(|i| i.len() == 3)) == 1);
    let connections: BTreeSet<&str> = api
        .values()
        .flat_map(|u| u["identities"].as_array().into_iter().flatten())
        .filter_map(|i| i["connection"].as_str())
        .collect();
    assert!(connections.len() >= 3, "{connections:?}");

    for (id, user) in &api {
        let exported = held
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not in the snapshot"));
        let diff = differences(user, exported, &fields);
        assert!(diff.is_empty(), "{id}: the snapshot differs in {diff:?}");
    }

    // The manifest says which fields: all the spec's user schema lists.
    let manifest = SnapshotReader::new(&file, None).manifest().unwrap();
    let recorded: BTreeSet<String> = manifest.user_fields.clone().unwrap().into_iter().collect();
    assert_eq!(recorded, fields);
    let (code, out, err) = run_idferry(
        &["snapshots", "inspect", file.to_str().unwrap()],
        s.dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let line = out.lines().find(|l| l.starts_with("user fields")).unwrap();
    assert!(
        line.contains("app_metadata") && line.contains("user_metadata"),
        "{line}"
    );
    assert!(!out.contains("warning"), "{out}");
}

#[tokio::test]
async fn an_export_without_fields_lacks_the_metadata_the_backup_test_checks() {
    let s = Setup::new().await;
    let api = s.users_as_the_api_shows_them().await;
    let fields = spec_user_properties();
    let client = token_client(s.prod());
    let exported = crate::common::export_all(&client, &ExportRequest::default()).await;
    assert_eq!(exported.len(), api.len());
    for user in &exported {
        for lost in ["user_metadata", "app_metadata", "identities", "blocked"] {
            assert!(
                user.get(lost).is_none(),
                "{lost} in a default export: {user}"
            );
        }
        assert!(user["user_id"].is_string() && user["email"].is_string());
        // The comparison the backup test makes would fail on it.
        let id = user["user_id"].as_str().unwrap();
        let diff = differences(&api[id], user, &fields);
        assert!(diff.iter().any(|f| f == "identities"), "{id}: {diff:?}");
    }
}

/// `file` rewritten as an older idferry wrote it: a manifest without `user_fields`.
fn without_field_list(file: &Path, to: &Path) {
    let plain = zstd::decode_all(std::fs::File::open(file).unwrap()).unwrap();
    let mut archive = tar::Archive::new(plain.as_slice());
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if path == Path::new("manifest.json") {
            let mut m: Value = serde_json::from_slice(&data).unwrap();
            assert!(m.as_object_mut().unwrap().remove("user_fields").is_some());
            data = serde_json::to_vec_pretty(&m).unwrap();
        }
        let mut header = entry.header().clone();
        header.set_size(data.len() as u64);
        header.set_cksum();
        out.append_data(&mut header, &path, data.as_slice())
            .unwrap();
    }
    let tar = out.into_inner().unwrap();
    std::fs::write(to, zstd::encode_all(tar.as_slice(), 3).unwrap()).unwrap();
}

#[tokio::test]
async fn a_snapshot_without_its_field_list_is_warned_about_by_inspect_restore_and_migrate() {
    let s = Setup::new().await;
    let file = s.backup().await;
    let old = s
        .dir
        .path()
        .join("old")
        .join("20200101T000000.000Z_acme-prod.tar.zst");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    without_field_list(&file, &old);
    let old = old.to_str().unwrap();
    let (code, out, _) = run_idferry(&["snapshots", "verify", old], s.dir.path()).await;
    assert_eq!(code, 0, "the rewritten snapshot is sound: {out}");

    let (code, out, err) = run_idferry(&["snapshots", "inspect", old], s.dir.path()).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("user fields not recorded"), "{out}");
    assert!(
        out.contains("holds no app_metadata or user_metadata"),
        "{out}"
    );

    let (code, out, err) = run_idferry(
        &["restore", old, "--to", "acme-staging", "--plan"],
        s.dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("does not record the fields its users were exported with"),
        "{out}"
    );

    let (_, out, err) = run_idferry(
        &[
            "migrate",
            "users",
            "--from",
            old,
            "--to",
            "acme-staging",
            "--no-memberships",
        ],
        s.dir.path(),
    )
    .await;
    assert!(
        err.contains("warning:") && err.contains("does not record the fields"),
        "{out}\n{err}"
    );

    // The snapshot as written now warns of nothing.
    let (_, out, err) = run_idferry(
        &[
            "restore",
            file.to_str().unwrap(),
            "--to",
            "acme-staging",
            "--plan",
        ],
        s.dir.path(),
    )
    .await;
    assert!(!out.contains("does not record the fields"), "{out}\n{err}");
}
