//! The registry: the one place that maps a tenant's `platform` (or a snapshot
//! manifest's) to its implementation of [`Platform`]. The conductor (`run.rs`,
//! `stages.rs`' snapshot) asks a platform for what it needs and never branches on which
//! one it is; each platform lives in its own crate.

pub use idferry_platform::*;

/// Every platform this build speaks.
pub fn all() -> [&'static dyn Platform; 2] {
    [
        &idferry_platform_auth0::Auth0,
        &idferry_platform_zitadel::Zitadel,
    ]
}

/// The platform of a tenant.
pub fn of(platform: idferry_model::Platform) -> &'static dyn Platform {
    match platform {
        idferry_model::Platform::Auth0 => &idferry_platform_auth0::Auth0,
        idferry_model::Platform::Zitadel => &idferry_platform_zitadel::Zitadel,
    }
}

/// The platform a snapshot manifest names, or None for one this build does not know.
pub fn named(name: &str) -> Option<&'static dyn Platform> {
    name.parse::<idferry_model::Platform>().ok().map(of)
}
