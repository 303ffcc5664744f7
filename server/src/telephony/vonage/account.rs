//! The numbers a Vonage account owns (the ownership check): `GET /account/numbers` with HTTP
//! Basic `api_key:api_secret`, filtered by `pattern` when one number is asked about, paged by
//! `size`/`index` (VONAGE.md §5). Parsing is pure ([`parse_page`]); the HTTP around it only
//! sends, bounds and hands over bodies.

use reqwest::header::{ACCEPT, HeaderValue, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;

use crate::net::guard::{GuardedClient, Refused};
use crate::telephony::accounts::{AccountError, MAX_PAGES, OwnedNumber, REQUEST_TIMEOUT};

/// Vonage's REST API for numbers and accounts.
pub const DEFAULT_BASE: &str = "https://rest.nexmo.com";

/// Numbers asked for per page (Vonage's maximum).
const PAGE_SIZE: usize = 100;

/// Largest page body read (a hundred numbers take a few KB).
const MAX_BODY: usize = 4 << 20;

/// Credentials (borrowed, already opened) for Vonage: HTTP Basic `api_key:api_secret`.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// The account's API key.
    pub api_key: &'a str,
    /// The account's API secret.
    pub api_secret: &'a str,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

/// The numbers the account owns; with `number` (E.164) Vonage is asked for the numbers starting
/// with its digits (`pattern=…&search_pattern=0`). Every page is read, at most [`MAX_PAGES`].
/// Results may hold other numbers: compare with `accounts::same_number`.
pub async fn owned_numbers(
    client: &GuardedClient,
    base: &str,
    creds: &Credentials<'_>,
    number: Option<&str>,
) -> Result<Vec<OwnedNumber>, AccountError> {
    let url = endpoint(base, &["account", "numbers"])?;
    let mut owned = Vec::new();
    for index in 1..=MAX_PAGES {
        let page = read_page(&fetch(page_request(client, &url, creds, number, index)?).await?)?;
        let got = page.numbers.len();
        owned.extend(page.numbers);
        if is_last(got, owned.len(), page.count) {
            return Ok(owned);
        }
    }
    Err(AccountError::Protocol(format!("more than {MAX_PAGES} pages of numbers")))
}

/// The request for page `index` (1-based), filtered by `number`'s digits when given.
fn page_request(
    client: &GuardedClient,
    url: &str,
    creds: &Credentials<'_>,
    number: Option<&str>,
    index: usize,
) -> Result<RequestBuilder, AccountError> {
    let mut query = vec![("size", PAGE_SIZE.to_string()), ("index", index.to_string())];
    if let Some(n) = number {
        // Vonage writes numbers as digits without `+`; 0 = "starts with".
        query.push(("pattern", n.chars().filter(char::is_ascii_digit).collect()));
        query.push(("search_pattern", "0".into()));
    }
    Ok(request(client, url, creds)?.query(&query))
}

/// Whether a page of `got` numbers ends the listing: short, or the `count` Vonage reported
/// (all pages together) is reached.
fn is_last(got: usize, collected: usize, count: Option<u64>) -> bool {
    got < PAGE_SIZE || count.is_some_and(|c| collected as u64 >= c)
}

/// One page of the listing.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    /// `count`: how many numbers match, over all pages.
    count: Option<u64>,
    numbers: Vec<OwnedNumber>,
}

#[derive(Deserialize)]
struct WirePage {
    #[serde(default)]
    count: Option<u64>,
    /// Absent (or null) when nothing matches.
    #[serde(default)]
    numbers: Option<Vec<WireNumber>>,
}

#[derive(Deserialize)]
struct WireNumber {
    msisdn: String,
    #[serde(default)]
    features: Option<Vec<String>>,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default, rename = "voiceCallbackType")]
    voice_callback_type: Option<String>,
    #[serde(default, rename = "voiceCallbackValue")]
    voice_callback_value: Option<String>,
}

impl WireNumber {
    /// `app_id`, else the older `voiceCallbackType: "app"` + `voiceCallbackValue` pair.
    fn app(&self) -> Option<String> {
        let older = || self.voice_callback_value.clone().filter(|_| self.voice_callback_type.as_deref() == Some("app"));
        self.app_id.clone().filter(|a| !a.is_empty()).or_else(older).filter(|a| !a.is_empty())
    }
}

