//! Snapshot stores on object storage: a real S3-compatible server (moto, from PyPI,
//! installed by `.ci/run`) on 127.0.0.1, started per test; idferry talks to it over HTTP
//! with the standard AWS environment variables.

use std::process::Stdio;
use std::time::Duration;

use idferry_emulator::{Emulator, GenerateSpec, TenantOptions};
use serde_json::Value;

use crate::common::{run_idferry_env, start};

/// A moto S3 server on an ephemeral port, stopped when dropped.
struct S3 {
    port: u16,
    _server: tokio::process::Child,
}

impl S3 {
    async fn start(bucket: &str) -> Self {
        idferry_pacing::install_tls_provider();
        // A free port: moto cannot report the one it picked.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // moto from PyPI, in the tests' virtual environment under target/.
        let moto = tokio::task::spawn_blocking(|| {
            crate::tools::python_tool("moto_server", crate::tools::MOTO)
        })
        .await
        .unwrap();
        let server = tokio::process::Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("moto_server starts");
        let s3 = Self {
            port,
            _server: server,
        };
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http.get(s3.endpoint()).send().await.is_ok() {
                let made = http
                    .put(format!("{}/{bucket}", s3.endpoint()))
                    .send()
                    .await
                    .unwrap();
                assert!(made.status().is_success(), "{:?}", made.text().await);
                return s3;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto did not answer on port {port} within 30 s");
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What idferry needs to reach this server, as any S3 user would set it.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Multipart uploads begun and not completed in `bucket`.
    async fn uploads_in_progress(&self, bucket: &str) -> usize {
        let body = reqwest::get(format!("{}/{bucket}?uploads", self.endpoint()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        body.matches("<UploadId>").count()
    }

    /// Whether `key` is listed in `bucket`.
    async fn object_exists(&self, bucket: &str, key: &str) -> bool {
        let body = reqwest::get(format!(
            "{}/{bucket}?list-type=2&prefix={key}",
            self.endpoint()
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        body.contains(&format!("<Key>{key}</Key>"))
    }
}

async fn idferry(dir: &std::path::Path, s3: &S3, args: &[&str]) -> (i32, String, String) {
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_idferry_env(args, dir, &env).await
}

fn tenants(names: &[(&str, usize)]) -> Vec<TenantOptions> {
    names
        .iter()
        .map(|(name, users)| {
            let mut o = TenantOptions::new(name);
            o.generate = Some(GenerateSpec {
                users: *users,
                organizations: if *users > 0 { 2 } else { 0 },
            });
            o
        })
        .collect()
}

async fn setup(names: &[(&str, usize)]) -> (Emulator, tempfile::TempDir) {
    let emu = start(tenants(names)).await;
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    (emu, dir)
}

fn listed(out: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_store_in_s3_serves_every_snapshots_command_and_restore() {
    let s3 = S3::start("backups").await;
    let (emu, dir) = setup(&[("acme-prod", 300), ("acme-staging", 0)]).await;
    let store = "s3://backups/nightly";
    for _ in 0..2 {
        let (code, out, err) =
            idferry(dir.path(), &s3, &["backup", "acme-prod", "--out", store]).await;
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.contains("s3://backups/nightly/"), "{out}");
        // Names carry the time to the millisecond; keep them apart.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, out, err) = idferry(dir.path(), &s3, &["snapshots", "list", store, "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let rows = listed(&out);
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(
        rows[0]["users"], 300,
        "the manifest is read from the store: {out}"
    );
    let (a, b) = (
        rows[0]["file"].as_str().unwrap().to_owned(),
        rows[1]["file"].as_str().unwrap().to_owned(),
    );
    assert!(a.starts_with("s3://backups/nightly/"), "{a}");

    let (code, out, err) = idferry(dir.path(), &s3, &["snapshots", "inspect", &a, "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let manifest: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(manifest["tenant"], "acme-prod");
    let (code, out, err) = idferry(dir.path(), &s3, &["snapshots", "verify", &a]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(": ok ("), "{out}");
    let (code, out, err) = idferry(dir.path(), &s3, &["snapshots", "diff", &a, &b]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no differences"), "{out}");
    let (code, out, _) = idferry(dir.path(), &s3, &["snapshots", "cat", &b, "users"]).await;
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 300);

    // Prune: the dry run deletes nothing, then the real one deletes the older.
    let prune = ["snapshots", "prune", store, "--keep-last", "1"];
    let (code, out, err) = idferry(dir.path(), &s3, &[&prune[..], &["--dry-run"]].concat()).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 of 2 snapshots would be deleted"), "{out}");
    // --quick reads only each manifest (the object's first MiB), and says so.
    let (code, out, err) = idferry(
        dir.path(),
        &s3,
        &[&prune[..], &["--dry-run", "--quick"]].concat(),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("1 of 2 snapshots would be deleted")
            && out.contains("unverified: manifest only"),
        "{out}"
    );
    let (_, out, _) = idferry(dir.path(), &s3, &["snapshots", "list", store, "--json"]).await;
    assert_eq!(listed(&out).len(), 2);
    let (code, out, err) = idferry(dir.path(), &s3, &prune).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deleted 1 of 2"), "{out}");
    let (_, out, _) = idferry(dir.path(), &s3, &["snapshots", "list", store, "--json"]).await;
    let rows = listed(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["file"], b.as_str(), "the newer is kept");

    // An encrypted snapshot streams up through age the same way.
    let sealed = "s3://backups/sealed";
    let mut env = s3.env();
    env.push(("BACKUP_PASSPHRASE", "correct horse battery staple".into()));
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, out, err) = run_idferry_env(
        &[
            "backup",
            "acme-prod",
            "--out",
            sealed,
            "--passphrase-env",
            "BACKUP_PASSPHRASE",
        ],
        dir.path(),
        &env_ref,
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let (_, out, _) = idferry(dir.path(), &s3, &["snapshots", "list", sealed, "--json"]).await;
    let rows = listed(&out);
    assert_eq!(rows[0]["encrypted"], true, "{out}");
    let file = rows[0]["file"].as_str().unwrap().to_owned();
    assert!(file.ends_with(".tar.zst.age"), "{file}");
    let (code, out, err) = run_idferry_env(
        &[
            "snapshots",
            "verify",
            &file,
            "--passphrase-env",
            "BACKUP_PASSPHRASE",
        ],
        dir.path(),
        &env_ref,
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");

    // Restore from the store into the empty tenant.
    let (code, out, err) = idferry(
        dir.path(),
        &s3,
        &[
            "restore",
            &b,
            "--to",
            "acme-staging",
            "--kinds",
            "roles,resource_servers",
            "--yes",
            "--json",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let prod_roles = emu.tenants()[0].with(|s| s.table_ref("roles", "").map_or(0, |t| t.len()));
    assert!(prod_roles > 0);
    assert_eq!(
        emu.tenants()[1].with(|s| s.table_ref("roles", "").map_or(0, |t| t.len())),
        prod_roles
    );

    // Status: one tenant backed up, the other never: exit 1, both named.
    let (code, out, err) = idferry(dir.path(), &s3, &["snapshots", "status", store]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("acme-prod") && l.contains(" ok ")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("acme-staging") && l.contains("NOT BACKED UP")),
        "{out}"
    );
}

#[tokio::test]
async fn a_backup_killed_mid_upload_leaves_nothing_listed_and_the_next_succeeds() {
    let s3 = S3::start("backups").await;
    // Big enough for an upload of several parts, compressed slowly to widen the window.
    let (_emu, dir) = setup(&[("acme-prod", 40_000)]).await;
    let store = "s3://backups/nightly";
    let env = s3.env();
    let mut child = tokio::process::Command::new(crate::common::bin())
        .args(["backup", "acme-prod", "--out", store, "--level", "15"])
        .current_dir(dir.path())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut caught = false;
    for _ in 0..3000 {
        if s3.uploads_in_progress("backups").await > 0 {
            child.start_kill().unwrap(); // SIGKILL, mid-upload
            caught = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(caught, "the backup ended before its upload was seen");
    assert!(!child.wait().await.unwrap().success());
    let (code, out, err) = idferry(dir.path(), &s3, &["snapshots", "list", store, "--json"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        listed(&out),
        Vec::<Value>::new(),
        "a half-written snapshot is listed"
    );

    // The same worker starts again: it takes over its own lease and finishes.
    let (code, out, err) = idferry(dir.path(), &s3, &["backup", "acme-prod", "--out", store]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let (_, out, _) = idferry(dir.path(), &s3, &["snapshots", "list", store, "--json"]).await;
    let rows = listed(&out);
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["users"], 40_000);
    let file = rows[0]["file"].as_str().unwrap();
    let (code, out, err) = idferry(dir.path(), &s3, &["snapshots", "verify", file]).await;
    assert_eq!(code, 0, "{out}{err}");
}

#[tokio::test]
async fn sharded_workers_back_up_each_tenant_once_and_respect_held_leases() {
    let s3 = S3::start("backups").await;
    let names: Vec<String> = (0..6).map(|i| format!("tenant-{i}")).collect();
    let spec: Vec<(&str, usize)> = names
        .iter()
        .map(|n| (n.as_str(), if n == "tenant-0" { 2000 } else { 50 }))
        .collect();
    let (emu, dir) = setup(&spec).await;
    // tenant-0 answers slowly, so that its backup is under way when a stale worker comes.
    emu.tenants()[0].set_faults(idferry_emulator::Faults {
        latency_ms: 25,
        ..Default::default()
    });
    let store = "s3://backups/fleet";
    let env = s3.env();
    let worker = |shard: &str, name: &str| {
        tokio::process::Command::new(crate::common::bin())
            .args([
                "backup", "--all", "--shard", shard, "--worker", name, "--out", store, "--json",
            ])
            .current_dir(dir.path())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stderr(Stdio::null())
            .output()
    };
    let both = tokio::spawn(futures_util::future::join(
        worker("0/2", "w0"),
        worker("1/2", "w1"),
    ));
    // A third worker with a stale view (it thinks it is alone) comes while tenant-0's
    // lease is held.
    let mut held = false;
    for _ in 0..2000 {
        if s3
            .object_exists("backups", "fleet/.idferry/leases/tenant-0.json")
            .await
        {
            held = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if !held {
        let (a, b) = both.await.unwrap();
        panic!(
            "tenant-0's lease was never seen: {:?} {:?}",
            a.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()),
            b.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        );
    }
    let (code, out, err) = idferry(
        dir.path(),
        &s3,
        &[
            "backup", "tenant-0", "--worker", "stale", "--out", store, "--json",
        ],
    )
    .await;
    assert_eq!(code, 0, "a skipped tenant is not a failure: {out}\n{err}");
    let stale: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stale[0]["skipped"], true, "{out}");
    assert!(
        stale[0]["error"]
            .as_str()
            .unwrap()
            .contains("holds its lease"),
        "{out}"
    );

    let (a, b) = both.await.unwrap();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.status.success() && b.status.success());
    let mut backed: Vec<String> = [a.stdout, b.stdout]
        .iter()
        .flat_map(|o| listed(&String::from_utf8_lossy(o)))
        .map(|r| r["tenant"].as_str().unwrap().to_owned())
        .collect();
    backed.sort();
    assert_eq!(
        backed, names,
        "each tenant by exactly one of the two workers"
    );

    let (_, out, _) = idferry(dir.path(), &s3, &["snapshots", "list", store, "--json"]).await;
    let mut tenants: Vec<String> = listed(&out)
        .iter()
        .map(|r| r["tenant"].as_str().unwrap().to_owned())
        .collect();
    tenants.sort();
    assert_eq!(tenants, names, "one snapshot per tenant, none twice");

    let (code, out, err) =
        idferry(dir.path(), &s3, &["snapshots", "status", store, "--json"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let rows: Vec<Value> = listed(&out);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r["outcome"] == "ok"), "{out}");
}

#[tokio::test]
async fn sharded_pipeline_runs_snapshot_into_s3_and_report_there() {
    let s3 = S3::start("backups").await;
    let (_emu, dir) = setup(&[("t-a", 20), ("t-b", 20), ("t-c", 20), ("t-d", 20)]).await;
    std::fs::write(
        dir.path().join("nightly.toml"),
        r#"name = "nightly"
[source]
all = true
[[sink]]
type = "snapshot"
dir = "s3://backups/pipelines"
retention = { keep_last = 2 }
"#,
    )
    .unwrap();
    for shard in ["0/2", "1/2"] {
        let run_dir = format!("runs/{}", shard.replace('/', "-"));
        let (code, out, err) = idferry(
            dir.path(),
            &s3,
            &[
                "run",
                "nightly.toml",
                "--shard",
                shard,
                "--run-dir",
                &run_dir,
                "--json",
            ],
        )
        .await;
        assert_eq!(code, 0, "{out}\n{err}");
    }
    let (_, out, _) = idferry(
        dir.path(),
        &s3,
        &["snapshots", "list", "s3://backups/pipelines", "--json"],
    )
    .await;
    let mut tenants: Vec<String> = listed(&out)
        .iter()
        .map(|r| r["tenant"].as_str().unwrap().to_owned())
        .collect();
    tenants.sort();
    assert_eq!(
        tenants,
        ["t-a", "t-b", "t-c", "t-d"],
        "each tenant by one of the two shards"
    );
    let (code, out, err) = idferry(
        dir.path(),
        &s3,
        &["snapshots", "status", "s3://backups/pipelines"],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("4 of 4 tenants backed up"), "{out}");
}

/// Leases against S3's own conditional writes (If-None-Match, If-Match on the ETag):
/// exclusive, renewable, taken over once expired, and a late renewal is refused.
#[tokio::test]
async fn leases_on_s3_use_conditional_writes() {
    use idferry_store::{Lease, LeaseOutcome, Store};
    let s3 = S3::start("backups").await;
    let options: Vec<(String, String)> = [
        ("aws_access_key_id", "test".to_owned()),
        ("aws_secret_access_key", "test".to_owned()),
        ("aws_region", "us-east-1".to_owned()),
        ("aws_endpoint", s3.endpoint()),
        ("aws_allow_http", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let store = Store::open_with("s3://backups/leases", &options).unwrap();
    let hour = Duration::from_secs(3600);
    let LeaseOutcome::Acquired(mut a) = Lease::acquire(&store, "t", "w0", Duration::ZERO)
        .await
        .unwrap()
    else {
        panic!("a free lease was not taken");
    };
    a.renew(hour).await.unwrap();
    match Lease::acquire(&store, "t", "w1", hour).await.unwrap() {
        LeaseOutcome::Held(body) => assert_eq!(body.worker, "w0"),
        LeaseOutcome::Acquired(_) => panic!("a renewed lease was taken"),
    }
    a.renew(Duration::ZERO).await.unwrap();
    let LeaseOutcome::Acquired(b) = Lease::acquire(&store, "t", "w1", hour).await.unwrap() else {
        panic!("an expired lease was not taken over");
    };
    let err = a.renew(hour).await.unwrap_err().to_string();
    assert!(err.contains("another worker took it over"), "{err}");
    b.release().await.unwrap();
    assert!(
        !s3.object_exists("backups", "leases/.idferry/leases/t.json")
            .await
    );
}
