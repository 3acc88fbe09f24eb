//! From a URL or a path to an object store and the prefix inside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;

use crate::error::StoreError;

/// Where a store is.
pub(crate) enum Location {
    /// A directory on this machine.
    Local(PathBuf),
    /// Object storage: the backend, the prefix of our objects in it, and what to check
    /// if it fails.
    Remote(Arc<dyn ObjectStore>, ObjectPath, Option<&'static str>),
}

fn url_error(url: &str, message: impl Into<String>) -> StoreError {
    StoreError::Url {
        url: url.to_owned(),
        message: message.into(),
    }
}

/// Parses `url`: a plain path or `file://` is a directory; `s3://`, `gs://` and `az://`
/// (or `abfs://`) are object storage, with credentials from the cloud's own environment
/// variables and files, never from the URL.
pub(crate) fn locate(url: &str, options: &[(String, String)]) -> Result<Location, StoreError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(Location::Local(PathBuf::from(url)));
    };
    // The HTTP client's TLS has no crypto provider of its own (no aws-lc build).
    idferry_pacing::install_tls_provider();
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = ObjectPath::parse(prefix.trim_matches('/'))
        .map_err(|e| url_error(url, format!("bad prefix: {e}")))?;
    match scheme {
        "file" => Ok(Location::Local(PathBuf::from(format!(
            "/{}",
            rest.trim_start_matches('/')
        )))),
        "s3" | "s3a" => {
            if bucket.is_empty() {
                return Err(url_error(url, "no bucket: write s3://BUCKET/PREFIX"));
            }
            let hint = (!aws_credentials_given(options)).then_some(NO_AWS_CREDENTIALS);
            s3(url, bucket, options).map(|s| Location::Remote(s, prefix, hint))
        }
        "gs" => gcs(url, bucket, options).map(|s| Location::Remote(s, prefix, None)),
        "az" | "abfs" | "abfss" => {
            azure(url, bucket, options).map(|s| Location::Remote(s, prefix, None))
        }
        other => Err(url_error(
            url,
            format!("unknown scheme {other}://: use a path, file://, s3://, gs:// or az://"),
        )),
    }
}

const NO_AWS_CREDENTIALS: &str = "no AWS credentials were found in the environment or ~/.aws: \
set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity; \
otherwise only an instance or container role can answer";

/// Whether S3 credentials are named anywhere (else only instance metadata can help).
fn aws_credentials_given(options: &[(String, String)]) -> bool {
    let vars = [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ];
    vars.iter().any(|v| std::env::var_os(v).is_some())
        || options.iter().any(|(k, _)| k.contains("access_key_id"))
        || {
            #[cfg(feature = "s3")]
            {
                aws_files::settings()
                    .iter()
                    .any(|(k, _)| *k == object_store::aws::AmazonS3ConfigKey::AccessKeyId)
            }
            #[cfg(not(feature = "s3"))]
            {
                false
            }
        }
}

/// A backend's configuration key (`aws_endpoint`, `google_service_account`...).
#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn config_key<K: std::str::FromStr>(url: &str, key: &str) -> Result<K, StoreError> {
    key.parse()
        .map_err(|_| url_error(url, format!("unknown store option {key}")))
}

fn backend(url: &str) -> impl FnOnce(object_store::Error) -> StoreError + '_ {
    move |e| url_error(url, format!("cannot open: {e}"))
}

#[cfg(feature = "s3")]
fn s3(
    url: &str,
    bucket: &str,
    options: &[(String, String)],
) -> Result<Arc<dyn ObjectStore>, StoreError> {
    use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
    // Environment first (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, AWS_REGION...), then the
    // shared credentials and config files for what the environment leaves out.
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    for (key, value) in options {
        builder = builder.with_config(config_key(url, key)?, value);
    }
    for (key, value) in aws_files::settings() {
        if builder.get_config_value(&key).is_none() {
            builder = builder.with_config(key, value);
        }
    }
    if builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .is_none()
    {
        builder = builder.with_region("us-east-1");
    }
    // The SDKs' variable for a custom endpoint (MinIO, moto, R2...).
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL")
        && builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .is_none()
    {
        builder = builder.with_endpoint(endpoint);
    }
    // An endpoint named with http:// is plain HTTP on purpose (a server on the LAN).
    if builder
        .get_config_value(&AmazonS3ConfigKey::Endpoint)
        .is_some_and(|e| e.starts_with("http://"))
        && std::env::var_os("AWS_ALLOW_HTTP").is_none()
    {
        builder = builder.with_allow_http(true);
    }
    Ok(Arc::new(builder.build().map_err(backend(url))?))
}

/// A backend this build was made without.
#[cfg(not(all(feature = "s3", feature = "gcs", feature = "azure")))]
fn not_built(url: &str, what: &str, feature: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
    Err(url_error(
        url,
        format!(
            "this idferry was built without {what} support: rebuild with `--features {feature}`"
        ),
    ))
}

