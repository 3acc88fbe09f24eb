//! The registry: the one place that maps a tenant's `platform` (or a snapshot
//! manifest's) to its implementation of [`Platform`]. The conductor (`run.rs`,
//! `stages.rs`' snapshot) asks a platform for what it needs and never branches on which
//! one it is; each platform lives in its own crate.

pub use idferry_platform::*;

/// Every platform this build speaks.
static ALL: &[&dyn Platform] = &[
    &idferry_platform_auth0::Auth0,
    &idferry_platform_zitadel::Zitadel,
];

/// Every platform this build speaks.
pub fn all() -> &'static [&'static dyn Platform] {
    ALL
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

/// Every platform's built-in profiles (name, mapping spec text).
pub fn profiles() -> Vec<(&'static str, &'static str)> {
    all()
        .iter()
        .flat_map(|p| p.profiles().iter().copied())
        .collect()
}

/// The built-in profile called `name`, whichever platform holds it.
pub fn profile(name: &str) -> Result<idferry_transform::Mapping, idferry_transform::SpecError> {
    idferry_transform::profiles::find(&profiles(), name)
}

/// The users of `from` for a users sink into `to`, read by the platform `from` is of (a
/// snapshot's manifest names it). A platform that gives no users is refused, naming
/// what converts into `to` and what does not.
pub fn users_source(
    from: From<'_>,
    to: &idferry_model::TenantConfig,
) -> Result<Box<dyn UsersSource>, PipelineError> {
    let (read, platform) = match &from {
        From::Tenant(tenant) => (tenant.name.clone(), tenant.platform.to_string()),
        From::Snapshot(path, key) => {
            if !path.is_file() {
                return Err(PipelineError::NoSnapshot {
                    path: path.to_path_buf(),
                });
            }
            let manifest = idferry_archive::SnapshotReader::new(path, key.clone()).manifest()?;
            (path.display().to_string(), manifest.platform)
        }
    };
    named(&platform)
        .and_then(|p| p.users_source(from))
        .unwrap_or_else(|| {
            Err(PipelineError::AcrossPlatforms {
                read,
                converts: of(to.platform).converts_users_of(&platform),
                from: platform,
                to: to.platform.to_string(),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use idferry_model::TenantConfig;

    fn tenant(name: &str, platform: idferry_model::Platform) -> TenantConfig {
        let mut t = TenantConfig::with_token_env(name, "http://127.0.0.1:1", "PATH"); // any set variable
        t.platform = platform;
        t
    }

    #[test]
    fn users_are_read_by_the_sources_own_platform_or_refused_naming_what_converts() {
        let auth0 = tenant("prod", idferry_model::Platform::Auth0);
        let zitadel = tenant("zprod", idferry_model::Platform::Zitadel);
        // An Auth0 tenant gives its users, into either platform.
        assert!(users_source(From::Tenant(&auth0), &zitadel).is_ok());
        assert!(users_source(From::Tenant(&auth0), &auth0).is_ok());
        // A ZITADEL instance gives none: refused, saying so.
        let Err(e) = users_source(From::Tenant(&zitadel), &auth0) else {
            panic!("a ZITADEL source was taken");
        };
        let e = e.to_string();
        assert!(
            e.contains("zprod") && e.contains("nothing of it converts into auth0"),
            "{e}"
        );
        // A snapshot that is not there is named.
        let missing = std::path::Path::new("no/such/snapshot.tar.zst");
        let Err(e) = users_source(From::Snapshot(missing, None), &auth0) else {
            panic!("a missing snapshot was taken");
        };
        assert!(e.to_string().contains("no/such/snapshot.tar.zst"), "{e}");
    }
}
