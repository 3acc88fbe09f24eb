//! idferry's shared vocabulary: what a record is and the field paths that name its
//! parts, the tenant config file (`idferry.toml`), the error classes every client shares,
//! what an export writes into and what a users import counts, and the progress trait
//! through which libraries report without knowing about terminals, and the values file
//! that supplies what snapshots cannot hold (write-only secrets). Each platform's
//! catalog lives in its own crate.

pub mod batch;
pub mod config;
pub mod error;
pub mod memberships;
pub mod progress;
pub mod record;
pub mod report;
pub mod sink;
pub mod units;
pub mod values;

pub use batch::{ChunkCounts, ChunkState};
pub use config::{Config, ConfigError, Credentials, Login, PlatformRules, Secret, TenantConfig};
pub use error::RetryClass;
pub use memberships::Memberships;
pub use progress::{Progress, Silent};
pub use sink::{ExportOptions, ExportSummary, MemberSink};
pub use values::{Values, ValuesError};

/// One object of a tenant as the API returns it. Kept as JSON so that fields the API
/// adds tomorrow survive a backup and a restore unchanged.
pub type Record = serde_json::Value;
