//! Listing a kind as a stream of records, paging as the catalog says: checkpoint paging
//! (`from`/`take`) wherever the API offers it, since offset paging stops at 1000
//! results; offset paging with `include_totals` otherwise, so that the last page is known
//! without an extra empty request; one request for unpaged lists and singletons; one per
//! name for keyed kinds.

use crate::{Kind, Pagination, Shape};
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::Value;

/// The language every tenant has (its default until it enables others).
pub const DEFAULT_LANGUAGE: &str = "en";

use crate::Result;
use crate::client::{Client, Payload};
use crate::error::Error;

/// Items per page: the API's maximum.
pub const PAGE_SIZE: usize = 100;

enum Cursor {
    Start,
    Offset(usize),
    Checkpoint(String),
    Done,
}

impl Client {
    /// Every record of `kind` under `parents` (the ids of its parent objects, outermost
    /// first), as a stream. Nothing is read before the stream is polled.
    pub fn list(&self, kind: &'static Kind, parents: &[&str]) -> BoxStream<'static, Result<Value>> {
        self.list_with(kind, parents, &[])
    }

    /// [`Client::list`] with more query parameters on every page (`fields`...).
    pub fn list_with(
        &self,
        kind: &'static Kind,
        parents: &[&str],
        extra: &[(&str, &str)],
    ) -> BoxStream<'static, Result<Value>> {
        let client = self.clone();
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let parents: Vec<String> = parents.iter().map(|p| (*p).to_owned()).collect();
        match kind.shape {
            Shape::Keyed { .. } => client.keyed(kind, &parents).map_ok(|(_, v)| v).boxed(),
            _ => {
                let Some(list) = kind.list else {
                    return stream::empty().boxed();
                };
                let ids: Vec<&str> = parents.iter().map(String::as_str).collect();
                let path = list.fill(&ids);
                stream::try_unfold(Cursor::Start, move |cursor| {
                    let client = client.clone();
                    let path = path.clone();
                    let extra = extra.clone();
                    async move { client.next_page(kind, &path, &extra, cursor).await }
                })
                .map_ok(|page: Vec<Value>| stream::iter(page.into_iter().map(Ok)))
                .try_flatten()
                .boxed()
            }
        }
    }

    /// Collects [`Client::list`].
    pub async fn list_all(&self, kind: &'static Kind, parents: &[&str]) -> Result<Vec<Value>> {
        self.list(kind, parents).try_collect().await
    }

