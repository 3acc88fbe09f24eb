//! csv in and out. Nested objects become dotted columns (`user_metadata.address.city`)
//! and come back as objects. A cell holds a string as it is, unless the string would read
//! as something else (a number, `true`, JSON), in which case it is written JSON-quoted;
//! numbers, booleans, arrays and empty objects are written as JSON; an empty cell is an
//! absent field. So a record round-trips exactly when no key contains a dot.

use std::io::{BufRead, Read, Write};

use serde_json::{Map, Value};

/// A csv conversion failure.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    /// The line of the input.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// How a value is written in a cell.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) if !s.is_empty() && serde_json::from_str::<Value>(s).is_err() => s.clone(),
        other => other.to_string(),
    }
}

/// How a cell is read back (None: the field is absent).
pub fn parse_cell(s: &str) -> Option<Value> {
    if s.is_empty() {
        return None;
    }
    Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned())))
}

/// `{"a": {"b": 1}}` -> `[("a.b", 1)]`.
pub fn flatten(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, inner) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(inner, &key, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

/// The record of a csv row.
pub fn unflatten(headers: &[String], cells: &csv::StringRecord) -> Value {
    let mut record = Map::new();
    for (header, text) in headers.iter().zip(cells.iter()) {
        let Some(value) = parse_cell(text) else {
            continue;
        };
        let mut at = &mut record;
        let mut parts = header.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                at.insert(part.to_owned(), value);
                break;
            }
            let slot = at
                .entry(part.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(inner) = slot else { break };
            at = inner;
        }
    }
    Value::Object(record)
}

/// Why `headers` cannot name a record's fields without losing some: a column named
/// twice, or a column that is also the object of another (`a` and `a.b`).
fn header_problem(headers: &[String]) -> Option<String> {
    for (i, h) in headers.iter().enumerate() {
        for (j, other) in headers.iter().enumerate().skip(i + 1) {
            if h == other {
                return Some(format!(
                    "column {h:?} appears twice (columns {} and {}): one of its values would be lost",
                    i + 1,
                    j + 1
                ));
            }
            let (short, long) = if h.len() < other.len() {
                (h, other)
            } else {
                (other, h)
            };
            if long.starts_with(short.as_str()) && long.as_bytes().get(short.len()) == Some(&b'.') {
                return Some(format!(
                    "columns {short:?} and {long:?}: {short:?} cannot be a value and hold {long:?} at once"
                ));
            }
        }
    }
    None
}

