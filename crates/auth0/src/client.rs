//! The client: one per tenant, cheap to clone, safe to share between tasks. Every request
//! goes through the tenant's throttle, carries a valid token, and is retried while a
//! retry can help.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use idferry_model::config::{Credentials, TenantConfig};
use idferry_model::{RetryClass, Secret};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::Result;
use crate::auth::CachedToken;
use crate::error::{ApiError, Error};
use idferry_pacing::{RetryPolicy, Throttle};

/// Makes ring the process's TLS provider (reqwest is built without a default one).
/// Call it before building any other reqwest client; calling it again is harmless.
pub fn install_tls_provider() {
    // A second install fails because one is there already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Tuning of a client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Retries.
    pub retry: RetryPolicy,
    /// Time allowed for one request, answer included.
    pub timeout: Duration,
    /// Requests per second (overrides the tenant config's `rate_limit`).
    pub rate_limit: Option<f64>,
    /// Burst (overrides the tenant config's `burst`).
    pub burst: Option<u32>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            rate_limit: None,
            burst: None,
        }
    }
}

/// Counters of what a client did: what benchmarks and summaries report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// Answers with status 429.
    pub rate_limited: u64,
    /// Retries after 5xx answers or broken connections.
    pub transient_retries: u64,
    /// Tokens fetched from `/oauth/token`.
    pub tokens_fetched: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    transient_retries: AtomicU64,
    tokens_fetched: AtomicU64,
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The JSON body, if there was one.
    pub body: Option<Value>,
}

/// What a request sends.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Nothing.
    None,
    /// A JSON body.
    Json(Value),
    /// A multipart form: text fields and one file (name, file name, bytes).
    Multipart {
        /// Text fields.
        fields: Vec<(String, String)>,
        /// The file part: field name, file name, content.
        file: (String, String, Bytes),
    },
}

pub(crate) struct Inner {
    pub(crate) tenant: String,
    pub(crate) base_url: String,
    pub(crate) http: reqwest::Client,
    pub(crate) credentials: Credentials,
    pub(crate) token: tokio::sync::Mutex<Option<CachedToken>>,
    pub(crate) throttle: Throttle,
    pub(crate) retry: RetryPolicy,
    counters: Counters,
}

