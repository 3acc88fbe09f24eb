//! An ndjson report: one JSON object a line naming what was not carried and why (users
//! refused, left out, memberships that failed), as every sink of every platform writes it.

use std::io::Write;

use serde_json::Value;

/// Writing a report failed.
#[derive(Debug, thiserror::Error)]
#[error("writing the error report: {source}")]
pub struct ReportError {
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// An ndjson error report.
pub struct Report<W: Write> {
    out: W,
    /// Lines written.
    pub lines: u64,
}

impl<W: Write> Report<W> {
    /// A report written to `out`.
    pub fn new(out: W) -> Self {
        Self { out, lines: 0 }
    }

    /// Adds one line.
    pub fn write_line(&mut self, value: &Value) -> Result<(), ReportError> {
        serde_json::to_writer(&mut self.out, value)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|source| ReportError { source })?;
        self.lines += 1;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> Result<W, ReportError> {
        self.out.flush().map_err(|source| ReportError { source })?;
        Ok(self.out)
    }
}
