//! The emulator judged by a tool nobody here wrote against the platform's own API
//! definitions: schemathesis (PyPI, pinned) fuzzes every operation of ZITADEL's API
//! subset (`crates/zitadel/testdata`, from ZITADEL's protos) against an emulated
//! instance, checking that nothing answers a server error, that statuses and content
//! types are the documented ones and that every answer validates against its schema,
//! on an instance holding every kind idferry reads.

use idferry_emulator::TenantOptions;
use idferry_model::Platform;

use crate::tools::{SCHEMATHESIS, python_tool};

/// The checks run on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_the_emulated_zitadel_instance_true_to_zitadel_api() {
    let st = tokio::task::spawn_blocking(|| python_tool("schemathesis", SCHEMATHESIS))
        .await
        .unwrap();
    idferry_pacing::install_tls_provider();
    let mut o = TenantOptions::new("zitadel-prod");
    o.platform = Platform::Zitadel;
    let emu = crate::common::start(vec![o]).await;
    let t = &emu.tenants()[0];
    // Every kind present, so that lists and reads answer objects to judge.
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    let config = idferry_model::Config::load(&dir.path().join("idferry.toml")).unwrap();
    let client =
        idferry_zitadel::Client::new(config.tenant("zitadel-prod").unwrap(), Default::default())
            .unwrap();
    crate::zitadel::fill(&client).await;
    let spec =
        crate::common::repo().join("crates/zitadel/testdata/zitadel-api-subset.openapi.json");
    let out = tokio::process::Command::new(&st)
        .arg("run")
        .arg(&spec)
        .args(["--url", &t.base_url])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", t.static_token),
        ])
        .args([
            "--phases",
            "coverage,fuzzing,stateful",
            "--max-examples",
            "10",
            "--seed",
            "1",
        ])
        .args(["--checks", CHECKS])
        .arg("--no-color")
        // Its caches and reports stay in this test's folder.
        .current_dir(dir.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found the emulator untrue to ZITADEL's API:\n{stdout}\n{stderr}"
    );
    // It ran every operation of the spec, not a few.
    let operations =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&spec).unwrap())
            .unwrap()["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|ops| ops.as_object().unwrap().len())
            .sum::<usize>();
    // The figures, for whoever runs it with --nocapture.
    for line in stdout.lines().filter(|l| {
        l.contains("Tested:")
            || l.contains("generated")
            || l.contains("Failures")
            || l.contains("passed")
    }) {
        eprintln!("schemathesis: {}", line.trim());
    }
    let tested = format!("Tested: {operations}");
    assert!(stdout.contains(&tested), "expected «{tested}»:\n{stdout}");
}
