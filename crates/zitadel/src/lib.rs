//! A client of ZITADEL's REST/JSON APIs for moving instances: the admin API (instance
//! level, `/admin/v1`), the management API (`/management/v1`, one organization at a time
//! through the `x-zitadel-orgid` header) and the v2 services. It logs in with a service
//! user's key (the JWT profile) or a personal access token, paces and retries like the
//! Auth0 client (`idferry-pacing`), turns ZITADEL's list queries (`query.offset` /
//! `query.limit`, `details.totalResult`) into streams, and its error bodies (`code`,
//! `message`, `details`) into typed errors.
//!
//! On top: a [`catalog`] of the instance's kinds as data (policies, login and message
//! texts, organizations, identity providers, SMTP and SMS providers with write-only
//! secrets, users with metadata, actions and flows, projects, roles, applications, user
//! grants, members), their [`export`] into snapshots, [`restore`] plans and their
//! [`apply`]ing, and the [`users`] importer that brings Auth0 users in with their
//! hashes, metadata, grants and memberships.

pub mod apply;
pub mod catalog;
pub mod client;
pub mod error;
pub mod export;
pub mod list;
pub mod login;
pub mod restore;
pub mod sms;
pub mod users;

/// The name configs (`platform = "zitadel"`) and snapshot manifests give this platform.
pub const PLATFORM: &str = "zitadel";

pub use client::Client;
pub use error::Error;

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
