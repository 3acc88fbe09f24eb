//! The client: one per tenant, cheap to clone, safe to share between tasks. Every request
//! goes through the tenant's throttle, carries a valid token, and is retried while a
//! retry can help.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use idferry_model::config::{Credentials, TenantConfig};
use idferry_model::{RetryClass, Secret};
use idferry_pacing::{Answer, Failure, RetryableError, Transport, TransportOptions};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::Result;
use crate::auth::CachedToken;
use crate::error::{ApiError, Error};

pub use idferry_pacing::RequestStats;

/// Tuning of a client: the transport's.
pub type ClientOptions = TransportOptions;

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
    pub(crate) credentials: Credentials,
    pub(crate) token: tokio::sync::Mutex<Option<CachedToken>>,
    pub(crate) transport: Transport,
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
        if tenant.platform != crate::PLATFORM {
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
        let options = TransportOptions {
            rate_limit,
            burst,
            ..options
        };
        let transport = Transport::new(tenant, &options).map_err(|e| Error::Setup {
            tenant: tenant.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                tenant: tenant.to_owned(),
                base_url: base_url.trim_end_matches('/').to_owned(),
                credentials,
                token: tokio::sync::Mutex::new(None),
                transport,
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
        self.inner.transport.stats()
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
        let transport = &self.inner.transport;
        transport
            .with_retries(path, || async {
                // A token that cannot be had ends the request: its own fetch has retried.
                let token = self.bearer().await.map_err(Failure::fatal)?;
                let request = transport
                    .http()
                    .request(method.clone(), &url)
                    .query(query)
                    .bearer_auth(token.expose());
                let request = self.with_payload(request, &method, path, &payload)?;
                let answer = transport
                    .exchange(request)
                    .await
                    .map_err(|e| self.transport(&method, path, &e))?;
                match self.read(&method, path, answer) {
                    // Waiting for an import job to finish helps, retrying at once does
                    // not: the caller decides.
                    Err(f) if f.error.is_import_slot_refusal() => Err(Failure::fatal(f.error)),
                    // The token may have been revoked or expired early: a new one.
                    Err(f) if f.error.status() == Some(401) && self.uses_client_credentials() => {
                        *self.inner.token.lock().await = None;
                        Err(Failure::renewed(f.error))
                    }
                    other => other,
                }
            })
            .await
    }

    fn uses_client_credentials(&self) -> bool {
        matches!(
            self.inner.credentials,
            Credentials::ClientCredentials { .. }
        )
    }

    /// The request with its body.
    #[allow(clippy::result_large_err)] // once per failed attempt, moved into the loop
    fn with_payload(
        &self,
        request: RequestBuilder,
        method: &Method,
        path: &str,
        payload: &Payload,
    ) -> std::result::Result<RequestBuilder, Failure<Error>> {
        Ok(match payload {
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
                    .map_err(|e| Failure::fatal(self.decode_error(method, path, e.to_string())))?;
                request.multipart(form.part(file.0.clone(), part))
            }
        })
    }

    /// An answer read: its JSON body, or the API's error (with the wait a 429 asks).
    #[allow(clippy::result_large_err)] // once per failed attempt, moved into the loop
    fn read(
        &self,
        method: &Method,
        path: &str,
        answer: Answer,
    ) -> std::result::Result<Response, Failure<Error>> {
        let Answer {
            status, body, wait, ..
        } = answer;
        if status.is_success() {
            let body = if body.is_empty() || status == StatusCode::NO_CONTENT {
                None
            } else {
                Some(serde_json::from_slice(&body).map_err(|e| {
                    Failure::fatal(self.decode_error(method, path, format!("invalid JSON: {e}")))
                })?)
            };
            return Ok(Response {
                status: status.as_u16(),
                body,
            });
        }
        let error = self.api_error(method, path, status, &body);
        Err(Failure {
            wait,
            ..Failure::from(error)
        })
    }

    /// A request that got no answer.
    fn transport(&self, method: &Method, path: &str, e: &reqwest::Error) -> Failure<Error> {
        if e.is_timeout() {
            return Failure::from(Error::Stalled {
                tenant: self.inner.tenant.clone(),
                method: method.to_string(),
                path: path.to_owned(),
            });
        }
        let message = idferry_pacing::retry::transport_message(e);
        Failure::from(Error::Transport {
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
        let transport = &self.inner.transport;
        let path = "/oauth/token";
        let answer = transport
            .with_retries(path, || async {
                let request = transport.http().post(&url).json(&body);
                let answer = transport
                    .exchange(request)
                    .await
                    .map_err(|e| self.transport(&Method::POST, path, &e))?;
                self.read(&Method::POST, path, answer)
            })
            .await
            .map_err(|error| match error.class() {
                RetryClass::Permanent => Error::Auth {
                    tenant: self.inner.tenant.clone(),
                    message: error.to_string(),
                },
                _ => error,
            })?;
        transport.token_fetched();
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
