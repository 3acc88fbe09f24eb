//! Backups through the binary, against an emulated tenant with every catalog kind.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use idferry_archive::SnapshotReader;
use idferry_archive::naming;
use idferry_auth0::{CATALOG, Shape};
use idferry_emulator::{Emulator, GenerateSpec, Tenant, TenantOptions};
use idferry_model::record::{remove_path, values_at};
use serde_json::{Value, json};

use crate::common::{run_idferry, start, token_client};

struct Setup {
    emu: Emulator,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn new(users: usize, latency_ms: u64) -> Self {
        let mut o = TenantOptions::new("acme-prod");
        o.generate = Some(GenerateSpec {
            users,
            organizations: 4,
        });
        o.faults.latency_ms = latency_ms;
        let emu = start(vec![o]).await;
        let dir = tempfile::tempdir().unwrap();
        emu.write_config(&dir.path().join("idferry.toml")).unwrap();
        Self { emu, dir }
    }

    fn tenant(&self) -> &Tenant {
        &self.emu.tenants()[0]
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("snapshots")
    }

    async fn backup(&self, extra: &[&str]) -> PathBuf {
        let before = self.snapshots();
        let mut args = vec!["backup", "acme-prod", "--out", "snapshots"];
        args.extend(extra);
        let (code, out, err) = run_idferry(&args, self.dir.path()).await;
        assert_eq!(code, 0, "backup failed:\n{out}\n{err}");
        let after = self.snapshots();
        let new: Vec<_> = after.into_iter().filter(|p| !before.contains(p)).collect();
        assert_eq!(new.len(), 1, "{new:?}");
        new[0].clone()
    }

    fn snapshots(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.out()) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| naming::parse(&p.file_name().unwrap().to_string_lossy()).is_some())
            .collect();
        out.sort();
        out
    }
}

fn decompressed(path: &Path) -> Vec<u8> {
    zstd::decode_all(std::fs::File::open(path).unwrap()).unwrap()
}

/// The API's view of a stored object with its secrets removed: what a snapshot holds.
fn as_snapshot_holds(kind: &'static idferry_auth0::Kind, value: &Value) -> Value {
    let mut v = idferry_emulator::api::redact(kind, value.clone());
    for path in kind.secrets {
        remove_path(&mut v, path);
    }
    v
}

