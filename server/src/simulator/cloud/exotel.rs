//! Exotel's ExoPhone listing (EXOTEL.md §3): `GET /v2_beta/Accounts/{sid}/IncomingPhoneNumbers`
//! (also with `.json`), HTTP Basic API key : API token, 0-based `page` and `page_size` (also
//! `Page`/`PageSize`, which third-party code sends), 50 a page by default, at most 100. And its
//! place-call API into a WebSocket ("Connect Voice AI"): `POST /v1/Accounts/{sid}/Calls/connect`
//! (also with `.json`; JSON either way), a form with `From` (the number to dial), `CallerId`
//! (an ExoPhone of the account), `StreamUrl`, … (the call itself: `callee::exotel`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use domain::phone_number::Provider;
use serde_json::{Value, json};

use super::callee::{self, Call};
use super::calls::{self, e164_india, hex_id, secs, url_of};
use super::{Cloud, CloudAccount, CloudNumber, Params, basic_auth, country_of, reply, stable_hex, window};

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 100;

/// Exotel's routes.
pub(super) fn routes() -> Router<Cloud> {
    Router::new()
        .route("/v2_beta/Accounts/{sid}/IncomingPhoneNumbers", get(list))
        .route("/v2_beta/Accounts/{sid}/IncomingPhoneNumbers.json", get(list))
}

/// Exotel's place-call routes.
pub(super) fn calls() -> Router<Cloud> {
    Router::new().route("/v1/Accounts/{sid}/Calls/connect", post(connect)).route("/v1/Accounts/{sid}/Calls/connect.json", post(connect))
}

/// EXOTEL.md gives no error body; this is the `RestException` envelope of Exotel's v1 JSON API
/// (the shape of Twilio's old errors), used for every status.
fn error(status: StatusCode, message: &str) -> Response {
    reply(status, json!({ "RestException": { "Status": status.as_u16(), "Message": message } }))
}

/// Exotel's 429 (≈200 requests a minute on its Voice APIs).
pub(super) fn too_many(_retry_after: u64) -> Response {
    error(StatusCode::TOO_MANY_REQUESTS, "Too many requests. Please retry after some time.")
}

/// The account whose SID is `sid` and whose key and token the request carries.
fn authorise(cloud: &Cloud, sid: &str, headers: &HeaderMap) -> Option<CloudAccount> {
    basic_auth(headers).and_then(|(key, token)| cloud.account(Provider::Exotel, Some(sid), &key, &token))
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "Authentication is required to view this page.")
}

async fn list(
    State(cloud): State<Cloud>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(Path(sid)) = path else {
        return error(StatusCode::BAD_REQUEST, "Invalid account SID");
    };
    // Exotel authenticates per account: a key that opens another account's SID is refused too.
    let Some(account) = authorise(&cloud, &sid, &headers) else {
        return unauthorized();
    };
    let params = Params::parse(query.as_deref());
    let (page, size) = match (params.number(&["page", "Page"]), params.number(&["page_size", "PageSize"])) {
        (Ok(page), Ok(size)) => (page.unwrap_or(0), size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)),
        (Err(name), _) | (_, Err(name)) => return error(StatusCode::BAD_REQUEST, &format!("Invalid value for {name}")),
    };
    let numbers: Vec<Value> = window(&account.numbers, page.saturating_mul(size), size).iter().map(|n| number(&account, n)).collect();
    reply(StatusCode::OK, json!({ "page": page, "page_size": size, "incoming_phone_numbers": numbers }))
}

fn number(account: &CloudAccount, n: &CloudNumber) -> Value {
    json!({
        "sid": stable_hex(&[&account.id, &n.number]),
        "phone_number": n.number,
        "friendly_name": national(&n.number),
        "capabilities": { "voice": n.voice, "sms": true },
        "country": country_of(&n.number),
        "region": region(&n.number),
    })
}

/// India's `0`-prefixed national form (`+911140000001` → `01140000001`); others as written.
fn national(number: &str) -> String {
    number.strip_prefix("+91").map_or_else(|| number.to_string(), |rest| format!("0{rest}"))
}

/// The telecom circle of an Indian metro number (the doc's example is `DL` for `+9111…`); empty
/// for the rest, which the doc does not cover.
fn region(number: &str) -> &'static str {
    const CIRCLES: &[(&str, &str)] =
        &[("+9111", "DL"), ("+9122", "MH"), ("+9133", "WB"), ("+9144", "TN"), ("+9180", "KA"), ("+9140", "AP")];
    CIRCLES.iter().find(|(prefix, _)| number.starts_with(prefix)).map_or("", |(_, circle)| circle)
}

