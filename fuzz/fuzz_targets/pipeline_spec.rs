//! A pipeline spec of any text: a checked spec, or an error naming file:line:column.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("spec.toml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = idferry_pipeline::LoadedSpec::load(&path);
});
