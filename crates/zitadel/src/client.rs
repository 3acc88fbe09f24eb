//! The client: one per instance, cheap to clone. Every request goes through the
//! instance's throttle, carries the token, and is retried while a retry can help.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idferry_model::config::{Credentials, TenantConfig};
use idferry_model::{ConfigError, RetryClass, Secret};
use idferry_pacing::{Failure, RetryPolicy, RetryableError, Transport, TransportOptions};
use reqwest::Method;
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
    transport: Transport,
}

pub use idferry_pacing::RequestStats;

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
        if tenant.platform != crate::PLATFORM {
            return Err(Error::Config(ConfigError::WrongPlatform {
                tenant: tenant.name.clone(),
                platform: tenant.platform.clone(),
                wanted: crate::PLATFORM.to_owned(),
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
        let options = TransportOptions {
            retry,
            timeout: Duration::from_secs(tenant.request_timeout.unwrap_or(60)),
            rate_limit: tenant.rate_limit,
            burst: tenant.burst,
        };
        let transport = Transport::new(&tenant.name, &options).map_err(|e| Error::Transport {
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
                transport,
            }),
        })
    }

    /// What it has sent so far.
    pub fn stats(&self) -> RequestStats {
        self.inner.transport.stats()
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
        let transport = &self.inner.transport;
        transport
            .with_retries(path, || self.attempt(&method, path, org, body))
            .await
    }

    /// One attempt.
    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        org: Option<&str>,
        body: Option<&Value>,
    ) -> std::result::Result<Value, Failure<Error>> {
        let url = format!("{}{path}", self.inner.base_url);
        // A token that cannot be had ends the request: the login has its own answer.
        let bearer = self.bearer().await.map_err(Failure::fatal)?;
        let transport = &self.inner.transport;
        let mut request = transport
            .http()
            .request(method.clone(), &url)
            .bearer_auth(bearer.expose());
        if let Some(org) = org {
            request = request.header("x-zitadel-orgid", org);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = transport.exchange(request).await.map_err(|e| {
            Failure::from(if e.is_timeout() {
                Error::Stalled {
                    instance: self.inner.instance.clone(),
                    method: method.to_string(),
                    path: path.to_owned(),
                }
            } else {
                Error::Transport {
                    instance: self.inner.instance.clone(),
                    method: method.to_string(),
                    path: path.to_owned(),
                    message: idferry_pacing::retry::transport_message(&e),
                }
            })
        })?;
        if answer.status.is_success() {
            if answer.body.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&answer.body).map_err(|e| {
                Failure::fatal(Error::Decode {
                    instance: self.inner.instance.clone(),
                    method: method.to_string(),
                    path: path.to_owned(),
                    message: format!("invalid JSON: {e}"),
                })
            });
        }
        let error = Error::api(
            &self.inner.instance,
            method.as_str(),
            path,
            answer.status.as_u16(),
            &answer.body,
        );
        // An access token revoked or expired early: a new one.
        if answer.status.as_u16() == 401
            && let Auth::JwtProfile { current, .. } = &self.inner.auth
        {
            *current.lock().await = None;
            return Err(Failure::renewed(error));
        }
        Err(Failure {
            wait: answer.wait,
            ..Failure::from(error)
        })
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
                    self.inner.transport.http(),
                    &self.inner.instance,
                    &self.inner.base_url,
                    key,
                )
                .await?;
                self.inner.transport.token_fetched();
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

impl RetryableError for Error {
    fn class(&self) -> RetryClass {
        Error::class(self)
    }

    fn gave_up(self, attempts: u32) -> Self {
        Error::GaveUp {
            attempts,
            last: Box::new(self),
        }
    }
}
