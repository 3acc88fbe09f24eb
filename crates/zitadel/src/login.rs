//! Logging in as a ZITADEL service user with its key (the JWT profile): an RS256
//! assertion signed with the key, exchanged at `/oauth/v2/token` (grant
//! `urn:ietf:params:oauth:grant-type:jwt-bearer`) for an access token, which is kept
//! until a minute before it expires.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use idferry_model::Secret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Result;
use crate::error::Error;

/// The grant of the JWT profile.
pub const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The scope asked for: an ID token, and access to ZITADEL's own APIs.
pub const SCOPE: &str = "openid urn:zitadel:iam:org:project:id:zitadel:aud";

/// A service user's key, as ZITADEL's console downloads it.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceKey {
    /// The key's id (the JWT's `kid`).
    pub key_id: String,
    /// The private key, PEM.
    pub key: String,
    /// The service user's id (the JWT's `iss` and `sub`).
    pub user_id: String,
}

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceKey")
            .field("key_id", &self.key_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

fn setup(instance: &str, message: String) -> Error {
    Error::Decode {
        instance: instance.to_owned(),
        method: "POST".into(),
        path: "/oauth/v2/token".into(),
        message,
    }
}

impl ServiceKey {
    /// Reads a key file's JSON; the error never contains the key.
    pub fn parse(instance: &str, json: &Secret) -> Result<Self> {
        serde_json::from_str(json.expose()).map_err(|e| {
            setup(
                instance,
                format!(
                    "the service user's key is not a ZITADEL key file (JSON with keyId, key, userId): line {}, column {}",
                    e.line(),
                    e.column()
                ),
            )
        })
    }

    /// A signed assertion for `audience` (the instance's URL), valid for an hour.
    pub fn assertion(&self, instance: &str, audience: &str) -> Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: &self.user_id,
            sub: &self.user_id,
            aud: audience,
            iat: now,
            exp: now + 3600,
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.key_id.clone());
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.key.as_bytes()).map_err(|e| {
            setup(
                instance,
                format!("the service user's key is not an RSA private key: {e}"),
            )
        })?;
        jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| setup(instance, format!("cannot sign the assertion: {e}")))
    }
}

/// An access token and when to stop using it.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token.
    pub token: Secret,
    /// A minute before it expires.
    pub renew_at: Instant,
}

/// Exchanges `key`'s assertion at the instance's token endpoint.
pub async fn exchange(
    http: &reqwest::Client,
    instance: &str,
    base_url: &str,
    key: &ServiceKey,
) -> Result<AccessToken> {
    let assertion = key.assertion(instance, base_url)?;
    let form = [
        ("grant_type", GRANT),
        ("scope", SCOPE),
        ("assertion", assertion.as_str()),
    ];
    let url = format!("{base_url}/oauth/v2/token");
    let transport = |e: reqwest::Error| Error::Transport {
        instance: instance.to_owned(),
        method: "POST".into(),
        path: "/oauth/v2/token".into(),
        message: idferry_pacing::retry::transport_message(&e),
    };
    let response = http
        .post(&url)
        .form(&form)
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(transport)?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !status.is_success() {
        let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
        return Err(Error::Api {
            instance: instance.to_owned(),
            request: "POST /oauth/v2/token".into(),
            status: status.as_u16(),
            code: text("error").to_owned(),
            message: format!(
                "the service user's key was refused: {} (is the key current, and the user a member with rights?)",
                text("error_description")
            ),
            details: Box::new(Value::Null),
        });
    }
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| setup(instance, "the token answer has no access_token".into()))?;
    let lifetime = body
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(3600);
    Ok(AccessToken {
        token: Secret::new(token),
        renew_at: Instant::now() + Duration::from_secs(lifetime.saturating_sub(60)),
    })
}
