//! One error type for every endpoint. Clients get a status, a stable code and an English
//! message; internal details go to the log only.

use app_core::wire::http::ErrorBody;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{1}")]
    BadRequest(&'static str, String),
    #[error("sign in first (missing, expired or revoked token)")]
    Unauthorized,
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("expected Content-Type {0}")]
    UnsupportedMediaType(&'static str),
    #[error("{0}")]
    Unprocessable(String),
    /// A request body the framework refused (bad JSON, unknown field, wrong type).
    #[error("{1}")]
    Body(StatusCode, String),
    /// Too many failed sign-ins: the account or address is locked for `retry_after` seconds.
    #[error("too many failed sign-ins; try again in {} minutes or ask a supervisor to lift the lock", (retry_after + 59) / 60)]
    TooManyAttempts { retry_after: i64 },
    /// The server is saturated (e.g. too many sign-ins waiting to be checked).
    #[error("{0}")]
    Busy(String),
    #[error("internal error")]
    Internal(#[from] Internal),
    /// The device was revoked (a lost tablet): it may only upload what it still holds.
    #[error("this device was revoked by the administrator; it may only upload what it still holds")]
    DeviceRevoked,
}

/// An unexpected failure inside the server (a database, file or task failure, stored data
/// that does not read back): what went wrong, for the log only; clients are told "internal
/// error". The library's replacement for `anyhow` (which only the binary uses).
#[derive(Debug)]
pub struct Internal(String);

impl Internal {
    pub fn new(message: impl std::fmt::Display) -> Self {
        Internal(message.to_string())
    }
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Internal {}

/// `Internal` from a formatted message, like `format!`.
#[macro_export]
macro_rules! internal {
    ($($arg:tt)*) => {
        $crate::error::Internal::new(format!($($arg)*))
    };
}

/// A result whose failure is [`Internal`].
pub type InternalResult<T> = Result<T, Internal>;

macro_rules! internal_from {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Internal {
            fn from(e: $t) -> Self {
                Internal::new(e)
            }
        })*
    };
}

internal_from!(
    rusqlite::Error,
    std::io::Error,
    serde_json::Error,
    crate::store::StoreError,
    crate::service::sync::SyncError,
    crate::service::casefiles::CaseFileError,
    rust_xlsxwriter::XlsxError,
);

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Body(status, _) => *status,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::DeviceRevoked => StatusCode::FORBIDDEN,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(code, _) => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Body(..) => "bad_body",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::Busy(_) => "busy",
            ApiError::Internal(_) => "internal",
            ApiError::DeviceRevoked => app_core::wire::http::DEVICE_REVOKED,
        }
    }

    pub fn forbidden(what: impl Into<String>) -> Self {
        ApiError::Forbidden(what.into())
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::Internal(Internal::new(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
        let body = ErrorBody::new(self.code(), self.to_string());
        let retry_after = match &self {
            ApiError::TooManyAttempts { retry_after } => Some((*retry_after).max(1)),
            ApiError::Busy(_) => Some(2),
            _ => None,
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Json<T>` whose rejections (syntax errors, unknown fields, missing content type) answer in
/// the API's error shape.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(rejection) => Err(ApiError::Body(rejection.status(), rejection.body_text())),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(Internal::new(e))
    }
}

impl From<crate::service::sync::SyncError> for ApiError {
    fn from(e: crate::service::sync::SyncError) -> Self {
        ApiError::Internal(Internal::new(e))
    }
}
