//! The streaming engine: ndjson in, rules applied, ndjson out, in the input's order, in
//! constant memory. Three stages overlap: a reader thread cuts the input into batches of
//! lines, rayon transforms each batch's lines in parallel (chunks of a batch come back in
//! order), and a writer thread writes the previous batch meanwhile. Memory is bounded by
//! the few batches in flight, however long the input.

use std::io::{BufRead, Write};
use std::sync::mpsc::sync_channel;

use rayon::prelude::*;
use serde_json::{Value, json};

use crate::rules::apply_all;
use crate::spec::Mapping;

/// What to do with a line that cannot be read or transformed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop with an error naming the line.
    #[default]
    Fail,
    /// Write it to the rejects (line number, reason, input) and go on.
    Skip,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The kind of the records (selects the spec's rules).
    pub kind: String,
    /// Lines per batch.
    pub batch: usize,
    /// Lines per parallel task within a batch.
    pub chunk: usize,
    /// Bad lines: fail or skip.
    pub on_error: OnError,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            kind: "users".into(),
            batch: 1024,
            chunk: 256,
            on_error: OnError::Fail,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records read (blank lines are not records).
    pub read: u64,
    /// Records written.
    pub written: u64,
    /// Records a filter left out.
    pub filtered: u64,
    /// Lines rejected (with `OnError::Skip`).
    pub rejected: u64,
    /// Bytes read.
    pub bytes_in: u64,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A line could not be read as JSON, or a rule failed on it.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number of the input.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// Reading or writing failed.
    #[error("{what}: {source}")]
    Io {
        /// Which side.
        what: &'static str,
        /// What failed.
        source: std::io::Error,
    },
}

/// Buffers handed back once written, so that batches reuse memory instead of asking the
/// system for (and zeroing) fresh pages every time.
#[derive(Default)]
struct Pool(std::sync::Mutex<Vec<Vec<u8>>>);

impl Pool {
    fn take(&self, capacity: usize) -> Vec<u8> {
        let reused = self.0.lock().ok().and_then(|mut p| p.pop());
        let mut buf = reused.unwrap_or_default();
        buf.clear();
        buf.reserve(capacity);
        buf
    }

    fn give(&self, buf: Vec<u8>) {
        if let Ok(mut p) = self.0.lock()
            && p.len() < 8
        {
            p.push(buf);
        }
    }
}

/// A batch of input lines: one buffer, lines as ranges, and the first line's number.
struct Batch {
    first_line: u64,
    text: Vec<u8>,
    lines: Vec<(usize, usize)>,
}

/// A transformed chunk: output bytes, rejects, counts.
#[derive(Default)]
struct Done {
    out: Vec<u8>,
    rejects: Vec<u8>,
    error: Option<(u64, String)>,
    read: u64,
    written: u64,
    filtered: u64,
    rejected: u64,
}

fn read_batches(
    mut input: impl BufRead,
    batch: usize,
    pool: &Pool,
    send: std::sync::mpsc::SyncSender<std::io::Result<Batch>>,
) {
    let mut line_no = 1u64;
    loop {
        let mut b = Batch {
            first_line: line_no,
            text: pool.take(batch * 1100),
            lines: Vec::with_capacity(batch),
        };
        while b.lines.len() < batch {
            let start = b.text.len();
            match input.read_until(b'\n', &mut b.text) {
                Ok(0) => break,
                Ok(_) => {
                    let mut end = b.text.len();
                    while end > start && matches!(b.text[end - 1], b'\n' | b'\r') {
                        end -= 1;
                    }
                    b.lines.push((start, end));
                    line_no += 1;
                }
                Err(e) => {
                    let _ = send.send(Err(e));
                    return;
                }
            }
        }
        let last = b.lines.is_empty();
        if send.send(Ok(b)).is_err() || last {
            return;
        }
    }
}

