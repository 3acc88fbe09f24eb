//! SMS providers of an instance (admin API): Twilio and HTTP, each active or inactive.
//! Twilio's token is write-only: set at creation or through `PUT
//! /admin/v1/sms/twilio/{id}/token`, never returned.

use futures_util::TryStreamExt;
use serde_json::{Value, json};

use crate::Result;
use crate::client::Client;
use crate::error::Error;

/// A Twilio provider as written (the token apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Twilio {
    /// The account SID.
    pub sid: String,
    /// The sender number.
    pub sender_number: String,
    /// A description.
    pub description: String,
    /// Twilio Verify's service SID, when used.
    pub verify_service_sid: Option<String>,
}

impl Twilio {
    fn body(&self) -> Value {
        let mut body = json!({
            "sid": self.sid,
            "senderNumber": self.sender_number,
            "description": self.description,
        });
        if let Some(v) = &self.verify_service_sid {
            body["verifyServiceSid"] = json!(v);
        }
        body
    }
}

/// Every SMS provider of the instance, as the API lists them (never with a token).
pub async fn list(client: &Client) -> Result<Vec<Value>> {
    crate::list::search(client, "/admin/v1/sms/_search", None, json!({}))
        .try_collect()
        .await
}

/// Adds a Twilio provider with its token; returns its id.
pub async fn add_twilio(client: &Client, twilio: &Twilio, token: &str) -> Result<String> {
    let mut body = twilio.body();
    body["token"] = json!(token);
    let answer = client.post("/admin/v1/sms/twilio", &body).await?;
    answer
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Decode {
            instance: client.instance().to_owned(),
            method: "POST".into(),
            path: "/admin/v1/sms/twilio".into(),
            message: "no id in the answer".into(),
        })
}

/// Updates a Twilio provider's settings (its token stays).
pub async fn update_twilio(client: &Client, id: &str, twilio: &Twilio) -> Result<()> {
    client
        .put(&format!("/admin/v1/sms/twilio/{id}"), &twilio.body())
        .await
        .map(|_| ())
}

/// Sets a Twilio provider's token, the only way to change it.
pub async fn set_twilio_token(client: &Client, id: &str, token: &str) -> Result<()> {
    client
        .put(
            &format!("/admin/v1/sms/twilio/{id}/token"),
            &json!({ "token": token }),
        )
        .await
        .map(|_| ())
}

/// Makes provider `id` the active one (activating one deactivates the others).
pub async fn activate(client: &Client, id: &str) -> Result<()> {
    client
        .post(&format!("/admin/v1/sms/{id}/_activate"), &json!({}))
        .await
        .map(|_| ())
}

/// Deactivates provider `id`.
pub async fn deactivate(client: &Client, id: &str) -> Result<()> {
    client
        .post(&format!("/admin/v1/sms/{id}/_deactivate"), &json!({}))
        .await
        .map(|_| ())
}

/// Deletes provider `id`.
pub async fn delete(client: &Client, id: &str) -> Result<()> {
    client
        .delete(&format!("/admin/v1/sms/{id}"))
        .await
        .map(|_| ())
}