/// Reads a `200` body of `/account/numbers`.
fn parse_page(body: &[u8]) -> Result<Page, AccountError> {
    let wire: WirePage = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
        .map_err(|e| AccountError::Protocol(format!("not the documented JSON (at {})", e.path())))?;
    let numbers = wire
        .numbers
        .unwrap_or_default()
        .into_iter()
        .map(|n| OwnedNumber {
            voice: n.features.as_deref().unwrap_or_default().iter().any(|f| f.eq_ignore_ascii_case("VOICE")),
            app: n.app(),
            number: n.msisdn,
        })
        .collect();
    Ok(Page { count: wire.count, numbers })
}

/// What one request answered: its status, `Retry-After` and (on success only) its body.
struct Reply {
    status: StatusCode,
    retry_after: Option<HeaderValue>,
    body: Vec<u8>,
}

/// A reply read as a page: an error status first, then the body.
fn read_page(reply: &Reply) -> Result<Page, AccountError> {
    if !reply.status.is_success() {
        return Err(AccountError::from_status(reply.status, reply.retry_after.as_ref()));
    }
    parse_page(&reply.body)
}

/// `base` (a trailing `/` ignored) with the path `segments`, each percent-encoded.
fn endpoint(base: &str, segments: &[&str]) -> Result<String, AccountError> {
    let bad = || AccountError::Unreachable(Refused::BadUrl.to_string());
    let mut url = reqwest::Url::parse(base.trim_end_matches('/')).map_err(|_| bad())?;
    url.path_segments_mut().map_err(|()| bad())?.pop_if_empty().extend(segments);
    Ok(url.into())
}

/// A GET to `url` with the account's credentials (in the header, never the URL).
fn request(client: &GuardedClient, url: &str, creds: &Credentials<'_>) -> Result<RequestBuilder, AccountError> {
    let req = client.get(url).map_err(|refused| AccountError::Unreachable(refused.to_string()))?;
    Ok(req.basic_auth(creds.api_key, Some(creds.api_secret)).header(ACCEPT, "application/json").timeout(REQUEST_TIMEOUT))
}

