//! The numbers a Vonage account owns (the ownership check): `GET /account/numbers` with HTTP
//! Basic `api_key:api_secret`, filtered by `pattern` when one number is asked about, paged by
//! `size`/`index` (VONAGE.md §5). Parsing is pure ([`parse_page`]); the HTTP around it only
//! sends, bounds and hands over bodies.

use reqwest::RequestBuilder;
use serde::Deserialize;

use crate::net::guard::GuardedClient;
use crate::telephony::accounts::{AccountError, MAX_PAGES, OwnedNumber, Reply, endpoint, fetch, opaque_debug, parse_json, request};

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

opaque_debug!(Credentials<'a>);

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
        let page = read_page(&fetch(page_request(client, &url, creds, number, index)?, MAX_BODY).await?)?;
        let got = page.numbers.len();
        owned.extend(page.numbers);
        if is_last(got, owned.len(), page.count) {
            return Ok(owned);
        }
    }
    Err(AccountError::too_many_pages())
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
    Ok(request(client, url, creds.api_key, creds.api_secret)?.query(&query))
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
    let wire: WirePage = parse_json(body)?;
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

/// A reply read as a page: an error status first, then the body.
fn read_page(reply: &Reply) -> Result<Page, AccountError> {
    parse_page(reply.success_body()?)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::StatusCode;

    use super::*;
    use crate::telephony::accounts::testing::{assert_basic_auth, client, rate_limited, reply};

    /// The documented answer of `/account/numbers` (VONAGE.md §5), plus an SMS-only number.
    const PAGE: &str = r#"{"count": 2, "numbers": [
      {"country": "GB", "msisdn": "447007000000", "type": "mobile-lvn", "features": ["VOICE", "SMS"],
       "voiceCallbackType": "app", "voiceCallbackValue": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
       "app_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"},
      {"country": "GB", "msisdn": "447007000001", "type": "mobile-lvn", "features": ["SMS"]}
    ]}"#;

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
        assert_eq!(read_page(&reply(StatusCode::UNAUTHORIZED, vonage_401)), Err(AccountError::Credentials));
        assert_eq!(read_page(&rate_limited("2")), Err(AccountError::RateLimited { retry_after: Some(Duration::from_secs(2)) }));
        assert!(matches!(read_page(&reply(StatusCode::SERVICE_UNAVAILABLE, PAGE)), Err(AccountError::Unreachable(_))));
        assert_eq!(read_page(&reply(StatusCode::OK, PAGE)).expect("page").numbers.len(), 2);
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
        assert_basic_auth(&req, "abcd1234", "s3cret-secret");

        let all = page_request(&client(), &url, &CREDS, None, 1).expect("request").build().expect("built");
        assert_eq!(all.url().query(), Some("size=100&index=1"));
        assert!(matches!(endpoint("rest.nexmo.com", &["account"]), Err(AccountError::Unreachable(_))));
    }
}
