//! Pipelines: a spec (TOML) names a source (a tenant, several, or a snapshot), mapping
//! specs, and sinks (snapshot archives, a configuration restore, a users import); a run
//! takes each source tenant through the sinks in order, several tenants at once, each on
//! its own rate limit, one's failure not stopping the others. Every run has a directory
//! with a journal (SQLite) written around every side effect, so that a run killed at any
//! instant resumes without repeating finished work or writing anything twice. The
//! platforms are reached through their trait (`idferry-platform`) and the registry
//! ([`platforms`]). Backups of many tenants under their leases ([`backup`]) are
//! conducted here too, so that commands only parse and print.

pub mod backup;
pub mod kinds;
pub mod leased;
pub mod platforms;
pub mod progress;
pub mod run;
pub mod shard;
pub mod spec;
pub mod stages;
pub mod stored;

pub use idferry_model::sink::Unavailable;
pub use idferry_platform::{ObjectFailure, PipelineError, UsersSource};
pub use idferry_platform::{error, journal, results, spool};
pub use journal::{Journal, RunInfo, StageRow, Status};
pub use run::{RunReport, UnitReport, resume, start};
pub use spec::{LoadedSpec, SinkSpec, Spec};
