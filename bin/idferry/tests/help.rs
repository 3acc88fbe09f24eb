//! The binary starts and explains itself. (Its presence also makes `cargo test` build
//! the binary that the end-to-end tests in `tests/` run.)
#![allow(missing_docs)]

use std::process::Command;

#[test]
fn help_lists_the_commands_and_not_the_benchmarks() {
    let out = Command::new(env!("CARGO_BIN_EXE_idferry"))
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for command in [
        "demo", "emulate", "catalog", "list", "backup", "restore", "run",
    ] {
        assert!(text.contains(command), "--help lacks {command}:\n{text}");
    }
    // The benchmarks are a binary of their own (idferry-bench).
    assert!(!text.contains("bench"), "--help lists benchmarks:\n{text}");
}
