//! Snapshot stores: where snapshots live, named by a URL wherever a directory is
//! accepted (`/var/backups/idferry`, `file:///...`, `s3://bucket/prefix`, and with their
//! cargo features `gs://...`, `az://...`). A local directory keeps the archive crate's
//! write-aside-then-rename; object storage gets multipart uploads that become visible
//! under their final name only when complete. The store also holds what lets many
//! workers share it: per-tenant leases (conditional puts with an expiry) and one small
//! JSON report per tenant and run, from which `snapshots status` tells last night's story.

pub mod error;
pub mod lease;
pub mod location;
pub mod report;
pub mod store;
pub mod upload;

pub use error::StoreError;
pub use lease::{Lease, LeaseOutcome};
pub use report::{Outcome, RunReport, TenantStatus};
pub use store::{Fetched, ObjectInfo, Store};
pub use upload::Upload;
