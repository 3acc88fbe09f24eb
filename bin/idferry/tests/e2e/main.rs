//! End-to-end tests: idferry's client and binary against emulated tenants over real
//! HTTP on 127.0.0.1 (ephemeral ports). One test binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod backup;
mod cli;
mod common;
mod conformance;
mod damaged;
mod faults;
mod fidelity;
mod interop;
mod jobs;
mod leaks;
mod migrate;
mod pagination;
mod pipelines;
mod refusals;
mod restore;
mod store;
mod throttle;
mod to_zitadel;
mod tools;
mod transform;
mod user_fields;
mod zitadel;