/// Most seconds a call may last (`TimeLimit`).
const MAX_TIME_LIMIT: u64 = 14_400;
/// Longest `CustomField`.
const MAX_CUSTOM_FIELD: usize = 128;

/// `POST …/Calls/connect`: dials `From` from the ExoPhone `CallerId`, streaming to `StreamUrl`.
async fn connect(State(cloud): State<Cloud>, path: Result<Path<String>, PathRejection>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(Path(sid)) = path else {
        return error(StatusCode::BAD_REQUEST, "Invalid account SID");
    };
    let Some(account) = authorise(&cloud, &sid, &headers) else {
        return unauthorized();
    };
    let params = Params::form(&body);
    let bad = |message: String| error(StatusCode::BAD_REQUEST, &message);
    let from_raw = params.get(&["From"]).unwrap_or_default();
    let Some(to) = e164_india(from_raw) else {
        return bad(format!("From is not a valid phone number: '{from_raw}'"));
    };
    let caller_id = params.get(&["CallerId"]).unwrap_or_default();
    let Some(exophone) = e164_india(caller_id).and_then(|n| callee::owned(&account, &n)) else {
        return bad(format!("CallerId '{caller_id}' is not an ExoPhone of this account"));
    };
    if params.get(&["Url"]).is_some() {
        return bad("This cloud connects calls to a StreamUrl only; Url (an Exotel flow) is not supported".into());
    }
    let Some(stream_url) = params.get(&["StreamUrl"]).filter(|u| url_of(u, &["ws", "wss"])) else {
        return bad("StreamUrl is required and must be a ws:// or wss:// URL".into());
    };
    if params.get(&["StreamType"]).is_some_and(|t| !matches!(t, "bidirectional" | "unidirectional")) {
        return bad("StreamType must be bidirectional or unidirectional".into());
    }
    let status_callback = params.get(&["StatusCallback"]).map(str::to_string);
    if status_callback.as_deref().is_some_and(|u| !url_of(u, calls::WEB)) {
        return bad("StatusCallback must be an http:// or https:// URL".into());
    }
    let mut answered_event = false;
    for event in params.all("StatusCallbackEvents") {
        match event {
            "answered" => answered_event = true,
            "terminal" => {}
            other => return bad(format!("Invalid StatusCallbackEvents value '{other}': use terminal or answered")),
        }
    }
    let custom_field = params.get(&["CustomField"]).map(str::to_string);
    if custom_field.as_ref().is_some_and(|c| c.chars().count() > MAX_CUSTOM_FIELD) {
        return bad(format!("CustomField is longer than {MAX_CUSTOM_FIELD} characters"));
    }
    let (time_limit, ring_timeout) = match (params.number(&["TimeLimit"]), params.number(&["TimeOut"])) {
        (Ok(Some(limit)), _) if limit > MAX_TIME_LIMIT => return bad(format!("TimeLimit cannot be more than {MAX_TIME_LIMIT}")),
        (Ok(limit), Ok(timeout)) => (secs(limit), secs(timeout)),
        (Err(name), _) | (_, Err(name)) => return bad(format!("Invalid value for {name}")),
    };
    let call_sid = hex_id();
    let from = calls::e164(&exophone.number).unwrap_or_default();
    let accepted = cloud.accept(Provider::Exotel, &call_sid, &call_sid, &from, &to);
    let created = chrono::Utc::now();
    let phone_number_sid = national(&exophone.number);
    let body = json!({ "Call": {
        "Sid": call_sid,
        "AccountSid": account.id,
        "Status": "in-progress",
        "From": from_raw,
        "To": caller_id,
        "PhoneNumberSid": phone_number_sid,
        "Direction": "outbound-api",
        "DateCreated": created.format("%Y-%m-%d %H:%M:%S").to_string(),
        "CustomField": custom_field,
        "Uri": format!("/v1/Accounts/{}/Calls/{call_sid}.json", account.id),
    }});
    let dial = callee::exotel::Dial {
        account_sid: account.id,
        sid: call_sid,
        from: from_raw.to_string(),
        caller_id: caller_id.to_string(),
        phone_number_sid,
        stream_url: stream_url.to_string(),
        status_callback,
        answered_event,
        custom_field,
        created,
    };
    Call::spawn(callee::exotel::play(Call::new(&cloud, accepted, ring_timeout, time_limit), dial));
    reply(StatusCode::OK, body)
}
