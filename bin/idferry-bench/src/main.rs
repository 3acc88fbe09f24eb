//! `idferry-bench`: idferry's benchmarks, out of the main command list. Each prints its
//! figures side by side with its yardstick (jq, bare zstd, gzip, the minimum requests
//! and requests/limit), measured in the same run so that machine noise cancels. The
//! emulators they measure against run as `idferry emulate`, the `idferry` binary built
//! beside this one.

mod bench;
mod migrate;
mod zitadel;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

// The same allocator as `idferry`, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// idferry's benchmarks: figures beside their yardsticks, in one run.
#[derive(Debug, Parser)]
#[command(name = "idferry-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: bench::BenchCommand,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("IDFERRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
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
    match runtime.block_on(bench::run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The `idferry` binary built beside this one: the emulators run as `idferry emulate`.
fn idferry_exe() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let exe = me.with_file_name(format!("idferry{}", std::env::consts::EXE_SUFFIX));
    if !exe.is_file() {
        anyhow::bail!(
            "{} is not there: the benchmarks run emulators as `idferry emulate`; build both with `cargo build --release -p idferry -p idferry-bench`",
            exe.display()
        );
    }
    Ok(exe)
}
