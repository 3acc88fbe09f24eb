//! Shared set-up: emulated tenants, clients of them, raw HTTP calls.

use idferry_auth0::{Client, ClientOptions, RetryPolicy};
use idferry_emulator::{Emulator, Tenant, TenantOptions};
use idferry_model::{Credentials, Secret};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Starts the emulator with these tenants.
pub async fn start(tenants: Vec<TenantOptions>) -> Emulator {
    Emulator::start(tenants).await.expect("emulator starts")
}

/// A client with the tenant's static token.
pub fn token_client(t: &Tenant) -> Client {
    Client::from_parts(
        &t.name,
        &t.base_url,
        Credentials::Token(Secret::new(t.static_token.clone())),
        None,
        None,
        ClientOptions::default(),
    )
    .unwrap()
}

/// A client with the tenant's client credentials.
pub fn cc_client(t: &Tenant) -> Client {
    Client::from_parts(
        &t.name,
        &t.base_url,
        t.client_credentials(),
        None,
        None,
        ClientOptions {
            retry: RetryPolicy {
                max_attempts: 12,
                ..RetryPolicy::default()
            },
            ..ClientOptions::default()
        },
    )
    .unwrap()
}

/// A raw request under `/api/v2`, with `token` as bearer when given.
pub async fn raw(
    t: &Tenant,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, HeaderMap, Value) {
    idferry_pacing::install_tls_provider();
    let http = reqwest::Client::new();
    let mut req = http.request(method, format!("{}/api/v2{path}", t.base_url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

/// Every record of a users-exports job made with `request`, once it is done.
pub async fn export_all(
    client: &Client,
    request: &idferry_auth0::ExportRequest,
) -> Vec<serde_json::Value> {
    use futures_util::TryStreamExt;
    let job = client.create_export(request).await.unwrap();
    client
        .wait_job(job.id(), &idferry_model::Silent)
        .await
        .unwrap();
    client
        .export_records(job.id())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

/// The id of the tenant's database connection.
pub fn db_connection(t: &Tenant) -> String {
    t.with(|s| {
        s.table("connections", "")
            .values()
            .find(|c| c["strategy"] == "auth0")
            .and_then(|c| c["id"].as_str().map(str::to_owned))
            .expect("a database connection")
    })
}

/// The idferry binary that cargo built for these tests (`IDFERRY_BIN` overrides): never
/// a stale one from another build.
pub fn bin() -> std::path::PathBuf {
    if let Ok(path) = std::env::var("IDFERRY_BIN") {
        return path.into();
    }
    env!("CARGO_BIN_EXE_idferry").into()
}

/// The repository's root (samples, test data, target/).
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository")
}

/// Runs the binary without blocking the runtime (the emulator answers from it).
pub async fn run_idferry(args: &[&str], cwd: &std::path::Path) -> (i32, String, String) {
    run_idferry_env(args, cwd, &[]).await
}

/// [`run_idferry`] with environment variables.
pub async fn run_idferry_env(
    args: &[&str],
    cwd: &std::path::Path,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let out = tokio::process::Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .envs(env.iter().copied())
        .env_remove("RUST_BACKTRACE")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The tenant's password hashes as the ndjson Auth0 support delivers (by `_id.$oid`).
pub fn password_hash_export(t: &Tenant) -> String {
    t.with(|s| {
        s.credentials
            .iter()
            .filter_map(|(id, c)| {
                let email = s.users.get(id)?.email.clone()?;
                let oid = id.strip_prefix("auth0|")?;
                Some(format!(
                    "{}\n",
                    serde_json::json!({"_id": {"$oid": oid}, "email": email, "passwordHash": c["password_hash"]})
                ))
            })
            .collect()
    })
}

/// A small deterministic generator of kill moments.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low)
    }
}

/// Runs `first` (an idferry command line that starts a run in `run_dir`), then `resume
/// run_dir` again, `attempts` times in all, in `dir`: each killed with SIGKILL at a
/// moment between `low_ms` and `high_ms` unless it ends first. Returns the seed of the
/// moments and the moments of the kills that happened.
pub async fn kill_and_resume(
    dir: &std::path::Path,
    first: &[&str],
    run_dir: &str,
    attempts: usize,
    (low_ms, high_ms): (u64, u64),
) -> (u64, Vec<u64>) {
    // IDFERRY_KILL_SEED replays the moments of an earlier run (its seed is printed).
    let seed = std::env::var("IDFERRY_KILL_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
        | 1;
    eprintln!("kill moments: seed {seed} (IDFERRY_KILL_SEED={seed} replays them)");
    let mut moments = Moments(seed);
    let mut kills = Vec::new();
    for attempt in 0..attempts {
        let mut cmd = tokio::process::Command::new(bin());
        if attempt == 0 {
            cmd.args(first);
        } else {
            cmd.args(["resume", run_dir]);
        }
        let mut child = cmd
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let wait = moments.next_ms(low_ms, high_ms);
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(wait)) => {
                child.start_kill().unwrap();
                kills.push(wait);
            }
            // It finished before its kill: later attempts find it done.
            _ = child.wait() => {}
        }
        let _ = child.wait().await;
    }
    assert!(
        !kills.is_empty(),
        "seed {seed}: every run ended before its kill: the test proved nothing (make the work slower)"
    );
    (seed, kills)
}
