//! A sound snapshot written from fuzzed records, then damaged by the fuzzer (a byte
//! changed, or the file cut): whatever `verify` passes reads back exactly the records
//! written. Nothing damaged passes as data.
#![no_main]

use idferry_model::MemberSink;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let (damage, records) = data.split_at(6);
    let at = u32::from_le_bytes([damage[0], damage[1], damage[2], damage[3]]) as usize;
    let (xor, cut) = (damage[4], damage[5] & 1 == 1);
    let lines: Vec<&[u8]> = records
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let Ok(dir) = tempfile::tempdir() else { return };
    let Ok(mut w) =
        idferry_archive::SnapshotWriter::create(dir.path(), "t", "auth0", "http://t", false)
    else {
        return;
    };
    if w.start_member("users/users.ndjson", "users").is_err() {
        return;
    }
    for line in &lines {
        w.write_record(line).expect("spool write");
    }
    w.finish_member().expect("spool finish");
    let options = idferry_archive::WriteOptions {
        level: 1,
        threads: 0,
        encryption: None,
    };
    let written = w.finish(&options).expect("archive written");
    let mut bytes = std::fs::read(&written.path).expect("archive read");
    if cut {
        bytes.truncate(at % bytes.len());
    } else {
        let i = at % bytes.len();
        bytes[i] ^= xor.max(1);
    }
    std::fs::write(&written.path, &bytes).expect("damage written");
    let reader = idferry_archive::SnapshotReader::new(&written.path, None);
    let Ok(report) = reader.verify() else { return };
    if !report.passed() {
        return;
    }
    let mut read = Vec::new();
    reader
        .records("users", |line| {
            read.push(line.to_vec());
            Ok(())
        })
        .expect("a verified snapshot reads");
    let written: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
    assert_eq!(
        read, written,
        "verify passed a snapshot that reads otherwise"
    );
});
