//! Twilio's number listing (TWILIO.md §5): `GET /2010-04-01/Accounts/{AC}/IncomingPhoneNumbers.json`,
//! HTTP Basic Account SID : auth token, an exact `PhoneNumber` filter, `PageSize` (50 by default,
//! at most 1000), `Page` and `PageToken` (`PA{sid}`: after that number; `PB{sid}`: before it).

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use domain::phone_number::Provider;
use serde_json::{Value, json};

use super::{Cloud, CloudAccount, CloudNumber, Params, basic_auth, reply, stable_hex, window};

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 1000;

/// Twilio's routes.
pub(super) fn routes() -> Router<Cloud> {
    Router::new().route("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json", get(list))
}

/// A Twilio REST error: `{"code","message","more_info","status"}`.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    reply(
        status,
        json!({ "code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16() }),
    )
}

/// Twilio's 429: error 20429.
pub(super) fn too_many(_retry_after: u64) -> Response {
    error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests")
}

/// A malformed parameter. The doc names no code for it; 20001 is Twilio's "invalid parameter".
fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, 20001, message)
}

async fn list(
    State(cloud): State<Cloud>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(Path(sid)) = path else {
        return bad("Invalid AccountSid");
    };
    let Some(account) = basic_auth(&headers).and_then(|(user, token)| cloud.account(Provider::Twilio, Some(&sid), &user, &token)) else {
        return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    };
    let params = Params::parse(query.as_deref());
    let (page, size) = match (params.number(&["Page"]), params.number(&["PageSize"])) {
        (Ok(page), Ok(size)) => (page.unwrap_or(0), size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)),
        (Err(name), _) | (_, Err(name)) => return bad(&format!("Invalid {name}")),
    };
    let filter = params.get(&["PhoneNumber"]);
    let matching: Vec<&CloudNumber> = account.numbers.iter().filter(|n| filter.is_none_or(|f| n.number == f)).collect();
    let sids: Vec<String> = matching.iter().map(|n| sid_of(&account, n)).collect();
    let start = match params.get(&["PageToken"]) {
        None => page.saturating_mul(size),
        Some(token) => match token_start(token, &sids, size) {
            Some(start) => start,
            None => return bad("Invalid PageToken"),
        },
    };
    let shown = window(&matching, start, size);
    let first = usize::try_from(start).unwrap_or(usize::MAX).min(sids.len());
    let last = first + shown.len();
    let uri = |page: u64, token: Option<String>| page_uri(&sid, filter, size, page, token);
    let next = (last < matching.len()).then(|| uri(page.saturating_add(1), sids.get(last.saturating_sub(1)).map(|s| format!("PA{s}"))));
    let previous = (first > 0).then(|| uri(page.saturating_sub(1), sids.get(first).map(|s| format!("PB{s}"))));
    let numbers: Vec<Value> = shown.iter().map(|n| number(&account, n)).collect();
    reply(
        StatusCode::OK,
        json!({
            "incoming_phone_numbers": numbers,
            "page": page,
            "page_size": size,
            "start": first,
            "end": last.saturating_sub(1).max(first),
            "uri": uri(page, params.get(&["PageToken"]).map(str::to_string)),
            "first_page_uri": uri(0, None),
            "next_page_uri": next,
            "previous_page_uri": previous,
        }),
    )
}

/// Where a page token starts a page: after `PA{sid}`, or a page before `PB{sid}`.
fn token_start(token: &str, sids: &[String], size: u64) -> Option<u64> {
    let (after, sid) = match token.strip_prefix("PA") {
        Some(sid) => (true, sid),
        None => (false, token.strip_prefix("PB")?),
    };
    let at = u64::try_from(sids.iter().position(|s| s == sid)?).ok()?;
    Some(if after { at + 1 } else { at.saturating_sub(size) })
}

/// A page's relative URI, with the filter (encoded: `+` is `%2B`).
fn page_uri(sid: &str, filter: Option<&str>, size: u64, page: u64, token: Option<String>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(number) = filter {
        query.append_pair("PhoneNumber", number);
    }
    query.append_pair("PageSize", &size.to_string()).append_pair("Page", &page.to_string());
    if let Some(token) = token {
        query.append_pair("PageToken", &token);
    }
    format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?{}", query.finish())
}

fn sid_of(account: &CloudAccount, n: &CloudNumber) -> String {
    format!("PN{}", stable_hex(&[&account.id, &n.number]))
}

fn number(account: &CloudAccount, n: &CloudNumber) -> Value {
    let sid = sid_of(account, n);
    json!({
        "sid": sid,
        "account_sid": account.id,
        "phone_number": n.number,
        "friendly_name": friendly(&n.number),
        "voice_url": n.app,
        "voice_method": "POST",
        "capabilities": { "voice": n.voice, "sms": true, "mms": false, "fax": false },
        "status": "in-use",
        "api_version": "2010-04-01",
        "uri": format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{sid}.json", account.id),
    })
}

/// How Twilio names a North American number: `(415) 555-0100`; others as written.
fn friendly(number: &str) -> String {
    match number.strip_prefix("+1") {
        Some(d) if d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit()) => format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
        _ => number.to_string(),
    }
}
