//! What can go wrong talking to a tenant, and whether trying again can help.

use idferry_model::RetryClass;

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{tenant}: {method} {path} answered {status} {error}: {message}{}",
    code_suffix(error_code)
)]
pub struct ApiError {
    /// The tenant.
    pub tenant: String,
    /// The method.
    pub method: String,
    /// The path (under `/api/v2`).
    pub path: String,
    /// The HTTP status.
    pub status: u16,
    /// The `error` of the body (`Bad Request`...).
    pub error: String,
    /// The API's message.
    pub message: String,
    /// Auth0's `errorCode`, when sent.
    pub error_code: Option<String>,
}

/// A failed call to a tenant.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with an error.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The tenant could not be reached, or the connection broke.
    #[error("{tenant}: {method} {path}: {message}")]
    Transport {
        /// The tenant.
        tenant: String,
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// What the HTTP stack said.
        message: String,
    },
    /// The tenant took the request and did not answer within the request timeout.
    #[error("{tenant}: {method} {path}: {}", idferry_pacing::retry::STALLED)]
    Stalled {
        /// The tenant.
        tenant: String,
        /// The method.
        method: String,
        /// The path.
        path: String,
    },
    /// An answer could not be understood.
    #[error("{tenant}: {method} {path}: unexpected answer: {message}")]
    Decode {
        /// The tenant.
        tenant: String,
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// The token endpoint refused the credentials.
    #[error("{tenant}: cannot get a Management API token: {message}")]
    Auth {
        /// The tenant.
        tenant: String,
        /// Why, as the token endpoint said it.
        message: String,
    },
    /// Retries ran out.
    #[error("{last} (gave up after {attempts} attempts)")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<Error>,
    },
    /// A job failed or its result could not be read.
    #[error("{tenant}: job {job}: {message}")]
    Job {
        /// The tenant.
        tenant: String,
        /// The job id.
        job: String,
        /// What happened.
        message: String,
    },
    /// The tenant's credentials could not be read (an unset env var, a missing file).
    #[error(transparent)]
    Credentials(#[from] idferry_model::ConfigError),
    /// The client could not be built (bad base URL, TLS set-up).
    #[error("{tenant}: cannot build an HTTP client: {message}")]
    Setup {
        /// The tenant.
        tenant: String,
        /// Why.
        message: String,
    },
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
}

impl Error {
    /// Whether a retry can help.
    pub fn class(&self) -> RetryClass {
        match self {
            Self::Api(e) => RetryClass::of_status(e.status),
            Self::Transport { .. } => RetryClass::Transient,
            Self::GaveUp { last, .. } => last.class(),
            Self::Decode { .. }
            | Self::Stalled { .. }
            | Self::Auth { .. }
            | Self::Job { .. }
            | Self::Setup { .. }
            | Self::Credentials(_) => RetryClass::Permanent,
        }
    }

    /// A 429 that says the tenant's import job slots are all busy (not its rate limit):
    /// waiting for a job to finish helps, retrying at once does not.
    pub fn is_import_slot_refusal(&self) -> bool {
        match self {
            Self::GaveUp { last, .. } => last.is_import_slot_refusal(),
            Self::Api(e) => e.status == 429 && e.message.contains("active import"),
            _ => false,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status),
            Self::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }
}