/// Sends `req`; reads the body of a success, at most [`MAX_BODY`] bytes.
async fn fetch(req: RequestBuilder) -> Result<Reply, AccountError> {
    let mut resp = req.send().await.map_err(|e| AccountError::from_transport(&e))?;
    let (status, retry_after) = (resp.status(), resp.headers().get(RETRY_AFTER).cloned());
    let mut body = Vec::new();
    while status.is_success()
        && let Some(chunk) = resp.chunk().await.map_err(|e| AccountError::from_transport(&e))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(AccountError::Protocol(format!("a page over {} MiB", MAX_BODY >> 20)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Reply { status, retry_after, body })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::net::guard::GuardPolicy;

    /// The documented answer of `/account/numbers` (VONAGE.md §5), plus an SMS-only number.
    const PAGE: &str = r#"{"count": 2, "numbers": [
      {"country": "GB", "msisdn": "447007000000", "type": "mobile-lvn", "features": ["VOICE", "SMS"],
       "voiceCallbackType": "app", "voiceCallbackValue": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
       "app_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"},
      {"country": "GB", "msisdn": "447007000001", "type": "mobile-lvn", "features": ["SMS"]}
    ]}"#;

    fn client() -> GuardedClient {
        GuardedClient::new(Arc::new(GuardPolicy::default()), Duration::from_secs(1)).expect("client")
    }

    const CREDS: Credentials<'static> = Credentials { api_key: "abcd1234", api_secret: "s3cret-secret" };

    #[test]
    fn a_page_gives_msisdn_voice_feature_and_app_id() {
        let page = parse_page(PAGE.as_bytes()).expect("page");
        assert_eq!(page.count, Some(2));
        assert_eq!(
            page.numbers,
            vec![
                OwnedNumber { number: "447007000000".into(), voice: true, app: Some("aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into()) },
                OwnedNumber { number: "447007000001".into(), voice: false, app: None },
            ]
        );
    }

    #[test]
    fn an_absent_numbers_key_means_none() {
        assert_eq!(parse_page(br#"{"count": 0}"#).expect("page"), Page { count: Some(0), numbers: vec![] });
        assert_eq!(parse_page(br#"{}"#).expect("page"), Page { count: None, numbers: vec![] });
        assert_eq!(parse_page(br#"{"count": 0, "numbers": null}"#).expect("page").numbers, vec![]);
    }

    #[test]
    fn the_older_voice_callback_pair_names_the_app_when_app_id_is_absent() {
        let body = br#"{"count": 2, "numbers": [
          {"msisdn": "14155550100", "features": ["voice"], "voiceCallbackType": "app", "voiceCallbackValue": "app-1"},
          {"msisdn": "14155550101", "features": ["VOICE"], "voiceCallbackType": "sip", "voiceCallbackValue": "sip:x@example.com", "app_id": ""}
        ]}"#;
        let numbers = parse_page(body).expect("page").numbers;
        assert_eq!(numbers[0].app.as_deref(), Some("app-1"));
        assert!(numbers[0].voice);
        assert_eq!(numbers[1].app, None);
    }

    #[test]
    fn a_body_that_is_not_the_listing_is_a_protocol_error() {
        let Err(AccountError::Protocol(why)) = parse_page(br#"{"count": 1, "numbers": [{"country": "GB"}]}"#) else {
            panic!("a number without msisdn must be refused");
        };
        assert!(why.contains("numbers[0]"), "{why}");
        assert!(matches!(parse_page(br#"{"count": "many"}"#), Err(AccountError::Protocol(_))));
        assert!(matches!(parse_page(b""), Err(AccountError::Protocol(_))));
    }

    #[test]
    fn error_statuses_win_over_the_body() {
        let vonage_401 = br#"{"type": "https://developer.nexmo.com/api-errors#unauthorized", "title": "Invalid credentials supplied"}"#;
        let reply = Reply { status: StatusCode::UNAUTHORIZED, retry_after: None, body: vonage_401.to_vec() };
        assert_eq!(read_page(&reply), Err(AccountError::Credentials));
        let reply = Reply { status: StatusCode::TOO_MANY_REQUESTS, retry_after: Some(HeaderValue::from_static("2")), body: vec![] };
        assert_eq!(read_page(&reply), Err(AccountError::RateLimited { retry_after: Some(Duration::from_secs(2)) }));
        let reply = Reply { status: StatusCode::SERVICE_UNAVAILABLE, retry_after: None, body: PAGE.as_bytes().to_vec() };
        assert!(matches!(read_page(&reply), Err(AccountError::Unreachable(_))));
        let reply = Reply { status: StatusCode::OK, retry_after: None, body: PAGE.as_bytes().to_vec() };
        assert_eq!(read_page(&reply).expect("page").numbers.len(), 2);
    }

    #[test]
    fn paging_stops_on_a_short_page_or_at_count() {
        assert!(is_last(0, 0, None));
        assert!(is_last(3, 3, Some(3)));
        assert!(is_last(99, 199, Some(500)), "a short page ends it whatever count says");
        assert!(!is_last(100, 100, Some(250)));
        assert!(!is_last(100, 100, None), "a full page without a count asks for the next");
        assert!(is_last(100, 200, Some(200)));
    }

    #[test]
    fn the_request_asks_for_the_numbers_digits_with_basic_auth() {
        let url = endpoint("https://rest.nexmo.com/", &["account", "numbers"]).expect("url");
        assert_eq!(url, "https://rest.nexmo.com/account/numbers");
        let req = page_request(&client(), &url, &CREDS, Some("+14155550100"), 3).expect("request").build().expect("built");
        assert_eq!(req.url().query(), Some("size=100&index=3&pattern=14155550100&search_pattern=0"));
        let expected = format!("Basic {}", STANDARD.encode("abcd1234:s3cret-secret"));
        assert_eq!(req.headers().get(reqwest::header::AUTHORIZATION).and_then(|v| v.to_str().ok()), Some(expected.as_str()));
        assert!(!req.url().as_str().contains("s3cret"));

        let all = page_request(&client(), &url, &CREDS, None, 1).expect("request").build().expect("built");
        assert_eq!(all.url().query(), Some("size=100&index=1"));
        assert!(matches!(endpoint("rest.nexmo.com", &["account"]), Err(AccountError::Unreachable(_))));
    }
}
