//! One small JSON report per tenant and run, written into the store by whichever worker
//! ran it, under `.idferry/reports/<UTC day>/<tenant>/`. From them, `status` tells for a
//! window (last night) which tenants were backed up, which failed, and which nobody
//! backed up at all, across every worker.

use futures_util::StreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::store::Store;

/// Where reports live in a store.
pub const FOLDER: &str = ".idferry/reports";

/// How a tenant's run ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Left to another worker, which held its lease.
    Skipped,
    /// Tried and failed.
    Failed,
    /// Snapshot written.
    Ok,
}

/// What one worker did with one tenant in one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// The tenant.
    pub tenant: String,
    /// The worker (`--worker`, or host name and shard).
    pub worker: String,
    /// Start (RFC 3339, UTC).
    pub started_at: String,
    /// End (RFC 3339, UTC).
    pub finished_at: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The snapshot written.
    #[serde(default)]
    pub snapshot: Option<String>,
    /// Its size.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// Records in it.
    #[serde(default)]
    pub records: Option<u64>,
    /// Users in it.
    #[serde(default)]
    pub users: Option<u64>,
    /// Why it failed or was skipped.
    #[serde(default)]
    pub error: Option<String>,
}

impl RunReport {
    fn object_name(&self) -> String {
        let started: Timestamp = self.started_at.parse().unwrap_or_else(|_| Timestamp::now());
        let day = started.strftime("%Y-%m-%d");
        let stamp = started.strftime("%Y%m%dT%H%M%S%.3fZ");
        let worker: String = self
            .worker
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{FOLDER}/{day}/{}/{stamp}-{worker}.json", self.tenant)
    }

    /// Writes the report into `store`.
    pub async fn write(&self, store: &Store) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        store.put_small(&self.object_name(), bytes).await
    }
}

/// A tenant's state over a window.
#[derive(Debug, Clone, Serialize)]
pub struct TenantStatus {
    /// The tenant.
    pub tenant: String,
    /// The best outcome in the window (ok over failed over skipped); None when no worker
    /// reported on it.
    pub outcome: Option<Outcome>,
    /// The latest report with that outcome.
    pub report: Option<RunReport>,
    /// Reports in the window.
    pub runs: usize,
}

/// The reports of the window starting at `since`, for `tenants` (those of the config;
/// tenants met only in reports are added), sorted by tenant.
pub async fn status(
    store: &Store,
    tenants: &[String],
    since: Timestamp,
) -> Result<Vec<TenantStatus>, StoreError> {
    let mut names = Vec::new();
    let utc = |t: Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
    let today = utc(Timestamp::now());
    let mut day = utc(since);
    // Reports are filed by day: read only the window's days.
    while day <= today {
        names.extend(store.list_under(&format!("{FOLDER}/{day}")).await?);
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    let reports: Vec<Result<Option<RunReport>, StoreError>> = futures_util::stream::iter(names)
        .map(|name| async move {
            let Some(bytes) = store.get_small(&name).await? else {
                return Ok(None);
            };
            serde_json::from_slice::<RunReport>(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    store: store.url().to_owned(),
                    name: name.clone(),
                    message: format!("not a run report: {e}"),
                })
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut by_tenant: std::collections::BTreeMap<String, TenantStatus> = tenants
        .iter()
        .map(|t| {
            (
                t.clone(),
                TenantStatus {
                    tenant: t.clone(),
                    outcome: None,
                    report: None,
                    runs: 0,
                },
            )
        })
        .collect();
    for report in reports {
        let Some(report) = report? else { continue };
        if report
            .started_at
            .parse::<Timestamp>()
            .is_ok_and(|t| t < since)
        {
            continue;
        }
        let entry = by_tenant
            .entry(report.tenant.clone())
            .or_insert_with(|| TenantStatus {
                tenant: report.tenant.clone(),
                outcome: None,
                report: None,
                runs: 0,
            });
        entry.runs += 1;
        let better = match (entry.outcome, &entry.report) {
            (None, _) | (_, None) => true,
            (Some(best), Some(r)) => {
                report.outcome > best
                    || (report.outcome == best && report.finished_at > r.finished_at)
            }
        };
        if better {
            entry.outcome = Some(report.outcome);
            entry.report = Some(report);
        }
    }
    Ok(by_tenant.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(tenant: &str, worker: &str, outcome: Outcome, at: Timestamp) -> RunReport {
        RunReport {
            tenant: tenant.into(),
            worker: worker.into(),
            started_at: at.to_string(),
            finished_at: at.to_string(),
            outcome,
            snapshot: None,
            bytes: None,
            records: None,
            users: None,
            error: None,
        }
    }

    #[tokio::test]
    async fn status_prefers_success_and_names_tenants_nobody_backed_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).unwrap();
        let now = Timestamp::now();
        let old = now - jiff::SignedDuration::from_hours(72);
        report("a", "w0", Outcome::Ok, now)
            .write(&store)
            .await
            .unwrap();
        report("a", "w1", Outcome::Skipped, now)
            .write(&store)
            .await
            .unwrap();
        report("b", "w1", Outcome::Failed, now)
            .write(&store)
            .await
            .unwrap();
        report("c", "w0", Outcome::Ok, old)
            .write(&store)
            .await
            .unwrap();
        let since = now - jiff::SignedDuration::from_hours(24);
        let rows = status(&store, &["a".into(), "b".into(), "c".into()], since)
            .await
            .unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.tenant.as_str(), r.outcome, r.runs))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", Some(Outcome::Ok), 2),
                ("b", Some(Outcome::Failed), 1),
                ("c", None, 0)
            ]
        );
    }
}
