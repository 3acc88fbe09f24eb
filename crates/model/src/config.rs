//! The tenant config file, `idferry.toml`: tenants by name, where their API is, where
//! their credentials come from (an env var or a file, never the file itself), and how
//! fast idferry may call them.
//!
//! ```toml
//! [tenants.acme-prod]
//! platform = "auth0"                  # a platform's name; the registry's first when left out
//! domain = "acme.eu.auth0.com"        # or base_url = "http://127.0.0.1:4001"
//! client_id = "abc..."                # client credentials ...
//! client_secret_file = "secrets/acme-prod.secret"
//! # token_env = "ACME_PROD_TOKEN"     # ... or a static token (token_env / token_file)
//! # key_file / key_env: a service user's JSON key (the JWT profile)
//! # Which of these a tenant may use is its platform's rule (`PlatformRules::logins`).
//! rate_limit = 10                     # requests per second (optional)
//! burst = 10                          # (optional)
//! request_timeout = 60                # seconds before a silent tenant counts as stalled
//! ```
//!
//! Errors name the file, the line and the key, so that a typo is found at once.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// What a platform's tenants may say in the config file: the name `platform = "..."`
/// picks it by, how messages call its tenants, and the ways they log in. The registry
/// of platforms gives one per platform; the first is the one a tenant that names none
/// is on. This crate knows no platform by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformRules {
    /// The name a config's `platform` and a snapshot manifest use.
    pub name: &'static str,
    /// How messages call its tenants ("Auth0 tenants").
    pub tenants: &'static str,
    /// How its tenants log in.
    pub logins: &'static [Login],
}

/// A way of logging in to a tenant, as the config file sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// A static token (`token_env` / `token_file`).
    Token,
    /// Client credentials (`client_id` with `client_secret_env` / `client_secret_file`).
    ClientCredentials,
    /// A service user's key (`key_env` / `key_file`).
    ServiceUserKey,
}

impl Login {
    /// How messages call it, with the keys that set it.
    fn described(self) -> &'static str {
        match self {
            Self::Token => "a token (token_env / token_file)",
            Self::ClientCredentials => {
                "client credentials (client_id with client_secret_env / client_secret_file)"
            }
            Self::ServiceUserKey => "a service user's key (key_env / key_file)",
        }
    }
}

/// A secret value: shown as `***` by `Debug` and never printed by idferry.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A file's path (relative paths are resolved against the config file's folder).
    File(PathBuf),
}

impl SecretSource {
    fn read(&self, tenant: &str, key: &str) -> Result<Secret, ConfigError> {
        let fail = |message: String| ConfigError::Secret {
            tenant: tenant.to_owned(),
            key: key.to_owned(),
            message,
        };
        let value = match self {
            Self::Env(var) => std::env::var(var)
                .map_err(|_| fail(format!("environment variable {var} is not set")))?,
            Self::File(path) => std::fs::read_to_string(path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?,
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(fail("the secret is empty".into()));
        }
        Ok(Secret::new(value))
    }
}

/// How idferry authenticates to a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// A static Management API token.
    Token(SecretSource),
    /// Client credentials exchanged at `/oauth/token`.
    ClientCredentials {
        /// The client id (not a secret).
        client_id: String,
        /// Where the client secret comes from.
        client_secret: SecretSource,
        /// The audience to ask for; the tenant's `/api/v2/` when unset.
        audience: Option<String>,
    },
    /// A service user's key (its JSON key file), signed into a JWT and exchanged
    /// at `/oauth/v2/token` (the JWT profile).
    JwtProfile(SecretSource),
}

/// Credentials read from their sources.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A static token.
    Token(Secret),
    /// Client credentials.
    ClientCredentials {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
        /// The audience; the tenant's `/api/v2/` when unset.
        audience: Option<String>,
    },
    /// A service user's JSON key (`{"type", "keyId", "key", "userId"}`).
    JwtProfile(Secret),
}

