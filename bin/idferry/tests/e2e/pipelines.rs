//! Pipelines through the binary: the sample specs against emulated tenants, a
//! multi-tenant run with a failing tenant, refusals, and a migration killed with SIGKILL
//! at random moments and resumed until it ends.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use idferry_emulator::{Emulator, GenerateSpec, Tenant, TenantOptions};
use serde_json::Value;

use crate::common::{kill_and_resume, run_idferry_env, start};

/// The demo's tenants: prod generated, staging and eu empty, dev generated small.
async fn tenants(users: usize, import_rate: f64) -> Emulator {
    let mut prod = TenantOptions::new("acme-prod");
    prod.generate = Some(GenerateSpec {
        users,
        organizations: 4,
    });
    let mut dev = TenantOptions::new("acme-dev");
    dev.generate = Some(GenerateSpec {
        users: 50,
        organizations: 1,
    });
    dev.seed = 7;
    let mut eu = TenantOptions::new("acme-eu");
    eu.import_rate = import_rate;
    start(vec![prod, TenantOptions::new("acme-staging"), eu, dev]).await
}

/// A work folder holding the config and a copy of `samples/` (the specs' paths are
/// relative to them, so snapshots land in the folder).
fn workdir(emu: &Emulator) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    let samples = crate::common::repo().join("samples");
    for sub in ["pipelines", "mappings"] {
        let to = dir.path().join("samples").join(sub);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(samples.join(sub)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    dir
}

async fn idferry(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_idferry_env(args, dir, &[("IDFERRY_SCRUB_KEY", "test-key")]).await
}

/// The sample nightly backup, run into `runs/nightly` with a JSON report.
async fn nightly(dir: &Path) -> (i32, String, String) {
    idferry(
        dir,
        &[
            "run",
            "samples/pipelines/nightly-backup.toml",
            "--run-dir",
            "runs/nightly",
            "--json",
        ],
    )
    .await
}

fn emails(t: &Tenant) -> Vec<String> {
    t.with(|s| {
        s.users
            .iter()
            .filter_map(|u| u.email.clone().map(|e| e.to_string()))
            .collect()
    })
}

/// The emails of a tenant's database users (`auth0|...`): those a users import takes.
fn database_emails(t: &Tenant) -> Vec<String> {
    t.with(|s| {
        s.users
            .iter()
            .filter(|u| u.id.starts_with("auth0|"))
            .filter_map(|u| u.email.clone().map(|e| e.to_string()))
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nightly_backup_completes_the_others_when_one_tenant_fails() {
    let emu = tenants(100, 0.0).await;
    let dir = workdir(&emu);
    // acme-dev's credential is revoked.
    std::fs::write(dir.path().join("secrets/acme-dev.client-secret"), "revoked").unwrap();
    let (code, out, err) = nightly(dir.path()).await;
    assert_eq!(code, 1, "one tenant failed:\n{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let units = report["units"].as_array().unwrap();
    let outcome: Vec<(&str, bool)> = units
        .iter()
        .map(|u| (u["unit"].as_str().unwrap(), u["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        outcome,
        vec![
            ("acme-prod", true),
            ("acme-staging", true),
            ("acme-eu", true),
            ("acme-dev", false)
        ]
    );
    let dev = units.iter().find(|u| u["unit"] == "acme-dev").unwrap();
    assert!(dev["error"].as_str().unwrap().contains("401"), "{dev}");
    let snapshots: Vec<String> = std::fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.zst"))
        .collect();
    assert_eq!(snapshots.len(), 3, "{snapshots:?}");

    // The runs list shows it; fixing the credential and resuming backs up acme-dev only.
    let (code, out, _) = idferry(dir.path(), &["runs", "--runs-dir", "runs", "--json"]).await;
    assert_eq!(code, 0);
    let runs: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["status"], "failed", "{runs}");
    let secret = emu.tenants()[3].client_secret.clone();
    std::fs::write(dir.path().join("secrets/acme-dev.client-secret"), secret).unwrap();
    let (code, out, err) = idferry(dir.path(), &["resume", "runs/nightly"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let count = idferry_archive::prune::snapshot_files(&dir.path().join("snapshots"))
        .unwrap()
        .len();
    assert_eq!(count, 4, "only the failed tenant was backed up again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_writing_snapshots_leaves_a_tenant_whose_lease_another_worker_holds() {
    let emu = tenants(30, 0.0).await;
    let dir = workdir(&emu);
    // Another worker (a `backup --shard`, or a second `run --shard`) holds acme-dev.
    let snapshots = dir.path().join("snapshots");
    std::fs::create_dir_all(&snapshots).unwrap();
    let store = idferry_store::Store::open(&snapshots.to_string_lossy()).unwrap();
    let held = idferry_store::Lease::acquire(
        &store,
        "acme-dev",
        "other-worker",
        std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert!(matches!(held, idferry_store::LeaseOutcome::Acquired(_)));
    let (code, out, err) = nightly(dir.path()).await;
    assert_eq!(
        code, 0,
        "a tenant left to its lease holder is not a failure:\n{out}\n{err}"
    );
    let report: Value = serde_json::from_str(&out).unwrap();
    let units = report["units"].as_array().unwrap();
    let dev = units.iter().find(|u| u["unit"] == "acme-dev").unwrap();
    assert!(
        dev["held_by"].as_str().unwrap().contains("other-worker"),
        "{dev}"
    );
    assert_eq!(dev["stages"].as_array().unwrap().len(), 0, "{dev}");
    for u in units.iter().filter(|u| u["unit"] != "acme-dev") {
        assert!(u["held_by"].is_null() && u["ok"] == true, "{u}");
    }
    let taken = idferry_archive::prune::snapshot_files(&snapshots).unwrap();
    assert_eq!(taken.len(), 3, "{taken:?}");
    assert!(
        taken
            .iter()
            .all(|p| !p.0.to_string_lossy().contains("acme-dev"))
    );
    // The run gave back the leases it took; the other worker's is still there.
    let leases: Vec<String> = std::fs::read_dir(snapshots.join(".idferry/leases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leases, vec!["acme-dev.json".to_owned()]);
    let (_, text, _) = idferry(dir.path(), &["resume", "runs/nightly"]).await;
    assert!(
        text.contains("skipped") && text.contains("other-worker"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staging_refresh_restores_and_imports_a_scrubbed_subset() {
    let emu = tenants(1000, 0.0).await;
    let dir = workdir(&emu);
    let (code, out, err) = idferry(
        dir.path(),
        &[
            "run",
            "samples/pipelines/staging-refresh.toml",
            "--run-dir",
            "runs/refresh",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("acme-prod") && out.contains("ok"), "{out}");
    let (prod, staging) = (&emu.tenants()[0], &emu.tenants()[1]);
    let prod_emails: HashSet<String> = emails(prod).into_iter().collect();
    let staged = emails(staging);
    assert!(
        !staged.is_empty() && staged.len() < prod_emails.len() / 2,
        "{}",
        staged.len()
    );
    for e in &staged {
        assert!(
            e.ends_with("@example.invalid") && !prod_emails.contains(e),
            "{e}"
        );
    }
    let callbacks: Vec<String> = staging.with(|s| {
        s.table("clients", "")
            .values()
            .flat_map(|c| c["callbacks"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    });
    assert!(!callbacks.is_empty() && callbacks.iter().all(|c| !c.contains("acme-prod")));
    assert!(
        callbacks.iter().any(|c| c.contains("acme-staging")),
        "{callbacks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_is_refused_when_the_spec_changed_or_the_journal_is_damaged() {
    let emu = tenants(50, 0.0).await;
    let dir = workdir(&emu);
    let (code, out, err) = idferry(
        dir.path(),
        &[
            "run",
            "samples/pipelines/migrate-users.toml",
            "--run-dir",
            "runs/m",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let spec = dir.path().join("samples/pipelines/migrate-users.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace("to = \"acme-eu\"", "to = \"acme-staging\""),
    )
    .unwrap();
    let (code, _, err) = idferry(dir.path(), &["resume", "runs/m"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("changed since this run started"), "{err}");
    // A mapping it names changing is a changed spec too.
    std::fs::write(&spec, &text).unwrap();
    let values = dir.path().join("samples/pipelines/values.toml");
    let v = std::fs::read_to_string(&values).unwrap();
    std::fs::write(&values, format!("{v}\n# edited\n")).unwrap();
    let (code, _, err) = idferry(dir.path(), &["resume", "runs/m"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("changed since this run started"), "{err}");
    std::fs::write(&values, &v).unwrap();

    let journal = dir.path().join("runs/m/journal.sqlite");
    let mut bytes = std::fs::read(&journal).unwrap();
    for b in bytes.iter_mut().skip(20).take(200) {
        *b ^= 0xff;
    }
    std::fs::write(&journal, bytes).unwrap();
    let _ = std::fs::remove_file(dir.path().join("runs/m/journal.sqlite-wal"));
    let (code, _, err) = idferry(dir.path(), &["resume", "runs/m"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("damaged"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_killed_twenty_times_ends_with_every_user_exactly_once() {
    const USERS: usize = 20_000;
    // Imports take a while (2,000 users/s per job), so that kills land in them.
    let emu = tenants(USERS, 2000.0).await;
    let dir = workdir(&emu);
    let run_dir = "runs/crash";
    let first = [
        "run",
        "samples/pipelines/migrate-users.toml",
        "--run-dir",
        run_dir,
    ];
    let (seed, kills) = kill_and_resume(dir.path(), &first, run_dir, 20, (300, 1500)).await;
    let (code, out, err) = idferry(dir.path(), &["resume", run_dir, "--json"]).await;
    assert_eq!(code, 0, "seed {seed}, kills {kills:?}:\n{out}\n{err}");
    eprintln!("seed {seed}: {} kills at {kills:?} ms", kills.len());
    let (_, runs, _) = idferry(dir.path(), &["runs", "--runs-dir", "runs", "--json"]).await;
    eprintln!("{runs}");

    let (prod, eu) = (&emu.tenants()[0], &emu.tenants()[2]);
    // Social logins are left out (and reported); every database user exactly once.
    let mut want = database_emails(prod);
    let mut got = emails(eu);
    want.sort();
    got.sort();
    assert!(want.len() > USERS / 2, "{}", want.len());
    assert_eq!(got, want, "every user exactly once (seed {seed})");
    // The configuration matches: a restore plans nothing.
    let (code, out, err) = idferry(
        dir.path(),
        &[
            "restore",
            "acme-prod",
            "--to",
            "acme-eu",
            "--values",
            "samples/pipelines/values.toml",
            "--plan",
            "--json",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["plan"]["steps"], serde_json::json!([]), "{plan:#}");
    let report: PathBuf = dir.path().join(run_dir);
    assert!(report.join("journal.sqlite").is_file());
}