#[tokio::test]
async fn a_backup_holds_every_kind_as_the_tenant_does() {
    let s = Setup::new(300, 0).await;
    let file = s.backup(&[]).await;
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("_acme-prod.tar.zst"), "{name}");

    // Standard tools read it, manifest first.
    let listing = tokio::process::Command::new("tar")
        .arg("--zstd")
        .arg("-tf")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let listing = String::from_utf8(listing.stdout).unwrap();
    assert_eq!(listing.lines().next(), Some("manifest.json"));
    assert!(listing.contains("config/clients.ndjson") && listing.contains("users/users.ndjson"));

    // The manifest's counts are the tenant's, kind by kind.
    let reader = SnapshotReader::new(&file, None);
    let manifest = reader.manifest().unwrap();
    assert_eq!(manifest.tenant, "acme-prod");
    assert!(!manifest.secrets_included);
    let held = s.tenant().with(|st| st.counts());
    for member in &manifest.members {
        assert!(
            member.records > 0,
            "{} is empty: every kind is populated",
            member.kind
        );
        if let Some(n) = held.get(&member.kind) {
            assert_eq!(member.records as usize, *n, "{}", member.kind);
        }
    }
    let backed: BTreeSet<&str> = manifest.members.iter().map(|m| m.kind.as_str()).collect();
    for kind in CATALOG
        .iter()
        .filter(|k| k.config && (k.create.is_some() || k.update.is_some()))
    {
        if kind.parent == Some("organization_members") {
            continue; // member roles travel inline with the members
        }
        assert!(
            backed.contains(kind.name),
            "{} is not in the snapshot",
            kind.name
        );
    }

    let (code, out, err) = run_idferry(
        &["snapshots", "verify", file.to_str().unwrap()],
        s.dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok ("), "{out}");

    // `cat` of each top-level kind is what the tenant holds (less secrets).
    for kind in CATALOG
        .iter()
        .filter(|k| k.parent.is_none() && backed.contains(k.name))
    {
        let (code, out, err) = run_idferry(
            &["snapshots", "cat", file.to_str().unwrap(), kind.name],
            s.dir.path(),
        )
        .await;
        assert_eq!(code, 0, "{err}");
        let got: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let want: Vec<Value> = s.tenant().with(|st| match (kind.name, kind.shape) {
            ("users", _) => st.users.iter().map(|u| u.value()).collect(),
            // No custom domain is the default: the tenant's canonical one is.
            ("default_custom_domain", _) => vec![serde_json::json!({
                "domain": idferry_emulator::api::canonical_domain(&st.tenant)
            })],
            (_, Shape::Singleton) => st
                .singletons
                .get(&(kind.name, String::new()))
                .map(|v| as_snapshot_holds(kind, v))
                .into_iter()
                .collect(),
            _ => st
                .table_ref(kind.name, "")
                .map(|t| t.values().map(|v| as_snapshot_holds(kind, v)).collect())
                .unwrap_or_default(),
        });
        if matches!(kind.shape, Shape::Keyed { .. }) {
            let records: Vec<Value> = got.iter().map(|e| e["record"].clone()).collect();
            assert_eq!(records.len(), want.len(), "{}", kind.name);
            continue;
        }
        assert_eq!(got, want, "{}", kind.name);
    }
}

#[tokio::test]
async fn verify_names_the_member_of_a_flipped_byte_or_a_truncation() {
    let s = Setup::new(2000, 0).await;
    let file = s.backup(&[]).await;
    let bytes = std::fs::read(&file).unwrap();
    let users_at = bytes.len() / 2;

    let flipped = s.dir.path().join("flipped.tar.zst");
    let mut damaged = bytes.clone();
    damaged[users_at] ^= 0x20;
    std::fs::write(&flipped, &damaged).unwrap();
    let (code, _, err) = run_idferry(
        &["snapshots", "verify", flipped.to_str().unwrap()],
        s.dir.path(),
    )
    .await;
    assert_ne!(code, 0, "a flipped byte must fail verify");
    assert!(err.contains("users/users.ndjson"), "{err}");

    let truncated = s.dir.path().join("truncated.tar.zst");
    std::fs::write(&truncated, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let (code, _, err) = run_idferry(
        &["snapshots", "verify", truncated.to_str().unwrap()],
        s.dir.path(),
    )
    .await;
    assert_ne!(code, 0, "a truncated file must fail verify");
    assert!(err.contains("users/users.ndjson"), "{err}");
}

#[tokio::test]
async fn diff_reports_one_change_one_addition_one_deletion() {
    let s = Setup::new(100, 0).await;
    let first = s.backup(&[]).await;
    let client = token_client(s.tenant());
    let (client_id, rule_id) = s.tenant().with(|st| {
        let c = st
            .table("clients", "")
            .values()
            .find(|c| c["name"] == "Acme SPA")
            .unwrap()["client_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = st
            .table("rules", "")
            .values()
            .find(|r| r["name"] == "deny-legacy-clients")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (c, r)
    });
    client
        .patch(
            &format!("/clients/{client_id}"),
            json!({"description": "changed"}),
        )
        .await
        .unwrap();
    client
        .post("/roles", json!({"name": "release-manager"}))
        .await
        .unwrap();
    client.delete(&format!("/rules/{rule_id}")).await.unwrap();
    let second = s.backup(&[]).await;

    let (code, out, err) = run_idferry(
        &[
            "snapshots",
            "diff",
            first.to_str().unwrap(),
            second.to_str().unwrap(),
            "--json",
        ],
        s.dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let diffs: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(
        diffs,
        vec![
            json!({"kind": "clients", "added": [], "removed": [], "changed": [{"key": "Acme SPA", "fields": ["description"]}]}),
            json!({"kind": "roles", "added": ["release-manager"], "removed": [], "changed": []}),
            json!({"kind": "rules", "added": [], "removed": ["deny-legacy-clients"], "changed": []}),
        ]
    );
    let (_, text, _) = run_idferry(
        &[
            "snapshots",
            "diff",
            first.to_str().unwrap(),
            first.to_str().unwrap(),
        ],
        s.dir.path(),
    )
    .await;
    assert_eq!(text.trim(), "no differences");
}

/// Every string under the secret fields of what the tenant holds: `api_view` keeps only
/// what the API returns (write-only values never reach a backup).
pub fn secret_values(t: &Tenant, api_view: bool) -> HashSet<String> {
    fn strings(v: &Value, out: &mut HashSet<String>) {
        match v {
            Value::String(s) if s.len() >= 8 && s != "_VALUE_NOT_SHOWN_" => {
                out.insert(s.clone());
            }
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut out = HashSet::new();
    t.with(|st| {
        for kind in CATALOG {
            let objects: Vec<Value> = st
                .tables
                .iter()
                .filter(|((k, _), _)| *k == kind.name)
                .flat_map(|(_, t)| {
                    t.iter().map(|(key, v)| {
                        if kind.shape == Shape::Map {
                            json!({ key: v })
                        } else {
                            v.clone()
                        }
                    })
                })
                .chain(
                    st.singletons
                        .iter()
                        .filter(|((k, _), _)| *k == kind.name)
                        .map(|(_, v)| v.clone()),
                )
                .collect();
            for object in objects {
                let object = if api_view {
                    idferry_emulator::api::redact(kind, object)
                } else {
                    object
                };
                for path in kind.secrets {
                    if *path == "*" {
                        strings(&object, &mut out);
                    }
                    for v in values_at(&object, path) {
                        strings(v, &mut out);
                    }
                }
            }
        }
    });
    out
}

/// Whether `secret` appears in `haystack` as JSON writes it (escaped).
fn contains(haystack: &[u8], secret: &str) -> bool {
    let quoted = serde_json::to_string(secret).unwrap();
    let needle = &quoted.as_bytes()[1..quoted.len() - 1];
    memchr::memmem::find(haystack, needle).is_some()
}

#[tokio::test]
async fn secrets_stay_out_unless_the_snapshot_is_encrypted() {
    let s = Setup::new(20, 0).await;
    let all = secret_values(s.tenant(), false);
    assert!(all.len() > 15, "the tenant holds secrets: {all:?}");
    assert!(all.contains("GOCSPX-google-secret-1") && all.contains("crm-rules-secret"));

    let plain = s.backup(&[]).await;
    let content = decompressed(&plain);
    for secret in &all {
        assert!(
            !contains(&content, secret),
            "secret {secret:?} is in an unencrypted snapshot"
        );
    }

    let age_cli = crate::tools::age_cli();
    if age_cli {
        let keygen = tokio::process::Command::new("age-keygen")
            .arg("-o")
            .arg(s.dir.path().join("key.txt"))
            .output()
            .await
            .unwrap();
        assert!(keygen.status.success());
    } else {
        // The same key file, made with the age library.
        use age::secrecy::ExposeSecret;
        let identity = age::x25519::Identity::generate();
        std::fs::write(
            s.dir.path().join("key.txt"),
            format!(
                "# public key: {}\n{}\n",
                identity.to_public(),
                identity.to_string().expose_secret()
            ),
        )
        .unwrap();
    }
    let key = std::fs::read_to_string(s.dir.path().join("key.txt")).unwrap();
    let recipient = key
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    let encrypted = s.backup(&["--encrypt-to", &recipient]).await;
    assert!(encrypted.to_string_lossy().ends_with(".tar.zst.age"));

    // The age command-line tool opens it (without the tool: the age library).
    let opened = s.dir.path().join("opened.tar.zst");
    if age_cli {
        let age = tokio::process::Command::new("age")
            .args(["-d", "-i", "key.txt", "-o", "opened.tar.zst"])
            .arg(&encrypted)
            .current_dir(s.dir.path())
            .output()
            .await
            .unwrap();
        assert!(
            age.status.success(),
            "{}",
            String::from_utf8_lossy(&age.stderr)
        );
    } else {
        let identities =
            age::IdentityFile::from_file(s.dir.path().join("key.txt").display().to_string())
                .unwrap()
                .into_identities()
                .unwrap();
        let file = std::io::BufReader::new(std::fs::File::open(&encrypted).unwrap());
        let mut reader = age::Decryptor::new_buffered(file)
            .unwrap()
            .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .unwrap();
        let mut out = std::fs::File::create(&opened).unwrap();
        std::io::copy(&mut reader, &mut out).unwrap();
    }
    let content = decompressed(&opened);
    let returned = secret_values(s.tenant(), true);
    assert!(returned.contains("GOCSPX-google-secret-1"));
    for secret in &returned {
        assert!(
            contains(&content, secret),
            "secret {secret:?} is missing from the encrypted snapshot"
        );
    }

    // idferry reads it with the identity, and says what it needs without one.
    let path = encrypted.to_str().unwrap();
    let (code, out, err) = run_idferry(
        &["snapshots", "verify", path, "--identity", "key.txt"],
        s.dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run_idferry(&["snapshots", "inspect", path], s.dir.path()).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("encrypted") && err.contains("--identity"),
        "{err}"
    );
    let (code, out, _) = run_idferry(
        &[
            "snapshots",
            "inspect",
            path,
            "--identity",
            "key.txt",
            "--json",
        ],
        s.dir.path(),
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["secrets_included"],
        true
    );
}

#[tokio::test]
async fn a_killed_backup_leaves_no_snapshot_and_the_next_one_succeeds() {
    let s = Setup::new(3000, 15).await;
    for delay_ms in [400u64, 1500] {
        let mut child = tokio::process::Command::new(crate::common::bin())
            .args(["backup", "acme-prod", "--out", "snapshots"])
            .current_dir(s.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        child.start_kill().unwrap(); // SIGKILL
        let status = child.wait().await.unwrap();
        assert!(
            !status.success(),
            "the backup finished before it could be killed"
        );
        assert_eq!(
            s.snapshots(),
            Vec::<PathBuf>::new(),
            "a killed backup left a snapshot-looking file"
        );
    }
    s.tenant().set_faults(idferry_emulator::Faults::default());
    let file = s.backup(&[]).await;
    let (code, out, err) = run_idferry(
        &["snapshots", "verify", file.to_str().unwrap()],
        s.dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run_idferry(&["snapshots", "list", "snapshots"], s.dir.path()).await;
    assert_eq!(code, 0);
    assert!(out.contains("1 snapshots"), "{out}");
}

/// The bytes of a small, sound snapshot (one member of two records).
pub fn small_snapshot() -> Vec<u8> {
    use idferry_model::MemberSink;
    let dir = tempfile::tempdir().unwrap();
    let mut w = idferry_archive::SnapshotWriter::create(
        dir.path(),
        "acme-prod",
        "auth0",
        "http://x",
        false,
    )
    .unwrap();
    w.start_member("config/roles.ndjson", "roles").unwrap();
    w.write_record(br#"{"id":"rol_1","name":"admin"}"#).unwrap();
    w.write_record(br#"{"id":"rol_2","name":"viewer"}"#)
        .unwrap();
    w.finish_member().unwrap();
    let written = w.finish(&idferry_archive::WriteOptions::default()).unwrap();
    std::fs::read(written.path).unwrap()
}

#[tokio::test]
async fn prune_keeps_the_policy_set_and_dry_run_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let start: jiff::Timestamp = "2026-01-01T02:00:00Z".parse().unwrap();
    // Prune counts only snapshots that verify: each name holds a sound one.
    let sound = small_snapshot();
    for day in 0..60 {
        let t = start + jiff::SignedDuration::from_hours(24 * day);
        std::fs::write(
            dir.path().join(naming::file_name(t, "acme-prod", false)),
            &sound,
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join(naming::file_name(start, "other", false)),
        &sound,
    )
    .unwrap();
    let args = [
        "snapshots",
        "prune",
        ".",
        "--keep-daily",
        "7",
        "--keep-weekly",
        "4",
        "--keep-monthly",
        "6",
        "--tenant",
        "acme-prod",
    ];
    let mut dry = args.to_vec();
    dry.extend(["--dry-run", "--json"]);
    let (code, out, err) = run_idferry(&dry, dir.path()).await;
    assert_eq!(code, 0, "{err}");
    let plan: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(plan.iter().filter(|p| p["keep"] == true).count(), 11);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        61,
        "a dry run deletes nothing"
    );

    let (code, _, err) = run_idferry(&args, dir.path()).await;
    assert_eq!(code, 0, "{err}");
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left.len(),
        12,
        "11 kept and the other tenant's untouched: {left:?}"
    );
    assert!(left.iter().any(|n| n.ends_with("_other.tar.zst")));
    assert!(left.contains(&"20260131T020000.000Z_acme-prod.tar.zst".to_owned()));

    let (code, _, err) = run_idferry(&["snapshots", "prune", "."], dir.path()).await;
    assert_ne!(code, 0);
    assert!(err.contains("--keep-"), "{err}");
}

#[tokio::test]
async fn one_failing_tenant_does_not_stop_the_others() {
    let mut good = TenantOptions::new("good");
    good.generate = Some(GenerateSpec {
        users: 10,
        organizations: 1,
    });
    let emu = start(vec![
        good,
        TenantOptions::new("bad"),
        TenantOptions::new("also-good"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    std::fs::write(
        dir.path().join("secrets/bad.client-secret"),
        "not-the-secret",
    )
    .unwrap();
    let (code, out, err) = run_idferry(
        &["backup", "--all", "--out", "snapshots", "--json"],
        dir.path(),
    )
    .await;
    assert_ne!(code, 0, "a failed tenant makes the exit code non-zero");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let outcome = |t: &str| rows.iter().find(|r| r["tenant"] == t).unwrap().clone();
    assert_eq!(outcome("good")["ok"], true);
    assert_eq!(outcome("also-good")["ok"], true);
    assert_eq!(outcome("bad")["ok"], false);
    assert!(
        outcome("bad")["error"]
            .as_str()
            .unwrap()
            .contains("Unauthorized"),
        "{out}"
    );
    assert_eq!(outcome("good")["users"], 10);
}
