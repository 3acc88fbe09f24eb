//! ZITADEL's errors, typed: what failed, on which instance and path, and what to do.

use idferry_model::RetryClass;
use serde_json::Value;

/// A failed ZITADEL request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with an error body (`{code, message, details}`).
    #[error("{instance}: {request}: {status} {code}: {message}")]
    Api {
        /// The instance (tenant name in the config).
        instance: String,
        /// The request (`POST /admin/v1/sms/_search`).
        request: String,
        /// The HTTP status.
        status: u16,
        /// ZITADEL's code: a gRPC number (`5`) or, in newer versions, a name
        /// (`not_found`); always given here as text.
        code: String,
        /// Its message.
        message: String,
        /// Its `details` array.
        details: Box<Value>,
    },
    /// The instance has no route for the call (its gateway's bare `404 Not Found`, not
    /// a missing object): a ZITADEL older than the calls idferry makes.
    #[error(
        "{instance}: {request}: the instance does not serve this call; idferry speaks the API of ZITADEL v4 (see \"ZITADEL versions\" in the README): upgrade the instance, or use an idferry of its time"
    )]
    NotServed {
        /// The instance.
        instance: String,
        /// The request (`POST /admin/v1/email/smtp`).
        request: String,
    },
    /// The instance could not be reached, or the connection broke.
    #[error("{instance}: {method} {path}: {message}")]
    Transport {
        /// The instance.
        instance: String,
        /// The HTTP method.
        method: String,
        /// The path.
        path: String,
        /// What broke.
        message: String,
    },
    /// The instance took the request and did not answer within the request timeout.
    #[error("{instance}: {method} {path}: {}", idferry_pacing::retry::STALLED)]
    Stalled {
        /// The instance.
        instance: String,
        /// The HTTP method.
        method: String,
        /// The path.
        path: String,
    },
    /// An answer that is not what the API documents.
    #[error("{instance}: {method} {path}: unexpected answer: {message}")]
    Decode {
        /// The instance.
        instance: String,
        /// The HTTP method.
        method: String,
        /// The path.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// Records could not be written where they go (a snapshot member).
    #[error("writing {kind}: {source}")]
    Sink {
        /// The kind being written.
        kind: String,
        /// Why.
        source: std::io::Error,
    },
    /// The credentials could not be read.
    #[error(transparent)]
    Config(#[from] idferry_model::ConfigError),
    /// Retries ran out.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<Error>,
    },
}

impl Error {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::NotServed { .. } => Some(404),
            Error::GaveUp { last, .. } => last.status(),
            Error::Transport { .. }
            | Error::Stalled { .. }
            | Error::Decode { .. }
            | Error::Sink { .. }
            | Error::Config(_) => None,
        }
    }

    /// Whether a retry may help.
    pub fn class(&self) -> RetryClass {
        match self {
            Error::Api { status, .. } => RetryClass::of_status(*status),
            Error::Transport { .. } => RetryClass::Transient,
            // Retries that ran out are what their last failure was (a caller that retries
            // at its own level, such as a stage resuming, reads this).
            Error::GaveUp { last, .. } => last.class(),
            Error::NotServed { .. }
            | Error::Stalled { .. }
            | Error::Decode { .. }
            | Error::Sink { .. }
            | Error::Config(_) => RetryClass::Permanent,
        }
    }

    /// An API error from its status and body: `code` may be a number or a string.
    pub(crate) fn api(instance: &str, method: &str, path: &str, status: u16, body: &[u8]) -> Self {
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let code = match parsed.get("code") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let message = parsed
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect());
        // The gateway's own answer for a path it does not bind (an object that is
        // missing says what is missing).
        if status == 404 && message.trim() == "Not Found" {
            return Error::NotServed {
                instance: instance.to_owned(),
                request: format!("{method} {path}"),
            };
        }
        Error::Api {
            instance: instance.to_owned(),
            request: format!("{method} {path}"),
            status,
            code,
            message,
            details: Box::new(parsed.get("details").cloned().unwrap_or(Value::Null)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_numbers_or_names() {
        let numeric = Error::api(
            "z",
            "GET",
            "/x",
            404,
            br#"{"code":5,"message":"not found","details":[{"@type":"t"}]}"#,
        );
        assert!(
            matches!(&numeric, Error::Api { code, .. } if code == "5"),
            "{numeric}"
        );
        let named = Error::api(
            "z",
            "GET",
            "/x",
            404,
            br#"{"code":"not_found","message":"gone"}"#,
        );
        assert_eq!(named.to_string(), "z: GET /x: 404 not_found: gone");
        let route = Error::api(
            "z",
            "PUT",
            "/admin/v1/policies/password/lockout",
            404,
            br#"{"code":5,"message":"Not Found","details":[]}"#,
        );
        assert!(matches!(route, Error::NotServed { .. }), "{route}");
        assert!(route.to_string().contains("does not serve this call"));
        assert_eq!(route.class(), RetryClass::Permanent);
        let html = Error::api("z", "GET", "/x", 502, b"<html>bad gateway</html>");
        assert_eq!(html.class(), RetryClass::Transient);
        assert!(html.to_string().contains("bad gateway"));
        // Retries that ran out keep their last failure's class and status, as Auth0's do.
        let gave_up = Error::GaveUp {
            attempts: 8,
            last: Box::new(html),
        };
        assert_eq!(gave_up.class(), RetryClass::Transient);
        assert_eq!(gave_up.status(), Some(502));
    }
}
