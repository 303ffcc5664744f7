//! Domain types and validation rules that run the same in the browser and on the server.

pub mod agent;
pub mod call;
pub mod phone_number;

use serde::{Deserialize, Serialize};

/// One problem with one input field (camelCase field name as in the JSON API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_string(), message: message.into() }
    }
}

/// The message for `field` among `errors`, if any.
pub fn message_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
}

pub(crate) fn check_len(errors: &mut Vec<FieldError>, field: &str, value: &str, min: usize, max: usize, what: &str) {
    let n = value.trim().chars().count();
    if n < min {
        errors.push(FieldError::new(field, if min == 1 { format!("Enter {what}.") } else { format!("Use at least {min} characters.") }));
    } else if n > max {
        errors.push(FieldError::new(field, format!("Use at most {max} characters.")));
    }
}
