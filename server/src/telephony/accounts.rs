//! Asking a provider's account which numbers it owns (the ownership check of [5/9]), in terms
//! no provider owns. Each provider's REST client is in its own folder (`<provider>/account.rs`);
//! this module holds what they share: the answer, the errors, and how numbers are compared.

use std::time::Duration;

/// Most pages one listing reads (a bound on a hostile or looping `next` link).
pub const MAX_PAGES: usize = 500;

/// Time allowed for one request to a provider's REST API.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest `Retry-After` we report as given; larger values are clamped to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// One number an account owns, as its provider wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedNumber {
    /// The provider's spelling: `+9111…`, `011…` (Exotel), `+1415…` (Twilio), `447700…` (Vonage, Plivo).
    pub number: String,
    /// Whether the number takes voice calls.
    pub voice: bool,
    /// The application the number sends its calls to, where the provider has one: Vonage's
    /// `app_id`, the id at the end of Plivo's `application` path. `None` when unlinked or not a
    /// notion of the provider.
    pub app: Option<String>,
}

/// Why a provider's account could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// 401 or 403: the credentials are wrong (or lack the right to list numbers).
    #[error("the provider refused the credentials")]
    Credentials,
    /// 429: the provider asks us to wait (`Retry-After` in seconds, when it said).
    #[error("the provider is rate limiting requests")]
    RateLimited { retry_after: Option<Duration> },
    /// No answer, a timeout, a refused address or a 5xx: the text says which, without secrets.
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    /// An answer we could not read (not the documented JSON, a 404 on the account, …).
    #[error("the provider answered unexpectedly: {0}")]
    Protocol(String),
}

impl AccountError {
    /// Maps a non-success HTTP status (and its `Retry-After` header) to an error.
    pub fn from_status(status: reqwest::StatusCode, retry_after: Option<&reqwest::header::HeaderValue>) -> Self {
        match status.as_u16() {
            401 | 403 => Self::Credentials,
            429 => Self::RateLimited { retry_after: retry_after.and_then(parse_retry_after) },
            500..=599 => Self::Unreachable(format!("HTTP {}", status.as_u16())),
            other => Self::Protocol(format!("HTTP {other}")),
        }
    }

    /// Maps a transport error; never names the URL (it may carry an account id) or credentials.
    pub fn from_transport(e: &reqwest::Error) -> Self {
        if let Some(refused) = crate::net::guard::refusal(e) {
            return Self::Unreachable(refused.to_string());
        }
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_decode() {
            return Self::Protocol("the body is not the documented JSON".into());
        } else {
            "request failed"
        };
        Self::Unreachable(what.into())
    }
}

/// `Retry-After` as seconds (an HTTP date is read as "unknown"), clamped to [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(v: &reqwest::header::HeaderValue) -> Option<Duration> {
    let secs: u64 = v.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// The E.164 readings of the provider's spelling `theirs`: as written when it has a `+`, else as
/// international digits without their `+` (Vonage's and Plivo's `447700900000`) and as a
/// national number of `ours`'s country (Exotel's `07314852338`). Parsed, not validated: test and
/// fictional ranges must match too.
fn readings(theirs: &str, ours: &str) -> Vec<String> {
    let cleaned: String = theirs.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
    let format = |n: phonenumber::PhoneNumber| n.format().mode(phonenumber::Mode::E164).to_string();
    if cleaned.starts_with('+') {
        return phonenumber::parse(None, &cleaned).ok().map(format).into_iter().collect();
    }
    let mut found = Vec::new();
    if !cleaned.starts_with('0') {
        found.extend(phonenumber::parse(None, format!("+{cleaned}")).ok().map(format));
    }
    if let Some(country) = phonenumber::parse(None, ours).ok().and_then(|n| n.country().id()) {
        found.extend(phonenumber::parse(Some(country), &cleaned).ok().map(format));
    }
    found
}

/// Whether the provider's `theirs` is our E.164 number `ours`.
pub fn same_number(theirs: &str, ours: &str) -> bool {
    !theirs.trim().is_empty() && readings(theirs, ours).iter().any(|e| e == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exotel_national_and_international_forms_match_the_stored_number() {
        assert!(same_number("07314852338", "+917314852338"));
        assert!(same_number("+917314852338", "+917314852338"));
        assert!(same_number("917314852338", "+917314852338"));
        assert!(!same_number("07314852339", "+917314852338"));
    }

    #[test]
    fn digits_without_plus_are_read_as_international() {
        assert!(same_number("447700900123", "+447700900123"));
        assert!(same_number("14155550100", "+14155550100"));
        assert!(same_number("+1 (415) 555-0100", "+14155550100"));
        assert!(!same_number("14155550101", "+14155550100"));
        assert!(!same_number("", "+14155550100"));
        assert!(!same_number("junk", "+14155550100"));
        assert!(same_number("4155550100", "+14155550100"), "a national number of our country");
    }

    #[test]
    fn statuses_map_to_distinct_errors() {
        use reqwest::StatusCode;
        use reqwest::header::HeaderValue;
        assert_eq!(AccountError::from_status(StatusCode::UNAUTHORIZED, None), AccountError::Credentials);
        assert_eq!(AccountError::from_status(StatusCode::FORBIDDEN, None), AccountError::Credentials);
        let wait = HeaderValue::from_static("7");
        assert_eq!(
            AccountError::from_status(StatusCode::TOO_MANY_REQUESTS, Some(&wait)),
            AccountError::RateLimited { retry_after: Some(Duration::from_secs(7)) }
        );
        let date = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(AccountError::from_status(StatusCode::TOO_MANY_REQUESTS, Some(&date)), AccountError::RateLimited { retry_after: None });
        let huge = HeaderValue::from_static("99999999");
        assert_eq!(
            AccountError::from_status(StatusCode::TOO_MANY_REQUESTS, Some(&huge)),
            AccountError::RateLimited { retry_after: Some(MAX_RETRY_AFTER) }
        );
        assert!(matches!(AccountError::from_status(StatusCode::BAD_GATEWAY, None), AccountError::Unreachable(_)));
        assert!(matches!(AccountError::from_status(StatusCode::NOT_FOUND, None), AccountError::Protocol(_)));
    }
}
