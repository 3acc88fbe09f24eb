//! Rewriting records between export and import: mapping specs (TOML, ordered rules per
//! kind: move, copy, drop, set, map, rewrite, filter, scrub) and a streaming engine that
//! applies them to ndjson (plain, `.gz`, `.zst`) in parallel, in order, in constant
//! memory, naming the line of any bad input.

pub mod codec;
pub mod csv;
pub mod engine;
pub mod path;
pub mod profiles;
pub mod record;
pub mod rules;
pub mod spec;
pub mod strict;

pub use engine::{EngineError, EngineOptions, OnError, Stats, run};
pub use spec::{Mapping, SpecError};
