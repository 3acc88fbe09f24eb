//! The client: one per instance, cheap to clone. Every request goes through the
//! instance's throttle, carries the token, and is retried while a retry can help.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use idferry_model::config::{Credentials, TenantConfig};
use idferry_model::{ConfigError, Secret};
use idferry_pacing::{RetryPolicy, Throttle};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::Result;
use crate::error::Error;

/// How requests are authenticated.
#[derive(Debug)]
enum Auth {
    /// A personal access token.
    Token(Secret),
    /// A service user's key, exchanged for access tokens as they expire.
    JwtProfile {
        key: crate::login::ServiceKey,
        current: tokio::sync::Mutex<Option<crate::login::AccessToken>>,
    },
}

#[derive(Debug)]
struct Inner {
    instance: String,
    base_url: String,
    auth: Auth,
    http: reqwest::Client,
    throttle: Throttle,
    retry: RetryPolicy,
    requests: AtomicU64,
    rate_limited: AtomicU64,
}

/// What a client sent: what summaries report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// Answers with status 429.
    pub rate_limited: u64,
}

/// A client of one ZITADEL instance.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// A client of `tenant` (platform `zitadel`, else refused), logged in with a service
    /// user's key (`key_file` / `key_env`: the JWT profile) or a personal access token
    /// (`token_env` / `token_file`).
    pub fn new(tenant: &TenantConfig, retry: RetryPolicy) -> Result<Self> {
        if tenant.platform != idferry_model::Platform::Zitadel {
            return Err(Error::Config(ConfigError::WrongPlatform {
                tenant: tenant.name.clone(),
                platform: tenant.platform,
                wanted: idferry_model::Platform::Zitadel,
            }));
        }
        let auth = match tenant.resolve_credentials()? {
            Credentials::Token(token) => Auth::Token(token),
            Credentials::JwtProfile(key) => Auth::JwtProfile {
                key: crate::login::ServiceKey::parse(&tenant.name, &key)?,
                current: tokio::sync::Mutex::new(None),
            },
            Credentials::ClientCredentials { .. } => {
                return Err(Error::Config(ConfigError::Secret {
                    tenant: tenant.name.clone(),
                    key: "client_id".into(),
                    message: "ZITADEL instances log in with a service user's key (key_file) or a \
                              personal access token (token_file), not client credentials"
                        .into(),
                }));
            }
        };
        // reqwest is built without a TLS provider of its own (no aws-lc build): ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(tenant.request_timeout.unwrap_or(60)))
            .build()
            .map_err(|e| Error::Transport {
                instance: tenant.name.clone(),
                method: String::new(),
                path: String::new(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                instance: tenant.name.clone(),
                base_url: tenant.base_url.clone(),
                auth,
                http,
                throttle: Throttle::new(tenant.rate_limit, tenant.burst),
                retry,
                requests: AtomicU64::new(0),
                rate_limited: AtomicU64::new(0),
            }),
        })
    }

    /// What it has sent so far.
    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.inner.requests.load(Ordering::Relaxed),
            rate_limited: self.inner.rate_limited.load(Ordering::Relaxed),
        }
    }

    /// The instance's name in the config.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// Sends `method path` (under the base URL, e.g. `/admin/v1/sms/_search`) with an
    /// optional JSON body, in organization `org` (the `x-zitadel-orgid` header) when
    /// given; returns the JSON answer (`null` when empty).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        org: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut attempt = 0u32;
        let mut renewed = false;
        loop {
            attempt += 1;
            let (error, wait) = match self.attempt(&method, path, org, body).await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            // An access token revoked or expired early: one new one, then as it comes.
            if error.status() == Some(401)
                && !renewed
                && let Auth::JwtProfile { current, .. } = &self.inner.auth
            {
                *current.lock().await = None;
                renewed = true;
                continue;
            }
            let Some(limit) = self.inner.retry.attempts(error.class()) else {
                return Err(error);
            };
            if attempt >= limit {
                return Err(Error::GaveUp {
                    attempts: attempt,
                    last: Box::new(error),
                });
            }
            let wait = wait.unwrap_or_else(|| self.inner.retry.backoff(attempt - 1));
            tracing::debug!(instance = %self.inner.instance, %path, ?wait, "retrying: {error}");
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt; on failure, the error and how long to wait before the next.
    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        org: Option<&str>,
        body: Option<&Value>,
    ) -> std::result::Result<Value, (Error, Option<Duration>)> {
        let url = format!("{}{path}", self.inner.base_url);
        let bearer = self.bearer().await.map_err(|e| (e, None))?;
        let mut request = self
            .inner
            .http
            .request(method.clone(), &url)
            .bearer_auth(bearer.expose());
        if let Some(org) = org {
            request = request.header("x-zitadel-orgid", org);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                return Error::Stalled {
                    instance: self.inner.instance.clone(),
                    method: method.to_string(),
                    path: path.to_owned(),
                };
            }
            Error::Transport {
                instance: self.inner.instance.clone(),
                method: method.to_string(),
                path: path.to_owned(),
                message: idferry_pacing::retry::transport_message(&e),
            }
        };
        let permit = self.inner.throttle.acquire().await;
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(|e| (transport(e), None))?;
        self.inner.throttle.observe(response.headers());
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.bytes().await.map_err(|e| (transport(e), None))?;
        drop(permit);
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| {
                let error = Error::Decode {
                    instance: self.inner.instance.clone(),
                    method: method.to_string(),
                    path: path.to_owned(),
                    message: format!("invalid JSON: {e}"),
                };
                (error, None)
            });
        }
        let error = Error::api(
            &self.inner.instance,
            method.as_str(),
            path,
            status.as_u16(),
            &bytes,
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.inner.rate_limited.fetch_add(1, Ordering::Relaxed);
            self.inner.throttle.exhausted(None);
            let wait = self.inner.retry.rate_limited_wait(0, retry_after, None);
            return Err((error, Some(wait)));
        }
        Err((error, None))
    }

    /// The bearer token: the personal access token, or a current access token of the
    /// service user (exchanged again a minute before it expires).
    async fn bearer(&self) -> Result<Secret> {
        match &self.inner.auth {
            Auth::Token(token) => Ok(token.clone()),
            Auth::JwtProfile { key, current } => {
                let mut current = current.lock().await;
                if let Some(t) = current.as_ref().filter(|t| t.renew_at > Instant::now()) {
                    return Ok(t.token.clone());
                }
                let fresh = crate::login::exchange(
                    &self.inner.http,
                    &self.inner.instance,
                    &self.inner.base_url,
                    key,
                )
                .await?;
                let token = fresh.token.clone();
                *current = Some(fresh);
                Ok(token)
            }
        }
    }

    /// `POST path` with `body`.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.send(Method::POST, path, None, Some(body)).await
    }

    /// `PUT path` with `body`.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value> {
        self.send(Method::PUT, path, None, Some(body)).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Value> {
        self.send(Method::GET, path, None, None).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<Value> {
        self.send(Method::DELETE, path, None, None).await
    }
}
