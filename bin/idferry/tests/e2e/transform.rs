//! `idferry transform` in shell pipes, with the sample staging mapping.

use std::io::Write as _;
use std::process::Stdio;

use serde_json::Value;

use crate::common::bin;

fn root() -> std::path::PathBuf {
    crate::common::repo().to_owned()
}

async fn transform(args: &[&str], stdin: &str, cwd: &std::path::Path) -> (i32, String, String) {
    let mut child = tokio::process::Command::new(bin())
        .arg("transform")
        .args(args)
        .current_dir(cwd)
        .env("IDFERRY_SCRUB_KEY", "test-key")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_owned();
    // Fed from its own task: the child may stop reading early (a failing run).
    let feeder = tokio::spawn(async move {
        let _ = tokio::io::AsyncWriteExt::write_all(&mut input, text.as_bytes()).await;
    });
    let out = child.wait_with_output().await.unwrap();
    feeder.await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_staging_mapping_rewrites_urls_and_scrubs_users() {
    let dir = tempfile::tempdir().unwrap();
    let map = root().join("samples/mappings/staging.toml");
    let map = map.to_str().unwrap();
    let users = concat!(
        r#"{"user_id":"auth0|1","email":"ada@example.com","name":"Ada Lovelace","blocked":false,"picture":"https://cdn.acme-prod.example.com/a.png","user_metadata":{"plan":"pro","phone":"+33 6 1","address":{"city":"Lyon"}},"app_metadata":{}}"#,
        "\n",
        r#"{"user_id":"auth0|2","email":"bob@example.com","blocked":true}"#,
        "\n"
    );
    let (code, out, err) = transform(&["--map", map], users, dir.path()).await;
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "the blocked user is filtered out");
    let u = &rows[0];
    assert!(u["email"].as_str().unwrap().ends_with("@example.invalid"));
    assert_eq!(u["app_metadata"]["plan"], "pro");
    assert!(u["user_metadata"].get("plan").is_none());
    assert_eq!(u["app_metadata"]["environment"], "staging");
    assert!(!out.contains("Lyon") && !out.contains("Lovelace") && !out.contains("ada@"));
    assert!(err.contains("2 read, 1 written, 1 filtered out"), "{err}");

    let clients = r#"{"name":"Acme Web","client_id":"x","client_secret":"s3cr3t","callbacks":["https://app.acme-prod.example.com/cb"]}"#;
    let (code, out, err) =
        transform(&["--map", map, "--kind", "clients"], clients, dir.path()).await;
    assert_eq!(code, 0, "{err}");
    let c: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(c["callbacks"][0], "https://app.acme-staging.example.com/cb");
    assert!(c.get("client_secret").is_none());
}

