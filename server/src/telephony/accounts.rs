//! Asking a provider's account which numbers it owns (the ownership check of [5/9]), in terms
//! no provider owns. Each provider's REST client is in its own folder (`<provider>/account.rs`);
//! this module holds what they share: the answer, the errors, how numbers are compared, and the
//! HTTP every client sends through (`request`, `fetch`, `Reply`).

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderValue, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;

use crate::net::guard::{GuardedClient, Refused};

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
    pub fn from_status(status: StatusCode, retry_after: Option<&HeaderValue>) -> Self {
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

    /// A listing that did not end within [`MAX_PAGES`] pages.
    pub(crate) fn too_many_pages() -> Self {
        Self::Protocol(format!("more than {MAX_PAGES} pages of numbers"))
    }
}

/// `Retry-After` as seconds (an HTTP date is read as "unknown"), clamped to [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(v: &HeaderValue) -> Option<Duration> {
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

/// What one request answered: its status, `Retry-After` and (on success only) its body.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<HeaderValue>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The body of a success; else the error its status means (an error status wins over any body).
    pub(crate) fn success_body(&self) -> Result<&[u8], AccountError> {
        if !self.status.is_success() {
            return Err(AccountError::from_status(self.status, self.retry_after.as_ref()));
        }
        Ok(&self.body)
    }
}

/// `base` (a trailing `/` ignored) with the path `segments`, each percent-encoded (a segment
/// cannot add path levels or a query); a last empty segment gives a trailing `/` (Plivo's).
pub(crate) fn endpoint(base: &str, segments: &[&str]) -> Result<String, AccountError> {
    let bad = || AccountError::Unreachable(Refused::BadUrl.to_string());
    let mut url = reqwest::Url::parse(base.trim_end_matches('/')).map_err(|_| bad())?;
    url.path_segments_mut().map_err(|()| bad())?.pop_if_empty().extend(segments);
    Ok(url.into())
}

/// A GET to `url` with HTTP Basic `user:password` (in the header, never the URL), asking for
/// JSON within [`REQUEST_TIMEOUT`]; a URL the guard refuses is [`AccountError::Unreachable`].
pub(crate) fn request(client: &GuardedClient, url: &str, user: &str, password: &str) -> Result<RequestBuilder, AccountError> {
    let req = client.get(url).map_err(|refused| AccountError::Unreachable(refused.to_string()))?;
    Ok(req.basic_auth(user, Some(password)).header(ACCEPT, "application/json").timeout(REQUEST_TIMEOUT))
}

