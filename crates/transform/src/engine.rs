//! The streaming engine: ndjson in, rules applied, ndjson out, in the input's order, in
//! constant memory. Three stages overlap: a reader thread cuts the input into batches of
//! lines, rayon transforms small chunks of lines as they come, and a writer thread puts
//! the chunks back in input order and writes them. There is no barrier between batches:
//! a slow chunk holds back only the writer, never the workers, so both cores stay busy.
//! Memory is bounded by the few batches read ahead and a fixed number of chunks in
//! flight, however long the input. A line already in compact JSON (what exports hold) is
//! read lazily ([`crate::record`]): rules parse only the fields they reach, and the rest
//! goes out as the bytes it came in, identical to parsing and writing it whole.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use serde_json::json;

use crate::record::Record;
use crate::rules::{Rule, apply_to};
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
    /// Lines per parallel task.
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

    /// A buffer at least `len` bytes long, its bytes whatever they were: a reused one is
    /// not zeroed again (input is read over it).
    fn take_len(&self, len: usize) -> Vec<u8> {
        let reused = self.0.lock().ok().and_then(|mut p| p.pop());
        let mut buf = reused.unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, 0);
        }
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
    /// The buffer; its bytes past `filled` are not the batch's.
    text: Vec<u8>,
    filled: usize,
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

/// Reads `batch` lines at a time in large blocks, as much as a batch's buffer holds
/// (not line by line: cutting lines in a block is one pass of memchr), carrying a line cut by the block's end to the next
/// batch. A line is what ends at a newline (its trailing carriage returns left out), and
/// what follows the last newline when it is not empty.
fn read_batches(
    mut input: impl BufRead,
    batch: usize,
    pool: &Pool,
    send: std::sync::mpsc::SyncSender<std::io::Result<Batch>>,
) {
    let mut line_no = 1u64;
    let mut carry: Vec<u8> = Vec::new();
    let mut eof = false;
    loop {
        let mut b = Batch {
            first_line: line_no,
            text: pool.take_len((batch * 1100).max(carry.len())),
            filled: carry.len(),
            lines: Vec::with_capacity(batch),
        };
        b.text[..carry.len()].copy_from_slice(&carry);
        carry.clear();
        let mut cut = 0;
        loop {
            while b.lines.len() < batch {
                let Some(at) = memchr::memchr(b'\n', &b.text[cut..b.filled]) else {
                    break;
                };
                let mut end = cut + at;
                while end > cut && b.text[end - 1] == b'\r' {
                    end -= 1;
                }
                b.lines.push((cut, end));
                line_no += 1;
                cut += at + 1;
            }
            if b.lines.len() >= batch || eof {
                break;
            }
            // Read into the room the buffer has (64 KiB at least: it grows for a line
            // longer than a batch's worth).
            if b.text.len() - b.filled < 64 << 10 {
                b.text.resize(b.filled + (64 << 10), 0);
            }
            match input.read(&mut b.text[b.filled..]) {
                Ok(n) => {
                    b.filled += n;
                    eof = n == 0;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = send.send(Err(e));
                    return;
                }
            }
        }
        if eof && b.lines.len() < batch && cut < b.filled {
            // The last line, without a newline.
            let mut end = b.filled;
            while end > cut && b.text[end - 1] == b'\r' {
                end -= 1;
            }
            b.lines.push((cut, end));
            line_no += 1;
            cut = b.filled;
        }
        carry.extend_from_slice(&b.text[cut..b.filled]);
        b.filled = cut;
        let last = b.lines.is_empty();
        if send.send(Ok(b)).is_err() || last {
            return;
        }
    }
}