/// One tenant of the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantConfig {
    /// Its name in the file (`acme-prod`).
    pub name: String,
    /// Its platform's name (one of the registry's [`PlatformRules`]).
    pub platform: String,
    /// Where the tenant answers: `https://<domain>` or the configured `base_url`, without
    /// a trailing slash. The Management API is under `/api/v2`, the token endpoint at
    /// `/oauth/token`.
    pub base_url: String,
    /// Where its credentials come from.
    pub credentials: CredentialSource,
    /// Requests per second idferry may send (None: learned from the rate-limit headers).
    pub rate_limit: Option<f64>,
    /// How many requests may go at once before the rate applies.
    pub burst: Option<u32>,
    /// Seconds a request may take, answer included, before the tenant counts as stalled
    /// (None: the client's default, 60).
    pub request_timeout: Option<u64>,
}

impl TenantConfig {
    /// Reads the credentials from their env var or file.
    pub fn resolve_credentials(&self) -> Result<Credentials, ConfigError> {
        Ok(match &self.credentials {
            CredentialSource::Token(source) => {
                Credentials::Token(source.read(&self.name, "token")?)
            }
            CredentialSource::ClientCredentials {
                client_id,
                client_secret,
                audience,
            } => Credentials::ClientCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.read(&self.name, "client_secret")?,
                audience: audience.clone(),
            },
            CredentialSource::JwtProfile(source) => {
                Credentials::JwtProfile(source.read(&self.name, "key")?)
            }
        })
    }

    /// A tenant of `platform` answering at `base_url` with a static token from an env
    /// var, for tests and tools that build configs in code.
    pub fn with_token_env(platform: &str, name: &str, base_url: &str, var: &str) -> Self {
        Self {
            name: name.to_owned(),
            platform: platform.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            credentials: CredentialSource::Token(SecretSource::Env(var.to_owned())),
            rate_limit: None,
            burst: None,
            request_timeout: None,
        }
    }
}

/// The whole config file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Tenants by name, in name order.
    pub tenants: BTreeMap<String, TenantConfig>,
}

impl Config {
    /// Reads and checks `path`; its tenants may be on the `platforms` given (the first
    /// when a tenant names none).
    pub fn load(path: &Path, platforms: &[PlatformRules]) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path, platforms)
    }

    /// Parses config text; `path` names the file in errors and anchors relative paths.
    /// Its tenants may be on the `platforms` given (the first when a tenant names none).
    pub fn parse(
        text: &str,
        path: &Path,
        platforms: &[PlatformRules],
    ) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            ConfigError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: e.message().to_owned(),
            }
        })?;
        let base_dir = path.parent().unwrap_or(Path::new(".")).to_owned();
        let mut tenants = BTreeMap::new();
        for (name, tenant) in raw.tenants {
            let checked = tenant.check(&name, text, path, &base_dir, platforms)?;
            tenants.insert(name, checked);
        }
        Ok(Self {
            path: path.to_owned(),
            tenants,
        })
    }

    /// The tenant called `name`, or an error listing the ones there are.
    pub fn tenant(&self, name: &str) -> Result<&TenantConfig, ConfigError> {
        self.tenants
            .get(name)
            .ok_or_else(|| ConfigError::UnknownTenant {
                path: self.path.clone(),
                name: name.to_owned(),
                known: self.names(),
            })
    }

    /// The tenants' names, comma-separated (for messages).
    pub fn names(&self) -> String {
        self.tenants.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// What is wrong with a config file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a misspelt or mistyped key.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// A key has a value idferry cannot use.
    #[error("{}:{line}: tenants.{tenant}.{key}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the key (or of the tenant's table when the key is missing).
        line: usize,
        /// The tenant.
        tenant: String,
        /// The key.
        key: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// A command named a tenant the file does not have.
    #[error("{}: no tenant named {name:?} (the file has: {known})", path.display())]
    UnknownTenant {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The names it has.
        known: String,
    },
    /// A tenant of one platform was given where another is needed.
    #[error(
        "tenant {tenant} is {platform} (its config's `platform`), not {wanted}: this needs {wanted}"
    )]
    WrongPlatform {
        /// The tenant.
        tenant: String,
        /// Its platform.
        platform: String,
        /// The platform needed.
        wanted: String,
    },
    /// A secret could not be read from its source.
    #[error("tenant {tenant}: {key}: {message}")]
    Secret {
        /// The tenant.
        tenant: String,
        /// Which secret.
        key: String,
        /// Why.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    tenants: BTreeMap<String, RawTenant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    platform: Option<Spanned<String>>,
    domain: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    client_secret_env: Option<Spanned<String>>,
    client_secret_file: Option<Spanned<String>>,
    key_env: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
    audience: Option<String>,
    rate_limit: Option<Spanned<f64>>,
    burst: Option<Spanned<u32>>,
    request_timeout: Option<Spanned<u64>>,
}

