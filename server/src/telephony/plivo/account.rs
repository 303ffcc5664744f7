//! The numbers a Plivo account owns (the ownership check): `GET …/Number/{number}/` for one
//! number (404 = not owned), else `GET …/Number/` paged by `limit`/`offset` (PLIVO.md §5), with
//! HTTP Basic `auth_id:auth_token`. Parsing is pure ([`parse_page`], [`parse_one`]); the HTTP
//! around it only sends, bounds and hands over bodies.

use reqwest::StatusCode;
use serde::Deserialize;

use crate::net::guard::GuardedClient;
use crate::telephony::accounts::{AccountError, MAX_PAGES, OwnedNumber, Reply, endpoint, fetch, opaque_debug, parse_json, request};

/// Plivo's REST API.
pub const DEFAULT_BASE: &str = "https://api.plivo.com";

/// Numbers asked for per page (Plivo's maximum).
const PAGE_LIMIT: usize = 20;

/// Largest body read (twenty numbers take a few KB).
const MAX_BODY: usize = 4 << 20;

/// Credentials (borrowed, already opened) for Plivo: HTTP Basic `auth_id:auth_token`.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// `MA…` or `SA…`, also the account in the path.
    pub auth_id: &'a str,
    /// The auth token.
    pub auth_token: &'a str,
}

opaque_debug!(Credentials<'a>);

/// The numbers the account owns; with `number` (E.164) only that number is asked for
/// (`…/Number/{digits}/`; an empty list when Plivo answers 404). Without it every page is read,
/// at most [`MAX_PAGES`]. Compare the results with `accounts::same_number`.
pub async fn owned_numbers(
    client: &GuardedClient,
    base: &str,
    creds: &Credentials<'_>,
    number: Option<&str>,
) -> Result<Vec<OwnedNumber>, AccountError> {
    if let Some(n) = number {
        return match number_url(base, creds.auth_id, n)? {
            Some(url) => read_one(&fetch(request(client, &url, creds.auth_id, creds.auth_token)?, MAX_BODY).await?),
            None => Ok(Vec::new()),
        };
    }
    let url = endpoint(base, &["v1", "Account", creds.auth_id, "Number", ""])?;
    let mut owned = Vec::new();
    let mut offset = 0;
    for _ in 0..MAX_PAGES {
        let query = [("limit", PAGE_LIMIT), ("offset", offset)];
        let req = request(client, &url, creds.auth_id, creds.auth_token)?.query(&query);
        let page = read_page(&fetch(req, MAX_BODY).await?)?;
        let got = page.numbers.len();
        owned.extend(page.numbers);
        match next_offset(offset, got, &page.meta) {
            Some(next) => offset = next,
            None => return Ok(owned),
        }
    }
    Err(AccountError::too_many_pages())
}

/// The URL of one number (`…/Number/{digits}/`, Plivo writes no `+`); `None` when `number`
/// has no digits (no account owns it).
fn number_url(base: &str, auth_id: &str, number: &str) -> Result<Option<String>, AccountError> {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    endpoint(base, &["v1", "Account", auth_id, "Number", &digits, ""]).map(Some)
}

/// The offset of the page after one of `got` numbers read at `offset`; `None` when that page
/// was the last (no `meta.next`, empty, or `meta.total_count` reached).
fn next_offset(offset: usize, got: usize, meta: &Meta) -> Option<usize> {
    let next = offset + got;
    let more = meta.next.as_deref().is_some_and(|n| !n.is_empty()) && got > 0;
    (more && meta.total_count.is_none_or(|total| (next as u64) < total)).then_some(next)
}

/// One page of the listing.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    meta: Meta,
    numbers: Vec<OwnedNumber>,
}

/// The listing's `meta` (only what paging needs).
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
struct Meta {
    /// The next page's path, `null` on the last.
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Deserialize)]
struct WirePage {
    meta: Meta,
    objects: Vec<WireNumber>,
}

#[derive(Deserialize)]
struct WireNumber {
    number: String,
    #[serde(default)]
    voice_enabled: Option<bool>,
    /// `/v1/Account/MA…/Application/{app_id}/`, or null when unlinked.
    #[serde(default)]
    application: Option<String>,
}

