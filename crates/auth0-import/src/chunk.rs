//! Users-imports files: JSON arrays of users, each under the import's size limit, filled
//! in order and never splitting a user.

/// The import refuses files over this many bytes (`413 Payload content length greater
/// than maximum allowed: 512000`).
pub const IMPORT_LIMIT: usize = 512_000;

/// What a file is filled to by default: under the limit, with room to spare.
pub const DEFAULT_FILE_BYTES: usize = 500_000;

/// One users-imports file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The JSON array.
    pub bytes: Vec<u8>,
    /// Users in it.
    pub users: usize,
}

/// A user too large for any file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the user is {size} bytes as JSON; an import file holds at most {max}")]
pub struct TooLarge {
    /// Its size.
    pub size: usize,
    /// The file limit.
    pub max: usize,
}

/// Fills files with users.
#[derive(Debug)]
pub struct Chunker {
    max: usize,
    buf: Vec<u8>,
    users: usize,
}

impl Chunker {
    /// Files of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            buf: Vec::with_capacity(max),
            users: 0,
        }
    }

    /// Adds a user (its JSON text). When it does not fit in the current file, that file
    /// is returned finished and the user starts the next.
    pub fn push(&mut self, user: &[u8]) -> Result<Option<Chunk>, TooLarge> {
        if user.len() + 2 > self.max {
            return Err(TooLarge {
                size: user.len(),
                max: self.max,
            });
        }
        // `[` + users joined by `,` + `]`.
        let grown = if self.users == 0 {
            2 + user.len()
        } else {
            self.buf.len() + 1 + user.len() + 1
        };
        let done = if grown > self.max { self.take() } else { None };
        self.buf.push(if self.users == 0 { b'[' } else { b',' });
        self.buf.extend_from_slice(user);
        self.users += 1;
        Ok(done)
    }

    /// The last file, if it has users.
    pub fn finish(mut self) -> Option<Chunk> {
        self.take()
    }

    fn take(&mut self) -> Option<Chunk> {
        if self.users == 0 {
            return None;
        }
        let mut bytes = std::mem::replace(&mut self.buf, Vec::with_capacity(self.max));
        bytes.push(b']');
        let users = std::mem::take(&mut self.users);
        Some(Chunk { bytes, users })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    proptest! {
        #[test]
        fn files_stay_under_the_limit_and_keep_every_user_in_order(
            sizes in proptest::collection::vec(0usize..400, 0..200),
            max in 420usize..2000,
        ) {
            let users: Vec<Vec<u8>> = sizes
                .iter()
                .enumerate()
                .map(|(i, n)| serde_json::to_vec(&serde_json::json!({"i": i, "pad": "x".repeat(*n)})).unwrap())
                .collect();
            let mut chunker = Chunker::new(max);
            let mut files = Vec::new();
            for u in &users {
                if let Some(f) = chunker.push(u).unwrap() {
                    files.push(f);
                }
            }
            files.extend(chunker.finish());
            let mut seen = Vec::new();
            for f in &files {
                prop_assert!(f.bytes.len() <= max, "{} > {max}", f.bytes.len());
                let parsed: Vec<Value> = serde_json::from_slice(&f.bytes).unwrap();
                prop_assert_eq!(parsed.len(), f.users);
                seen.extend(parsed.into_iter().map(|v| v["i"].as_u64().unwrap() as usize));
            }
            prop_assert_eq!(seen, (0..users.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_user_larger_than_a_file_is_refused() {
        let mut c = Chunker::new(10);
        assert_eq!(c.push(b"\"0123456789\"").unwrap_err().size, 12);
        assert!(c.finish().is_none());
    }
}
