//! ZITADEL's list queries as streams: v1 `_search` endpoints take `query: {offset, limit,
//! asc}` (the offset a uint64 sent as a string) and answer `result` with
//! `details.totalResult` (also a string); pages are asked until that many were read.

use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::{Value, json};

use crate::Result;
use crate::client::Client;
use crate::error::Error;

/// Objects per page (ZITADEL's default; v2 allows up to 1000).
pub const PAGE: u64 = 100;

/// Every result of the v1 search at `path` (in organization `org` when given), page by
/// page; `filters` are merged into each request body (e.g. `{"queries": [...]}`).
pub fn search<'a>(
    client: &'a Client,
    path: &'a str,
    org: Option<&'a str>,
    filters: Value,
) -> BoxStream<'a, Result<Value>> {
    struct Page {
        offset: u64,
        total: Option<u64>,
    }
    let start = Page {
        offset: 0,
        total: None,
    };
    stream::try_unfold(start, move |page| {
        let filters = filters.clone();
        async move {
            if page.total.is_some_and(|t| page.offset >= t) {
                return Ok(None);
            }
            let mut body =
                json!({"query": {"offset": page.offset.to_string(), "limit": PAGE, "asc": true}});
            if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), filters) {
                b.extend(extra);
            }
            let answer = client
                .send(reqwest::Method::POST, path, org, Some(&body))
                .await?;
            let total = answer
                .pointer("/details/totalResult")
                .and_then(|t| match t {
                    Value::String(s) => s.parse().ok(),
                    other => other.as_u64(),
                })
                .unwrap_or(0);
            let results = match answer.get("result") {
                Some(Value::Array(items)) => items.clone(),
                None | Some(Value::Null) => Vec::new(),
                Some(_) => {
                    return Err(Error::Decode {
                        instance: client.instance().to_owned(),
                        method: "POST".into(),
                        path: path.to_owned(),
                        message: "`result` is not a list".into(),
                    });
                }
            };
            // A page shorter than asked ends the list even if the total says more
            // (objects deleted meanwhile).
            let short = (results.len() as u64) < PAGE;
            let next = Page {
                offset: page.offset + results.len() as u64,
                total: Some(if short { 0 } else { total }),
            };
            Ok(Some((stream::iter(results.into_iter().map(Ok)), next)))
        }
    })
    .map(|page: Result<_>| match page {
        Ok(items) => items.left_stream(),
        Err(e) => stream::once(async { Err(e) }).right_stream(),
    })
    .flatten()
    .boxed()
}
