//! Reading every kind of the catalog from an instance into a snapshot's members.

use futures_util::TryStreamExt;
use idferry_model::{MemberSink, Progress};
use serde_json::json;

use crate::Result;
use crate::catalog::CATALOG;
use crate::client::Client;
use crate::error::Error;

/// Writes every catalog kind of `client`'s instance into `sink`, one member per kind
/// (`config/<kind>.ndjson`); returns the records written per kind.
pub async fn export(
    client: &Client,
    sink: &mut dyn MemberSink,
    progress: &dyn Progress,
) -> Result<Vec<(String, u64)>> {
    let mut counts = Vec::new();
    for kind in CATALOG {
        let sink_error = |source: std::io::Error| Error::Sink {
            kind: kind.name.to_owned(),
            source,
        };
        progress.start(kind.name, None);
        sink.start_member(&format!("config/{}.ndjson", kind.name), kind.name)
            .map_err(sink_error)?;
        let mut records = crate::list::search(client, kind.search, None, json!({}));
        let mut n = 0u64;
        while let Some(record) = records.try_next().await? {
            let text = serde_json::to_vec(&record).map_err(|e| sink_error(e.into()))?;
            sink.write_record(&text).map_err(sink_error)?;
            n += 1;
            progress.advance(kind.name, 1);
        }
        sink.finish_member().map_err(sink_error)?;
        progress.finish(kind.name);
        counts.push((kind.name.to_owned(), n));
    }
    Ok(counts)
}
