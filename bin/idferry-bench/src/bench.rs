//! The benchmark commands (`idferry-bench list|backup|transform|upload|...`): each prints
//! its figures, so that anyone can rerun them.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use idferry_auth0::catalog;
use idferry_auth0::{Client, ClientOptions};
use idferry_emulator::{Emulator, TenantOptions};
use idferry_model::{Credentials, Secret};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// List N objects from an emulated tenant limited to R requests/s, and compare the
    /// requests made with the minimum needed and the time taken with requests/R.
    List(ListBench),
    /// Back up a generated tenant of N users (the emulator runs as a separate process)
    /// and compare the archive with `gzip -6` of the same users ndjson.
    Backup(BackupBench),
    /// Restore a generated tenant's configuration and migrate its users into an emulated
    /// tenant limited to R requests/s; compare the requests made with the minimum
    /// needed and the time taken with requests/R.
    Migrate(MigrateBench),
    /// Migrate a generated Auth0 tenant's users into an emulated ZITADEL instance
    /// limited to R requests/s: requests per user, 429s, and the time against
    /// requests/R.
    ToZitadel(ZitadelBench),
    /// Back up the users of an emulated ZITADEL instance of N users (the emulator runs as a
    /// separate process) limited to R requests/s: requests made against the minimum, the
    /// time against requests/R, and peak memory.
    ZitadelBackup(ZitadelBackupBench),
    /// N generated users (ndjson.zst) through a mapping spec into ndjson.zst, against
    /// `jq` running the equivalent program on the same input.
    Transform(TransformBench),
    /// The same snapshot file written to a local folder (and fsynced) and uploaded to a
    /// store as a streamed multipart upload: the throughput of each.
    Upload(UploadBench),
    /// Writes N generated users as ndjson.zst (used by `idferry-bench transform`).
    #[command(hide = true)]
    GenUsers {
        /// Users.
        #[arg(long)]
        users: usize,
        /// The output file.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct TransformBench {
    /// Records (users).
    #[arg(long, default_value_t = 1_000_000)]
    pub records: usize,
    /// The mapping spec.
    #[arg(long, default_value = "samples/mappings/staging.toml")]
    pub map: std::path::PathBuf,
    /// The jq program equivalent to the spec (skipped when absent or jq is missing).
    #[arg(long, default_value = "samples/mappings/staging.jq")]
    pub jq: std::path::PathBuf,
    /// zstd level of the output.
    #[arg(long, default_value_t = 1)]
    pub zstd_level: i32,
    /// Lines per batch.
    #[arg(long, default_value_t = idferry_transform::EngineOptions::default().batch)]
    pub batch: usize,
    /// Times to run the transform and the bare zstd round trips (in turn); the medians
    /// are compared, and the fastest and slowest runs shown.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ZitadelBackupBench {
    /// Users in the instance.
    #[arg(long, default_value_t = 100_000)]
    pub users: usize,
    /// Organizations they are spread over.
    #[arg(long, default_value_t = 20)]
    pub organizations: usize,
    /// The instance's rate limit, requests per second (the client is set to the same:
    /// ZITADEL sends no rate-limit headers).
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// The instance's bucket size.
    #[arg(long, default_value_t = 50)]
    pub burst: u32,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BackupBench {
    /// Users in the tenant.
    #[arg(long, default_value_t = 1_000_000)]
    pub users: usize,
    /// zstd level of the archive.
    #[arg(long, default_value_t = idferry_archive::WriteOptions::default().level)]
    pub level: i32,
    /// zstd worker threads.
    #[arg(long, default_value_t = idferry_archive::WriteOptions::default().threads)]
    pub threads: u32,
    /// Where to work (a temporary folder by default; it needs about 3 KB per user).
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Example, against a local S3-compatible server:
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \\
    idferry-bench upload --store s3://bench/idferry --file snapshots/SNAPSHOT.tar.zst")]
pub struct UploadBench {
    /// The store to upload to (a URL, s3://BUCKET/PREFIX).
    #[arg(long)]
    pub store: String,
    /// The snapshot file sent.
    #[arg(long)]
    pub file: std::path::PathBuf,
    /// Times each way (the best is kept).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateBench {
    /// Users migrated.
    #[arg(long, default_value_t = 100_000)]
    pub users: usize,
    /// Organizations in the source (each brings enabled connections, a domain and
    /// grants: 900 make a configuration of over 2,000 objects).
    #[arg(long, default_value_t = 900)]
    pub organizations: usize,
    /// The target's rate limit, requests per second (the client is set to the same).
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// The target's bucket size.
    #[arg(long, default_value_t = 10)]
    pub burst: u32,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ZitadelBench {
    /// Users migrated.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// Organizations in the source.
    #[arg(long, default_value_t = 20)]
    pub organizations: usize,
    /// The instance's rate limit, requests per second (ZITADEL Cloud: about 50 per IP).
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// The instance's bucket size.
    #[arg(long, default_value_t = 50)]
    pub burst: u32,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListBench {
    /// Objects in the tenant.
    #[arg(long, default_value_t = 5000)]
    pub objects: usize,
    /// The tenant's rate limit, requests per second.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// The tenant's bucket size.
    #[arg(long, default_value_t = 10)]
    pub burst: u32,
    /// A rate for the client's own limiter (default: none, it learns from the headers).
    #[arg(long)]
    pub client_rate: Option<f64>,
    /// The kind listed: organizations (checkpoint paging) or roles (offset paging).
    #[arg(long, default_value = "organizations")]
    pub kind: String,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::List(args) => list(args).await,
        BenchCommand::Migrate(args) => crate::migrate::run(args).await,
        BenchCommand::ToZitadel(args) => crate::zitadel::run(args).await,
        BenchCommand::Backup(args) => backup(args).await,
        BenchCommand::Transform(args) => transform(args),
        BenchCommand::ZitadelBackup(args) => crate::zitadel::backup(args).await,
        BenchCommand::Upload(args) => upload(args).await,
        BenchCommand::GenUsers { users, out } => gen_users(users, &out),
    }
}

async fn upload(args: UploadBench) -> anyhow::Result<ExitCode> {
    let store = idferry_store::Store::open(&args.store)?;
    let bytes = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    let scratch = tempfile::Builder::new()
        .prefix("idferry-bench-")
        .tempdir()?;
    let (mut disk, mut s3) = (f64::MAX, f64::MAX);
    for round in 0..args.rounds.max(1) {
        let (file, local) = (args.file.clone(), scratch.path().join("copy.tar.zst"));
        let started = Instant::now();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut out =
                std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&local)?);
            std::io::copy(&mut std::fs::File::open(file)?, &mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .await??;
        disk = disk.min(started.elapsed().as_secs_f64());

        let (file, target) = (args.file.clone(), store.clone());
        let name = format!("bench-upload-{round}.tar.zst");
        let started = Instant::now();
        let sent = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, target.upload(&name)?);
            std::io::copy(&mut std::fs::File::open(file)?, &mut out)?;
            Ok(out.into_inner().map_err(|e| e.into_error())?.finish()?)
        })
        .await??;
        s3 = s3.min(started.elapsed().as_secs_f64());
        if sent != bytes {
            bail!("uploaded {sent} bytes of {bytes}");
        }
        store
            .delete(&format!("bench-upload-{round}.tar.zst"))
            .await?;
    }
    let mb = bytes as f64 / 1e6;
    let figures = json!({
        "bytes": bytes, "disk_seconds": disk, "disk_mb_per_second": mb / disk,
        "upload_seconds": s3, "upload_mb_per_second": mb / s3,
        "part_bytes": idferry_store::upload::PART_BYTES, "store": store.url(),
    });
    if args.json {
        println!("{figures}");
    } else {
        println!("snapshot          {mb:.1} MB ({})", args.file.display());
        println!(
            "local disk        {:.1} MB/s ({disk:.2}s, write + fsync)",
            mb / disk
        );
        println!(
            "upload            {:.1} MB/s ({s3:.2}s, multipart, {} MiB parts) to {}",
            mb / s3,
            idferry_store::upload::PART_BYTES >> 20,
            store.url()
        );
        println!(
            "ratio             upload takes {:.1}x the disk write",
            s3 / disk
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListBench) -> anyhow::Result<ExitCode> {
    let kind = catalog::find(&args.kind).with_context(|| format!("no kind {}", args.kind))?;
    if !matches!(kind.name, "organizations" | "roles") {
        bail!("the list benchmark fills organizations or roles");
    }
    let mut options = TenantOptions::new("bench");
    options.rate_limit = args.rate;
    options.burst = args.burst;
    let emulator = Emulator::start(vec![options]).await?;
    let tenant = emulator.tenants()[0].clone();
    let prefix = if kind.name == "roles" { "rol_" } else { "org_" };
    tenant.with(|store| {
        let table = store.table(kind.name, "");
        for i in 0..args.objects {
            let id = format!("{prefix}{i:016}");
            table.insert(id.clone(), json!({"id": id, "name": format!("bench-{i:06}"), "display_name": format!("Bench {i}")}));
        }
    });
    let credentials = Credentials::ClientCredentials {
        client_id: tenant.client_id.clone(),
        client_secret: Secret::new(tenant.client_secret.clone()),
        audience: None,
    };
    let client = Client::from_parts(
        "bench",
        &tenant.base_url,
        credentials,
        args.client_rate,
        None,
        ClientOptions::default(),
    )?;

    let started = Instant::now();
    let listed = client
        .list(kind, &[])
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await?;
    let wall = started.elapsed().as_secs_f64();
    let stats = client.stats();
    let server = tenant.stats();
    let pages = args
        .objects
        .div_ceil(idferry_auth0::paginate::PAGE_SIZE)
        .max(1) as u64;
    let minimum = pages + 1;
    let ideal = stats.requests as f64 / args.rate;
    if listed != args.objects {
        bail!("listed {listed} objects, expected {}", args.objects);
    }
    if args.json {
        println!(
            "{}",
            json!({
                "objects": listed, "kind": kind.name, "rate": args.rate, "burst": args.burst,
                "requests": stats.requests, "minimum_requests": minimum,
                "requests_ratio": stats.requests as f64 / minimum as f64,
                "rate_limited_client": stats.rate_limited, "rate_limited_server": server.rate_limited,
                "wall_seconds": wall, "requests_over_rate_seconds": ideal, "wall_ratio": wall / ideal,
            })
        );
    } else {
        println!(
            "listed {listed} {} from a tenant limited to {} req/s (burst {})",
            kind.name, args.rate, args.burst
        );
        println!(
            "requests made    {:>8}  (minimum {minimum}: {pages} pages + 1 token)  -> {:.3}x",
            stats.requests,
            stats.requests as f64 / minimum as f64
        );
        println!(
            "429s received    {:>8}  (server counted {})",
            stats.rate_limited, server.rate_limited
        );
        println!(
            "wall time        {wall:>8.2}s (requests/limit {ideal:.2}s)  -> {:.3}x",
            wall / ideal
        );
    }
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Kills the emulator child when the benchmark ends, however it ends.
pub(crate) struct Child(pub(crate) std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Peak resident memory of this process, from /proc (Linux).
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

async fn backup(args: BackupBench) -> anyhow::Result<ExitCode> {
    use idferry_archive::{SnapshotReader, SnapshotWriter, WriteOptions};
    use idferry_auth0_export::{ExportOptions, export};

    let scratch = tempfile::Builder::new()
        .prefix("idferry-bench-")
        .tempdir_in(args.dir.clone().unwrap_or_else(std::env::temp_dir))?;
    let config_path = scratch.path().join("idferry.toml");
    let exe = crate::idferry_exe()?;
    eprintln!(
        "generating a tenant of {} users in an emulator process...",
        args.users
    );
    let child = std::process::Command::new(exe)
        .args([
            "emulate",
            "--tenant",
            "bench",
            "--organizations",
            "20",
            "--generate-users",
        ])
        .arg(args.users.to_string())
        .arg("--config-out")
        .arg(&config_path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("cannot start the emulator")?;
    let _child = Child(child);
    while !config_path.exists() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let config = idferry_pipeline::platforms::load_config(&config_path)?;
    let tenant = config.tenant("bench")?;
    let client = Client::new(tenant, ClientOptions::default())?;
    let out = scratch.path().join("snapshots");

    eprintln!("backing up...");
    let started = Instant::now();
    let mut writer = SnapshotWriter::create(&out, "bench", "auth0", &tenant.base_url, false)?;
    let summary = export(
        &client,
        &ExportOptions::default(),
        &mut writer,
        &idferry_model::Silent,
    )
    .await?;
    let exported = started.elapsed().as_secs_f64();
    let options = WriteOptions {
        level: args.level,
        threads: args.threads,
        encryption: None,
    };
    let written = tokio::task::spawn_blocking(move || writer.finish(&options)).await??;
    let total = started.elapsed().as_secs_f64();
    let archive_secs = total - exported;
    let rss = peak_rss_bytes();
    let users = summary.count("users");

    // The same ndjson (every member, users and memberships included), through gzip -6.
    let ndjson = scratch.path().join("snapshot.ndjson");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&ndjson)?);
        SnapshotReader::new(&written.path, None).for_each_member(|_, _, member| {
            std::io::copy(member, &mut file).map_err(idferry_archive::ArchiveError::Output)?;
            Ok(true)
        })?;
        std::io::Write::flush(&mut file)?;
    }
    let raw = std::fs::metadata(&ndjson)?.len();
    let gz_started = Instant::now();
    let gz = std::process::Command::new("gzip")
        .arg("-6")
        .arg("-c")
        .arg(&ndjson)
        .stdout(std::fs::File::create(
            scratch.path().join("users.ndjson.gz"),
        )?)
        .status()?;
    if !gz.success() {
        bail!("gzip failed");
    }
    let gzip_secs = gz_started.elapsed().as_secs_f64();
    let gzip_bytes = std::fs::metadata(scratch.path().join("users.ndjson.gz"))?.len();

    let figures = json!({
        "users": users, "users_per_second": users as f64 / total, "total_seconds": total,
        "export_seconds": exported, "archive_seconds": archive_secs,
        "ndjson_bytes": raw, "archive_bytes": written.bytes, "gzip6_bytes": gzip_bytes, "gzip6_seconds": gzip_secs,
        "size_vs_gzip6": written.bytes as f64 / gzip_bytes as f64,
        "archive_speed_vs_gzip6": gzip_secs / archive_secs, "total_speed_vs_gzip6": gzip_secs / total,
        "peak_rss_bytes": rss, "zstd_level": args.level, "zstd_threads": args.threads,
    });
    if args.json {
        println!("{figures}");
    } else {
        println!(
            "users backed up     {users} in {total:.1}s ({:.0} users/s)",
            users as f64 / total
        );
        println!(
            "  export + spool    {exported:.1}s (users-exports job, download, gunzip, write members)"
        );
        println!(
            "  archive           {archive_secs:.1}s (tar + zstd level {} x{} threads, fsync, rename)",
            args.level, args.threads
        );
        println!(
            "snapshot ndjson     {} (every member, uncompressed)",
            idferry_model::units::human_bytes(raw)
        );
        println!(
            "archive             {} ({:.3}x gzip -6)",
            idferry_model::units::human_bytes(written.bytes),
            written.bytes as f64 / gzip_bytes as f64
        );
        println!(
            "gzip -6             {} in {gzip_secs:.1}s",
            idferry_model::units::human_bytes(gzip_bytes)
        );
        println!(
            "speed vs gzip -6    archive {:.2}x faster, whole backup {:.2}x",
            gzip_secs / archive_secs,
            gzip_secs / total
        );
        println!(
            "peak RSS            {}",
            rss.map_or("unknown".into(), idferry_model::units::human_bytes)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn gen_users(users: usize, out: &std::path::Path) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut store = idferry_emulator::store::Store::new("acme-prod", 7);
    idferry_emulator::generate::tenant(
        &mut store,
        &idferry_emulator::GenerateSpec {
            users,
            organizations: 1,
        },
    );
    let mut z = zstd_writer(out)?;
    for user in store.users.iter() {
        z.write_all(user.json.as_bytes())?;
        z.write_all(b"\n")?;
    }
    z.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn zstd_writer(path: &std::path::Path) -> anyhow::Result<idferry_transform::codec::Output> {
    Ok(idferry_transform::codec::Output::create(Some(path), 3)?)
}

fn transform(args: TransformBench) -> anyhow::Result<ExitCode> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let scratch = tempfile::Builder::new()
        .prefix("idferry-bench-")
        .tempdir()?;
    let input = scratch.path().join("users.ndjson.zst");
    eprintln!("generating {} users...", args.records);
    let status = std::process::Command::new(std::env::current_exe()?)
        .args(["gen-users", "--users", &args.records.to_string(), "--out"])
        .arg(&input)
        .status()?;
    if !status.success() {
        bail!("generating the users failed");
    }
    let mapping = idferry_transform::Mapping::load(&args.map, &|var| {
        std::env::var(var).ok().or_else(|| {
            (var == idferry_transform::spec::DEFAULT_KEY_ENV).then(|| "bench-key".to_owned())
        })
    })?;
    let output = scratch.path().join("out.ndjson.zst");
    let run_transform = || -> anyhow::Result<(idferry_transform::Stats, f64)> {
        let started = Instant::now();
        let reader = idferry_transform::codec::open_input(Some(&input))?;
        let mut out = idferry_transform::codec::Output::create(Some(&output), args.zstd_level)?;
        let options = idferry_transform::EngineOptions {
            batch: args.batch,
            ..Default::default()
        };
        let stats = idferry_transform::run(&mapping, &options, reader, &mut out, None)?;
        out.finish()?;
        Ok((stats, started.elapsed().as_secs_f64()))
    };
    // The floor: the same input decompressed and compressed again by the zstd CLI (two
    // processes, so both cores), with no transform at all; at the output's level, and at
    // level 3, the yardstick the performance issue names.
    let zstd = which("zstd");
    let round_trip = |level: i32| -> anyhow::Result<Option<f64>> {
        if !zstd {
            return Ok(None);
        }
        let started = Instant::now();
        let script = format!(
            "zstd -dc {} | zstd -{level} -q -f -o {}",
            input.display(),
            scratch.path().join("zstd.ndjson.zst").display()
        );
        let ok = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .status()?
            .success();
        Ok(ok.then(|| started.elapsed().as_secs_f64()))
    };
    // Each run times the three in turn, so that a slow moment of the machine falls on
    // all of them alike; the medians are compared.
    let (mut ours, mut bare, mut bare3) = (Vec::new(), Vec::new(), Vec::new());
    let mut stats = idferry_transform::Stats::default();
    for run in 1..=args.runs {
        eprintln!(
            "run {run}/{}: transforming, then zstd -dc | zstd -{} and zstd -3 of the same input...",
            args.runs, args.zstd_level
        );
        let (s, secs) = run_transform()?;
        stats = s;
        ours.push(secs);
        bare.extend(round_trip(args.zstd_level)?);
        if args.zstd_level != 3 {
            bare3.extend(round_trip(3)?);
        }
    }
    if args.zstd_level == 3 {
        bare3.clone_from(&bare);
    }
    let rss = peak_rss_bytes();
    let jq_secs = if args.jq.exists() && which("jq") {
        eprintln!("running jq on the same input (once: it is slow)...");
        let started = Instant::now();
        let script = format!(
            "zstd -dc {} | jq -c -f {} | zstd -3 -q -o {}",
            input.display(),
            args.jq.display(),
            scratch.path().join("jq.ndjson.zst").display()
        );
        let ok = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .status()?
            .success();
        ok.then(|| started.elapsed().as_secs_f64())
    } else {
        None
    };
    let (secs, fastest, slowest) = spread(&ours);
    let rate = stats.read as f64 / secs;
    let mb_s = stats.bytes_in as f64 / secs / 1e6;
    let zstd_secs = (!bare.is_empty()).then(|| spread(&bare).0);
    let zstd3_secs = (!bare3.is_empty()).then(|| spread(&bare3).0);
    let figures = json!({
        "records": stats.read, "written": stats.written, "runs": args.runs,
        "seconds": secs, "seconds_each_run": ours, "records_per_second": rate,
        "records_per_second_fastest_run": stats.read as f64 / fastest,
        "records_per_second_slowest_run": stats.read as f64 / slowest,
        "mb_per_second_in": mb_s, "peak_rss_bytes": rss, "jq_seconds": jq_secs,
        "jq_records_per_second": jq_secs.map(|s| stats.read as f64 / s),
        "speedup_vs_jq": jq_secs.map(|s| s / secs),
        "zstd_round_trip_seconds": zstd_secs, "times_zstd_round_trip": zstd_secs.map(|z| secs / z),
        "zstd3_round_trip_seconds": zstd3_secs, "times_zstd3_round_trip": zstd3_secs.map(|z| secs / z),
        "zstd_level": args.zstd_level,
    });
    if args.json {
        println!("{figures}");
    } else {
        let runs = if args.runs > 1 {
            format!(" (median of {} runs)", args.runs)
        } else {
            String::new()
        };
        println!(
            "records           {} read, {} written in {secs:.2}s{runs}",
            stats.read, stats.written
        );
        println!(
            "throughput        {rate:.0} records/s, {mb_s:.1} MB/s of ndjson (zst in and out)"
        );
        if args.runs > 1 {
            println!(
                "runs              {:.0} to {:.0} records/s ({})",
                stats.read as f64 / slowest,
                stats.read as f64 / fastest,
                ours.iter()
                    .map(|s| format!("{s:.2}s"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        println!(
            "peak RSS          {}",
            rss.map_or("unknown".into(), idferry_model::units::human_bytes)
        );
        match zstd_secs {
            Some(z) => println!(
                "bare zstd         {z:.2}s for zstd -dc | zstd -{} of the same input: idferry takes {:.2}x that",
                args.zstd_level,
                secs / z
            ),
            None => println!("bare zstd         not run (the zstd CLI is missing)"),
        }
        if let (Some(z), true) = (zstd3_secs, args.zstd_level != 3) {
            println!(
                "bare zstd -3      {z:.2}s for zstd -dc | zstd -3 of the same input: idferry takes {:.2}x that",
                secs / z
            );
        }
        match jq_secs {
            Some(s) => println!(
                "jq                {s:.2}s ({:.0} records/s): idferry is {:.1}x faster",
                stats.read as f64 / s,
                s / secs
            ),
            None => println!(
                "jq                not run (jq or {} missing)",
                args.jq.display()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The median, fastest and slowest of some timings (not empty).
fn spread(secs: &[f64]) -> (f64, f64, f64) {
    let mut sorted = secs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (median, sorted[0], sorted[n - 1])
}

fn which(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
