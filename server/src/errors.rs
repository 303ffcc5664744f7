//! The error every domain service (agents, phone numbers, calls) returns.

use domain::FieldError;

use crate::db::DbError;

/// What a service call can fail with; HTTP and server functions map it to a status.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input problems, each naming its field (400).
    #[error("invalid input: {}", .0.first().map(|e| e.message.as_str()).unwrap_or(""))]
    Invalid(Vec<FieldError>),
    /// The row would duplicate another one (409).
    #[error("{}", .0.message)]
    Conflict(FieldError),
    /// Missing, or owned by someone else (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A provider's API asked us to wait (429, with its Retry-After in seconds).
    #[error("{message}")]
    ProviderBusy { message: String, retry_after: Option<u64> },
    /// A provider's API could not be reached or answered unexpectedly (502).
    #[error("{0}")]
    ProviderUnreachable(String),
    /// The user is at a cap of things running at once (429), e.g. test calls.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Db(#[from] DbError),
    /// A file under the data directory could not be read or written (500; the detail is logged).
    #[error("storage: {0}")]
    Storage(String),
}

impl DomainError {
    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

/// A validated page request: (page, page size, rows to skip). Pages start at 1.
pub fn page_window(page: Option<u32>, page_size: Option<u32>, max: u32) -> Result<(u32, u32, u32), DomainError> {
    let page = page.unwrap_or(1);
    let page_size = page_size.unwrap_or(50);
    if page == 0 {
        return Err(DomainError::field("page", "Pages start at 1."));
    }
    if page_size == 0 || page_size > max {
        return Err(DomainError::field("pageSize", format!("Use a page size between 1 and {max}.")));
    }
    Ok((page, page_size, (page - 1).saturating_mul(page_size)))
}
