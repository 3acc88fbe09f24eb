//! A snapshot file (archive and manifest) of any bytes: reading its manifest, verifying
//! it and reading a kind's records end in an answer or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("20260101T000000.000Z_t.tar.zst");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let reader = idferry_archive::SnapshotReader::new(&path, None);
    let _ = reader.manifest();
    if let Ok(report) = reader.verify() {
        // What verify passes, every reader takes.
        if report.passed() {
            assert!(reader.checked().is_ok());
        }
    }
    let _ = reader.records("users", |_| Ok(()));
});