fn transform_chunk(
    mapping: &Mapping,
    options: &EngineOptions,
    batch: &Batch,
    range: std::ops::Range<usize>,
    pool: &Pool,
) -> Done {
    let mut done = Done {
        out: pool.take(range.len() * 1100),
        ..Done::default()
    };
    let rules: Vec<_> = mapping.rules_for(&options.kind).collect();
    for i in range {
        let (start, end) = batch.lines[i];
        let line = &batch.text[start..end];
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        done.read += 1;
        let line_no = batch.first_line + i as u64;
        // One UTF-8 check of the whole line is cheaper than serde_json's check of each
        // string in it, which parsing from a `str` skips.
        let result = std::str::from_utf8(line)
            .map_err(|e| format!("not UTF-8: {e}"))
            .and_then(|text| {
                serde_json::from_str::<Value>(text).map_err(|e| format!("not JSON: {e}"))
            })
            .and_then(|mut record| {
                apply_all(rules.iter().copied(), &mut record)
                    .map(|keep| keep.then_some(record))
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(Some(record)) => {
                // Serializing a Value into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut done.out, &record);
                done.out.push(b'\n');
                done.written += 1;
            }
            Ok(None) => done.filtered += 1,
            Err(message) => match options.on_error {
                OnError::Fail => {
                    done.error = Some((line_no, message));
                    return done;
                }
                OnError::Skip => {
                    let reject = json!({
                        "line": line_no,
                        "reason": message,
                        "input": String::from_utf8_lossy(line),
                    });
                    let _ = serde_json::to_writer(&mut done.rejects, &reject);
                    done.rejects.push(b'\n');
                    done.rejected += 1;
                }
            },
        }
    }
    done
}

/// Transforms `input` into `output`; rejected lines go to `rejects` (with `Skip`).
pub fn run(
    mapping: &Mapping,
    options: &EngineOptions,
    input: impl BufRead + Send,
    output: &mut (dyn Write + Send),
    mut rejects: Option<&mut (dyn Write + Send)>,
) -> Result<Stats, EngineError> {
    let batch_size = options.batch.max(1);
    let chunk = options.chunk.max(1);
    let mut stats = Stats::default();
    let pool = Pool::default();
    let pool = &pool;
    std::thread::scope(|scope| {
        let (batch_tx, batch_rx) = sync_channel::<std::io::Result<Batch>>(2);
        let (out_tx, out_rx) = sync_channel::<Vec<Done>>(2);
        scope.spawn(move || read_batches(input, batch_size, pool, batch_tx));
        let writer = scope.spawn(move || -> Result<(), EngineError> {
            for chunks in out_rx {
                for done in chunks {
                    output
                        .write_all(&done.out)
                        .map_err(|source| EngineError::Io {
                            what: "writing the output",
                            source,
                        })?;
                    if let Some(r) = rejects.as_deref_mut() {
                        r.write_all(&done.rejects)
                            .map_err(|source| EngineError::Io {
                                what: "writing the rejects",
                                source,
                            })?;
                    }
                }
            }
            output.flush().map_err(|source| EngineError::Io {
                what: "writing the output",
                source,
            })?;
            if let Some(r) = rejects {
                r.flush().map_err(|source| EngineError::Io {
                    what: "writing the rejects",
                    source,
                })?;
            }
            Ok(())
        });
        let mut failure = None;
        for batch in batch_rx {
            let batch = match batch {
                Ok(b) => b,
                Err(source) => {
                    failure = Some(EngineError::Io {
                        what: "reading the input",
                        source,
                    });
                    break;
                }
            };
            stats.bytes_in += batch.text.len() as u64;
            let ranges: Vec<_> = (0..batch.lines.len())
                .step_by(chunk)
                .map(|s| s..(s + chunk).min(batch.lines.len()))
                .collect();
            let mut results: Vec<Done> = ranges
                .into_par_iter()
                .map(|r| transform_chunk(mapping, options, &batch, r, pool))
                .collect();
            pool.give(batch.text);
            // With `Fail`, nothing after the first bad line is written.
            if let Some(pos) = results.iter().position(|d| d.error.is_some()) {
                let mut bad = results.split_off(pos);
                let (line, message) = bad[0].error.take().unwrap_or_default();
                results.push(std::mem::take(&mut bad[0]));
                failure = Some(EngineError::Line { line, message });
            }
            for d in &results {
                stats.read += d.read;
                stats.written += d.written;
                stats.filtered += d.filtered;
                stats.rejected += d.rejected;
            }
            if out_tx.send(results).is_err() || failure.is_some() {
                break;
            }
        }
        drop(out_tx);
        let written = writer.join().unwrap_or(Ok(()));
        match (failure, written) {
            (Some(e), _) | (None, Err(e)) => Err(e),
            (None, Ok(())) => Ok(stats),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn lines(n: usize) -> String {
        (0..n)
            .map(|i| format!("{{\"i\":{i},\"email\":\"u{i}@example.com\"}}\n"))
            .collect()
    }

    fn transform(
        spec: &str,
        input: &str,
        options: &EngineOptions,
    ) -> (Result<Stats, EngineError>, String, String) {
        let mapping = Mapping::parse(spec, "t.toml", &no_env).unwrap();
        let mut out = Vec::new();
        let mut rejects = Vec::new();
        let r = run(
            &mapping,
            options,
            input.as_bytes(),
            &mut out,
            Some(&mut rejects),
        );
        (
            r,
            String::from_utf8(out).unwrap(),
            String::from_utf8(rejects).unwrap(),
        )
    }

    #[test]
    fn a_bad_line_is_named_or_rejected() {
        let input = "{\"a\":1}\nnot json\n{\"a\":2}\n";
        let (r, out, _) = transform("", input, &EngineOptions::default());
        let err = r.unwrap_err().to_string();
        assert!(err.starts_with("line 2: not JSON"), "{err}");
        assert_eq!(out, "{\"a\":1}\n", "nothing after the bad line");

        let skip = EngineOptions {
            on_error: OnError::Skip,
            ..EngineOptions::default()
        };
        let (r, out, rejects) = transform("", input, &skip);
        let stats = r.unwrap();
        assert_eq!((stats.read, stats.written, stats.rejected), (3, 2, 1));
        assert_eq!(out, "{\"a\":1}\n{\"a\":2}\n");
        let reject: Value = serde_json::from_str(rejects.trim()).unwrap();
        assert_eq!(reject["line"], 2);
        assert_eq!(reject["input"], "not json");
    }

    #[test]
    fn filters_count_what_they_leave_out() {
        let spec = "[[users]]\nop = \"filter\"\nkeep = { field = \"i\", in = [1, 3] }\n";
        let (r, out, _) = transform(
            spec,
            &lines(5),
            &EngineOptions {
                batch: 2,
                chunk: 1,
                ..EngineOptions::default()
            },
        );
        let stats = r.unwrap();
        assert_eq!((stats.read, stats.written, stats.filtered), (5, 2, 3));
        assert_eq!(
            out,
            "{\"i\":1,\"email\":\"u1@example.com\"}\n{\"i\":3,\"email\":\"u3@example.com\"}\n"
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-zA-Z0-9 @.é\"\\\\]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_empty_spec_is_the_identity(records in prop::collection::vec(prop::collection::btree_map("[a-z_]{1,8}", arb_json(), 0..5), 0..20)) {
            let input: String = records.iter().map(|r| format!("{}\n", serde_json::to_string(r).unwrap())).collect();
            let (r, out, _) = transform("", &input, &EngineOptions::default());
            r.unwrap();
            let got: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            let want: Vec<Value> = input.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn order_is_kept_for_any_batch_size_and_thread_count(n in 0usize..600, batch in 1usize..300, chunk in 1usize..64, threads in 1usize..5) {
            let spec = "[[users]]\nop = \"set\"\nfield = \"seen\"\nvalue = true\n";
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (r, out, _) = pool.install(|| transform(spec, &lines(n), &EngineOptions { batch, chunk, ..EngineOptions::default() }));
            prop_assert_eq!(r.unwrap().written, n as u64);
            for (i, line) in out.lines().enumerate() {
                let v: Value = serde_json::from_str(line).unwrap();
                prop_assert_eq!(&v["i"], &json!(i));
                prop_assert_eq!(&v["seen"], &json!(true));
            }
        }
    }
}
