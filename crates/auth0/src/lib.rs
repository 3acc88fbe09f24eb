//! A client of the Auth0 Management API v2, built for moving whole tenants: it
//! authenticates (static token, or client credentials cached and refreshed), paces itself
//! to the tenant's rate limit (a `governor` limiter plus the `X-RateLimit-*` headers) so
//! that steady work never meets a 429, retries what can succeed later (429, 5xx, dropped
//! connections) with jittered backoff, lists every catalog kind as a stream of records,
//! and runs the users-exports and users-imports jobs, streaming export files without
//! holding them in memory. It holds what it knows of the API as data: the catalog
//! ([`catalog`]: one row per kind, checked against the Management API spec in
//! `testdata/`) and how Auth0 records are written in snapshots ([`record`]).

pub mod auth;
pub mod catalog;
pub mod client;
pub mod error;
pub mod jobs;
pub mod paginate;
pub mod record;

/// The name configs (`platform = "auth0"`) and snapshot manifests give this platform.
pub const PLATFORM: &str = "auth0";

pub use catalog::{CATALOG, Endpoint, GoLive, Kind, Method, Pagination, Reference, Shape};
pub use client::{Client, ClientOptions, Payload, RequestStats, Response};
pub use error::{ApiError, Error};
pub use idferry_pacing::{RetryPolicy, Throttle, retry, throttle};
pub use jobs::{
    ExportField, ExportRequest, ImportRequest, Job, METADATA_FIELDS, USER_FIELDS, missing_metadata,
};
/// HTTP methods, as the client takes them.
pub use record::Envelope;
pub use reqwest::Method as HttpMethod;

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
