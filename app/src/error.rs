//! The typed error every server function returns, shared by server and browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What can go wrong in a server function, as the browser sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A field the user got wrong, shown next to that field.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Several fields the user got wrong.
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("invalid input"))]
    Fields(Vec<domain::FieldError>),
    #[error("not found")]
    NotFound,
    #[error("please log in")]
    Unauthorized,
    /// The server failed; details are in its log, not here.
    #[error("something went wrong on the server; please try again")]
    Internal,
    /// Transport or encoding failure between browser and server.
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::ServerFn(value)
    }
}

impl AppError {
    /// The HTTP status a server function answers with when it fails this way.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } | Self::Fields(_) => 400,
            Self::Unauthorized => 401,
            Self::NotFound => 404,
            Self::Internal | Self::ServerFn(_) => 500,
        }
    }

    /// Sets this error's status on the current server function response and returns it.
    #[cfg(feature = "ssr")]
    pub fn respond(self) -> Self {
        let status = self.status();
        self.respond_with(status)
    }

    #[cfg(feature = "ssr")]
    fn respond_with(self, status: u16) -> Self {
        if let (Some(r), Ok(s)) = (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), axum::http::StatusCode::from_u16(status))
        {
            r.set_status(s);
        }
        self
    }
}

#[cfg(feature = "ssr")]
impl From<server::db::DbError> for AppError {
    fn from(e: server::db::DbError) -> Self {
        tracing_error(&e);
        Self::Internal.respond()
    }
}

#[cfg(feature = "ssr")]
impl From<server::users::AuthError> for AppError {
    fn from(e: server::users::AuthError) -> Self {
        use server::users::AuthError;
        match e {
            AuthError::Invalid { field, message } => Self::Invalid { field: field.to_string(), message }.respond(),
            AuthError::BadCredentials => Self::Invalid { field: "form".to_string(), message: e.to_string() }.respond_with(401),
            AuthError::TooManyAttempts(_) => Self::Invalid { field: "form".to_string(), message: e.to_string() }.respond_with(429),
            AuthError::NotFound => Self::NotFound.respond(),
            AuthError::Db(e) => e.into(),
            AuthError::Hash(e) => {
                tracing_error(&e);
                Self::Internal.respond()
            }
            AuthError::Busy(_) => Self::Invalid { field: "form".to_string(), message: e.to_string() }.respond_with(503),
            AuthError::SignupClosed => Self::Invalid { field: "form".to_string(), message: e.to_string() }.respond_with(403),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<server::errors::DomainError> for AppError {
    fn from(e: server::errors::DomainError) -> Self {
        use server::errors::DomainError;
        match e {
            DomainError::Invalid(errors) => Self::Fields(errors).respond(),
            DomainError::Conflict(f) => Self::Invalid { field: f.field, message: f.message }.respond_with(409),
            DomainError::NotFound(_) => Self::NotFound.respond(),
            DomainError::ProviderBusy { message, .. } => Self::Invalid { field: "provider".to_string(), message }.respond_with(429),
            DomainError::ProviderUnreachable(message) => Self::Invalid { field: "provider".to_string(), message }.respond_with(502),
            DomainError::Busy(message) => Self::Invalid { field: "test".to_string(), message }.respond_with(429),
            DomainError::Db(e) => e.into(),
            DomainError::Storage(e) => {
                tracing_error(&e);
                Self::Internal.respond()
            }
        }
    }
}

impl AppError {
    /// The message this error has for `field`, if any.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            Self::Invalid { field: f, message } if f == field => Some(message.clone()),
            Self::Fields(errors) => domain::message_for(errors, field).map(str::to_string),
            _ => None,
        }
    }
}

#[cfg(feature = "ssr")]
fn tracing_error(e: &dyn std::fmt::Display) {
    leptos::logging::error!("server function failed: {e}");
}
