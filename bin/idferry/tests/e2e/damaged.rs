//! Damaged snapshots, the matrix: for each kind of damage (a line removed, a byte
//! flipped, cut at ten points, its last 1-4 bytes cut, garbage appended, the manifest
//! zeroed, a member absent, an extra member, a member turned into a symlink, a member
//! renamed), every reading command (`verify`, `inspect`, `cat`, `restore --plan`,
//! `restore --yes --allow-delete`, `migrate users --from`, `prune`) exits non-zero or
//! refuses, and the target tenant does not change. The damage is made with the tar and
//! zstd libraries, not with idferry's writer.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::restore::Pair;

/// A member as the archive holds it.
struct Entry {
    header: tar::Header,
    path: String,
    data: Vec<u8>,
}

fn entries(snapshot: &[u8]) -> Vec<Entry> {
    let plain = zstd::decode_all(snapshot).unwrap();
    let mut archive = tar::Archive::new(plain.as_slice());
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            Entry {
                header: e.header().clone(),
                path,
                data,
            }
        })
        .collect()
}

fn rebuild(entries: Vec<Entry>) -> Vec<u8> {
    let mut out = tar::Builder::new(Vec::new());
    for mut e in entries {
        if e.header.entry_type().is_symlink() {
            out.append_link(&mut e.header, &e.path, "../manifest.json")
                .unwrap();
            continue;
        }
        e.header.set_size(e.data.len() as u64);
        e.header.set_cksum();
        out.append_data(&mut e.header, &e.path, e.data.as_slice())
            .unwrap();
    }
    zstd::encode_all(out.into_inner().unwrap().as_slice(), 3).unwrap()
}

/// Every kind of damage, named, made from the sound snapshot `good`.
fn damaged(good: &[u8]) -> Vec<(String, Vec<u8>)> {
    let edit = |f: &dyn Fn(&mut Vec<Entry>)| {
        let mut e = entries(good);
        f(&mut e);
        rebuild(e)
    };
    let users = |e: &mut Vec<Entry>| -> usize {
        e.iter()
            .position(|m| m.path == "users/users.ndjson")
            .unwrap()
    };
    let mut out = vec![
        (
            "one line removed".to_owned(),
            edit(&|e| {
                let i = users(e);
                let text = String::from_utf8(e[i].data.clone()).unwrap();
                let mut lines: Vec<&str> = text.lines().collect();
                lines.remove(3);
                e[i].data = format!("{}\n", lines.join("\n")).into_bytes();
            }),
        ),
        (
            "one byte flipped".to_owned(),
            edit(&|e| {
                let i = users(e);
                // Inside a user id: still JSON, still a line, another user.
                let at = e[i].data.iter().position(|b| *b == b'|').unwrap() + 3;
                e[i].data[at] = if e[i].data[at] == b'a' { b'b' } else { b'a' };
            }),
        ),
        (
            "garbage appended".to_owned(),
            [good, b"\x00\x01garbage after the end"].concat(),
        ),
        (
            "manifest zeroed".to_owned(),
            edit(&|e| {
                let n = e[0].data.len();
                e[0].data = vec![0u8; n];
            }),
        ),
        (
            "member absent".to_owned(),
            edit(&|e| e.retain(|m| m.path != "config/clients.ndjson")),
        ),
        (
            "extra member".to_owned(),
            edit(&|e| {
                let mut header = tar::Header::new_gnu();
                header.set_mode(0o600);
                e.push(Entry {
                    header,
                    path: "config/extra.ndjson".into(),
                    data: b"{\"id\":\"x\"}\n".to_vec(),
                });
            }),
        ),
        (
            "symlink member".to_owned(),
            edit(&|e| {
                let i = e
                    .iter()
                    .position(|m| m.path == "config/clients.ndjson")
                    .unwrap();
                e[i].header.set_entry_type(tar::EntryType::Symlink);
                e[i].data.clear();
            }),
        ),
        (
            "renamed member".to_owned(),
            edit(&|e| {
                let i = e
                    .iter()
                    .position(|m| m.path == "config/clients.ndjson")
                    .unwrap();
                e[i].path = "config/clientz.ndjson".into();
            }),
        ),
    ];
    for cut in 1..=4 {
        out.push((
            format!("last {cut} bytes cut"),
            good[..good.len() - cut].to_vec(),
        ));
    }
    for tenth in 1..=10 {
        let at = good.len() * tenth / 11;
        out.push((format!("cut at {tenth}/11"), good[..at].to_vec()));
    }
    out
}

