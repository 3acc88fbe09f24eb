//! The dangerous and the ambiguous, refused with a clear error: a run directory in use
//! by another process, a migration of a tenant into itself, a rejects file that is the
//! input or the output, a mapping rule or `--kind` under a kind no catalog has, an empty
//! passphrase; secrets redacted by `list` unless asked for; a tenant that takes requests
//! and never answers reported as stalled within its request timeout.

use std::time::{Duration, Instant};

use idferry_emulator::{Faults, GenerateSpec, TenantOptions};

use crate::common::{bin, run_idferry, run_idferry_env, start};
use crate::restore::Pair;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_directory_is_run_by_one_process_at_a_time() {
    let mut prod = TenantOptions::new("acme-prod");
    prod.generate = Some(GenerateSpec {
        users: 200,
        organizations: 4,
    });
    // Slow answers: the run lasts long enough to be met by a second process.
    prod.faults = Faults {
        latency_ms: 40,
        ..Faults::default()
    };
    let emu = start(vec![prod]).await;
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    std::fs::write(
        dir.path().join("backup.toml"),
        "name = \"backup\"\n[source]\ntenants = [\"acme-prod\"]\n[[sink]]\ntype = \"snapshot\"\ndir = \"snapshots\"\n",
    )
    .unwrap();
    let mut first = tokio::process::Command::new(bin())
        .args(["run", "backup.toml", "--run-dir", "runs/one"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = dir.path().join("runs/one/run.lock");
    let started = Instant::now();
    while std::fs::read_to_string(&lock)
        .unwrap_or_default()
        .is_empty()
    {
        assert!(started.elapsed() < Duration::from_secs(30), "no run.lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, out, err) = run_idferry(&["resume", "runs/one"], dir.path()).await;
    let first_done = first.try_wait().unwrap();
    assert!(
        first_done.is_none(),
        "the first run ended before the second could meet it: make the tenant slower"
    );
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(
        err.contains("is in use by another idferry") && err.contains("process "),
        "{err}"
    );
    let status = first.wait().await.unwrap();
    assert!(status.success(), "the first run was not disturbed");
    // Once it has ended, the directory is free again.
    let (code, out, err) = run_idferry(&["resume", "runs/one"], dir.path()).await;
    assert!(
        !err.contains("in use"),
        "the lock outlived its holder: {code}\n{out}\n{err}"
    );
}

#[tokio::test]
async fn ambiguous_and_dangerous_arguments_are_refused() {
    let pair = Pair::new(20).await;
    let p = pair.path();

    // A tenant migrated into itself.
    let (code, _, err) = pair
        .idferry(&[
            "migrate",
            "users",
            "--from",
            "acme-prod",
            "--to",
            "acme-prod",
        ])
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("are the same tenant"), "{err}");

    // A rejects file that is the input or the output.
    std::fs::write(p.join("in.ndjson"), "{\"email\":\"a@b.c\"}\n").unwrap();
    std::fs::write(
        p.join("drop.toml"),
        "[[users]]\nop = \"drop\"\nfields = [\"x\"]\n",
    )
    .unwrap();
    for (input, output) in [("in.ndjson", "out.ndjson"), ("in.ndjson", "in.ndjson")] {
        for rejects in [input, output] {
            let (code, _, err) = pair
                .idferry(&[
                    "transform",
                    "--map",
                    "drop.toml",
                    "-i",
                    input,
                    "-o",
                    output,
                    "--on-error",
                    "skip",
                    "--rejects",
                    rejects,
                ])
                .await;
            assert_ne!(code, 0, "--rejects {rejects} with -i {input} -o {output}");
            assert!(err.contains("it would be overwritten"), "{err}");
        }
    }
    assert_eq!(
        std::fs::read_to_string(p.join("in.ndjson")).unwrap(),
        "{\"email\":\"a@b.c\"}\n",
        "the input is untouched"
    );

    // A rule under a misspelt kind, and a misspelt --kind.
    std::fs::write(
        p.join("scrub.toml"),
        "[[user]]\nop = \"scrub\"\nfields = [\"email\"]\nas = \"email\"\nkey_env = \"IDFERRY_SCRUB_KEY\"\n",
    )
    .unwrap();
    let (code, out, err) = pair
        .idferry(&["transform", "--map", "scrub.toml", "-i", "in.ndjson"])
        .await;
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("scrub.toml:1") && err.contains("did you mean \"users\""),
        "{err}"
    );
    assert!(!out.contains("a@b.c"), "nothing passed through");
    let (code, _, err) = pair
        .idferry(&[
            "transform",
            "--map",
            "drop.toml",
            "--kind",
            "userz",
            "-i",
            "in.ndjson",
        ])
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("no kind \"userz\""), "{err}");

    // An empty passphrase.
    let (code, _, err) = run_idferry_env(
        &[
            "backup",
            "acme-prod",
            "--out",
            "snaps",
            "--passphrase-env",
            "EMPTY",
        ],
        p,
        &[("EMPTY", "")],
    )
    .await;
    assert_ne!(code, 0);
    assert!(err.contains("the passphrase is empty"), "{err}");
    assert!(!p.join("snaps").exists() || std::fs::read_dir(p.join("snaps")).unwrap().count() == 0);

    // list: secrets redacted unless asked for.
    let secret = pair.emu.tenants()[0].with(|s| {
        s.table("connections", "")
            .values()
            .find_map(|c| c["options"]["client_secret"].as_str().map(str::to_owned))
            .unwrap()
    });
    let (code, out, err) = pair.idferry(&["list", "acme-prod", "connections"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains(&secret) && out.contains("[redacted]"),
        "{out}"
    );
    assert!(err.contains("--show-secrets"), "{err}");
    let (code, out, _) = pair
        .idferry(&["list", "acme-prod", "connections", "--show-secrets"])
        .await;
    assert_eq!(code, 0);
    assert!(out.contains(&secret));
}

#[tokio::test]
async fn a_tenant_that_never_answers_is_reported_stalled_within_its_timeout() {
    // A server that takes connections and requests and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("idferry.toml"),
        format!(
            "[tenants.silent]\nbase_url = \"http://{addr}\"\ntoken_env = \"SILENT_TOKEN\"\nrequest_timeout = 2\n"
        ),
    )
    .unwrap();
    let started = Instant::now();
    let (code, out, err) = run_idferry_env(
        &["list", "silent", "clients"],
        dir.path(),
        &[("SILENT_TOKEN", "t")],
    )
    .await;
    let took = started.elapsed();
    held.abort();
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("stalled") && err.contains("request_timeout"),
        "{err}"
    );
    assert!(
        took < Duration::from_secs(20),
        "a stalled tenant is given up on after its timeout, not retried for minutes: {took:?}"
    );
}

