//! What can go wrong with a snapshot file.

use std::path::PathBuf;

/// A failure reading or writing a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// An I/O failure on a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a snapshot, or is damaged.
    #[error("{}: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the member where there is one.
        message: String,
    },
    /// A full check found the snapshot damaged: nothing is taken from it.
    #[error(
        "{}: the snapshot is damaged, nothing was taken from it: {}. `idferry snapshots verify` names every problem; use another snapshot",
        path.display(),
        problems.join("; ")
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Each problem, naming its member.
        problems: Vec<String>,
    },
    /// The snapshot is encrypted and no (or the wrong) identity was given.
    #[error("{}: {message}", path.display())]
    Encrypted {
        /// The file.
        path: PathBuf,
        /// What to supply.
        message: String,
    },
    /// What was read could not be written out (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// A bad argument (an unknown kind, a bad recipient).
    #[error("{0}")]
    Usage(String),
}

impl ArchiveError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