/// A Management API client for one tenant.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("tenant", &self.inner.tenant)
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for a tenant of the config file (reads its credentials now). A tenant
    /// of another platform is refused: whatever wanted it does not support that platform.
    pub fn new(tenant: &TenantConfig, options: ClientOptions) -> Result<Self> {
        if tenant.platform != idferry_model::Platform::Auth0 {
            return Err(Error::Setup {
                tenant: tenant.name.clone(),
                message: format!(
                    "a {} instance, not an Auth0 tenant: this is not supported for it yet",
                    tenant.platform
                ),
            });
        }
        let credentials = tenant.resolve_credentials()?;
        let mut options = options;
        if let Some(secs) = tenant.request_timeout {
            options.timeout = Duration::from_secs(secs);
        }
        let rate = options.rate_limit.or(tenant.rate_limit);
        let burst = options.burst.or(tenant.burst);
        Self::from_parts(
            &tenant.name,
            &tenant.base_url,
            credentials,
            rate,
            burst,
            options,
        )
    }

    /// A client from its parts.
    pub fn from_parts(
        tenant: &str,
        base_url: &str,
        credentials: Credentials,
        rate_limit: Option<f64>,
        burst: Option<u32>,
        options: ClientOptions,
    ) -> Result<Self> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("idferry/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Setup {
                tenant: tenant.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                tenant: tenant.to_owned(),
                base_url: base_url.trim_end_matches('/').to_owned(),
                http,
                credentials,
                token: tokio::sync::Mutex::new(None),
                throttle: Throttle::new(rate_limit, burst),
                retry: options.retry,
                counters: Counters::default(),
            }),
        })
    }

    /// The tenant's name.
    pub fn tenant(&self) -> &str {
        &self.inner.tenant
    }

    /// The tenant's base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// What this client has done so far.
    pub fn stats(&self) -> RequestStats {
        let c = &self.inner.counters;
        RequestStats {
            requests: c.requests.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            transient_retries: c.transient_retries.load(Ordering::Relaxed),
            tokens_fetched: c.tokens_fetched.load(Ordering::Relaxed),
        }
    }

    /// `GET path` (under `/api/v2`) with a query, expecting JSON.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let r = self.send(Method::GET, path, query, Payload::None).await?;
        Ok(r.body.unwrap_or(Value::Null))
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Result<Response> {
        self.send(Method::POST, path, &[], Payload::Json(body))
            .await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> Result<Response> {
        self.send(Method::PATCH, path, &[], Payload::Json(body))
            .await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Result<Response> {
        self.send(Method::PUT, path, &[], Payload::Json(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<Response> {
        self.send(Method::DELETE, path, &[], Payload::None).await
    }

    /// Sends a Management API request, retrying what can be retried.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        payload: Payload,
    ) -> Result<Response> {
        let url = format!("{}/api/v2{path}", self.inner.base_url);
        let mut auth_retried = false;
        let mut attempt = 0u32;
        loop {
            let token = self.bearer().await?;
            let request = self
                .inner
                .http
                .request(method.clone(), &url)
                .query(query)
                .bearer_auth(token.expose());
            let outcome = self.attempt(request, &method, path, &payload).await;
            attempt += 1;
            match outcome {
                Ok(response) => return Ok(response),
                Err(Failure { error, wait }) => {
                    let unauthorized = error.status() == Some(401);
                    if unauthorized && !auth_retried && self.uses_client_credentials() {
                        // The token may have been revoked or expired early: get a new one once.
                        auth_retried = true;
                        *self.inner.token.lock().await = None;
                        continue;
                    }
                    if error.is_import_slot_refusal() {
                        return Err(error);
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
                    tracing::debug!(tenant = %self.inner.tenant, %path, ?wait, "retrying: {error}");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    fn uses_client_credentials(&self) -> bool {
        matches!(
            self.inner.credentials,
            Credentials::ClientCredentials { .. }
        )
    }

    /// One attempt: throttle, send, read the whole answer.
    async fn attempt(
        &self,
        request: RequestBuilder,
        method: &Method,
        path: &str,
        payload: &Payload,
    ) -> std::result::Result<Response, Failure> {
        let request = match payload {
            Payload::None => request,
            Payload::Json(v) => request.json(v),
            Payload::Multipart { fields, file } => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k.clone(), v.clone());
                }
                let part = reqwest::multipart::Part::bytes(file.2.to_vec())
                    .file_name(file.1.clone())
                    .mime_str("application/json")
                    .map_err(|e| Failure::now(self.decode_error(method, path, e.to_string())))?;
                request.multipart(form.part(file.0.clone(), part))
            }
        };
        let permit = self.inner.throttle.acquire().await;
        self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let sent = request.send().await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Err(self.transport(method, path, &e)),
        };
        self.inner.throttle.observe(response.headers());
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(self.transport(method, path, &e)),
        };
        drop(permit);
        if status.is_success() {
            let body = if bytes.is_empty() || status == StatusCode::NO_CONTENT {
                None
            } else {
                Some(serde_json::from_slice(&bytes).map_err(|e| {
                    Failure::now(self.decode_error(method, path, format!("invalid JSON: {e}")))
                })?)
            };
            return Ok(Response {
                status: status.as_u16(),
                body,
            });
        }
        let error = self.api_error(method, path, status, &bytes);
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.inner
                .counters
                .rate_limited
                .fetch_add(1, Ordering::Relaxed);
            let num = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            let reset = num("x-ratelimit-reset");
            self.inner.throttle.exhausted(reset);
            let wait = self
                .inner
                .retry
                .rate_limited_wait(0, num("retry-after"), reset);
            return Err(Failure {
                error,
                wait: Some(wait),
            });
        }
        if error.class() == RetryClass::Transient {
            self.inner
                .counters
                .transient_retries
                .fetch_add(1, Ordering::Relaxed);
        }
        Err(Failure::now(error))
    }

    fn transport(&self, method: &Method, path: &str, e: &reqwest::Error) -> Failure {
        self.inner
            .counters
            .transient_retries
            .fetch_add(1, Ordering::Relaxed);
        if e.is_timeout() {
            return Failure::now(Error::Stalled {
                tenant: self.inner.tenant.clone(),
                method: method.to_string(),
                path: path.to_owned(),
            });
        }
        let message = idferry_pacing::retry::transport_message(e);
        Failure::now(Error::Transport {
            tenant: self.inner.tenant.clone(),
            method: method.to_string(),
            path: path.to_owned(),
            message,
        })
    }

    pub(crate) fn decode_error(&self, method: &Method, path: &str, message: String) -> Error {
        Error::Decode {
            tenant: self.inner.tenant.clone(),
            method: method.to_string(),
            path: path.to_owned(),
            message,
        }
    }

    fn api_error(&self, method: &Method, path: &str, status: StatusCode, body: &[u8]) -> Error {
        let parsed: Value = serde_json::from_slice(body).unwrap_or_else(
            |_| json!({"message": String::from_utf8_lossy(body).chars().take(300).collect::<String>()}),
        );
        let text = |k: &str| parsed.get(k).and_then(Value::as_str).map(str::to_owned);
        Error::Api(Box::new(ApiError {
            tenant: self.inner.tenant.clone(),
            method: method.to_string(),
            path: path.to_owned(),
            status: status.as_u16(),
            error: text("error")
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned()),
            message: text("message")
                .or_else(|| text("error_description"))
                .unwrap_or_default(),
            error_code: text("errorCode"),
        }))
    }

    /// A valid token: the static one, or a cached client-credentials token refreshed a
    /// minute before it expires.
    async fn bearer(&self) -> Result<Secret> {
        let (client_id, client_secret, audience) = match &self.inner.credentials {
            Credentials::Token(t) => return Ok(t.clone()),
            Credentials::ClientCredentials {
                client_id,
                client_secret,
                audience,
            } => (client_id, client_secret, audience),
            Credentials::JwtProfile(_) => {
                return Err(Error::Setup {
                    tenant: self.inner.tenant.clone(),
                    message: "a service user's key logs in to ZITADEL, not to Auth0".into(),
                });
            }
        };
        let mut cached = self.inner.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.fresh()) {
            return Ok(token.token.clone());
        }
        let audience = audience
            .clone()
            .unwrap_or_else(|| format!("{}/api/v2/", self.inner.base_url));
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret.expose(),
            "audience": audience,
        });
        let url = format!("{}/oauth/token", self.inner.base_url);
        let mut attempt = 0u32;
        let answer = loop {
            let request = self.inner.http.post(&url).json(&body);
            attempt += 1;
            match self
                .attempt(request, &Method::POST, "/oauth/token", &Payload::None)
                .await
            {
                Ok(r) => break r,
                Err(Failure { error, wait }) => {
                    if error.class() == RetryClass::Permanent {
                        return Err(Error::Auth {
                            tenant: self.inner.tenant.clone(),
                            message: error.to_string(),
                        });
                    }
                    if attempt >= self.inner.retry.max_attempts {
                        return Err(Error::GaveUp {
                            attempts: attempt,
                            last: Box::new(error),
                        });
                    }
                    tokio::time::sleep(
                        wait.unwrap_or_else(|| self.inner.retry.backoff(attempt - 1)),
                    )
                    .await;
                }
            }
        };
        self.inner
            .counters
            .tokens_fetched
            .fetch_add(1, Ordering::Relaxed);
        let body = answer.body.unwrap_or(Value::Null);
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Auth {
                tenant: self.inner.tenant.clone(),
                message: "the token endpoint answered without an access_token".into(),
            })?;
        let ttl = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        let fresh = CachedToken::new(Secret::new(token), Duration::from_secs(ttl));
        *cached = Some(fresh.clone());
        Ok(fresh.token)
    }
}

/// A failed attempt and, for 429s, how long the answer said to wait.
struct Failure {
    error: Error,
    wait: Option<Duration>,
}

impl Failure {
    fn now(error: Error) -> Self {
        Self { error, wait: None }
    }
}
