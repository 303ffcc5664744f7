//! The numbers a Twilio account owns (the ownership check): `IncomingPhoneNumbers.json`, filtered
//! by `PhoneNumber` when one number is asked about, following `next_page_uri` (TWILIO.md §5).
//! Parsing is pure ([`parse_page`]); the HTTP around it only sends, bounds and hands over bodies.

use reqwest::RequestBuilder;
use serde::Deserialize;

use crate::net::guard::GuardedClient;
use crate::telephony::accounts::{AccountError, MAX_PAGES, OwnedNumber, Reply, endpoint, fetch, opaque_debug, parse_json, request};

/// Twilio's REST API.
pub const DEFAULT_BASE: &str = "https://api.twilio.com";

/// Every path of the API version we speak starts so; a `next_page_uri` elsewhere is refused.
const API_PREFIX: &str = "/2010-04-01/";

/// Numbers asked for per page (Twilio's maximum).
const PAGE_SIZE: &str = "1000";

/// Largest page body read (a thousand numbers take about 3 MB).
const MAX_BODY: usize = 16 << 20;

/// Credentials (borrowed, already opened) for Twilio: HTTP Basic `AccountSid:AuthToken`.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// `AC…`, also the account in the path.
    pub account_sid: &'a str,
    /// The auth token.
    pub auth_token: &'a str,
}

opaque_debug!(Credentials<'a>);

/// The numbers the account owns; with `number` (E.164) Twilio is asked for that number only
/// (`PhoneNumber=`). Every page is read, at most [`MAX_PAGES`]. Results may hold other numbers:
/// compare with `accounts::same_number`.
pub async fn owned_numbers(
    client: &GuardedClient,
    base: &str,
    creds: &Credentials<'_>,
    number: Option<&str>,
) -> Result<Vec<OwnedNumber>, AccountError> {
    let mut req = first_request(client, base, creds, number)?;
    let mut owned = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = read_page(&fetch(req, MAX_BODY).await?)?;
        owned.extend(page.numbers);
        match page.next {
            None => return Ok(owned),
            Some(uri) => req = request(client, &next_url(base, &uri)?, creds.account_sid, creds.auth_token)?,
        }
    }
    Err(AccountError::too_many_pages())
}

/// The first page's request: the account's list, filtered by `number` when given.
fn first_request(
    client: &GuardedClient,
    base: &str,
    creds: &Credentials<'_>,
    number: Option<&str>,
) -> Result<RequestBuilder, AccountError> {
    let url = endpoint(base, &["2010-04-01", "Accounts", creds.account_sid, "IncomingPhoneNumbers.json"])?;
    let mut query = vec![("PageSize", PAGE_SIZE)];
    if let Some(n) = number {
        query.push(("PhoneNumber", n));
    }
    Ok(request(client, &url, creds.account_sid, creds.auth_token)?.query(&query))
}

/// One page of the listing.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    numbers: Vec<OwnedNumber>,
    /// `next_page_uri`: a path with its query, relative to the base; `None` on the last page.
    next: Option<String>,
}

#[derive(Deserialize)]
struct WirePage {
    incoming_phone_numbers: Vec<WireNumber>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

#[derive(Deserialize)]
struct WireNumber {
    phone_number: String,
    #[serde(default)]
    capabilities: Option<WireCapabilities>,
}

#[derive(Deserialize)]
struct WireCapabilities {
    #[serde(default)]
    voice: Option<bool>,
}

/// Reads a `200` body of `IncomingPhoneNumbers.json`.
fn parse_page(body: &[u8]) -> Result<Page, AccountError> {
    let wire: WirePage = parse_json(body)?;
    let numbers = wire
        .incoming_phone_numbers
        .into_iter()
        .map(|n| OwnedNumber { number: n.phone_number, voice: n.capabilities.and_then(|c| c.voice).unwrap_or(false), app: None })
        .collect();
    Ok(Page { numbers, next: wire.next_page_uri.filter(|u| !u.is_empty()) })
}

/// The absolute URL of a `next_page_uri`, which must be a path of this API version on the same
/// host (Twilio writes it relative); anything else would send the credentials elsewhere.
fn next_url(base: &str, uri: &str) -> Result<String, AccountError> {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    if !uri.starts_with(API_PREFIX) || path.split('/').any(|s| s == ".." || s == ".") || path.contains('\\') {
        return Err(AccountError::Protocol("next_page_uri is not a path of the Twilio API".into()));
    }
    Ok(format!("{}{uri}", base.trim_end_matches('/')))
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

    /// A list page shaped like Twilio's documented `IncomingPhoneNumbers.json` answer.
    const PAGE_ONE: &str = r#"{
      "first_page_uri": "/2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json?PageSize=2&Page=0",
      "end": 1,
      "incoming_phone_numbers": [
        {"sid": "PN11", "account_sid": "AC0123", "phone_number": "+14155550100", "friendly_name": "(415) 555-0100",
         "voice_url": "https://example.com/voice", "voice_application_sid": "",
         "capabilities": {"fax": false, "mms": true, "sms": true, "voice": true}},
        {"sid": "PN22", "account_sid": "AC0123", "phone_number": "+14155550101",
         "capabilities": {"fax": false, "mms": false, "sms": true, "voice": false}}
      ],
      "next_page_uri": "/2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json?PageSize=2&Page=1&PageToken=PAPN22",
      "page": 0,
      "page_size": 2,
      "previous_page_uri": null,
      "start": 0,
      "uri": "/2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json?PageSize=2&Page=0"
    }"#;

