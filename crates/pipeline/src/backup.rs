//! Backups of many tenants at once: each tenant's snapshot taken under its lease in the
//! store (what its killed backups left removed first), each leaving a run report there;
//! one tenant's failure does not stop the others. `idferry backup` builds a [`Backup`]
//! and prints the [`Outcome`]s it gets back.
//!
//! A backup needs no journal: a snapshot appears in the store only once completely
//! written (aside and renamed in a directory, a multipart upload completed in object
//! storage), so a backup that is stopped is simply taken again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use idferry_archive::WriteOptions;
use idferry_model::{ExportOptions, Progress, TenantConfig};
use idferry_store::lease::LeaseBody;
use idferry_store::{Outcome as ReportOutcome, Store};

use crate::error::PipelineError;
use crate::leased::{Leased, under_lease};
use crate::stored::Ended as Report;

/// What to back up, where, and how.
#[derive(Debug)]
pub struct Backup {
    /// The tenants (this worker's share of them).
    pub tenants: Vec<TenantConfig>,
    /// The snapshot store.
    pub store: Store,
    /// This worker's name in leases and reports.
    pub worker: String,
    /// How long a tenant's lease holds if this worker dies before giving it back.
    pub lease_ttl: Duration,
    /// What each export reads.
    pub export: ExportOptions,
    /// How each snapshot is written (compression, encryption).
    pub write: WriteOptions,
    /// Tenants backed up at once.
    pub concurrency: usize,
}

/// What became of one tenant.
#[derive(Debug)]
pub struct Outcome {
    /// The tenant.
    pub tenant: String,
    /// Its snapshot, or why there is none.
    pub ended: Ended,
    /// Seconds it took.
    pub seconds: f64,
}

/// A tenant's backup: done, left to another worker, or failed.
#[derive(Debug)]
pub enum Ended {
    /// The snapshot was written.
    Done(Done),
    /// Another worker holds the tenant's lease: not backed up by this one.
    Held(LeaseBody),
    /// It failed.
    Failed(PipelineError),
}

impl Ended {
    /// Why a tenant was skipped, in the words reports and summaries use.
    pub fn held_message(body: &LeaseBody) -> String {
        format!(
            "skipped: {} holds its lease until {}",
            body.worker, body.expires_at
        )
    }
}

/// A snapshot written.
#[derive(Debug)]
pub struct Done {
    /// Where it is.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// Kinds in it.
    pub kinds: usize,
    /// Records in it.
    pub records: u64,
    /// Users in it.
    pub users: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Of which answered 429.
    pub rate_limited: u64,
    /// Kinds the tenant did not offer (recorded in the snapshot).
    pub unavailable: Vec<idferry_model::sink::Unavailable>,
}

impl Backup {
    /// Refuses what no tenant can be backed up with (a kind its platform does not
    /// have), before any is read.
    pub fn check(&self) -> Result<(), PipelineError> {
        for tenant in &self.tenants {
            crate::platforms::of(tenant)?.check_export(&self.export)?;
        }
        Ok(())
    }

    /// Backs the tenants up, `concurrency` at once, each under its lease and each
    /// filing its run report in the store; the outcomes in the order they ended.
    pub async fn run(&self, progress: Arc<dyn Progress>) -> Vec<Outcome> {
        futures_util::stream::iter(&self.tenants)
            .map(|tenant| {
                let progress = progress.clone();
                async move { self.one(tenant, progress.as_ref()).await }
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await
    }

    async fn one(&self, tenant: &TenantConfig, progress: &dyn Progress) -> Outcome {
        let started = Instant::now();
        let started_at = jiff::Timestamp::now();
        let work = async {
            // Under the tenant's lease: what its killed backups left is ours.
            crate::stages::remove_leftovers(&self.store, &tenant.name, None, progress);
            let taken =
                crate::stages::snapshot(tenant, &self.store, &self.export, &self.write, progress)
                    .await?;
            let (written, summary) = (taken.written, taken.summary);
            Ok(Done {
                path: written.path.display().to_string(),
                bytes: written.bytes,
                kinds: summary.counts.len(),
                records: summary.counts.iter().map(|(_, n)| n).sum(),
                users: summary.count("users"),
                requests: taken.requests,
                rate_limited: taken.rate_limited,
                unavailable: summary.unavailable,
            })
        };
        let ended = match under_lease(
            &self.store,
            &tenant.name,
            &self.worker,
            self.lease_ttl,
            work,
        )
        .await
        {
            Ok(Leased::Ran(Ok(done))) => Ended::Done(done),
            Ok(Leased::Ran(Err(e))) | Err(e) => Ended::Failed(e),
            Ok(Leased::Held(body)) => Ended::Held(body),
        };
        let report = match &ended {
            Ended::Done(d) => Report {
                outcome: ReportOutcome::Ok,
                snapshot: Some(d.path.clone()),
                bytes: Some(d.bytes),
                records: Some(d.records),
                users: Some(d.users),
                error: None,
            },
            Ended::Held(body) => {
                Report::without_snapshot(ReportOutcome::Skipped, Ended::held_message(body))
            }
            Ended::Failed(e) => {
                Report::without_snapshot(ReportOutcome::Failed, idferry_model::error::chain(e))
            }
        };
        crate::stored::file_report(&self.store, &tenant.name, &self.worker, started_at, report)
            .await;
        Outcome {
            tenant: tenant.name.clone(),
            ended,
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}
