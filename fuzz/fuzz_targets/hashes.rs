//! An Auth0 password-hash export of any bytes: hashes by id and email, or an error
//! naming the line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("hashes.ndjson");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = idferry_platform_auth0::hashes::HashFile::load(&path);
});