#[tokio::test]
async fn transform_loses_nothing_of_its_input_silently() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("keep.toml"),
        "[[users]]\nop = \"drop\"\nfields = [\"x\"]\n",
    )
    .unwrap();
    let transform = |extra: &[&str]| {
        let mut args = vec!["transform", "--map", "keep.toml"];
        args.extend(extra);
        args.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<String>>()
    };
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_idferry(&args, p).await
    };
    // A key twice in one record: refused naming the line and the key.
    std::fs::write(
        p.join("dup.ndjson"),
        "{\"email\":\"a@x\"}\n{\"email\":\"b@x\",\"email\":\"c@x\"}\n",
    )
    .unwrap();
    let (code, _, err) = run(transform(&["-i", "dup.ndjson"])).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("line 2") && err.contains("\"email\" appears twice"),
        "{err}"
    );
    // An integer beyond 64 bits: carried exactly, not rounded to a float.
    std::fs::write(
        p.join("big.ndjson"),
        "{\"id\":123456789012345678901234567,\"x\":1}\n",
    )
    .unwrap();
    let (code, out, err) = run(transform(&["-i", "big.ndjson"])).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "{\"id\":123456789012345678901234567}");
    // A csv column named twice: refused; a csv row that cannot be read goes to the
    // rejects with --on-error skip, the others are carried.
    std::fs::write(p.join("dup.csv"), "email,email\na,b\n").unwrap();
    let (code, _, err) = run(transform(&["--from", "csv", "-i", "dup.csv"])).await;
    assert_ne!(code, 0);
    assert!(err.contains("appears twice"), "{err}");
    std::fs::write(p.join("short.csv"), "email,name\na@x,A\nb@x\nc@x,C\n").unwrap();
    let (code, out, err) = run(transform(&[
        "--from",
        "csv",
        "-i",
        "short.csv",
        "--on-error",
        "skip",
        "--rejects",
        "rej.ndjson",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let rejects = std::fs::read_to_string(p.join("rej.ndjson")).unwrap();
    assert_eq!(rejects.lines().count(), 1, "{rejects}");
    assert!(rejects.contains("\"line\":3"), "{rejects}");
    assert!(err.contains("1 rejected"), "{err}");
}
