//! What can go wrong writing into a tenant.

/// Why a restore or a migration could not go on. Failures of single objects or users do
/// not stop a run: they are counted and reported; these errors do.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The tenant answered with an error, or could not be reached.
    #[error(transparent)]
    Client(#[from] idferry_auth0::Error),
    /// Reading a tenant's records failed.
    #[error(transparent)]
    Export(#[from] idferry_auth0_export::ExportError),
    /// The snapshot could not be read.
    #[error(transparent)]
    Archive(#[from] idferry_archive::ArchiveError),
    /// The values file is wrong.
    #[error(transparent)]
    Values(#[from] idferry_model::ValuesError),
    /// A record could not be read.
    #[error("{source_name}: {kind} record {line}: {message}")]
    Record {
        /// The snapshot or tenant read.
        source_name: String,
        /// The kind.
        kind: String,
        /// 1-based record number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A mapping rule failed on a record.
    #[error("mapping {kind} record {name:?}: {message}")]
    Mapping {
        /// The kind.
        kind: String,
        /// The record's name.
        name: String,
        /// What failed.
        message: String,
    },
    /// A file could not be written or read.
    #[error("{what}: {source}")]
    Io {
        /// The file and what was done with it.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The error report could not be written.
    #[error(transparent)]
    Report(#[from] idferry_model::report::ReportError),
    /// A bad option.
    #[error("{0}")]
    Usage(String),
}