    const LAST_PAGE: &str = r#"{"incoming_phone_numbers": [{"phone_number": "+14155550102", "capabilities": null}],
      "next_page_uri": null, "page": 1, "page_size": 2}"#;

    const CREDS: Credentials<'static> = Credentials { account_sid: "AC0123", auth_token: "s3cret-token" };

    #[test]
    fn a_page_gives_numbers_voice_capability_and_the_next_uri() {
        let page = parse_page(PAGE_ONE.as_bytes()).expect("page");
        assert_eq!(
            page.numbers,
            vec![
                OwnedNumber { number: "+14155550100".into(), voice: true, app: None },
                OwnedNumber { number: "+14155550101".into(), voice: false, app: None },
            ]
        );
        assert_eq!(page.next.as_deref(), Some("/2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json?PageSize=2&Page=1&PageToken=PAPN22"));
    }

    #[test]
    fn the_last_page_has_no_next_and_missing_capabilities_mean_no_voice() {
        let page = parse_page(LAST_PAGE.as_bytes()).expect("page");
        assert_eq!(page.next, None);
        assert_eq!(page.numbers, vec![OwnedNumber { number: "+14155550102".into(), voice: false, app: None }]);
        let empty = parse_page(br#"{"incoming_phone_numbers": [], "next_page_uri": ""}"#).expect("empty page");
        assert_eq!(empty, Page { numbers: vec![], next: None });
    }

    #[test]
    fn a_body_without_the_list_is_a_protocol_error_naming_the_field() {
        let Err(AccountError::Protocol(why)) = parse_page(br#"{"incoming_phone_numbers": [{"sid": "PN11"}]}"#) else {
            panic!("a number without phone_number must be refused");
        };
        assert!(why.contains("incoming_phone_numbers[0]"), "{why}");
        assert!(matches!(parse_page(br#"{"next_page_uri": null}"#), Err(AccountError::Protocol(_))));
        assert!(matches!(parse_page(b"<html>busy</html>"), Err(AccountError::Protocol(_))));
    }

    #[test]
    fn error_statuses_win_over_the_body() {
        let twilio_401 =
            br#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}"#;
        assert_eq!(read_page(&reply(StatusCode::UNAUTHORIZED, twilio_401)), Err(AccountError::Credentials));
        assert_eq!(read_page(&rate_limited("30")), Err(AccountError::RateLimited { retry_after: Some(Duration::from_secs(30)) }));
        assert!(matches!(read_page(&reply(StatusCode::NOT_FOUND, PAGE_ONE)), Err(AccountError::Protocol(_))));
        assert_eq!(read_page(&reply(StatusCode::OK, LAST_PAGE)).expect("page").numbers.len(), 1);
    }

    #[test]
    fn next_page_uri_is_joined_with_the_base_and_must_stay_in_the_api() {
        let uri = "/2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json?PageSize=2&Page=1";
        assert_eq!(next_url("https://api.twilio.com/", uri).expect("joined"), format!("https://api.twilio.com{uri}"));
        assert_eq!(next_url("http://127.0.0.1:9000", uri).expect("joined"), format!("http://127.0.0.1:9000{uri}"));
        for bad in [
            "https://evil.example/2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json",
            "//evil.example/2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json",
            "2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json",
            "/2010-04-01/../../elsewhere",
            "/2010-04-01/Accounts/..\\..\\x",
            "/v1/Accounts/AC0123/IncomingPhoneNumbers.json",
        ] {
            assert!(matches!(next_url(DEFAULT_BASE, bad), Err(AccountError::Protocol(_))), "{bad} must be refused");
        }
    }

    #[test]
    fn the_first_request_filters_by_the_encoded_number_with_basic_auth() {
        let req =
            first_request(&client(), "https://api.twilio.com/", &CREDS, Some("+14155550100")).expect("request").build().expect("built");
        assert_eq!(req.url().path(), "/2010-04-01/Accounts/AC0123/IncomingPhoneNumbers.json");
        assert_eq!(req.url().query(), Some("PageSize=1000&PhoneNumber=%2B14155550100"));
        assert_basic_auth(&req, "AC0123", "s3cret-token");

        let all = first_request(&client(), DEFAULT_BASE, &CREDS, None).expect("request").build().expect("built");
        assert_eq!(all.url().query(), Some("PageSize=1000"));
    }

    #[test]
    fn the_account_sid_cannot_change_the_path_and_a_bad_base_is_unreachable() {
        let odd = Credentials { account_sid: "AC1/../x?y", auth_token: "t" };
        let req = first_request(&client(), DEFAULT_BASE, &odd, None).expect("request").build().expect("built");
        assert_eq!(req.url().path(), "/2010-04-01/Accounts/AC1%2F..%2Fx%3Fy/IncomingPhoneNumbers.json");
        assert!(matches!(first_request(&client(), "not a url", &CREDS, None), Err(AccountError::Unreachable(_))));
        assert!(matches!(first_request(&client(), "ftp://api.twilio.com", &CREDS, None), Err(AccountError::Unreachable(_))));
        assert!(matches!(first_request(&client(), "http://127.0.0.1:1", &CREDS, None), Err(AccountError::Unreachable(_))));
    }
}
