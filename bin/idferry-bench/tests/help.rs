//! The benchmark binary starts, lists its benchmarks, and says where the `idferry` it
//! runs emulators with must be.
#![allow(missing_docs)]

use std::process::Command;

#[test]
fn help_lists_the_benchmarks() {
    let out = Command::new(env!("CARGO_BIN_EXE_idferry-bench"))
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for bench in [
        "list",
        "backup",
        "zitadel-backup",
        "transform",
        "migrate",
        "to-zitadel",
        "upload",
    ] {
        assert!(text.contains(bench), "--help lacks {bench}:\n{text}");
    }
}
