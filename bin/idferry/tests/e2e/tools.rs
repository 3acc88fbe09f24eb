//! Tools nobody here wrote, brought onto a bare machine by the tests that use them:
//! Python packages from PyPI into one virtual environment under `target/`, and npm
//! packages from the committed lockfile in `tests/e2e/npm/` into `target/npm-tools`;
//! each made once (one installer at a time in this test binary) and reused by later runs.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// schemathesis, the property-based OpenAPI tester, pinned.
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// moto, a real S3-compatible server, pinned.
pub const MOTO: &str = "moto[server]==5.2.1";

/// Whether `tool` is on PATH.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// Whether the `age` command-line tool (Debian's package; installing it needs root) is
/// here. Without it the checks that our snapshots open with it are skipped, saying so,
/// unless `IDFERRY_REQUIRE_AGE` is set (`.ci/run` sets it, after installing it): then
/// its absence fails.
pub fn age_cli() -> bool {
    let here = on_path("age") && on_path("age-keygen");
    if !here {
        assert!(
            std::env::var_os("IDFERRY_REQUIRE_AGE").is_none(),
            "IDFERRY_REQUIRE_AGE is set and the age tool is missing: apt-get install age"
        );
        eprintln!(
            "note: the age tool is not installed; the check that age opens our snapshots is skipped (.ci/run runs it)"
        );
    }
    here
}

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

/// The npm tools (auth0-deploy-cli, the official Node SDK), installed with `npm ci` from
/// the committed lockfile into `target/npm-tools` when missing or when the lockfile
/// changed: that folder. Panics with what to do when node or npm are missing.
pub fn npm_tools() -> PathBuf {
    let source = crate::common::repo().join("bin/idferry/tests/e2e/npm");
    let dir = target_dir().join("npm-tools");
    let lock = std::fs::read(source.join("package-lock.json")).expect("the committed lockfile");
    let stamp = dir.join(".installed-lock");
    static INSTALLING: Mutex<()> = Mutex::new(());
    let guard = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if std::fs::read(&stamp).ok().as_deref() != Some(lock.as_slice()) {
        std::fs::create_dir_all(&dir).expect("target/npm-tools");
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(source.join(f), dir.join(f)).expect("copy the npm manifest");
        }
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir),
            "npm ci of auth0-deploy-cli and the auth0 SDK (node and npm from nodejs.org or the distribution)",
        );
        std::fs::write(&stamp, &lock).expect("stamp");
    }
    drop(guard);
    dir
}

/// auth0-deploy-cli's `a0deploy`, from [`npm_tools`].
pub fn a0deploy() -> PathBuf {
    let bin = npm_tools().join("node_modules/.bin/a0deploy");
    assert!(bin.exists(), "npm ci made no {}", bin.display());
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
