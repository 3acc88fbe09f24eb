//! List answers in the shapes the spec gives each kind: plain arrays, `include_totals`
//! objects, checkpoint `from`/`take` pages with `next`, and the always-wrapped `Paged`
//! shape of actions; with the limits the API enforces (`per_page` at most 100, offset
//! paging stopping at 1000 results for users and organizations).

use std::collections::HashMap;
use std::ops::Range;

use idferry_auth0::{Kind, Pagination};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};

/// The largest page the API serves.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 50;

/// The query string, as a map.
pub type Query = HashMap<String, String>;

/// The query's `name` as a count; 400 naming it when it is not one.
pub fn number(q: &Query, name: &str) -> ApiResult<Option<usize>> {
    q.get(name)
        .map(|v| {
            v.parse::<usize>().map_err(|_| {
                ApiError::invalid_query(format!(
                    "Invalid value {v} for parameter {name}: expected an integer"
                ))
            })
        })
        .transpose()
}

fn flag(q: &Query, name: &str) -> bool {
    q.get(name).is_some_and(|v| v == "true")
}

/// The page size `name` asks for (50 when absent); 400 outside 1..=[`MAX_PAGE`].
pub fn page_size(q: &Query, name: &str) -> ApiResult<usize> {
    let size = number(q, name)?.unwrap_or(DEFAULT_PAGE);
    if size == 0 || size > MAX_PAGE {
        return Err(ApiError::invalid_query(format!(
            "Invalid value {size} for parameter {name}: it must be between 1 and {MAX_PAGE}"
        )));
    }
    Ok(size)
}

/// Answers a list request over `total` items, materializing only the page asked for.
pub fn paginate(
    kind: &Kind,
    total: usize,
    q: &Query,
    fetch: impl Fn(Range<usize>) -> Vec<Value>,
) -> ApiResult<Value> {
    let checkpoint = q.contains_key("take") || q.contains_key("from");
    match kind.pagination {
        Pagination::None | Pagination::Array => Ok(Value::Array(fetch(0..total))),
        Pagination::Wrapped { key } => Ok(json!({ key: fetch(0..total) })),
        Pagination::Checkpoint { key } => checkpoint_page(key, total, q, fetch),
        Pagination::OffsetOrCheckpoint { key } if checkpoint => {
            checkpoint_page(key, total, q, fetch)
        }
        Pagination::Offset { key } | Pagination::OffsetOrCheckpoint { key } => {
            let per_page = page_size(q, "per_page")?;
            let page = number(q, "page")?.unwrap_or(0);
            let start = page.saturating_mul(per_page);
            if let Some(cap) = kind.offset_cap
                && start + per_page > cap
                && q.contains_key("page")
            {
                return Err(ApiError::invalid_query(format!(
                    "You can only page through the first {cap} records. Use checkpoint pagination (from, take) or an export job for more."
                ))
                .code("invalid_paging"));
            }
            let range = start.min(total)..(start + per_page).min(total);
            let items = fetch(range);
            if flag(q, "include_totals") {
                Ok(json!({
                    "start": start,
                    "limit": per_page,
                    "length": items.len(),
                    "total": total,
                    key: items,
                }))
            } else {
                Ok(Value::Array(items))
            }
        }
        Pagination::Paged { key } => {
            let per_page = page_size(q, "per_page")?;
            let page = number(q, "page")?.unwrap_or(0);
            let start = page.saturating_mul(per_page);
            let items = fetch(start.min(total)..(start + per_page).min(total));
            Ok(json!({ "total": total, "page": page, "per_page": per_page, key: items }))
        }
    }
}

fn checkpoint_page(
    key: &str,
    total: usize,
    q: &Query,
    fetch: impl Fn(Range<usize>) -> Vec<Value>,
) -> ApiResult<Value> {
    let take = page_size(q, "take")?;
    let from = match q.get("from").filter(|f| !f.is_empty()) {
        None => 0,
        Some(token) => decode_checkpoint(token).ok_or_else(|| {
            ApiError::invalid_query(format!("Invalid value {token} for parameter from"))
        })?,
    };
    let end = (from + take).min(total);
    let items = fetch(from.min(total)..end);
    let mut body = json!({ key: items });
    if end < total {
        body["next"] = json!(encode_checkpoint(end));
    }
    Ok(body)
}

/// Checkpoints are opaque to clients; this one is a position, hex-encoded and tagged.
fn encode_checkpoint(at: usize) -> String {
    format!("cp{at:08x}")
}

fn decode_checkpoint(token: &str) -> Option<usize> {
    usize::from_str_radix(token.strip_prefix("cp")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Query {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn items(r: Range<usize>) -> Vec<Value> {
        r.map(|i| json!(i)).collect()
    }

    #[test]
    fn offset_pages_stop_at_the_cap_and_checkpoints_go_past_it() {
        let orgs = idferry_auth0::catalog::find("organizations").unwrap();
        let page = paginate(orgs, 1500, &q(&[("page", "9"), ("per_page", "100")]), items).unwrap();
        assert_eq!(page.as_array().unwrap().len(), 100);
        let err = paginate(
            orgs,
            1500,
            &q(&[("page", "10"), ("per_page", "100")]),
            items,
        )
        .unwrap_err();
        assert_eq!(err.status.as_u16(), 400);

        let mut from = String::new();
        let mut seen = 0;
        loop {
            let body =
                paginate(orgs, 1500, &q(&[("take", "100"), ("from", &from)]), items).unwrap();
            seen += body["organizations"].as_array().unwrap().len();
            match body.get("next").and_then(Value::as_str) {
                Some(next) => from = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen, 1500);
    }

    #[test]
    fn include_totals_wraps_the_page() {
        let roles = idferry_auth0::catalog::find("roles").unwrap();
        let body = paginate(
            roles,
            7,
            &q(&[("include_totals", "true"), ("per_page", "5"), ("page", "1")]),
            items,
        )
        .unwrap();
        assert_eq!(body["total"], 7);
        assert_eq!(body["start"], 5);
        assert_eq!(body["roles"], json!([5, 6]));
        assert!(paginate(roles, 7, &q(&[("per_page", "101")]), items).is_err());
    }
}
