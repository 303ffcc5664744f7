//! Twilio's number listing (TWILIO.md §5): `GET /2010-04-01/Accounts/{AC}/IncomingPhoneNumbers.json`,
//! HTTP Basic Account SID : auth token, an exact `PhoneNumber` filter, `PageSize` (50 by default,
//! at most 1000), `Page` and `PageToken` (`PA{sid}`: after that number; `PB{sid}`: before it).
//! And `POST /2010-04-01/Accounts/{AC}/Calls.json`: a form with `To`, `From` (a number of the
//! account), `Url` or `Twiml`, status callbacks, `MachineDetection`, `Timeout`, `TimeLimit` →
//! 201 with the call, `queued` (the call itself: `callee::twilio`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use domain::phone_number::Provider;
use serde_json::{Value, json};

use super::callee::twilio::{Amd, Dial, Events, Twiml};
use super::callee::{self, Call};
use super::calls::{self, e164, hex_id, secs, url_of};
use super::{Cloud, CloudAccount, CloudNumber, Params, basic_auth, reply, stable_hex, window};

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 1000;

/// Twilio's routes.
pub(super) fn routes() -> Router<Cloud> {
    Router::new().route("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json", get(list))
}

/// Twilio's place-call route.
pub(super) fn calls() -> Router<Cloud> {
    Router::new().route("/2010-04-01/Accounts/{sid}/Calls.json", post(create))
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

/// The account whose SID is the path's, with the request's Basic credentials.
fn authorise(cloud: &Cloud, sid: &str, headers: &HeaderMap) -> Option<CloudAccount> {
    basic_auth(headers).and_then(|(user, token)| cloud.account(Provider::Twilio, Some(sid), &user, &token))
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
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
    let Some(account) = authorise(&cloud, &sid, &headers) else {
        return unauthorized();
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

/// Most seconds a call may last (`TimeLimit`: 4 h by default, 24 h at most).
const MAX_TIME_LIMIT: u64 = 86_400;
/// Most seconds a call may ring (`Timeout`).
const MAX_TIMEOUT: u64 = 600;

/// `POST …/Calls.json`: dials `To` from `From`.
async fn create(State(cloud): State<Cloud>, path: Result<Path<String>, PathRejection>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(Path(sid)) = path else {
        return bad("Invalid AccountSid");
    };
    let Some(account) = authorise(&cloud, &sid, &headers) else {
        return unauthorized();
    };
    let params = Params::form(&body);
    let to_raw = params.get(&["To"]).unwrap_or_default();
    let Some(to) = e164(to_raw).filter(|_| to_raw.trim().starts_with('+')) else {
        return error(StatusCode::BAD_REQUEST, 21211, &format!("Invalid 'To' Phone Number: {to_raw}"));
    };
    let from_raw = params.get(&["From"]).unwrap_or_default();
    let Some(number) = e164(from_raw).and_then(|n| callee::owned(&account, &n).cloned()) else {
        let message = format!(
            "The source phone number provided, {from_raw}, is not yet verified for your account. You may only make calls from phone numbers that you've verified or purchased from Twilio."
        );
        return error(StatusCode::BAD_REQUEST, 21210, &message);
    };
    let twiml = match (params.get(&["Url"]), params.get(&["Twiml"])) {
        (Some(url), None) if url_of(url, calls::WEB) => Twiml::Url(url.to_string()),
        (Some(url), None) => return error(StatusCode::BAD_REQUEST, 21205, &format!("Url is not a valid URL: {url}")),
        (None, Some(twiml)) => Twiml::Inline(twiml.to_string()),
        (Some(_), Some(_)) => return bad("Url and Twiml cannot both be given"),
        (None, None) => return error(StatusCode::BAD_REQUEST, 21205, "A 'Url', 'Twiml', or 'ApplicationSid' parameter is required."),
    };
    // This cloud sends Twilio's default: form POSTs.
    for name in ["Method", "StatusCallbackMethod"] {
        if params.get(&[name]).is_some_and(|m| !m.eq_ignore_ascii_case("POST")) {
            return bad(&format!("{name}: this local cloud only sends POST"));
        }
    }
    let status_callback = params.get(&["StatusCallback"]).map(str::to_string);
    if status_callback.as_deref().is_some_and(|u| !url_of(u, calls::WEB)) {
        return error(StatusCode::BAD_REQUEST, 21609, "Invalid StatusCallback url");
    }
    let mut events = Events::default();
    for event in params.all("StatusCallbackEvent").flat_map(|v| v.split([' ', ','])).filter(|e| !e.is_empty()) {
        match event {
            "initiated" => events.initiated = true,
            "ringing" => events.ringing = true,
            "answered" => events.answered = true,
            "completed" => {}
            other => return bad(&format!("Invalid StatusCallbackEvent: {other}")),
        }
    }
    let machine_detection = match params.get(&["MachineDetection"]) {
        None => None,
        Some("Enable") => Some(Amd::Enable),
        Some("DetectMessageEnd") => Some(Amd::DetectMessageEnd),
        Some(other) => return bad(&format!("Invalid MachineDetection: {other}")),
    };
    let (ring_timeout, time_limit) = match (params.number(&["Timeout"]), params.number(&["TimeLimit"])) {
        (Ok(Some(t)), _) if t > MAX_TIMEOUT => return bad(&format!("Timeout cannot be more than {MAX_TIMEOUT}")),
        (_, Ok(Some(l))) if l > MAX_TIME_LIMIT => return bad(&format!("TimeLimit cannot be more than {MAX_TIME_LIMIT}")),
        (Ok(timeout), Ok(limit)) => (secs(timeout), secs(limit)),
        (Err(name), _) | (_, Err(name)) => return bad(&format!("Invalid {name}")),
    };
    let call_sid = format!("CA{}", hex_id());
    let from = e164(&number.number).unwrap_or_default();
    let accepted = cloud.accept(Provider::Twilio, &call_sid, &call_sid, &from, &to);
    let now = chrono::Utc::now().to_rfc2822();
    let uri = format!("/2010-04-01/Accounts/{}/Calls/{call_sid}", account.id);
    let body = json!({
        "sid": call_sid,
        "account_sid": account.id,
        "to": to_raw.trim(),
        "to_formatted": friendly(to_raw.trim()),
        "from": number.number,
        "from_formatted": friendly(&number.number),
        "phone_number_sid": sid_of(&account, &number),
        "status": "queued",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_created": now,
        "date_updated": now,
        "start_time": null,
        "end_time": null,
        "duration": null,
        "price": null,
        "price_unit": "USD",
        "answered_by": null,
        "caller_name": null,
        "forwarded_from": null,
        "parent_call_sid": null,
        "queue_time": "0",
        "uri": format!("{uri}.json"),
        "subresource_uris": {
            "notifications": format!("{uri}/Notifications.json"),
            "recordings": format!("{uri}/Recordings.json"),
            "events": format!("{uri}/Events.json"),
        },
    });
    let dial = Dial {
        auth_token: account.secret.clone(),
        account_sid: account.id,
        sid: call_sid,
        from: number.number,
        to: to_raw.trim().to_string(),
        twiml,
        status_callback,
        events,
        machine_detection,
    };
    Call::spawn(callee::twilio::play(Call::new(&cloud, accepted, ring_timeout, time_limit), dial));
    reply(StatusCode::CREATED, body)
}
