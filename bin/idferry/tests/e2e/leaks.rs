//! Nothing leaked: after a backup, an encrypted backup killed mid-way, and a users
//! migration with password hashes and refused users, run with a permissive umask, no
//! file or folder idferry made is readable by group or others, and no secret of the
//! tenant and no password hash is in clear in any of them (compressed files read
//! decompressed) outside an encrypted snapshot: the killed encrypted backup's spool is
//! sealed.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use idferry_emulator::{GenerateSpec, TenantOptions};

use crate::backup::secret_values;
use crate::common::{bin, password_hash_export, start};

/// Runs idferry under umask 000 (so that only idferry's own care makes files private).
fn idferry(dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("sh");
    c.arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .env("IDF_PASSPHRASE", "correct horse battery staple")
        .env_remove("RUST_BACKTRACE");
    c
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push(path.clone());
        if path.is_dir() && !path.is_symlink() {
            walk(&path, out);
        }
    }
}

/// `bytes` as they read: decompressed when zstd or gzip.
fn readable(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return zstd::decode_all(bytes).unwrap_or_else(|_| bytes.to_vec());
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        use std::io::Read;
        if flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .is_ok()
        {
            return out;
        }
    }
    bytes.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_idferry_makes_is_readable_by_others_nor_holds_secrets_or_hashes_in_clear() {
    let mut prod = TenantOptions::new("acme-prod");
    prod.generate = Some(GenerateSpec {
        users: 3_000,
        organizations: 4,
    });
    let emu = start(vec![prod, TenantOptions::new("acme-staging")]).await;
    let dir = tempfile::tempdir().unwrap();
    // What the test itself writes (the config, its secrets, the hash export) is not
    // idferry's: it lives in `given/`.
    let given = dir.path().join("given");
    std::fs::create_dir_all(&given).unwrap();
    emu.write_config(&given.join("idferry.toml")).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o700)).unwrap();
    let config = given.join("idferry.toml");
    let config = config.to_str().unwrap();
    let t = &emu.tenants()[0];
    std::fs::write(given.join("hashes.ndjson"), password_hash_export(t)).unwrap();
    let secrets = secret_values(t, false);
    let hashes: HashSet<String> = t.with(|s| {
        s.credentials
            .values()
            .filter_map(|c| c["password_hash"].as_str().map(str::to_owned))
            .collect()
    });
    assert!(secrets.len() > 15 && hashes.len() > 1000);

    // 1. A plain backup.
    let out = idferry(
        &work,
        &["backup", "acme-prod", "--config", config, "--out", "plain"],
    )
    .output()
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // 2. An encrypted backup killed once its spool holds members (the tenant answers
    //    slowly so that there is a moment to kill it in).
    t.set_faults(idferry_emulator::Faults {
        latency_ms: 15,
        ..Default::default()
    });
    let sealed_backup = || {
        idferry(
            &work,
            &[
                "backup",
                "acme-prod",
                "--config",
                config,
                "--out",
                "sealed",
                "--passphrase-env",
                "IDF_PASSPHRASE",
            ],
        )
    };
    let mut child = sealed_backup().spawn().unwrap();
    let sealed = work.join("sealed");
    let started = Instant::now();
    let spooled = loop {
        let members: Vec<PathBuf> = std::fs::read_dir(&sealed)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".idferry-spool-")
            })
            .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().flatten())
            .map(|e| e.path())
            .collect();
        if members.len() >= 3 {
            break members;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the backup never spooled three members"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "the backup was killed before it ended");
    for member in &spooled {
        let head = std::fs::read(member).unwrap_or_default();
        assert!(
            head.is_empty() || head.starts_with(b"age-encryption.org/v1"),
            "{} is not sealed",
            member.display()
        );
    }
    t.set_faults(idferry_emulator::Faults::default());
    // The next backup of the tenant, under its lease, removes what the killed one left.
    let out = sealed_backup().output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("removed 1 leftovers of killed backups"),
        "{stderr}"
    );
    let left: Vec<String> = std::fs::read_dir(&sealed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".idferry-spool-") || n.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "leftovers remain: {left:?}");

    // 3. A users migration with hashes, some users refused (their email is broken).
    t.with(|s| {
        let ids: Vec<String> = s
            .users
            .iter()
            .filter(|u| u.id.starts_with("auth0|"))
            .take(5)
            .map(|u| u.id.clone())
            .collect();
        for id in ids {
            let mut v = s.users.get(&id).unwrap().value();
            v["email"] = serde_json::json!("not-an-email");
            s.users
                .put(idferry_emulator::store::UserRow::from_value(&v).unwrap());
        }
    });
    let hashes_file = given.join("hashes.ndjson");
    let out = idferry(
        &work,
        &[
            "migrate",
            "users",
            "--config",
            config,
            "--from",
            "acme-prod",
            "--to",
            "acme-staging",
            "--no-memberships",
            "--hashes",
            hashes_file.to_str().unwrap(),
            "--report",
            "refused.ndjson",
        ],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "some users are refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(work.join("refused.ndjson").exists());

    // 4. The same as a pipeline, in a run directory (extract spool, journal, report).
    std::fs::write(
        given.join("users.toml"),
        format!(
            "name = \"users\"\n[source]\ntenant = \"acme-prod\"\n[[sink]]\ntype = \"users\"\nto = \"acme-staging\"\nhashes = \"{}\"\nupsert = true\nmemberships = false\n",
            hashes_file.display()
        ),
    )
    .unwrap();
    let out = idferry(
        &work,
        &[
            "run",
            given.join("users.toml").to_str().unwrap(),
            "--config",
            config,
            "--run-dir",
            "runs/users",
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(
        work.join("runs/users/journal.sqlite").exists() || work.join("runs/users").is_dir(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spools: Vec<PathBuf> = {
        let mut all = Vec::new();
        walk(&work.join("runs/users"), &mut all);
        all.into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".ndjson.zst"))
            .collect()
    };
    assert!(!spools.is_empty(), "the run spooled its users");

    // Every file and folder idferry made: owner only; no secret, no hash in clear.
    let mut made = Vec::new();
    walk(&work, &mut made);
    assert!(made.len() > 5, "{made:?}");
    for path in &made {
        let mode = std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "{} is {:o}: readable by others",
            path.display(),
            mode & 0o777
        );
        if path.is_dir() || path.to_string_lossy().ends_with(".tar.zst.age") {
            continue;
        }
        let text = readable(&std::fs::read(path).unwrap());
        let found = |needle: &str| memchr::memmem::find(&text, needle.as_bytes()).is_some();
        for secret in &secrets {
            assert!(
                !found(secret),
                "secret {secret:?} in clear in {}",
                path.display()
            );
        }
        for hash in hashes.iter().take(200) {
            assert!(
                !found(hash),
                "a password hash in clear in {}",
                path.display()
            );
        }
    }
}