impl RawTenant {
    fn check(
        self,
        name: &str,
        text: &str,
        path: &Path,
        base_dir: &Path,
        platforms: &[PlatformRules],
    ) -> Result<TenantConfig, ConfigError> {
        let invalid = |span: Option<Range<usize>>, key: &str, message: &str| {
            let line = span.map_or_else(|| table_line(text, name), |s| line_col(text, s.start).0);
            ConfigError::Invalid {
                path: path.to_owned(),
                line,
                tenant: name.to_owned(),
                key: key.to_owned(),
                message: message.to_owned(),
            }
        };
        let names = || {
            let names: Vec<_> = platforms.iter().map(|p| p.name).collect();
            match names.split_last() {
                Some((last, [])) => (*last).to_owned(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => "none".to_owned(),
            }
        };
        let rules = match &self.platform {
            Some(named) => platforms
                .iter()
                .find(|p| p.name == named.get_ref().as_str())
                .ok_or_else(|| {
                    let message = format!("{:?}: the platforms are {}", named.get_ref(), names());
                    invalid(Some(named.span()), "platform", &message)
                })?,
            None => platforms
                .first()
                .ok_or_else(|| invalid(None, "platform", "this build speaks no platform"))?,
        };
        let base_url = match (&self.domain, &self.base_url) {
            (Some(d), None) => {
                let domain = d.get_ref().trim();
                if domain.is_empty() || domain.contains('/') {
                    return Err(invalid(
                        Some(d.span()),
                        "domain",
                        "a bare host name is expected, like acme.eu.auth0.com (use base_url for a full URL)",
                    ));
                }
                format!("https://{domain}")
            }
            (None, Some(u)) => {
                let url = u.get_ref().trim().trim_end_matches('/');
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(invalid(
                        Some(u.span()),
                        "base_url",
                        "an http:// or https:// URL is expected",
                    ));
                }
                url.to_owned()
            }
            (Some(_), Some(u)) => {
                return Err(invalid(
                    Some(u.span()),
                    "base_url",
                    "set either domain or base_url, not both",
                ));
            }
            (None, None) => {
                return Err(invalid(
                    None,
                    "domain",
                    "missing: set domain (acme.eu.auth0.com) or base_url (http://host:port)",
                ));
            }
        };
        let file = |s: &Spanned<String>| SecretSource::File(base_dir.join(s.get_ref()));
        let env = |s: &Spanned<String>| SecretSource::Env(s.get_ref().clone());
        let token = match (&self.token_env, &self.token_file) {
            (Some(_), Some(f)) => {
                return Err(invalid(
                    Some(f.span()),
                    "token_file",
                    "set either token_env or token_file, not both",
                ));
            }
            (Some(e), None) => Some(env(e)),
            (None, Some(f)) => Some(file(f)),
            (None, None) => None,
        };
        let secret = match (&self.client_secret_env, &self.client_secret_file) {
            (Some(_), Some(f)) => {
                return Err(invalid(
                    Some(f.span()),
                    "client_secret_file",
                    "set either client_secret_env or client_secret_file, not both",
                ));
            }
            (Some(e), None) => Some(env(e)),
            (None, Some(f)) => Some(file(f)),
            (None, None) => None,
        };
        let key = match (&self.key_env, &self.key_file) {
            (Some(_), Some(f)) => {
                return Err(invalid(
                    Some(f.span()),
                    "key_file",
                    "set either key_env or key_file, not both",
                ));
            }
            (Some(e), None) => Some((e, env(e))),
            (None, Some(f)) => Some((f, file(f))),
            (None, None) => None,
        };
        if let Some((at, _)) = &key {
            if !rules.logins.contains(&Login::ServiceUserKey) {
                let message = logs_in_otherwise(rules, Login::ServiceUserKey, platforms);
                return Err(invalid(Some(at.span()), "key_file", &message));
            }
            if token.is_some() || self.client_id.is_some() {
                return Err(invalid(
                    Some(at.span()),
                    "key_file",
                    "set one way to log in: a service user's key, or a token",
                ));
            }
        }
        let credentials = match (key, token, &self.client_id, secret) {
            (Some((_, key)), ..) => CredentialSource::JwtProfile(key),
            (None, Some(_), Some(id), _) => {
                return Err(invalid(
                    Some(id.span()),
                    "client_id",
                    "set a token or client credentials, not both",
                ));
            }
            (None, Some(token), None, None) => CredentialSource::Token(token),
            (None, Some(_), None, Some(_)) => {
                return Err(invalid(
                    self.client_secret_env
                        .as_ref()
                        .or(self.client_secret_file.as_ref())
                        .map(Spanned::span),
                    "client_secret",
                    "a client secret without client_id; set a token or client credentials, not both",
                ));
            }
            (None, None, Some(id), Some(secret)) => CredentialSource::ClientCredentials {
                client_id: id.get_ref().clone(),
                client_secret: secret,
                audience: self.audience.clone(),
            },
            (None, None, Some(id), None) => {
                return Err(invalid(
                    Some(id.span()),
                    "client_secret_env",
                    "client_id needs client_secret_env or client_secret_file",
                ));
            }
            (None, None, None, _) => {
                return Err(invalid(
                    None,
                    "token_env",
                    &format!(
                        "no credentials: {} log in with {}",
                        rules.tenants,
                        rules
                            .logins
                            .iter()
                            .map(|l| l.described())
                            .collect::<Vec<_>>()
                            .join(", or ")
                    ),
                ));
            }
        };
        let (login, key, span) = match &credentials {
            CredentialSource::Token(_) => (
                Login::Token,
                "token_env",
                self.token_env.as_ref().or(self.token_file.as_ref()),
            ),
            CredentialSource::ClientCredentials { .. } => (
                Login::ClientCredentials,
                "client_id",
                self.client_id.as_ref(),
            ),
            CredentialSource::JwtProfile(_) => (
                Login::ServiceUserKey,
                "key_file",
                self.key_env.as_ref().or(self.key_file.as_ref()),
            ),
        };
        if !rules.logins.contains(&login) {
            let message = logs_in_otherwise(rules, login, platforms);
            return Err(invalid(span.map(Spanned::span), key, &message));
        }
        if let Some(rate) = &self.rate_limit
            && !(rate.get_ref().is_finite() && *rate.get_ref() > 0.0)
        {
            return Err(invalid(
                Some(rate.span()),
                "rate_limit",
                "requests per second must be a positive number",
            ));
        }
        if let Some(burst) = &self.burst
            && *burst.get_ref() == 0
        {
            return Err(invalid(Some(burst.span()), "burst", "must be at least 1"));
        }
        if let Some(t) = &self.request_timeout
            && *t.get_ref() == 0
        {
            return Err(invalid(
                Some(t.span()),
                "request_timeout",
                "seconds a request may take: at least 1",
            ));
        }
        Ok(TenantConfig {
            name: name.to_owned(),
            platform: rules.name.to_owned(),
            base_url,
            credentials,
            rate_limit: self.rate_limit.map(Spanned::into_inner),
            burst: self.burst.map(Spanned::into_inner),
            request_timeout: self.request_timeout.map(Spanned::into_inner),
        })
    }
}

