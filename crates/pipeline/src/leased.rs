//! Work on one tenant under its lease in a snapshot store, so that two workers (two
//! `backup --shard` processes, two `run --shard` ones, or a retry overlapping a slow run)
//! never work on one tenant at once. The lease is taken before the work, renewed every
//! third of its time to live while the work runs (a lease that cannot be renewed stops
//! the work: another worker may take the tenant), and given back after. A lease left by
//! a worker that died lapses after its time to live.

use std::future::Future;
use std::time::Duration;

use idferry_store::lease::LeaseBody;
use idferry_store::{Lease, LeaseOutcome, Store};

use crate::error::PipelineError;

/// How long a lease holds by default if its worker dies before giving it back.
pub const DEFAULT_TTL: Duration = Duration::from_secs(120 * 60);

/// What became of work under a lease.
#[derive(Debug)]
pub enum Leased<T> {
    /// The lease was ours; the work ran and ended thus.
    Ran(T),
    /// Another worker holds the tenant's lease: the work did not run.
    Held(LeaseBody),
}

/// Runs `work` on `tenant` under its lease in `store`, as `worker`.
///
/// # Errors
/// When the lease cannot be taken or kept (the store failed): the work did not run, or
/// was stopped.
pub async fn under_lease<T>(
    store: &Store,
    tenant: &str,
    worker: &str,
    ttl: Duration,
    work: impl Future<Output = T>,
) -> Result<Leased<T>, PipelineError> {
    let lost = |action: &'static str| {
        move |source| PipelineError::Lease {
            tenant: tenant.to_owned(),
            action,
            source,
        }
    };
    let mut lease = match Lease::acquire(store, tenant, worker, ttl)
        .await
        .map_err(lost("taking"))?
    {
        LeaseOutcome::Acquired(lease) => lease,
        LeaseOutcome::Held(body) => return Ok(Leased::Held(body)),
    };
    tokio::pin!(work);
    let period = (ttl / 3).max(Duration::from_secs(1));
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let done = loop {
        tokio::select! {
            done = &mut work => break done,
            _ = renew.tick() => lease.renew(ttl).await.map_err(lost("keeping"))?,
        }
    };
    if let Err(e) = lease.release().await {
        // Not an error of the work: the lease lapses after its time to live.
        tracing::warn!("{tenant}: giving back the lease: {e} (it lapses by itself)");
    }
    Ok(Leased::Ran(done))
}

/// The default worker name in leases and reports: the host, and the shard when there is
/// one (`host-shard-1-of-4`).
pub fn worker_name(shard: Option<crate::shard::Shard>) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "idferry".into());
    match shard {
        Some(s) => format!("{host}-shard-{}-of-{}", s.index, s.count),
        None => host,
    }
}
