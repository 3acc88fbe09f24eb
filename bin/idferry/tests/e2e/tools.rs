//! Tools nobody here wrote, brought onto a bare machine by the tests that use them:
//! Python packages from PyPI into one virtual environment under `target/`, made once
//! (one installer at a time in this test binary) and reused by later runs.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// schemathesis, the property-based OpenAPI tester, pinned.
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// The workspace's `target/` folder.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::repo().join("target"))
}

/// The path of `tool` in the test venv (`target/test-venv`), with `requirement`
/// installed into it first when missing. Panics with what to do when it cannot.
pub fn python_tool(tool: &str, requirement: &str) -> PathBuf {
    let venv = target_dir().join("test-venv");
    let bin = venv.join("bin").join(tool);
    let stamp = venv.join(format!(
        ".installed-{}",
        requirement.replace(['=', '<', '>', '[', ']', ','], "_")
    ));
    static INSTALLING: Mutex<()> = Mutex::new(());
    let guard = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if !stamp.exists() {
        if !venv.join("bin").join("pip").exists() {
            run(
                Command::new("python3").arg("-m").arg("venv").arg(&venv),
                "python3 -m venv (Debian: apt-get install python3-venv)",
            );
        }
        run(
            Command::new(venv.join("bin").join("pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .arg(requirement),
            &format!("pip install {requirement} (from PyPI)"),
        );
        std::fs::write(&stamp, requirement).expect("stamp");
    }
    drop(guard);
    assert!(
        bin.exists(),
        "{requirement} has no {tool} in {}",
        venv.display()
    );
    bin
}

fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
