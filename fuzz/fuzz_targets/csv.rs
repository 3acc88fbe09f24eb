//! Any csv into ndjson: records, or an error naming the row; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = idferry_transform::csv::csv_to_ndjson(data, std::io::sink(), None);
    let mut rejects = Vec::new();
    let _ = idferry_transform::csv::csv_to_ndjson(data, std::io::sink(), Some(&mut rejects));
});
