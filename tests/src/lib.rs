//! End-to-end tests of idferry live in `tests/`; this library is empty.
