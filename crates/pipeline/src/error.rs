//! What stops a pipeline run (or a resume) before it starts, or a tenant's part of it.

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The spec is wrong.
    #[error("{0}")]
    Spec(String),
    /// The run's journal refuses a resume (changed spec, damage).
    #[error("{0}")]
    Journal(String),
    /// A stage ended with objects or users not written (the message says which).
    #[error("{0}")]
    Stage(String),
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// The file and what was done with it.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing into a tenant failed.
    #[error(transparent)]
    Import(#[from] idferry_import::ImportError),
    /// Reading a tenant failed.
    #[error(transparent)]
    Export(#[from] idferry_export::ExportError),
    /// A snapshot could not be written or read.
    #[error(transparent)]
    Archive(#[from] idferry_archive::ArchiveError),
    /// The tenant could not be reached or refused.
    #[error(transparent)]
    Client(#[from] idferry_auth0::Error),
    /// The tenant config is wrong.
    #[error(transparent)]
    Config(#[from] idferry_model::ConfigError),
    /// A ZITADEL instance could not be reached or refused.
    #[error(transparent)]
    Zitadel(#[from] idferry_zitadel::Error),
    /// A snapshot store failed.
    #[error(transparent)]
    Store(#[from] idferry_store::StoreError),
    /// A mapping spec is wrong.
    #[error(transparent)]
    Mapping(#[from] idferry_transform::SpecError),
}