fn transform_chunk(
    rules: &[&Rule],
    on_error: OnError,
    batch: &Batch,
    range: std::ops::Range<usize>,
    pool: &Pool,
) -> Done {
    let mut done = Done {
        out: pool.take(range.len() * 1100),
        ..Done::default()
    };
    for i in range {
        let (start, end) = batch.lines[i];
        let line = &batch.text[start..end];
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        done.read += 1;
        let line_no = batch.first_line + i as u64;
        // One UTF-8 check of the whole line is cheaper than serde_json's check of each
        // string in it, which parsing from a `str` skips. SIMD for the line; std's only to
        // say where a bad line goes wrong.
        let result = simdutf8::basic::from_utf8(line)
            .map_err(|_| match std::str::from_utf8(line) {
                Err(e) => format!("not UTF-8: {e}"),
                Ok(_) => "not UTF-8".to_owned(),
            })
            .and_then(|text| {
                // A line in compact form is read lazily; any other strictly, whole.
                match Record::scan(text) {
                    Some(record) => Ok((record, Vec::new())),
                    None => crate::strict::parse(text)
                        .map(|parsed| (Record::from_value(parsed.value), parsed.big))
                        .map_err(|e| format!("not JSON: {e}")),
                }
            })
            .and_then(|(mut record, big)| {
                let keep =
                    apply_to(rules.iter().copied(), &mut record).map_err(|e| e.to_string())?;
                match record.damage() {
                    Some(damage) => Err(format!("not JSON: {damage}")),
                    None => Ok(keep.then_some((record, big))),
                }
            });
        match result {
            Ok(Some((record, big))) => {
                if big.is_empty() {
                    record.write(&mut done.out);
                } else {
                    // Integers beyond 64 bits go back as they came.
                    let mut text = Vec::new();
                    record.write(&mut text);
                    crate::strict::restore(&mut text, &big);
                    done.out.extend_from_slice(&text);
                }
                done.out.push(b'\n');
                done.written += 1;
            }
            Ok(None) => done.filtered += 1,
            Err(message) => match on_error {
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

/// Chunks transformed or being transformed, not yet written: each holds at most
/// `chunk` lines of output, so this bounds the memory of the middle stage.
const CHUNKS_IN_FLIGHT: usize = 24;

/// Takes a slot for one more chunk in flight; false once the writer has stopped. A
/// rayon worker (the caller may run inside `ThreadPool::install`) runs queued chunks
/// while it waits, so that a one-thread pool cannot deadlock on itself.
fn take_slot(slots: &SyncSender<()>) -> bool {
    loop {
        match slots.try_send(()) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(())) => return false,
            Err(TrySendError::Full(())) => match rayon::yield_now() {
                Some(rayon::Yield::Executed) => {}
                Some(rayon::Yield::Idle) => {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                None => return slots.send(()).is_ok(),
            },
        }
    }
}

/// Writes chunks in input order as they arrive (in any order), freeing a slot for
/// each; stops at the first failed line. Returns the counts of what it wrote.
fn write_in_order(
    done: Receiver<(u64, Done)>,
    slots: Receiver<()>,
    output: &mut (dyn Write + Send),
    mut rejects: Option<&mut (dyn Write + Send)>,
    outs: &Pool,
) -> Result<Stats, EngineError> {
    let io = |what: &'static str| move |source| EngineError::Io { what, source };
    let mut stats = Stats::default();
    let mut waiting: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, chunk) in done {
        waiting.insert(seq, chunk);
        while let Some(mut chunk) = waiting.remove(&next) {
            next += 1;
            let _ = slots.recv();
            output
                .write_all(&chunk.out)
                .map_err(io("writing the output"))?;
            outs.give(std::mem::take(&mut chunk.out));
            if let Some(r) = rejects.as_deref_mut() {
                r.write_all(&chunk.rejects)
                    .map_err(io("writing the rejects"))?;
            }
            stats.read += chunk.read;
            stats.written += chunk.written;
            stats.filtered += chunk.filtered;
            stats.rejected += chunk.rejected;
            // With `Fail`, nothing after the first bad line is written.
            if let Some((line, message)) = chunk.error.take() {
                output.flush().map_err(io("writing the output"))?;
                return Err(EngineError::Line { line, message });
            }
        }
    }
    output.flush().map_err(io("writing the output"))?;
    if let Some(r) = rejects {
        r.flush().map_err(io("writing the rejects"))?;
    }
    Ok(stats)
}

/// Transforms `input` into `output`; rejected lines go to `rejects` (with `Skip`).
pub fn run(
    mapping: &Mapping,
    options: &EngineOptions,
    input: impl BufRead + Send,
    output: &mut (dyn Write + Send),
    rejects: Option<&mut (dyn Write + Send)>,
) -> Result<Stats, EngineError> {
    let batch_size = options.batch.max(1);
    let chunk = options.chunk.max(1);
    let on_error = options.on_error;
    let rules: Vec<&Rule> = mapping.rules_for(&options.kind).collect();
    let rules = &rules[..];
    // Input batches and output chunks each reuse their own buffers (the writer hands
    // an output buffer back once written).
    let (pool, outs) = (Pool::default(), Pool::default());
    let (pool, outs) = (&pool, &outs);
    std::thread::scope(|scope| {
        let (batch_tx, batch_rx) = sync_channel::<std::io::Result<Batch>>(2);
        let (done_tx, done_rx) = sync_channel::<(u64, Done)>(CHUNKS_IN_FLIGHT);
        let (slot_tx, slot_rx) = sync_channel::<()>(CHUNKS_IN_FLIGHT);
        scope.spawn(move || read_batches(input, batch_size, pool, batch_tx));
        let writer = scope.spawn(move || write_in_order(done_rx, slot_rx, output, rejects, outs));
        let mut bytes_in = 0u64;
        let mut failure = None;
        rayon::in_place_scope_fifo(|tasks| {
            let mut seq = 0u64;
            'batches: for batch in batch_rx {
                let batch = match batch {
                    Ok(b) => Arc::new(b),
                    Err(source) => {
                        failure = Some(EngineError::Io {
                            what: "reading the input",
                            source,
                        });
                        break;
                    }
                };
                bytes_in += batch.filled as u64;
                for start in (0..batch.lines.len()).step_by(chunk) {
                    if !take_slot(&slot_tx) {
                        break 'batches;
                    }
                    let (batch, done_tx) = (batch.clone(), done_tx.clone());
                    let range = start..(start + chunk).min(batch.lines.len());
                    let n = seq;
                    seq += 1;
                    tasks.spawn_fifo(move |_| {
                        let done = transform_chunk(rules, on_error, &batch, range, outs);
                        // The last chunk of a batch hands its text back for reuse.
                        if let Some(batch) = Arc::into_inner(batch) {
                            pool.give(batch.text);
                        }
                        // The writer stops at a failed line; what follows is not needed.
                        let _ = done_tx.send((n, done));
                    });
                }
            }
        });
        drop(done_tx);
        let written = writer.join().unwrap_or_else(|_| {
            Err(EngineError::Io {
                what: "writing the output",
                source: std::io::Error::other("the writer thread panicked"),
            })
        });
        match (failure, written) {
            (_, Err(e)) | (Some(e), Ok(_)) => Err(e),
            (None, Ok(stats)) => Ok(Stats { bytes_in, ..stats }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// Lines as `read_until` cuts them, numbered from 1: the plain way, to hold the
    /// block reader to.
    fn lines_by_read_until(mut input: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            if input.read_until(b'\n', &mut line).unwrap() == 0 {
                return out;
            }
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            out.push((out.len() as u64 + 1, line));
        }
    }

    fn lines_by_blocks(input: &[u8], batch: usize) -> Vec<(u64, Vec<u8>)> {
        let pool = Pool::default();
        let (tx, rx) = sync_channel(1_000_000);
        read_batches(input, batch, &pool, tx);
        let mut out = Vec::new();
        for b in rx {
            let b = b.unwrap();
            for (i, &(start, end)) in b.lines.iter().enumerate() {
                out.push((b.first_line + i as u64, b.text[start..end].to_vec()));
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn block_reading_cuts_the_lines_read_until_cuts(
            parts in prop::collection::vec(
                prop_oneof![Just("\n".to_owned()), Just("\r\n".to_owned()), Just("\r".to_owned()), "[a-z{}\":]{0,40}"],
                0..200,
            ),
            batch in 1usize..7,
        ) {
            let text: String = parts.concat();
            prop_assert_eq!(lines_by_blocks(text.as_bytes(), batch), lines_by_read_until(text.as_bytes()));
        }
    }

    #[test]
    fn a_line_longer_than_a_batch_buffer_is_one_line() {
        let long = "x".repeat((3 << 20) + 17);
        let text = format!("a\n{long}\r\nb");
        assert_eq!(
            lines_by_blocks(text.as_bytes(), 2),
            lines_by_read_until(text.as_bytes())
        );
        assert_eq!(lines_by_blocks(text.as_bytes(), 2)[1].1.len(), long.len());
    }

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
    fn chunks_after_a_bad_line_are_not_written_though_transformed() {
        let mut input = lines(2000);
        input.insert_str(
            input.match_indices('\n').nth(1233).unwrap().0 + 1,
            "{oops\n",
        );
        let small = EngineOptions {
            batch: 100,
            chunk: 3,
            ..EngineOptions::default()
        };
        let (r, out, _) = transform("", &input, &small);
        let err = r.unwrap_err().to_string();
        assert!(err.starts_with("line 1235: not JSON"), "{err}");
        assert_eq!(out, lines(1234));
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
