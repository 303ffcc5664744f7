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
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// 400 for a field the client got wrong.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: "invalid", message: message.into(), field: Some(field.into()) }
    }

    /// 404 — also used for rows owned by someone else, so existence does not leak.
    pub fn not_found(what: &str) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "not_found", message: format!("{what} not found"), field: None }
    }

    /// 401 when no valid session or API token came with the request.
    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "sign in or send Authorization: Bearer <API token>".into(),
            field: None,
        }
    }

    /// 503 for a dependency that is down; the detail goes to the log only.
    pub fn unavailable(what: &'static str, detail: impl std::fmt::Display) -> Self {
        tracing::error!(dependency = what, error = %detail, "dependency unavailable");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: format!("{what} unavailable"),
            field: None,
        }
    }

    /// 500; the detail goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "internal error".into(),
            field: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { error: Inner { code: self.code, message: &self.message, field: self.field.as_deref() } };
        (self.status, axum::Json(body)).into_response()
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
            AuthError::BadCredentials => Self {
                status: StatusCode::UNAUTHORIZED,
                code: "bad_credentials",
                message: e.to_string(),
                field: None,
            },
            AuthError::TooManyAttempts(_) => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "too_many_attempts",
                message: e.to_string(),
                field: None,
            },
            AuthError::NotFound => Self::not_found("resource"),
            AuthError::Db(e) => Self::internal(e),
            AuthError::Hash(e) => Self::internal(e),
        }
    }
}
