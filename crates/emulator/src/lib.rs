//! A local Auth0 Management API v2 for tests, demos and migration rehearsals.
//!
//! Each emulated tenant listens on its own port of 127.0.0.1 and answers like a real
//! tenant for every kind in the catalog, users and the jobs API: same paths, status
//! codes, error bodies, id formats, pagination shapes, import limits, token endpoint and
//! rate-limit headers. Faults (latency, 429/5xx, dropped connections) can be injected so
//! that clients are tested against the failures real tenants produce. A tenant can be
//! generated from a seed at any size.
//!
//! ```no_run
//! # async fn demo() -> Result<(), idferry_emulator::EmulatorError> {
//! use idferry_emulator::{Emulator, GenerateSpec, TenantOptions};
//! let mut prod = TenantOptions::new("acme-prod");
//! prod.generate = Some(GenerateSpec { users: 1000, organizations: 10 });
//! let emulator = Emulator::start(vec![prod, TenantOptions::new("acme-staging")]).await?;
//! println!("{}", emulator.tenants()[0].base_url);
//! # Ok(()) }
//! ```

pub mod api;
pub mod clock;
pub mod error;
pub mod faults;
pub mod filters;
pub mod from_spec;
pub mod generate;
pub mod ids;
pub mod import_schema;
pub mod jobs;
pub mod judge;
pub mod paginate;
pub mod persist;
pub mod ratelimit;
pub mod server;
pub mod store;
pub mod users;
pub mod zitadel;

pub use faults::Faults;
pub use generate::GenerateSpec;
pub use server::{Emulator, EmulatorError, Platform, StatsView, Tenant, TenantOptions};