/// Why `login` is refused for a tenant on `rules`: how its tenants log in instead, and
/// which platforms take `login`.
fn logs_in_otherwise(rules: &PlatformRules, login: Login, platforms: &[PlatformRules]) -> String {
    let instead: Vec<_> = rules.logins.iter().map(|l| l.described()).collect();
    let takers: Vec<_> = platforms
        .iter()
        .filter(|p| p.logins.contains(&login))
        .collect();
    let mut message = format!(
        "{} log in with {}, not {}",
        rules.tenants,
        instead.join(", or "),
        login.described()
    );
    if let Some(first) = takers.first() {
        message.push_str(&format!(
            "; it is how {} log in: set platform = \"{}\"",
            takers
                .iter()
                .map(|p| p.tenants)
                .collect::<Vec<_>>()
                .join(" and "),
            first.name
        ));
    }
    message
}

/// 1-based line and column of byte offset `at` in `text` (for errors in TOML files).
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// The line of `[tenants.NAME]`, for errors about a key that is missing from it.
fn table_line(text: &str, name: &str) -> usize {
    let headers = [format!("[tenants.{name}]"), format!("[tenants.\"{name}\"]")];
    text.lines()
        .position(|l| headers.iter().any(|h| l.trim() == h))
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two made-up platforms: this crate knows none by name.
    const PLATFORMS: &[PlatformRules] = &[
        PlatformRules {
            name: "alpha",
            tenants: "alpha tenants",
            logins: &[Login::Token, Login::ClientCredentials],
        },
        PlatformRules {
            name: "beta",
            tenants: "beta instances",
            logins: &[Login::ServiceUserKey, Login::Token],
        },
        PlatformRules {
            name: "gamma",
            tenants: "gamma tenants",
            logins: &[Login::ClientCredentials],
        },
    ];

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/idferry/idferry.toml"), PLATFORMS)
    }

    #[test]
    fn reads_tokens_and_client_credentials() {
        let config = parse(
            r#"
[tenants.acme-prod]
domain = "acme.eu.auth0.com"
client_id = "abc"
client_secret_file = "secrets/prod.secret"
rate_limit = 15
burst = 30

[tenants.local]
platform = "alpha"
base_url = "http://127.0.0.1:4001/"
token_env = "LOCAL_TOKEN"
"#,
        )
        .unwrap();
        let prod = config.tenant("acme-prod").unwrap();
        assert_eq!(prod.base_url, "https://acme.eu.auth0.com");
        assert_eq!(prod.rate_limit, Some(15.0));
        assert_eq!(
            prod.credentials,
            CredentialSource::ClientCredentials {
                client_id: "abc".into(),
                client_secret: SecretSource::File("/etc/idferry/secrets/prod.secret".into()),
                audience: None,
            }
        );
        let local = config.tenant("local").unwrap();
        assert_eq!(local.base_url, "http://127.0.0.1:4001");
        assert_eq!(
            local.credentials,
            CredentialSource::Token(SecretSource::Env("LOCAL_TOKEN".into()))
        );
    }

    #[test]
    fn a_misspelt_key_names_file_line_and_key() {
        let err = parse("[tenants.a]\ndomain = \"a.auth0.com\"\ntoken_evn = \"X\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/etc/idferry/idferry.toml:3:"), "{msg}");
        assert!(msg.contains("token_evn"), "{msg}");
    }

    #[test]
    fn a_bad_value_names_its_line_and_key() {
        let err = parse("[tenants.a]\nbase_url = \"ftp://x\"\ntoken_env = \"X\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/etc/idferry/idferry.toml:2: tenants.a.base_url: an http:// or https:// URL is expected"
        );
        let err =
            parse("[tenants.a]\ndomain = \"a\"\ntoken_env = \"X\"\nrate_limit = 0\n").unwrap_err();
        assert!(
            err.to_string().contains(":4: tenants.a.rate_limit"),
            "{err}"
        );
    }

    #[test]
    fn missing_credentials_point_at_the_tenant_table() {
        let err = parse("# tenants\n\n[tenants.b]\ndomain = \"b.auth0.com\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(":3: tenants.b.token_env: no credentials"),
            "{msg}"
        );
    }

    #[test]
    fn an_unknown_tenant_lists_the_known_ones() {
        let config = parse("[tenants.a]\ndomain = \"a\"\ntoken_env = \"X\"\n").unwrap();
        let err = config.tenant("z").unwrap_err().to_string();
        assert!(
            err.contains("no tenant named \"z\" (the file has: a)"),
            "{err}"
        );
    }

    #[test]
    fn secrets_come_from_files_and_never_show_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.token"), "s3cr3t\n").unwrap();
        let cfg_path = dir.path().join("idferry.toml");
        let config = Config::parse(
            "[tenants.a]\nbase_url = \"http://x\"\ntoken_file = \"t.token\"\n",
            &cfg_path,
            PLATFORMS,
        )
        .unwrap();
        let creds = config.tenant("a").unwrap().resolve_credentials().unwrap();
        let Credentials::Token(token) = &creds else {
            panic!("expected a token")
        };
        assert_eq!(token.expose(), "s3cr3t");
        assert!(!format!("{creds:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_missing_secret_says_where_it_looked() {
        let config =
            parse("[tenants.a]\ndomain = \"a\"\ntoken_env = \"IDFERRY_TEST_UNSET_VAR\"\n").unwrap();
        let err = config
            .tenant("a")
            .unwrap()
            .resolve_credentials()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "tenant a: token: environment variable IDFERRY_TEST_UNSET_VAR is not set"
        );
    }

    #[test]
    fn each_platform_takes_its_own_logins_and_the_first_is_the_default() {
        let config = parse(
            "[tenants.z]\nplatform = \"beta\"\nbase_url = \"http://z\"\nkey_file = \"z.json\"\n\n[tenants.a]\ndomain = \"a\"\ntoken_env = \"X\"\n",
        )
        .unwrap();
        assert!(matches!(
            config.tenant("z").unwrap().credentials,
            CredentialSource::JwtProfile(SecretSource::File(_))
        ));
        assert_eq!(config.tenant("a").unwrap().platform, "alpha");
        let err = parse("[tenants.a]\ndomain = \"a\"\nkey_env = \"K\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/etc/idferry/idferry.toml:3: tenants.a.key_file: alpha tenants log in with a token \
             (token_env / token_file), or client credentials (client_id with client_secret_env / \
             client_secret_file), not a service user's key (key_env / key_file); it is how beta \
             instances log in: set platform = \"beta\""
        );
        let err = parse(
            "[tenants.z]\nplatform = \"beta\"\nbase_url = \"http://z\"\nkey_env = \"K\"\ntoken_env = \"T\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("set one way to log in"), "{err}");
        let err = parse(
            "[tenants.z]\nplatform = \"beta\"\nbase_url = \"http://z\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("/etc/idferry/idferry.toml:4: tenants.z.client_id: beta instances log in with a service user's key"),
            "{err}"
        );
        let err = parse("[tenants.z]\nplatform = \"delta\"\ndomain = \"a\"\ntoken_env = \"X\"\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "/etc/idferry/idferry.toml:2: tenants.z.platform: \"delta\": the platforms are alpha, beta and gamma"
        );
        // A login no platform's rule forgets: a token where only client credentials go.
        let err = parse("[tenants.g]\nplatform = \"gamma\"\ndomain = \"a\"\ntoken_env = \"X\"\n")
            .unwrap_err();
        assert!(
            err.to_string().starts_with(
                "/etc/idferry/idferry.toml:4: tenants.g.token_env: gamma tenants log in with client credentials"
            ) && err.to_string().contains("it is how alpha tenants and beta instances log in: set platform = \"alpha\""),
            "{err}"
        );
    }
}
