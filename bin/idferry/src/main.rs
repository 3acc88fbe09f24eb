//! `idferry`: migrate, back up and restore identity tenants. This binary parses the
//! command line, builds clients from the config file, calls the library crates and shows
//! progress; the work itself lives in the crates.

mod backup;
mod cli;
mod demo;
mod emulate;
mod list;
mod migrate;
mod output;
mod progress;
mod restore;
mod run;
mod snapshots;
mod transform;

use std::process::ExitCode;

use clap::Parser;

// Records are many small allocations (JSON values); mimalloc serves them much faster
// than the system allocator, on the transform and backup paths alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    owner_only();
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        // A closed pipe (`idferry ... | head`) is how the reader says it has enough.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Everything idferry creates (snapshots, spools, run journals, reports with users and
/// hashes, config and secrets it writes, output files) is created readable by its
/// owner only: files 0600, folders 0700, whatever the caller's umask.
fn owner_only() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,idferry=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("IDFERRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
