//! Pipelines: a spec (TOML) names a source (a tenant, several, or a snapshot), mapping
//! specs, and sinks (snapshot archives, a configuration restore, a users import); a run
//! takes each source tenant through the sinks in order, several tenants at once, each on
//! its own rate limit, one's failure not stopping the others. Every run has a directory
//! with a journal (SQLite) written around every side effect, so that a run killed at any
//! instant resumes without repeating finished work or writing anything twice.

pub mod error;
pub mod journal;
pub mod kinds;
pub mod leased;
pub mod platforms;
pub mod progress;
pub mod results;
pub mod run;
pub mod shard;
pub mod spec;
pub mod spool;
pub mod stages;
pub mod stored;

pub use error::{ObjectFailure, PipelineError};
pub use idferry_model::sink::Unavailable;
pub use journal::{Journal, RunInfo, StageRow, Status};
pub use platforms::auth0::source::Source;
pub use run::{RunReport, UnitReport, resume, start};
pub use spec::{LoadedSpec, SinkSpec, Spec};