/// csv (with a header row) to ndjson. A row that cannot be read stops the conversion
/// naming its line, or with `rejects`, is written there (`{line, reason, input}`, as
/// the engine's rejects) and skipped; returns the records written and rejected.
pub fn csv_to_ndjson(
    input: impl Read,
    mut output: impl Write,
    mut rejects: Option<&mut dyn Write>,
) -> Result<(u64, u64), CsvError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| CsvError {
            line: 1,
            message: e.to_string(),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    if let Some(message) = header_problem(&headers) {
        return Err(CsvError { line: 1, message });
    }
    let mut n = 0;
    let mut rejected = 0;
    for row in reader.records() {
        let row = match (row, rejects.as_deref_mut()) {
            (Ok(row), _) => row,
            (Err(e), Some(out)) => {
                let line = e.position().map_or(0, |p| p.line());
                let reject =
                    serde_json::json!({"line": line, "reason": e.to_string(), "input": null});
                serde_json::to_writer(&mut *out, &reject)
                    .and_then(|()| out.write_all(b"\n").map_err(serde_json::Error::io))
                    .map_err(|e| CsvError {
                        line,
                        message: format!("writing the rejects: {e}"),
                    })?;
                rejected += 1;
                continue;
            }
            (Err(e), None) => {
                return Err(CsvError {
                    line: e.position().map_or(0, |p| p.line()),
                    message: e.to_string(),
                });
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        serde_json::to_writer(&mut output, &unflatten(&headers, &row))
            .and_then(|()| output.write_all(b"\n").map_err(serde_json::Error::io))
            .map_err(|e| CsvError {
                line,
                message: e.to_string(),
            })?;
        n += 1;
    }
    output.flush().map_err(|e| CsvError {
        line: 0,
        message: e.to_string(),
    })?;
    Ok((n, rejected))
}

/// A record's line number and its flattened fields.
type FlatRow = (u64, Vec<(String, Value)>);

/// ndjson to csv. Columns are `columns` (other fields are left out, as asked), or
/// inferred from the first `infer` records; a later record with a field outside the
/// inferred columns is an error, never a silent loss.
pub fn ndjson_to_csv(
    input: impl BufRead,
    output: impl Write,
    columns: Option<Vec<String>>,
    infer: usize,
) -> Result<u64, CsvError> {
    let chosen = columns.is_some();
    let mut lines = input.lines().enumerate();
    let mut buffered: Vec<FlatRow> = Vec::new();
    let read =
        |lines: &mut std::iter::Enumerate<std::io::Lines<_>>| -> Result<Option<FlatRow>, CsvError> {
            for (i, line) in lines.by_ref() {
                let line_no = i as u64 + 1;
                let line: String = line.map_err(|e: std::io::Error| CsvError {
                    line: line_no,
                    message: e.to_string(),
                })?;
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(&line).map_err(|e| CsvError {
                    line: line_no,
                    message: format!("not JSON: {e}"),
                })?;
                let mut flat = Vec::new();
                flatten(&v, "", &mut flat);
                return Ok(Some((line_no, flat)));
            }
            Ok(None)
        };
    let columns = match columns {
        Some(c) => c,
        None => {
            let mut seen: Vec<String> = Vec::new();
            while buffered.len() < infer.max(1) {
                let Some(row) = read(&mut lines)? else { break };
                for (k, _) in &row.1 {
                    if !seen.contains(k) {
                        seen.push(k.clone());
                    }
                }
                buffered.push(row);
            }
            seen
        }
    };
    let mut writer = csv::Writer::from_writer(output);
    let io = |e: csv::Error| CsvError {
        line: 0,
        message: e.to_string(),
    };
    writer.write_record(&columns).map_err(io)?;
    let mut n = 0;
    let mut emit = |line: u64,
                    flat: Vec<(String, Value)>,
                    writer: &mut csv::Writer<_>|
     -> Result<(), CsvError> {
        if !chosen && let Some((k, _)) = flat.iter().find(|(k, _)| !columns.contains(k)) {
            return Err(CsvError {
                line,
                message: format!(
                    "field {k} is not among the columns inferred from the first records; pass --columns"
                ),
            });
        }
        let row: Vec<String> = columns
            .iter()
            .map(|c| {
                flat.iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| cell(v))
                    .unwrap_or_default()
            })
            .collect();
        writer.write_record(&row).map_err(|e| CsvError {
            line,
            message: e.to_string(),
        })?;
        n += 1;
        Ok(())
    };
    for (line, flat) in buffered {
        emit(line, flat, &mut writer)?;
    }
    while let Some((line, flat)) = read(&mut lines)? {
        emit(line, flat, &mut writer)?;
    }
    writer.flush().map_err(|e| CsvError {
        line: 0,
        message: e.to_string(),
    })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn users_with_nested_metadata_round_trip() {
        let users = vec![
            json!({"user_id": "auth0|1", "email": "a@example.com", "email_verified": true, "logins_count": 3,
                   "user_metadata": {"address": {"city": "Lyon", "zip": "69001"}, "tags": ["a", "b"], "empty": {}},
                   "app_metadata": {"plan": "pro", "note": "123", "blank": "", "n": null}}),
            json!({"user_id": "auth0|2", "email": "b@example.com", "nickname": "with, comma \"quoted\"\nand a newline"}),
        ];
        let ndjson: String = users.iter().map(|u| format!("{u}\n")).collect();
        let mut csv_text = Vec::new();
        assert_eq!(
            ndjson_to_csv(ndjson.as_bytes(), &mut csv_text, None, 1000).unwrap(),
            2
        );
        let header = String::from_utf8(csv_text.clone()).unwrap();
        assert!(
            header.starts_with(
                "user_id,email,email_verified,logins_count,user_metadata.address.city"
            ),
            "{header}"
        );
        let mut back = Vec::new();
        assert_eq!(
            csv_to_ndjson(&csv_text[..], &mut back, None).unwrap(),
            (2, 0)
        );
        let got: Vec<Value> = String::from_utf8(back)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got, users);
    }

    #[test]
    fn a_field_outside_the_inferred_columns_is_an_error() {
        let ndjson = "{\"a\":1}\n{\"a\":2,\"b\":3}\n";
        let err = ndjson_to_csv(ndjson.as_bytes(), Vec::new(), None, 1).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("field b"), "{err}");
        let mut out = Vec::new();
        ndjson_to_csv(ndjson.as_bytes(), &mut out, Some(vec!["b".into()]), 1).unwrap();
        // A one-column empty row is written `""` so that it is not a blank line.
        assert_eq!(String::from_utf8(out).unwrap(), "b\n\"\"\n3\n");
    }

    #[test]
    fn ambiguous_headers_are_refused_and_bad_rows_go_to_the_rejects() {
        let dup =
            csv_to_ndjson(&b"email,name,email\na,b,c\n"[..], std::io::sink(), None).unwrap_err();
        assert_eq!(dup.line, 1);
        assert!(
            dup.message.contains("\"email\" appears twice"),
            "{}",
            dup.message
        );
        let nested = csv_to_ndjson(&b"a,a.b\n1,2\n"[..], std::io::sink(), None).unwrap_err();
        assert!(
            nested.message.contains("cannot be a value"),
            "{}",
            nested.message
        );
        // A short row: an error, or with rejects, a reject line and the others carried.
        let text = &b"a,b\n1,2\n3\n4,5\n"[..];
        assert_eq!(
            csv_to_ndjson(text, std::io::sink(), None).unwrap_err().line,
            3
        );
        let (mut out, mut rejects) = (Vec::new(), Vec::new());
        assert_eq!(
            csv_to_ndjson(text, &mut out, Some(&mut rejects)).unwrap(),
            (2, 1)
        );
        let reject: Value = serde_json::from_slice(&rejects).unwrap();
        assert_eq!(reject["line"], 3);
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }
}