/// Sends `req`; reads the body of a success, at most `max_body` bytes (more is a protocol error).
pub(crate) async fn fetch(req: RequestBuilder, max_body: usize) -> Result<Reply, AccountError> {
    let mut resp = req.send().await.map_err(|e| AccountError::from_transport(&e))?;
    let (status, retry_after) = (resp.status(), resp.headers().get(RETRY_AFTER).cloned());
    let mut body = Vec::new();
    while status.is_success()
        && let Some(chunk) = resp.chunk().await.map_err(|e| AccountError::from_transport(&e))?
    {
        if body.len() + chunk.len() > max_body {
            return Err(AccountError::Protocol(format!("a page over {} MiB", max_body >> 20)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Reply { status, retry_after, body })
}

/// `body` read as the provider's documented JSON `T`; a mismatch names where it is.
pub(crate) fn parse_json<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, AccountError> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
        .map_err(|e| AccountError::Protocol(format!("not the documented JSON (at {})", e.path())))
}

/// `impl Debug` for a provider's borrowed credentials that prints none of them:
/// `opaque_debug!(Credentials<'a>)` writes `Credentials { .. }`.
macro_rules! opaque_debug {
    ($name:ident<$lt:lifetime>) => {
        impl<$lt> ::std::fmt::Debug for $name<$lt> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use opaque_debug;

/// What the providers' client tests share: a client to build requests with, replies, and the
/// check of HTTP Basic.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::net::guard::GuardPolicy;

    /// A client under the default guard (public addresses only).
    pub(crate) fn client() -> GuardedClient {
        GuardedClient::new(Arc::new(GuardPolicy::default()), Duration::from_secs(1)).expect("client")
    }

    /// A reply of `status` with `body` and no `Retry-After`.
    pub(crate) fn reply(status: StatusCode, body: impl AsRef<[u8]>) -> Reply {
        Reply { status, retry_after: None, body: body.as_ref().to_vec() }
    }

    /// A 429 with `Retry-After: {retry_after}` and no body.
    pub(crate) fn rate_limited(retry_after: &'static str) -> Reply {
        Reply { status: StatusCode::TOO_MANY_REQUESTS, retry_after: Some(HeaderValue::from_static(retry_after)), body: vec![] }
    }

    /// Asserts that `req` sends `user:password` as HTTP Basic, and the password nowhere in its URL.
    pub(crate) fn assert_basic_auth(req: &reqwest::Request, user: &str, password: &str) {
        let expected = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        assert_eq!(req.headers().get(reqwest::header::AUTHORIZATION).and_then(|v| v.to_str().ok()), Some(expected.as_str()));
        assert!(!req.url().as_str().contains(password), "the password is in the URL");
        assert_eq!(req.timeout(), Some(&REQUEST_TIMEOUT));
        assert_eq!(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()), Some("application/json"));
    }
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

    #[test]
    fn an_error_status_wins_over_the_body_and_a_success_hands_it_over() {
        use super::testing::{rate_limited, reply};
        assert_eq!(reply(StatusCode::UNAUTHORIZED, "{}").success_body(), Err(AccountError::Credentials));
        assert_eq!(rate_limited("3").success_body(), Err(AccountError::RateLimited { retry_after: Some(Duration::from_secs(3)) }));
        assert!(matches!(reply(StatusCode::NOT_FOUND, "[]").success_body(), Err(AccountError::Protocol(_))));
        assert_eq!(reply(StatusCode::OK, "[]").success_body(), Ok(&b"[]"[..]));
    }

    #[test]
    fn endpoints_encode_each_segment_and_refuse_a_bad_base() {
        assert_eq!(endpoint("https://api.example.com/", &["v1", "a/b?c", "x"]).expect("url"), "https://api.example.com/v1/a%2Fb%3Fc/x");
        assert_eq!(endpoint("https://api.example.com", &["v1", ""]).expect("url"), "https://api.example.com/v1/");
        assert_eq!(endpoint("http://127.0.0.1:9000/base/", &["v1"]).expect("url"), "http://127.0.0.1:9000/base/v1");
        assert!(matches!(endpoint("api.example.com", &["v1"]), Err(AccountError::Unreachable(_))));
        assert!(matches!(endpoint("mailto:x@example.com", &["v1"]), Err(AccountError::Unreachable(_))));
    }

    #[test]
    fn requests_carry_basic_auth_json_and_the_timeout_and_refused_hosts_are_unreachable() {
        let req = request(&testing::client(), "https://api.example.com/v1", "user", "s3cret").expect("request").build().expect("built");
        testing::assert_basic_auth(&req, "user", "s3cret");
        assert!(matches!(request(&testing::client(), "http://10.0.0.1/v1", "user", "s3cret"), Err(AccountError::Unreachable(_))));
    }

    #[test]
    fn json_mismatches_name_the_path() {
        #[derive(Deserialize)]
        struct Wire {
            items: Vec<u32>,
        }
        let Err(AccountError::Protocol(why)) = parse_json::<Wire>(br#"{"items": [1, "two"]}"#) else {
            panic!("a string is not a u32");
        };
        assert!(why.contains("items[1]"), "{why}");
        assert_eq!(parse_json::<Wire>(br#"{"items": [1, 2]}"#).map(|w| w.items), Ok(vec![1, 2]));
    }
}