    /// Every object of keyed `kind` under `parents` that was ever set, with its key: the
    /// one way keyed kinds are read.
    pub fn keyed(
        &self,
        kind: &'static Kind,
        parents: &[String],
    ) -> BoxStream<'static, Result<(String, Value)>> {
        let client = self.clone();
        let parents = parents.to_vec();
        let keys = {
            let client = client.clone();
            async move { client.keys_of(kind).await }
        };
        stream::once(keys)
            .map_ok(|keys| stream::iter(keys.into_iter().map(Ok)))
            .try_flatten()
            .and_then(move |key| {
                let client = client.clone();
                let parents = parents.clone();
                async move {
                    let found = client.get_keyed(kind, &parents, &key).await?;
                    Ok(found.map(|v| (key, v)))
                }
            })
            .try_filter_map(|found| async move { Ok(found) })
            .boxed()
    }

    /// The keys of keyed `kind` in this tenant: for per-language kinds (prompt text),
    /// each name in every language its settings enable (one request).
    pub async fn keys_of(&self, kind: &Kind) -> Result<Vec<String>> {
        let per_language = matches!(
            kind.shape,
            Shape::Keyed {
                per_language: true,
                ..
            }
        );
        if !per_language {
            return Ok(kind.keys(&[]));
        }
        let settings = self.get("/tenants/settings", &[]).await?;
        let mut languages: Vec<String> = settings
            .get("enabled_locales")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if languages.is_empty() {
            languages.push(DEFAULT_LANGUAGE.to_owned());
        }
        Ok(kind.keys(&languages))
    }

    /// The object of keyed `kind` at `key` (under `parents`); None when it was never
    /// set: a 404 (email templates) or an empty object (prompt text and partials).
    pub async fn get_keyed(
        &self,
        kind: &Kind,
        parents: &[String],
        key: &str,
    ) -> Result<Option<Value>> {
        let Some(get) = kind.get else { return Ok(None) };
        let mut ids: Vec<&str> = parents.iter().map(String::as_str).collect();
        ids.extend(key.split('/'));
        match self.get(&get.fill(&ids), &[]).await {
            Ok(v) if v.as_object().is_some_and(serde_json::Map::is_empty) => Ok(None),
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn next_page(
        &self,
        kind: &Kind,
        path: &str,
        extra: &[(String, String)],
        cursor: Cursor,
    ) -> Result<Option<(Vec<Value>, Cursor)>> {
        let per = PAGE_SIZE.to_string();
        let (query, checkpoint): (Vec<(&str, String)>, bool) = match (&cursor, kind.pagination) {
            (Cursor::Done, _) => return Ok(None),
            (_, Pagination::None | Pagination::Array | Pagination::Wrapped { .. }) => {
                (vec![], false)
            }
            (
                Cursor::Start,
                Pagination::Checkpoint { .. } | Pagination::OffsetOrCheckpoint { .. },
            ) => (vec![("take", per)], true),
            (Cursor::Checkpoint(from), _) => (vec![("take", per), ("from", from.clone())], true),
            (Cursor::Start, Pagination::Offset { .. } | Pagination::Paged { .. }) => (
                vec![
                    ("page", "0".into()),
                    ("per_page", per),
                    ("include_totals", "true".into()),
                ],
                false,
            ),
            (Cursor::Offset(page), _) => (
                vec![
                    ("page", page.to_string()),
                    ("per_page", per),
                    ("include_totals", "true".into()),
                ],
                false,
            ),
        };
        let mut query = query;
        query.extend(extra.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let body = match self.send(Method::GET, path, &query, Payload::None).await {
            Ok(r) => r.body.unwrap_or(Value::Null),
            // An absent singleton (no email provider, no default theme) is an empty list.
            Err(e)
                if e.status() == Some(404)
                    && (kind.is_singleton() || kind.pagination == Pagination::None) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if kind.is_singleton() || kind.shape == Shape::Map || kind.pagination == Pagination::None {
            return Ok(Some((vec![body], Cursor::Done)));
        }
        let items = match (kind.pagination.key(), &body) {
            (_, Value::Array(items)) => items.clone(),
            (Some(key), Value::Object(map)) => match map.get(key) {
                Some(Value::Array(items)) => items.clone(),
                _ => {
                    return Err(self.decode_error(
                        &Method::GET,
                        path,
                        format!("no {key} array in the answer"),
                    ));
                }
            },
            _ => return Err(self.decode_error(&Method::GET, path, "expected a list".into())),
        };
        let next = if checkpoint {
            match body.get("next").and_then(Value::as_str) {
                Some(next) if !next.is_empty() && !items.is_empty() => {
                    Cursor::Checkpoint(next.to_owned())
                }
                _ => Cursor::Done,
            }
        } else {
            match cursor {
                Cursor::Start | Cursor::Offset(_)
                    if matches!(
                        kind.pagination,
                        Pagination::Offset { .. } | Pagination::Paged { .. }
                    ) =>
                {
                    let page = match cursor {
                        Cursor::Offset(p) => p,
                        _ => 0,
                    };
                    let total = body
                        .get("total")
                        .and_then(Value::as_u64)
                        .map(|t| t as usize);
                    let seen = (page + 1) * PAGE_SIZE;
                    let more = match total {
                        Some(total) => seen < total && items.len() == PAGE_SIZE,
                        None => items.len() == PAGE_SIZE,
                    };
                    if more && kind.offset_cap.is_some_and(|cap| seen >= cap) {
                        return Err(Error::Decode {
                            tenant: self.tenant().to_owned(),
                            method: "GET".into(),
                            path: path.to_owned(),
                            message: format!(
                                "{} has more than {} results, where offset paging stops; read them with an export job",
                                kind.name,
                                kind.offset_cap.unwrap_or_default()
                            ),
                        });
                    }
                    if more {
                        Cursor::Offset(page + 1)
                    } else {
                        Cursor::Done
                    }
                }
                _ => Cursor::Done,
            }
        };
        Ok(Some((items, next)))
    }
}
