//! What every platform's sinks share: the extract loop of a users sink (each source user
//! shaped into the spool, what is not carried named in the report), the reports they
//! append to, and the run's journal they record in.

use std::path::Path;

use futures_util::stream::StreamExt;
use idferry_model::Progress;
use idferry_model::report::Report;
use serde_json::Value;

use crate::UsersSource;
use crate::error::PipelineError;
use crate::results::Extracted;
use crate::spool::SpoolWriter;

/// What a users sink's extract does with one source user.
pub enum Shaped<T> {
    /// Spooled as `line`; `note` goes to the report (what of the user is not carried).
    Keep {
        /// The spool line.
        line: T,
        /// A report line naming what is not carried, if anything.
        note: Option<Value>,
        /// It carries a password hash.
        with_hash: bool,
        /// It is blocked (and is blocked again in the target).
        blocked: bool,
    },
    /// Left out by a mapping's filter.
    Filtered,
    /// Left out because the target cannot take it as it is (a social user into a
    /// database import): the report line names it and why. Not a failure.
    LeftOut(Value),
    /// Not shaped: the report line says why.
    Failed(Value),
}

/// The extract loop of every users sink: each source user through `shape`, kept ones
/// into the spool, what is not carried and what fails into the report, counted.
pub async fn extract<T: serde::Serialize>(
    source: &dyn UsersSource,
    spool: &Path,
    mut report: Report<std::io::BufWriter<std::fs::File>>,
    progress: &dyn Progress,
    mut shape: impl FnMut(Value) -> Shaped<T>,
) -> Result<Extracted, PipelineError> {
    let mut out = SpoolWriter::create(spool)?;
    let mut counts = Extracted {
        read: 0,
        kept: 0,
        filtered: 0,
        failed: 0,
        with_hash: 0,
        partly_carried: 0,
        blocked: 0,
        left_out: 0,
        spool: spool.to_owned(),
    };
    let mut users = source.users(progress).await?;
    progress.start("extract users", None);
    while let Some(user) = users.next().await {
        counts.read += 1;
        match shape(user?) {
            Shaped::Keep {
                line,
                note,
                with_hash,
                blocked,
            } => {
                counts.kept += 1;
                counts.with_hash += u64::from(with_hash);
                counts.blocked += u64::from(blocked);
                if let Some(note) = note {
                    counts.partly_carried += 1;
                    report.write_line(&note).map_err(report_error)?;
                }
                out.line(&line)?;
            }
            Shaped::Filtered => counts.filtered += 1,
            Shaped::LeftOut(line) => {
                counts.left_out += 1;
                report.write_line(&line).map_err(report_error)?;
            }
            Shaped::Failed(line) => {
                counts.failed += 1;
                report.write_line(&line).map_err(report_error)?;
            }
        }
        if counts.read.is_multiple_of(1000) {
            progress.advance("extract users", 1000);
        }
    }
    progress.finish("extract users");
    out.finish()?;
    report.finish().map_err(report_error)?;
    Ok(counts)
}

fn report_error(e: idferry_model::report::ReportError) -> PipelineError {
    PipelineError::Io {
        what: "writing the error report".into(),
        source: e.source,
    }
}

/// A report file opened for appending (a resumed run adds to it).
pub fn append(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, PipelineError> {
    open_report(path, false)
}

/// A report file, its folder created first: started anew (`truncate`), or added to.
pub fn open_report(
    path: &Path,
    truncate: bool,
) -> Result<std::io::BufWriter<std::fs::File>, PipelineError> {
    let io = |source| PipelineError::Io {
        what: format!("opening the report {}", path.display()),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(!truncate)
        .truncate(truncate)
        .open(path)
        .map(std::io::BufWriter::new)
        .map_err(io)
}
