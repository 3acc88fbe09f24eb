//! Writing into an Auth0 tenant (one of Auth0's crates, driven by
//! `idferry-platform-auth0`). Configuration: a [`plan`](plan::plan) compares a source's
//! records (a snapshot or a live tenant) with the target's, kind by kind in dependency
//! order, matching by natural key and rewriting ids, and [`apply`](apply::apply) runs it
//! through the client's throttle. Users: [`users`] turns ndjson into users-imports jobs
//! under the size limit, keeps the tenant's job slots busy, collects per-user errors and
//! then restores roles and organization memberships.

pub mod apply;
pub mod chunk;
pub mod discovery;
pub mod error;
pub mod plan;
pub mod state;
pub mod users;

pub use apply::{ApplyReport, apply};
pub use error::ImportError;
pub use idferry_model::Values;
pub use plan::{Action, Plan, PlanOptions, plan};
pub use state::{Item, State};