#[tokio::test]
async fn bad_lines_and_bad_specs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::File::create(dir.path().join("m.toml"))
        .unwrap()
        .write_all(b"[[users]]\nop = \"set\"\nfield = \"name.first\"\nvalue = 1\n")
        .unwrap();
    let input = "{\"name\":{}}\n{\"name\":\"x\"}\nnope\n{\"name\":{}}\n";
    let (code, out, err) = transform(&["--map", "m.toml"], input, dir.path()).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("line 2: rule at line 1: set name.first: name is a string"),
        "{err}"
    );
    assert_eq!(out.lines().count(), 1);

    let (code, _, err) = transform(
        &["--map", "m.toml", "--on-error", "skip"],
        input,
        dir.path(),
    )
    .await;
    assert_ne!(code, 0);
    assert!(err.contains("--rejects"), "{err}");

    let (code, out, err) = transform(
        &[
            "--map",
            "m.toml",
            "--on-error",
            "skip",
            "--rejects",
            "r.ndjson",
            "-o",
            "out.ndjson.gz",
        ],
        input,
        dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    let rejects = std::fs::read_to_string(dir.path().join("r.ndjson")).unwrap();
    let lines: Vec<Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines
            .iter()
            .map(|l| l["line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [2, 3]
    );
    let gz = std::fs::read(dir.path().join("out.ndjson.gz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    assert_eq!(text.lines().count(), 2);

    std::fs::write(dir.path().join("bad.toml"), "[[users]]\nop = \"mvoe\"\n").unwrap();
    let (code, _, err) = transform(&["--map", "bad.toml"], "", dir.path()).await;
    assert_ne!(code, 0);
    assert!(err.contains("bad.toml:") && err.contains("mvoe"), "{err}");
}

#[tokio::test]
async fn an_export_through_the_import_profile_imports_with_its_hashes() {
    use idferry_emulator::{GenerateSpec, TenantOptions};
    let mut src = TenantOptions::new("src");
    src.generate = Some(GenerateSpec {
        users: 300,
        organizations: 1,
    });
    let mut dst = TenantOptions::new("dst");
    dst.generate = Some(GenerateSpec {
        users: 0,
        organizations: 1,
    });
    dst.seed = 99;
    let emu = crate::common::start(vec![src, dst]).await;
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    let (code, users, err) =
        crate::common::run_idferry(&["list", "src", "users"], dir.path()).await;
    assert_eq!(code, 0, "{err}");

    // The password-hash export, as Auth0 support delivers it.
    let source = &emu.tenants()[0];
    let hashes = crate::common::password_hash_export(source);
    std::fs::write(dir.path().join("hashes.ndjson"), &hashes).unwrap();
    let (code, out, err) = transform(
        &[
            "--profile",
            "auth0-export-to-import",
            "--hashes",
            "hashes.ndjson",
        ],
        &users,
        dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let carried = hashes.lines().count();
    assert!(
        err.contains(&format!("{carried} users given their hash")),
        "{err}"
    );

    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 300);
    let target = &emu.tenants()[1];
    let client = crate::common::token_client(target);
    let con = crate::common::db_connection(target);
    for chunk in records.chunks(250) {
        let request = idferry_auth0::ImportRequest {
            users: bytes::Bytes::from(serde_json::to_vec(chunk).unwrap()),
            connection_id: con.clone(),
            upsert: false,
            external_id: None,
            send_completion_email: false,
        };
        let job = client.create_import(&request).await.unwrap();
        let done = client
            .wait_job(job.id(), &idferry_model::Silent)
            .await
            .unwrap();
        assert_eq!(
            done.summary("failed"),
            0,
            "{:?}",
            client.job_errors(job.id()).await
        );
    }
    assert_eq!(target.with(|s| s.users.len()), 300);
    // Same ids, same hashes.
    source.with(|s| {
        for (id, c) in s.credentials.iter().take(20) {
            let got = target.with(|t| t.credentials.get(id).cloned());
            assert_eq!(got.unwrap()["password_hash"], c["password_hash"], "{id}");
        }
    });
}

#[tokio::test]
async fn csv_out_and_back_is_lossless_for_users_with_nested_metadata() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.toml"), "").unwrap();
    let users = concat!(
        r#"{"user_id":"auth0|1","email":"a@example.com","email_verified":true,"user_metadata":{"address":{"city":"Lyon"},"tags":["x","y"]},"app_metadata":{"plan":"pro","code":"007"}}"#,
        "\n",
        r#"{"user_id":"auth0|2","email":"b@example.com","email_verified":false,"user_metadata":{"address":{"city":"Oslo, Norway"}},"app_metadata":{"plan":"free"}}"#,
        "\n",
    );
    let (code, csv, err) =
        transform(&["--map", "empty.toml", "--to", "csv"], users, dir.path()).await;
    assert_eq!(code, 0, "{err}");
    assert!(csv.starts_with("user_id,email,email_verified,user_metadata.address.city,user_metadata.tags,app_metadata.plan,app_metadata.code\n"), "{csv}");
    let (code, back, err) =
        transform(&["--map", "empty.toml", "--from", "csv"], &csv, dir.path()).await;
    assert_eq!(code, 0, "{err}");
    let want: Vec<Value> = users
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<Value> = back
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got, want);
}
