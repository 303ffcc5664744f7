//! One error type for every REST handler: a status and a JSON body naming the field.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error as the client sees it: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Every field problem when there are several.
    pub errors: Vec<domain::FieldError>,
    /// Seconds for a `Retry-After` header (a provider's 429 passed on).
    pub retry_after: Option<u64>,
    /// The call an error is about (an outbound call its provider refused, recorded as failed).
    pub call_id: Option<String>,
}

/// Every error's JSON body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code`, a message for people, and the field it is about.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `invalid`, `unauthorized`, `forbidden`, `not_found`, `conflict`, `busy`, …
    pub code: &'static str,
    pub message: String,
    /// The request field the error is about (`phoneNumber`, `exotelConfig.region`, `body`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field problem when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<domain::FieldError>,
    /// The call an error is about (an outbound call its provider refused, recorded as failed).
    #[serde(rename = "callId", skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
}

impl ApiError {
    /// An error with no field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, errors: Vec::new(), retry_after: None, call_id: None }
    }

    /// 400 for a field the client got wrong.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid",
            message: message.into(),
            field: Some(field.into()),
            errors: Vec::new(),
            retry_after: None,
            call_id: None,
        }
    }

    /// 404 — also used for rows owned by someone else, so existence does not leak.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 401 when no valid session or API token came with the request.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in or send Authorization: Bearer <API token>")
    }

    /// 503 for a dependency that is down; the detail goes to the log only.
    pub fn unavailable(what: &'static str, detail: impl std::fmt::Display) -> Self {
        tracing::error!(dependency = what, error = %detail, "dependency unavailable");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", format!("{what} unavailable"))
    }

    /// 500; the detail goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message, field: self.field, errors: self.errors, call_id: self.call_id },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        Self::internal(e)
    }
}

impl From<crate::users::AuthError> for ApiError {
    fn from(e: crate::users::AuthError) -> Self {
        use crate::users::AuthError;
        match e {
            AuthError::Invalid { field, message } => Self::invalid(field, message),
            AuthError::BadCredentials => Self::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string()),
            AuthError::TooManyAttempts(_) => Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", e.to_string()),
            AuthError::NotFound => Self::not_found("resource"),
            AuthError::Db(e) => Self::internal(e),
            AuthError::Hash(e) => Self::internal(e),
            AuthError::Busy(_) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string()),
            AuthError::SignupClosed => Self::new(StatusCode::FORBIDDEN, "signup_closed", e.to_string()),
        }
    }
}

impl From<crate::errors::DomainError> for ApiError {
    fn from(e: crate::errors::DomainError) -> Self {
        use crate::errors::DomainError;
        match e {
            DomainError::Invalid(errors) => {
                let first = errors.first().cloned().unwrap_or_else(|| domain::FieldError::new("body", "invalid input"));
                Self { errors, ..Self::invalid(&first.field, first.message) }
            }
            DomainError::Conflict(f) => Self { field: Some(f.field), ..Self::new(StatusCode::CONFLICT, "conflict", f.message) },
            DomainError::ProviderBusy { message, retry_after } => {
                Self { retry_after, ..Self::new(StatusCode::TOO_MANY_REQUESTS, "provider_rate_limited", message) }
            }
            DomainError::ProviderUnreachable(message) => Self::new(StatusCode::BAD_GATEWAY, "provider_unreachable", message),
            DomainError::Busy(message) => Self::new(StatusCode::TOO_MANY_REQUESTS, "busy", message),
            DomainError::NotFound(what) => Self::not_found(what),
            DomainError::Db(e) => Self::internal(e),
            DomainError::Storage(e) => Self::internal(e),
        }
    }
}
