//! The binary: emulate with a config file for scripts, list through it, the demo, the
//! catalog, and clear errors for bad config.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::bin;
use std::time::{Duration, Instant};

fn idferry(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Kills the child when dropped, so a failed test leaves no server behind.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn emulate_writes_a_config_that_list_uses() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("idferry.toml");
    let child = Command::new(bin())
        .args([
            "emulate",
            "--tenant",
            "acme-prod",
            "--empty-tenant",
            "acme-staging",
            "--generate-users",
            "1500",
            "--config-out",
        ])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Killed(child);
    let started = Instant::now();
    while !config.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the config never appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("[tenants.acme-prod]") && text.contains("client_secret_file"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secrets/acme-prod.client-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let cfg = config.to_str().unwrap();
    let (code, out, err) = idferry(
        &["list", "acme-prod", "clients", "--config", cfg],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    // The generated applications, and the global client every tenant has.
    assert_eq!(out.lines().count(), 9, "{out}");
    assert!(err.contains("9 clients"), "{err}");
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("\"global\":true") && l.contains("All Applications"))
            .count(),
        1,
        "{out}"
    );
    let (code, out, err) = idferry(&["list", "acme-prod", "users", "--config", cfg], dir.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1500);
    let (code, out, _) = idferry(
        &["list", "acme-staging", "roles", "--config", cfg],
        dir.path(),
    );
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, _, err) = idferry(
        &["list", "acme-prod", "role_permissions", "--config", cfg],
        dir.path(),
    );
    assert_ne!(code, 0);
    assert!(err.contains("give 1 --parent"), "{err}");
}

#[test]
fn bad_config_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("idferry.toml"),
        "[tenants.prod]\ndomain = \"acme.auth0.com\"\ntoken_env = \"T\"\nrate_limt = 5\n",
    )
    .unwrap();
    let (code, _, err) = idferry(&["list", "prod", "clients"], dir.path());
    assert_ne!(code, 0);
    assert!(
        err.contains("idferry.toml:4:") && err.contains("rate_limt"),
        "{err}"
    );
    let (code, _, err) = idferry(
        &["list", "prod", "clients", "--config", "nope.toml"],
        dir.path(),
    );
    assert_ne!(code, 0);
    assert!(err.contains("no config at nope.toml"), "{err}");
}

#[test]
fn the_demo_runs_the_four_pipelines_and_says_where_the_files_are() {
    let dir = tempfile::tempdir().unwrap();
    // The README's first command, on fewer users.
    let (code, out, err) = idferry(&["demo", "--users", "1000", "--out", "demo"], dir.path());
    assert_eq!(code, 0, "{out}\n{err}");
    for step in [
        "nightly backup",
        "staging refresh",
        "users migration",
        "Auth0 to ZITADEL",
    ] {
        assert!(out.contains(step), "{step}: {out}");
    }
    assert!(!out.contains("FAILED"), "{out}");
    let held: std::collections::HashMap<&str, u64> = out
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (name, n, unit) = (w.next()?, w.next()?, w.next()?);
            if unit != "users" || !(name.starts_with("acme-") || name.starts_with("zitadel-")) {
                return None;
            }
            Some((name, n.parse().ok()?))
        })
        .collect();
    assert_eq!(held["acme-prod"], 1000, "{out}");
    // Every prod user is in acme-eu, or left out (a social login) and counted: the
    // migration's extract line says `read 1000, kept K, left_out L`.
    let extract = out
        .split("3/4:")
        .nth(1)
        .and_then(|rest| rest.lines().find(|l| l.contains("users:extract")))
        .unwrap_or_else(|| panic!("no extract line: {out}"));
    let figure = |name: &str| -> u64 {
        extract
            .split(", ")
            .find_map(|part| {
                part.trim()
                    .rsplit_once(' ')
                    .filter(|(n, _)| n.ends_with(name))
            })
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {extract}"))
    };
    assert!(figure("left_out") > 0, "{extract}");
    assert_eq!(figure("kept") + figure("left_out"), 1000, "{extract}");
    assert_eq!(
        held["acme-eu"],
        figure("kept"),
        "every prod user migrated or left out: {out}"
    );
    assert_eq!(
        held["zitadel-prod"], 1000,
        "every prod user in ZITADEL: {out}"
    );
    assert!(
        held["acme-staging"] > 0 && held["acme-staging"] < 1000,
        "a subset: {out}"
    );
    let demo = dir.path().join("demo");
    assert!(demo.join("idferry.toml").is_file());
    assert!(
        demo.join("samples/pipelines/staging-refresh.toml")
            .is_file()
    );
    let snapshots = idferry_archive::prune::snapshot_files(&demo.join("snapshots"))
        .unwrap()
        .len();
    assert_eq!(snapshots, 5, "four nightly and the refresh's own");
    let runs: Vec<_> = std::fs::read_dir(demo.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 4);
    for run in runs {
        assert!(run.join("journal.sqlite").is_file(), "{}", run.display());
        assert!(
            out.contains(
                &run.display()
                    .to_string()
                    .replace(&format!("{}/", dir.path().display()), "")
            ),
            "{out}"
        );
    }
}

#[test]
fn the_catalog_lists_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = idferry(&["catalog", "--json"], dir.path());
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), idferry_auth0::CATALOG.len());
    assert!(
        out.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
}
