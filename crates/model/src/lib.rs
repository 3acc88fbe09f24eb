//! idferry's shared vocabulary: what a record is, the resource catalog (one table that
//! says, for every kind of object a tenant holds, how to list, read, write and match it),
//! the tenant config file (`idferry.toml`), the error classes every client shares, and
//! the progress trait through which libraries report without knowing about terminals.

pub mod batch;
pub mod catalog;
pub mod config;
pub mod error;
pub mod memberships;
pub mod progress;
pub mod record;
pub mod sink;
pub mod units;

pub use batch::{ChunkCounts, ChunkState};
pub use catalog::{CATALOG, Endpoint, GoLive, Kind, Method, Pagination, Reference, Shape};
pub use config::{Config, ConfigError, Credentials, Platform, Secret, TenantConfig};
pub use error::RetryClass;
pub use memberships::Memberships;
pub use progress::{Progress, Silent};
pub use record::Envelope;
pub use sink::{ExportOptions, ExportSummary, MemberSink};

/// One object of a tenant as the API returns it. Kept as JSON so that fields the API
/// adds tomorrow survive a backup and a restore unchanged.
pub type Record = serde_json::Value;
