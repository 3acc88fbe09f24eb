//! Any ndjson through the sample staging mapping (every rule kind): each line is
//! transformed or rejected with its number, never a panic; nothing is lost.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static MAPPING: LazyLock<idferry_transform::Mapping> = LazyLock::new(|| {
    idferry_transform::Mapping::parse(
        include_str!("../../samples/mappings/staging.toml"),
        "staging.toml",
        &|_| Some("fuzz-key".into()),
    )
    .expect("the sample mapping parses")
});

fuzz_target!(|data: &[u8]| {
    let options = idferry_transform::EngineOptions {
        on_error: idferry_transform::OnError::Skip,
        batch: 7,
        chunk: 3,
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut rejects = Vec::new();
    if let Ok(stats) = idferry_transform::run(
        &MAPPING,
        &options,
        std::io::Cursor::new(data),
        &mut out,
        Some(&mut rejects),
    ) {
        let _ = stats;
    }
});