#[cfg(not(feature = "s3"))]
fn s3(url: &str, _: &str, _: &[(String, String)]) -> Result<Arc<dyn ObjectStore>, StoreError> {
    not_built(url, "S3", "s3")
}

#[cfg(feature = "gcs")]
fn gcs(
    url: &str,
    bucket: &str,
    options: &[(String, String)],
) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let mut builder =
        object_store::gcp::GoogleCloudStorageBuilder::from_env().with_bucket_name(bucket);
    for (key, value) in options {
        builder = builder.with_config(config_key(url, key)?, value);
    }
    Ok(Arc::new(builder.build().map_err(backend(url))?))
}

#[cfg(not(feature = "gcs"))]
fn gcs(url: &str, _: &str, _: &[(String, String)]) -> Result<Arc<dyn ObjectStore>, StoreError> {
    not_built(url, "Google Cloud Storage", "gcs")
}

#[cfg(feature = "azure")]
fn azure(
    url: &str,
    container: &str,
    options: &[(String, String)],
) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let mut builder =
        object_store::azure::MicrosoftAzureBuilder::from_env().with_container_name(container);
    for (key, value) in options {
        builder = builder.with_config(config_key(url, key)?, value);
    }
    Ok(Arc::new(builder.build().map_err(backend(url))?))
}

#[cfg(not(feature = "azure"))]
fn azure(url: &str, _: &str, _: &[(String, String)]) -> Result<Arc<dyn ObjectStore>, StoreError> {
    not_built(url, "Azure Blob Storage", "azure")
}

/// A local directory as an object store (for leases and reports), created if missing.
pub(crate) fn local_objects(dir: &Path) -> Result<Arc<dyn ObjectStore>, StoreError> {
    std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
        what: format!("creating {}", dir.display()),
        source,
    })?;
    let fs = LocalFileSystem::new_with_prefix(dir).map_err(backend(&dir.to_string_lossy()))?;
    Ok(Arc::new(fs))
}

/// The AWS shared files (`~/.aws/credentials`, `~/.aws/config`), which the S3 backend
/// does not read itself: the profile's keys and region.
#[cfg(feature = "s3")]
mod aws_files {
    use object_store::aws::AmazonS3ConfigKey;
    use std::path::PathBuf;

    /// Settings of the profile in `AWS_PROFILE` (or `default`), credentials file first.
    pub(super) fn settings() -> Vec<(AmazonS3ConfigKey, String)> {
        let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let file = |var: &str, name: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
        };
        let mut out = Vec::new();
        let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let config = file("AWS_CONFIG_FILE", "config")
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let config_section = if profile == "default" {
            profile.clone()
        } else {
            format!("profile {profile}")
        };
        for (key, value) in section(&credentials, &profile) {
            let key = match key.as_str() {
                "aws_access_key_id" => AmazonS3ConfigKey::AccessKeyId,
                "aws_secret_access_key" => AmazonS3ConfigKey::SecretAccessKey,
                "aws_session_token" => AmazonS3ConfigKey::Token,
                _ => continue,
            };
            out.push((key, value));
        }
        for (key, value) in section(&config, &config_section) {
            match key.as_str() {
                "region" => out.push((AmazonS3ConfigKey::Region, value)),
                "endpoint_url" => out.push((AmazonS3ConfigKey::Endpoint, value)),
                _ => {}
            }
        }
        out
    }

    /// The `key = value` lines of `[name]` in an INI-style AWS file.
    pub(super) fn section(text: &str, name: &str) -> Vec<(String, String)> {
        let mut inside = false;
        let mut out = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                inside = header.trim() == name;
            } else if inside && let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn a_profile_section_is_read_alone() {
            let text = "[default]\naws_access_key_id = A\n# note\n[profile backup]\nregion = eu-west-1\n[other]\nregion=x\n";
            assert_eq!(
                super::section(text, "default"),
                vec![("aws_access_key_id".into(), "A".into())]
            );
            assert_eq!(
                super::section(text, "profile backup"),
                vec![("region".into(), "eu-west-1".into())]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_file_urls_are_local_and_unknown_schemes_say_what_works() {
        assert!(
            matches!(locate("snapshots", &[]).unwrap(), Location::Local(p) if p == Path::new("snapshots"))
        );
        assert!(
            matches!(locate("file:///var/b", &[]).unwrap(), Location::Local(p) if p == Path::new("/var/b"))
        );
        let err = locate("ftp://host/x", &[]).err().unwrap().to_string();
        assert!(err.contains("use a path, file://, s3://"), "{err}");
        let err = locate("s3:///x", &[]).err().unwrap().to_string();
        assert!(err.contains("no bucket"), "{err}");
    }

    #[cfg(not(feature = "gcs"))]
    #[test]
    fn a_backend_left_out_of_the_build_names_its_feature() {
        let err = locate("gs://bucket/p", &[]).err().unwrap().to_string();
        assert!(err.contains("rebuild with `--features gcs`"), "{err}");
    }
}
