//! Domain types and validation rules that run the same in the browser and on the server.

/// Declares a closed set of values stored and sent as strings: the enum (serde renames each
/// variant to its string), `ALL` in order, `as_str` (that string), `label` (for the UI),
/// `Display` (the string), `FromStr` (the string, case-insensitive after trimming) and [`Choice`].
macro_rules! choice_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            // `$wire` is a `tt`: a `literal` fragment reaches derive macros wrapped in an invisible
            // group, and utoipa's `ToSchema` then misses the `serde(rename)` (the OpenAPI enum would
            // list the variants' Rust names).
            $( $(#[$vmeta:meta])* $variant:ident = ($wire:tt, $label:literal) ),+ $(,)?
        }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant ),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            /// The string stored in the database and sent in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }

            /// The name shown in the UI.
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label),+
                }
            }
        }

        impl std::fmt::Display for $name {
            /// The string, padded as the format asks (`{:<8}`).
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownChoice;

            /// The value whose string is `s`, ignoring case and surrounding whitespace.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s)).ok_or($crate::UnknownChoice)
            }
        }

        impl $crate::Choice for $name {
            const ALL: &'static [Self] = Self::ALL;

            fn as_str(self) -> &'static str {
                Self::as_str(self)
            }

            fn label(self) -> &'static str {
                Self::label(self)
            }
        }
    };
}

pub mod agent;
pub mod call;
pub mod campaign;
pub mod notify;
pub mod outbound;
pub mod phone_number;
pub mod routing;
pub mod test_call;

use serde::{Deserialize, Serialize};

/// A closed set of values stored and sent as strings (see the enums of [`call`] and
/// [`phone_number`]); lets forms and validation treat them alike.
pub trait Choice: Copy + Eq + std::fmt::Debug + std::str::FromStr<Err = UnknownChoice> + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// The string stored in the database and sent in JSON.
    fn as_str(self) -> &'static str;
    /// The name shown in the UI.
    fn label(self) -> &'static str;
}

/// A string that is none of a [`Choice`]'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownChoice;

impl std::fmt::Display for UnknownChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not one of the allowed values")
    }
}

impl std::error::Error for UnknownChoice {}

/// `Choose a, b or c.`: the message for a field that takes one of `T`'s values.
pub fn choose_message<T: Choice>() -> String {
    let names: Vec<&str> = T::ALL.iter().map(|v| v.as_str()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("Choose {} or {last}.", rest.join(", ")),
        Some((only, _)) => format!("Choose {only}."),
        None => "Choose a value.".to_string(),
    }
}

/// Parses an optional form or URL value of `field`: empty or absent is `None`, an unknown
/// value a [`FieldError`] with [`choose_message`].
pub fn parse_choice<T: Choice>(field: &str, value: Option<&str>) -> Result<Option<T>, FieldError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| FieldError::new(field, choose_message::<T>())),
    }
}

/// One problem with one input field (camelCase field name as in the JSON API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
