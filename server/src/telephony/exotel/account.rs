//! The ExoPhones an Exotel account owns (the ownership check): `GET
//! /v2_beta/Accounts/{sid}/IncomingPhoneNumbers`, every page (the listing has no number filter),
//! with HTTP Basic `api_key:api_token` (EXOTEL.md §3). Parsing is pure ([`parse_page`]) and reads
//! both the documented snake_case keys and the PascalCase that third-party code meets.

use reqwest::RequestBuilder;
use serde::Deserialize;

use crate::net::guard::GuardedClient;
use crate::telephony::accounts::{AccountError, MAX_PAGES, OwnedNumber, Reply, endpoint, fetch, opaque_debug, parse_json, request};

/// Numbers asked for per page.
const PAGE_SIZE: usize = 100;

/// Largest page body read (a hundred numbers take a few tens of KB).
const MAX_BODY: usize = 4 << 20;

/// Credentials (borrowed, already opened) for Exotel: the account `sid` (in the path) and HTTP
/// Basic `api_key:api_token`.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// The account SID, also the account in the path.
    pub sid: &'a str,
    /// The API key (the Basic user).
    pub api_key: &'a str,
    /// The API token (the Basic password).
    pub api_token: &'a str,
}

opaque_debug!(Credentials<'a>);

/// The numbers the account owns, every page (at most [`MAX_PAGES`]); `base` is the account's
/// region host, e.g. `https://api.in.exotel.com`. `number` is accepted for symmetry with the other
/// providers but unused: Exotel's listing has no filter. Compare the results (`+9111…` or the
/// national `011…`) with `accounts::same_number`.
pub async fn owned_numbers(
    client: &GuardedClient,
    base: &str,
    creds: &Credentials<'_>,
    number: Option<&str>,
) -> Result<Vec<OwnedNumber>, AccountError> {
    let _ = number;
    let url = endpoint(base, &["v2_beta", "Accounts", creds.sid, "IncomingPhoneNumbers"])?;
    let mut owned = Vec::new();
    let mut previous = Vec::new();
    for page_no in 0..MAX_PAGES {
        let page = read_page(&fetch(page_request(client, &url, creds, page_no)?, MAX_BODY).await?)?;
        // A host that ignores `page` answers the first page again and again.
        if !page.numbers.is_empty() && page.numbers == previous {
            return Err(AccountError::Protocol("the same page came back twice (paging not honoured)".into()));
        }
        let last = is_last(page.numbers.len(), page.page_size);
        owned.extend_from_slice(&page.numbers);
        if last {
            return Ok(owned);
        }
        previous = page.numbers;
    }
    Err(AccountError::too_many_pages())
}

/// The request for page `page_no` (0-based).
fn page_request(client: &GuardedClient, url: &str, creds: &Credentials<'_>, page_no: usize) -> Result<RequestBuilder, AccountError> {
    Ok(request(client, url, creds.api_key, creds.api_token)?.query(&[("page", page_no), ("page_size", PAGE_SIZE)]))
}

/// Whether a page of `got` numbers is the last: empty, or shorter than the page size (the one
/// the answer states, when it does: Exotel may cap what we asked for).
fn is_last(got: usize, page_size: Option<u64>) -> bool {
    let size = page_size.filter(|s| *s > 0).unwrap_or(PAGE_SIZE as u64);
    got == 0 || (got as u64) < size
}

/// One page of the listing.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    numbers: Vec<OwnedNumber>,
    /// `page_size` as the answer states it.
    page_size: Option<u64>,
}

#[derive(Deserialize)]
struct WirePage {
    #[serde(alias = "IncomingPhoneNumbers")]
    incoming_phone_numbers: Vec<WireNumber>,
    #[serde(default, alias = "PageSize")]
    page_size: Option<u64>,
}

#[derive(Deserialize)]
struct WireNumber {
    #[serde(alias = "PhoneNumber")]
    phone_number: String,
    #[serde(default, alias = "Capabilities")]
    capabilities: Option<WireCapabilities>,
}

#[derive(Deserialize)]
struct WireCapabilities {
    #[serde(default, alias = "Voice")]
    voice: Option<bool>,
}

