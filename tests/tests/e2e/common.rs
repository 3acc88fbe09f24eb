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
    idferry_auth0::install_tls_provider();
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

/// The idferry binary of this build (`IDFERRY_BIN` overrides).
pub fn bin() -> std::path::PathBuf {
    if let Ok(path) = std::env::var("IDFERRY_BIN") {
        return path.into();
    }
    // target/<profile>/deps/e2e-<hash> -> target/<profile>/idferry
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("idferry");
    assert!(
        path.exists(),
        "no binary at {}: run `cargo build -p idferry` or `cargo test --workspace`",
        path.display()
    );
    path
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
