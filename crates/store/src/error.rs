//! What can go wrong with a store, naming the store and the object.

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no store this build can open.
    #[error("{url}: {message}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The backend refused or failed.
    #[error("{store}: {what}: {message}")]
    Backend {
        /// The store's URL.
        store: String,
        /// What was being done (`uploading x`, `listing`...).
        what: String,
        /// The backend's error, its causes included once (object_store's messages
        /// already carry their causes, so it is not chained as a source), and what to
        /// check when no credentials were found.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// An object of ours (a lease, a report) is not what we wrote.
    #[error("{store}: {name} is not readable: {message}")]
    Corrupt {
        /// The store's URL.
        store: String,
        /// The object.
        name: String,
        /// What is wrong.
        message: String,
    },
}
