//! A mapping spec of any text: parsed into rules or refused with file:line:column.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = idferry_transform::Mapping::parse(text, "fuzz.toml", &|_| Some("k".into())) {
        let _ = idferry_pipeline::kinds::check_mapping(&m, "fuzz.toml");
    }
});