/// Reads a `200` body of `IncomingPhoneNumbers`.
fn parse_page(body: &[u8]) -> Result<Page, AccountError> {
    let wire: WirePage = parse_json(body)?;
    let numbers = wire
        .incoming_phone_numbers
        .into_iter()
        .map(|n| OwnedNumber { number: n.phone_number, voice: n.capabilities.and_then(|c| c.voice).unwrap_or(false), app: None })
        .collect();
    Ok(Page { numbers, page_size: wire.page_size })
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

    /// The documented v2_beta answer (EXOTEL.md §3), plus a number without voice.
    const SNAKE: &str = r#"{"page": 0, "page_size": 50, "incoming_phone_numbers": [
      {"sid": "a1b2", "phone_number": "+9111XXXXXXX6", "friendly_name": "011XXXXXXX6",
       "capabilities": {"voice": true, "sms": true}, "country": "IN", "region": "DL"},
      {"sid": "c3d4", "phone_number": "+917314852338", "capabilities": {"voice": false, "sms": true}}
    ]}"#;

    /// The PascalCase spelling third-party code meets.
    const PASCAL: &str = r#"{"Page": 0, "PageSize": 100, "IncomingPhoneNumbers": [
      {"Sid": "a1b2", "PhoneNumber": "07314852338", "Capabilities": {"Voice": true}},
      {"Sid": "c3d4", "PhoneNumber": "+917314852339"}
    ]}"#;

    #[test]
    fn snake_case_pages_give_numbers_and_voice_capability() {
        let page = parse_page(SNAKE.as_bytes()).expect("page");
        assert_eq!(page.page_size, Some(50));
        assert_eq!(
            page.numbers,
            vec![
                OwnedNumber { number: "+9111XXXXXXX6".into(), voice: true, app: None },
                OwnedNumber { number: "+917314852338".into(), voice: false, app: None },
            ]
        );
    }

    #[test]
    fn pascal_case_pages_read_the_same_and_missing_capabilities_mean_no_voice() {
        let page = parse_page(PASCAL.as_bytes()).expect("page");
        assert_eq!(page.page_size, Some(100));
        assert_eq!(
            page.numbers,
            vec![
                OwnedNumber { number: "07314852338".into(), voice: true, app: None },
                OwnedNumber { number: "+917314852339".into(), voice: false, app: None },
            ]
        );
    }

    #[test]
    fn a_body_without_the_list_is_a_protocol_error() {
        assert!(matches!(parse_page(br#"{"page": 0, "page_size": 100}"#), Err(AccountError::Protocol(_))));
        let Err(AccountError::Protocol(why)) = parse_page(br#"{"incoming_phone_numbers": [{"sid": "a1"}]}"#) else {
            panic!("a number without phone_number must be refused");
        };
        assert!(why.contains("incoming_phone_numbers[0]"), "{why}");
        assert!(matches!(
            parse_page(br#"{"incoming_phone_numbers": [{"phone_number": "x", "capabilities": {"voice": "yes"}}]}"#),
            Err(AccountError::Protocol(_))
        ));
    }

    #[test]
    fn error_statuses_win_over_the_body() {
        let exotel_401 = br#"{"RestException": {"Status": 401, "Message": "Authentication is required to view this page."}}"#;
        assert_eq!(read_page(&reply(StatusCode::UNAUTHORIZED, exotel_401)), Err(AccountError::Credentials));
        assert_eq!(read_page(&rate_limited("60")), Err(AccountError::RateLimited { retry_after: Some(Duration::from_secs(60)) }));
        assert_eq!(read_page(&reply(StatusCode::FORBIDDEN, SNAKE)), Err(AccountError::Credentials));
        assert_eq!(read_page(&reply(StatusCode::OK, SNAKE)).expect("page").numbers.len(), 2);
    }

    #[test]
    fn paging_stops_on_an_empty_or_short_page_of_the_stated_size() {
        assert!(is_last(0, Some(100)));
        assert!(is_last(99, None));
        assert!(!is_last(100, None));
        assert!(!is_last(50, Some(50)), "Exotel capped the page at 50: a full page asks for the next");
        assert!(is_last(49, Some(50)));
        assert!(!is_last(100, Some(0)), "a stated size of 0 falls back to ours");
    }

    #[test]
    fn the_request_pages_from_zero_on_the_region_host_with_basic_auth() {
        let creds = Credentials { sid: "acme1", api_key: "key123", api_token: "s3cret-token" };
        let url = endpoint("https://api.in.exotel.com/", &["v2_beta", "Accounts", creds.sid, "IncomingPhoneNumbers"]).expect("url");
        assert_eq!(url, "https://api.in.exotel.com/v2_beta/Accounts/acme1/IncomingPhoneNumbers");
        let req = page_request(&client(), &url, &creds, 2).expect("request").build().expect("built");
        assert_eq!(req.url().query(), Some("page=2&page_size=100"));
        assert_basic_auth(&req, "key123", "s3cret-token");
        assert_eq!(
            endpoint("https://api.exotel.com", &["v2_beta", "Accounts", "a/b?c", "IncomingPhoneNumbers"]).expect("url"),
            "https://api.exotel.com/v2_beta/Accounts/a%2Fb%3Fc/IncomingPhoneNumbers"
        );
        assert!(matches!(page_request(&client(), "http://192.168.1.1/x", &creds, 0), Err(AccountError::Unreachable(_))));
    }
}
