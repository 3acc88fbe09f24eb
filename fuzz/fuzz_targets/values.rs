//! A restore values file of any text: values, or an error naming file:line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = idferry_model::values::Values::parse(text, "values.toml", &|_| Some("v".into()));
});
