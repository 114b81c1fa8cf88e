//! The one error type of generated code.

use bytes::Bytes;
use http::{HeaderValue, StatusCode};

/// What can go wrong in a generated client, router or tool.
///
/// Messages never contain credentials: upstream URLs are reduced to their path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A variable of the spec's `binds` is not set in the environment.
    #[error("environment variable `{0}` is not set")]
    MissingEnv(String),
    /// A variable of the spec's `binds` could not be read from its file.
    #[error("variable `{var}` of `binds`: {message}")]
    Bind {
        /// The variable's name.
        var: String,
        /// Why it could not be read.
        message: String,
    },
    /// The caller's input is invalid (missing, mistyped); no upstream call was made.
    #[error("{0}")]
    InvalidInput(String),
    /// A request body of a media type the route does not take (REST only).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The client could not be configured (bad base URL, TLS setup).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The upstream could not be reached, or the connection broke.
    #[error("upstream call `{operation}` failed: {message}")]
    Connect {
        /// The call, as `namespace.operation`.
        operation: String,
        /// What went wrong.
        message: String,
    },
    /// The upstream did not answer in time.
    #[error("upstream call `{operation}` timed out after {seconds:.1} s")]
    Timeout {
        /// The call, as `namespace.operation`.
        operation: String,
        /// The limit that ran out, in seconds.
        seconds: f64,
    },
    /// The upstream answered with a non-2xx status; its body is kept as it was.
    #[error("upstream call `{operation}` answered {status}")]
    Upstream {
        /// The call, as `namespace.operation`.
        operation: String,
        /// The non-2xx status it answered.
        status: StatusCode,
        /// Its `Content-Type`, if any.
        content_type: Option<HeaderValue>,
        /// Its body, unchanged.
        body: Bytes,
    },
    /// The upstream answered 2xx with a body we cannot use (too large, not JSON).
    #[error("upstream call `{operation}` returned an invalid response: {message}")]
    InvalidResponse {
        /// The call, as `namespace.operation`.
        operation: String,
        /// What is wrong with the body.
        message: String,
    },
    /// A script step could not run or failed (disabled, bad file, script error, limit).
    #[error("{0}")]
    Script(String),
    /// A tool index that the registry does not have (a generator bug).
    #[error("unknown tool #{0}")]
    UnknownTool(usize),
}

impl Error {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }

    /// The HTTP status a REST caller gets for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidInput(_) => StatusCode::BAD_REQUEST,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Connect { .. } | Error::InvalidResponse { .. } => StatusCode::BAD_GATEWAY,
            Error::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Error::Upstream { status, .. } => *status,
            Error::MissingEnv(_)
            | Error::Bind { .. }
            | Error::Config(_)
            | Error::Script(_)
            | Error::UnknownTool(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