impl From<WireNumber> for OwnedNumber {
    fn from(n: WireNumber) -> Self {
        let app = n.application.as_deref().and_then(|path| path.trim_end_matches('/').rsplit('/').next()).filter(|id| !id.is_empty());
        OwnedNumber { app: app.map(str::to_string), voice: n.voice_enabled.unwrap_or(false), number: n.number }
    }
}

/// Reads a `200` body of `…/Number/`.
fn parse_page(body: &[u8]) -> Result<Page, AccountError> {
    let wire: WirePage = parse_json(body)?;
    Ok(Page { meta: wire.meta, numbers: wire.objects.into_iter().map(OwnedNumber::from).collect() })
}

/// Reads a `200` body of `…/Number/{number}/`.
fn parse_one(body: &[u8]) -> Result<OwnedNumber, AccountError> {
    parse_json::<WireNumber>(body).map(OwnedNumber::from)
}

/// A reply read as a page: an error status first, then the body.
fn read_page(reply: &Reply) -> Result<Page, AccountError> {
    parse_page(reply.success_body()?)
}

/// A reply about one number: 404 means the account does not own it.
fn read_one(reply: &Reply) -> Result<Vec<OwnedNumber>, AccountError> {
    if reply.status == StatusCode::NOT_FOUND {
        return Ok(Vec::new());
    }
    parse_one(reply.success_body()?).map(|n| vec![n])
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::telephony::accounts::testing::{assert_basic_auth, client, rate_limited, reply};

    /// A list page shaped like the documented `…/Number/` answer (plivo-python's fixture, trimmed).
    const PAGE: &str = r#"{
      "api_id": "114de006-1c95-11e4-8a4a-123140008edf",
      "meta": {"limit": 20, "next": "/v1/Account/MANWVLYTK4ZWU1YTY4ZT/Number/?limit=20&offset=20", "offset": 0,
               "previous": null, "total_count": 22},
      "objects": [
        {"added_on": "2014-08-05", "alias": null, "number": "18135401302", "number_type": "local",
         "application": "/v1/Account/MANWVLYTK4ZWU1YTY4ZT/Application/29986316244302815/",
         "resource_uri": "/v1/Account/MANWVLYTK4ZWU1YTY4ZT/Number/18135401302/", "sms_enabled": true,
         "sub_account": null, "voice_enabled": true, "voice_rate": "0.00850"},
        {"number": "14153661106", "application": null, "voice_enabled": false, "number_type": "local"}
      ]
    }"#;

    /// One number as `…/Number/{number}/` answers it.
    const ONE: &str = r#"{"api_id": "88625e5e-1c92-11e4-80aa-12313f048015",
      "application": "/v1/Account/MANWVLYTK4ZWU1YTY4ZT/Application/29986316244302815/",
      "number": "17609915566", "number_type": "local", "sub_account": null, "voice_enabled": true}"#;

    #[test]
    fn a_page_gives_numbers_voice_and_the_application_id() {
        let page = parse_page(PAGE.as_bytes()).expect("page");
        assert_eq!(
            page.numbers,
            vec![
                OwnedNumber { number: "18135401302".into(), voice: true, app: Some("29986316244302815".into()) },
                OwnedNumber { number: "14153661106".into(), voice: false, app: None },
            ]
        );
        assert_eq!(page.meta.total_count, Some(22));
        assert!(page.meta.next.is_some());
    }

    #[test]
    fn the_application_id_is_the_last_segment_of_its_path() {
        let app = |application: &str| {
            let body = format!(r#"{{"number": "1", "application": {application}}}"#);
            parse_one(body.as_bytes()).expect("number").app
        };
        assert_eq!(app(r#""/v1/Account/MA1/Application/2998/""#).as_deref(), Some("2998"));
        assert_eq!(app(r#""/v1/Account/MA1/Application/2998""#).as_deref(), Some("2998"));
        assert_eq!(app(r#""2998""#).as_deref(), Some("2998"));
        assert_eq!(app(r#""""#), None);
        assert_eq!(app(r#""/""#), None);
        assert_eq!(app("null"), None);
    }

    #[test]
    fn paging_follows_meta_next_until_total_count() {
        let meta = |next: Option<&str>, total: Option<u64>| Meta { next: next.map(str::to_string), total_count: total };
        let more = Some("/v1/Account/MA1/Number/?limit=20&offset=20");
        assert_eq!(next_offset(0, 20, &meta(more, Some(45))), Some(20));
        assert_eq!(next_offset(40, 5, &meta(more, Some(45))), None, "total_count reached");
        assert_eq!(next_offset(0, 20, &meta(None, Some(45))), None, "no next page");
        assert_eq!(next_offset(0, 20, &meta(Some(""), None)), None);
        assert_eq!(next_offset(20, 0, &meta(more, Some(45))), None, "an empty page ends it");
        assert_eq!(next_offset(0, 20, &meta(more, None)), Some(20));
    }

    #[test]
    fn one_number_is_read_and_404_means_not_owned() {
        assert_eq!(
            read_one(&reply(StatusCode::OK, ONE)).expect("owned"),
            vec![OwnedNumber { number: "17609915566".into(), voice: true, app: Some("29986316244302815".into()) }]
        );
        let plivo_404 = r#"{"api_id": "…", "error": "not found"}"#;
        assert_eq!(read_one(&reply(StatusCode::NOT_FOUND, plivo_404)).expect("not owned"), vec![]);
        assert_eq!(read_one(&reply(StatusCode::UNAUTHORIZED, "")), Err(AccountError::Credentials));
    }

    #[test]
    fn error_statuses_win_over_the_body() {
        assert_eq!(read_page(&reply(StatusCode::UNAUTHORIZED, PAGE)), Err(AccountError::Credentials));
        let limited = rate_limited("5");
        assert_eq!(read_page(&limited), Err(AccountError::RateLimited { retry_after: Some(Duration::from_secs(5)) }));
        assert_eq!(read_one(&limited), Err(AccountError::RateLimited { retry_after: Some(Duration::from_secs(5)) }));
        assert!(matches!(read_page(&reply(StatusCode::NOT_FOUND, PAGE)), Err(AccountError::Protocol(_))), "404 on the list is no answer");
        assert!(matches!(read_page(&reply(StatusCode::BAD_GATEWAY, "")), Err(AccountError::Unreachable(_))));
    }

    #[test]
    fn a_body_that_is_not_the_listing_is_a_protocol_error() {
        assert!(matches!(parse_page(br#"{"objects": []}"#), Err(AccountError::Protocol(_))));
        let Err(AccountError::Protocol(why)) = parse_page(br#"{"meta": {}, "objects": [{"voice_enabled": true}]}"#) else {
            panic!("a number without `number` must be refused");
        };
        assert!(why.contains("objects[0]"), "{why}");
        assert!(matches!(parse_one(b"not json"), Err(AccountError::Protocol(_))));
    }

    #[test]
    fn urls_keep_plivos_trailing_slash_and_encode_the_auth_id() {
        assert_eq!(
            endpoint("https://api.plivo.com/", &["v1", "Account", "MA123", "Number", ""]).expect("url"),
            "https://api.plivo.com/v1/Account/MA123/Number/"
        );
        assert_eq!(
            number_url(DEFAULT_BASE, "MA1/../x", "+1 415-555-0100").expect("url").as_deref(),
            Some("https://api.plivo.com/v1/Account/MA1%2F..%2Fx/Number/14155550100/")
        );
        assert_eq!(number_url(DEFAULT_BASE, "MA1", "+").expect("no digits"), None);
        let creds = Credentials { auth_id: "MA123", auth_token: "s3cret-token" };
        let req = request(&client(), "https://api.plivo.com/v1/Account/MA123/Number/", creds.auth_id, creds.auth_token)
            .expect("request")
            .query(&[("limit", PAGE_LIMIT), ("offset", 40)])
            .build()
            .expect("built");
        assert_eq!(req.url().query(), Some("limit=20&offset=40"));
        assert_basic_auth(&req, "MA123", "s3cret-token");
        assert!(matches!(request(&client(), "http://10.0.0.1/v1/", creds.auth_id, creds.auth_token), Err(AccountError::Unreachable(_))));
    }
}
