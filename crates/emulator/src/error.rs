//! Errors as Auth0 sends them: a JSON body with `statusCode`, `error`, `message` and,
//! for some, `errorCode`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer of the Management API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The human message.
    pub message: String,
    /// Auth0's machine code (`invalid_body`, `inexistent_user`...), when it sends one.
    pub error_code: Option<&'static str>,
}

impl ApiError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            error_code: None,
        }
    }

    /// Adds Auth0's `errorCode`.
    pub fn code(mut self, code: &'static str) -> Self {
        self.error_code = Some(code);
        self
    }

    /// 400 for a body that fails the schema, worded as Auth0 words it.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("Payload validation error: {}", message.into()),
        )
        .code("invalid_body")
    }

    /// 400 for a bad query string.
    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("Query validation error: {}", message.into()),
        )
        .code("invalid_query_string")
    }

    /// 404 for an id the tenant does not hold.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("The {what} does not exist."))
            .code("inexistent_resource")
    }

    /// 409 for a natural key that is taken.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message).code("already_exists")
    }

    /// 401 for a missing or unknown token.
    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "message": self.message,
        });
        if let Some(code) = self.error_code {
            body["errorCode"] = json!(code);
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
