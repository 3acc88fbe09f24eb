//! The registry: the one place that maps a tenant's `platform` (or a snapshot
//! manifest's) to its implementation of [`Platform`]. The conductor (`run.rs`,
//! `stages.rs`' snapshot) asks a platform for what it needs and never branches on which
//! one it is; each platform lives in its own crate.

pub use idferry_platform::*;

/// Every platform this build speaks; the first is the one a config's tenant that names
/// none is on.
static ALL: &[&dyn Platform] = &[
    &idferry_platform_auth0::Auth0,
    &idferry_platform_zitadel::Zitadel,
];

/// Every platform this build speaks.
pub fn all() -> &'static [&'static dyn Platform] {
    ALL
}

/// The platform of a tenant (read from a config file, which names only platforms of
/// [`all`]); one built in code with another name is refused, naming those there are.
pub fn of(tenant: &idferry_model::TenantConfig) -> Result<&'static dyn Platform, PipelineError> {
    named(&tenant.platform).ok_or_else(|| PipelineError::UnknownPlatform {
        tenant: tenant.name.clone(),
        platform: tenant.platform.clone(),
        known: all()
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The platform a config or a snapshot manifest names, or None for one this build does
/// not know.
pub fn named(name: &str) -> Option<&'static dyn Platform> {
    all().iter().copied().find(|p| p.name() == name)
}

/// The platform whose configuration files (another tool's, auth0-deploy-cli's) this
/// build reads, if any.
pub fn reading_files() -> Option<&'static dyn Platform> {
    all()
        .iter()
        .copied()
        .find(|p| !p.config_formats().is_empty())
}

/// The password hashes of a password-hash export (`idferry transform --hashes`), read
/// by the first platform that has such exports.
pub fn password_hashes(
    file: &std::path::Path,
) -> Result<std::sync::Arc<dyn idferry_transform::rules::Merge>, PipelineError> {
    all()
        .iter()
        .find_map(|p| p.password_hashes(file))
        .unwrap_or_else(|| {
            Err(PipelineError::Hashes {
                path: file.to_owned(),
                message: "no platform of this build has password-hash exports".into(),
            })
        })
}

/// What each platform's tenants may say in a config file (for [`load_config`]).
pub fn config_rules() -> Vec<idferry_model::PlatformRules> {
    all().iter().map(|p| p.config_rules()).collect()
}

/// Reads and checks the config file `path`, its tenants on the platforms of this build.
pub fn load_config(
    path: &std::path::Path,
) -> Result<idferry_model::Config, idferry_model::ConfigError> {
    idferry_model::Config::load(path, &config_rules())
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
        From::Tenant(tenant) => (tenant.name.clone(), tenant.platform.clone()),
        From::Files(path, _) => {
            return Err(PipelineError::FilesHoldNoUsers {
                path: path.to_path_buf(),
            });
        }
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
                converts: of(to).is_ok_and(|p| p.converts_users_of(&platform)),
                from: platform,
                to: to.platform.clone(),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use idferry_model::TenantConfig;

    fn tenant(name: &str, platform: &str) -> TenantConfig {
        TenantConfig::with_token_env(platform, name, "http://127.0.0.1:1", "PATH") // any set variable
    }

    #[test]
    fn users_are_read_by_the_sources_own_platform_or_refused_naming_what_converts() {
        let auth0 = tenant("prod", "auth0");
        let zitadel = tenant("zprod", "zitadel");
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

    #[test]
    fn configs_name_the_platforms_of_the_registry_and_each_ones_logins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idferry.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            load_config(&path)
        };
        // A tenant that names no platform is on the first.
        let config = load("[tenants.a]\ndomain = \"a\"\ntoken_env = \"X\"\n").unwrap();
        let a = config.tenant("a").unwrap();
        assert_eq!(of(a).unwrap().name(), all()[0].name());
        // A service user's key is for ZITADEL instances only.
        let config = load(
            "[tenants.z]\nplatform = \"zitadel\"\nbase_url = \"http://z\"\nkey_file = \"z.json\"\n",
        )
        .unwrap();
        assert_eq!(of(config.tenant("z").unwrap()).unwrap().name(), "zitadel");
        let err = load("[tenants.a]\ndomain = \"a\"\nkey_env = \"K\"\n").unwrap_err();
        assert!(
            err.to_string().contains("set platform = \"zitadel\""),
            "{err}"
        );
        // ZITADEL instances take no client credentials; an unknown platform lists those there are.
        let err = load(
            "[tenants.z]\nplatform = \"zitadel\"\nbase_url = \"http://z\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains(
                ":4: tenants.z.client_id: ZITADEL instances log in with a service user's key"
            ),
            "{err}"
        );
        let err = load("[tenants.k]\nplatform = \"keycloak\"\ndomain = \"k\"\ntoken_env = \"X\"\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("tenants.k.platform: \"keycloak\": the platforms are auth0 and zitadel"),
            "{err}"
        );
        // A tenant built in code on a platform of no one's is refused by name.
        let Err(e) = of(&tenant("x", "keycloak")) else {
            panic!("an unknown platform was taken");
        };
        assert!(e.to_string().contains("keycloak"), "{e}");
    }
}