/// What a tenant holds, kind by kind, with every object.
fn contents(t: &idferry_emulator::Tenant) -> HashMap<String, String> {
    t.with(|s| {
        let mut out: HashMap<String, String> = s
            .counts()
            .into_iter()
            .map(|(k, n)| (k, n.to_string()))
            .collect();
        let users: Vec<String> = s.users.iter().map(|u| u.json.to_string()).collect();
        out.insert("users (all)".into(), users.join("\n"));
        let clients: Vec<String> = s
            .table("clients", "")
            .values()
            .map(|c| c.to_string())
            .collect();
        out.insert("clients (all)".into(), clients.join("\n"));
        out
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reading_command_refuses_every_kind_of_damaged_snapshot() {
    let pair = Pair::new(200).await;
    let good_path = pair.backup_excluding("acme-prod", "").await;
    let good = std::fs::read(&good_path).unwrap();
    // The target holds what a restore could delete.
    let (code, out, err) = pair
        .idferry(&[
            "restore",
            good_path.to_str().unwrap(),
            "--to",
            "acme-staging",
            "--kinds",
            // With the profiles a client's express configuration names.
            "clients,roles,resource_servers,connection_profiles,user_attribute_profiles",
            "--yes",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let staging = &pair.emu.tenants()[1];
    let before = contents(staging);
    assert!(before["clients"].parse::<usize>().unwrap() > 0);

    let variants = damaged(&good);
    assert_eq!(variants.len(), 22);
    let mut passed = Vec::new();
    for (name, bytes) in &variants {
        // A store of its own: an older sound snapshot and the damaged, newer one.
        let store = pair
            .path()
            .join(format!("damaged-{}", name.replace([' ', '/'], "-")));
        std::fs::create_dir_all(&store).unwrap();
        let older = store.join("20260101T020000.000Z_acme-prod.tar.zst");
        std::fs::write(&older, &good).unwrap();
        let file: PathBuf = store.join("20260102T020000.000Z_acme-prod.tar.zst");
        std::fs::write(&file, bytes).unwrap();
        let f = file.to_str().unwrap();
        let s = store.to_str().unwrap();
        let commands: Vec<Vec<&str>> = vec![
            vec!["snapshots", "verify", f],
            vec!["snapshots", "inspect", f],
            vec!["snapshots", "cat", f, "users"],
            vec!["snapshots", "cat", f, "clients"],
            vec!["restore", f, "--to", "acme-staging", "--plan"],
            vec![
                "restore",
                f,
                "--to",
                "acme-staging",
                "--kinds",
                "clients",
                "--allow-delete",
                "--yes",
            ],
            vec![
                "migrate",
                "users",
                "--from",
                f,
                "--to",
                "acme-staging",
                "--no-memberships",
            ],
            vec!["snapshots", "prune", s, "--keep-last", "1"],
        ];
        for args in commands {
            let (code, out, err) = pair.idferry(&args).await;
            assert_ne!(
                code,
                0,
                "{name}: `idferry {}` exited 0:\n{out}\n{err}",
                args.join(" ")
            );
            // cat writes nothing of a damaged snapshot.
            if args[1] == "cat" {
                assert!(out.is_empty(), "{name}: cat printed {} bytes", out.len());
            }
        }
        // Prune kept the sound snapshot and left the damaged one for someone to see.
        assert!(older.exists(), "{name}: prune deleted the sound snapshot");
        assert!(file.exists(), "{name}: prune deleted the damaged snapshot");
        assert_eq!(contents(staging), before, "{name}: the target changed");
        passed.push(name.clone());
    }
    assert_eq!(passed.len(), 22);
}

#[tokio::test]
async fn prune_counts_only_snapshots_that_verify() {
    // One sound, one truncated, one with a flipped byte, one empty: --keep-last 2 keeps
    // the sound one (the only restorable one), deletes nothing damaged, and says so.
    let pair = Pair::new(20).await;
    let good = std::fs::read(pair.backup_excluding("acme-prod", "").await).unwrap();
    let store = pair.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let names = [
        ("20260101T020000.000Z_acme-prod.tar.zst", good.clone()),
        (
            "20260102T020000.000Z_acme-prod.tar.zst",
            good[..good.len() / 2].to_vec(),
        ),
        (
            "20260103T020000.000Z_acme-prod.tar.zst",
            damaged(&good)
                .into_iter()
                .find(|(n, _)| n == "one byte flipped")
                .unwrap()
                .1,
        ),
        ("20260104T020000.000Z_acme-prod.tar.zst", Vec::new()),
    ];
    for (name, bytes) in &names {
        std::fs::write(store.join(name), bytes).unwrap();
    }
    let (code, out, err) = pair
        .idferry(&["snapshots", "prune", "store", "--keep-last", "2", "--json"])
        .await;
    assert_eq!(
        code, 1,
        "damaged snapshots make prune exit 1:\n{out}\n{err}"
    );
    let plan: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let check = |name: &str| {
        plan.iter()
            .find(|v| v["file"].as_str().unwrap().ends_with(name))
            .unwrap()["check"]
            .clone()
    };
    assert_eq!(check(names[0].0), "verified");
    for (name, _) in &names[1..] {
        assert_eq!(check(name), "damaged", "{name}");
    }
    for (name, _) in &names {
        assert!(Path::new(&store.join(name)).exists(), "{name} was deleted");
    }
}
